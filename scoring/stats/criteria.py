"""Per-criterion comparisons against the overall choice (pure pandas).

``winner_lost(overall, criteria)``: how often the output a rater preferred overall lost on at
least one criterion — e.g. the take chosen for the edit had the weaker sound sync. Input: the
overall choices (``a``/``b``/``tie``, item labels, one per judgment) and a frame with one column
per criterion holding that judgment's choice on it (``a``/``b``/``tie`` or None). A criterion
"lost" is one where the rater chose the *other* output; a tie on a criterion is not a loss.
Judgments whose overall choice is a tie, or that answer no criterion, have no overall winner to
lose and are left out of the denominators.
"""
from __future__ import annotations

import pandas as pd

__all__ = ["winner_lost"]

OTHER = {"a": "b", "b": "a"}


def winner_lost(overall: pd.Series, criteria: pd.DataFrame) -> dict:
    """``{"n_judgments", "n_lost", "share", "by_criterion": {key: {"n_judgments", "n_lost",
    "share"}}}``: ``share`` is ``n_lost / n_judgments`` (None when there are none)."""
    overall = pd.Series(overall).reset_index(drop=True)
    criteria = criteria.reset_index(drop=True)
    decisive = overall.isin(("a", "b"))
    loser = overall.map(OTHER)
    answered = criteria.isin(("a", "b", "tie"))
    lost = criteria.eq(loser, axis=0) & decisive.to_numpy()[:, None]
    counted = decisive & answered.any(axis=1)

    def share(n_lost: int, n: int):
        return n_lost / n if n else None
    by_criterion = {}
    for key in criteria.columns:
        n = int((decisive & answered[key]).sum())
        n_lost = int(lost[key].sum())
        by_criterion[str(key)] = {"n_judgments": n, "n_lost": n_lost, "share": share(n_lost, n)}
    n, n_lost = int(counted.sum()), int((lost.any(axis=1) & counted).sum())
    return {"n_judgments": n, "n_lost": n_lost, "share": share(n_lost, n), "by_criterion": by_criterion}
