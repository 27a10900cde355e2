"""The per-criterion section of a pairwise project's statistics report (pure: frames in, dict out).

For every criterion the project compares (``pairwise_criteria``): its agreement (the report's
agreement row of ``criteria.<key>``: Krippendorff's alpha, nominal a/b/tie, with its bootstrap
interval) and a Bradley-Terry leaderboard of the per-criterion winners beside the overall one;
then how often the output preferred overall lost a criterion (``scoring.stats.criteria``)::

    {"criteria": [{"key", "name", "description", "n_judgments", "agreement": {alpha, alpha_ci,
                   n_units, undefined_reason, warnings}, "leaderboard": {...as the overall one}}],
     "winner_lost": {"n_judgments", "n_lost", "share", "by_criterion": {key: {...}}},
     "method": "..."}

Empty lists (and ``winner_lost`` None) for projects without criteria.
"""
from __future__ import annotations

import pandas as pd

from scoring.reports import frames as fr
from scoring.stats.criteria import winner_lost

METHOD = ("Each criterion's choices (Left / Right / Tie, stored as the item's labels a / b / tie) are "
          "treated like the overall choice: Krippendorff's alpha (nominal) over items judged by two or more "
          "raters, and a Bradley-Terry leaderboard of the criterion's winners (a tie counts half). "
          "'Overall winner lost a criterion': among judgments with an overall winner that answered the "
          "criteria, the share where the rater chose the other output on at least one criterion.")


def criteria_section(frames: fr.ProjectFrames, agreement_rows: list[dict], leaderboard, *,
                     descriptions: dict[str, str] | None = None) -> dict:
    """``leaderboard(comparisons)``: the report's leaderboard function (same resamples, seed)."""
    crits = fr.pairwise_criteria(frames)
    if frames.kind != "pairwise" or not crits:
        return {"criteria": [], "winner_lost": None, "method": METHOD}
    rows = {row["criterion"]: row for row in agreement_rows}
    j = frames.judgments
    choices = pd.DataFrame({c.key[len(fr.CRITERION_PREFIX):]: fr.values(frames, c) for c in crits}, index=j.index)
    section = []
    for crit in crits:
        key = crit.key[len(fr.CRITERION_PREFIX):]
        row = rows.get(crit.key, {})
        comparisons, _same = fr.comparisons(frames, crit.key)
        section.append({
            "key": key, "name": crit.label, "description": (descriptions or {}).get(key, ""),
            "n_judgments": int(choices[key].notna().sum()),
            "agreement": {name: row.get(name) for name in
                          ("alpha", "alpha_ci", "n_units", "n_raters", "percent_agreement", "undefined_reason",
                           "warnings")},
            "leaderboard": leaderboard(comparisons)})
    return {"criteria": section, "winner_lost": winner_lost(j["choice"], choices), "method": METHOD}
