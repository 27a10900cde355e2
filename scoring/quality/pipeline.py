"""Progress, the end-to-end funnel and the confidence gate's calibration (pure pandas).

Inputs: ``items``, one row per item as :func:`tasks.rating.item_states.item_rows` gives them
(``state``, ``routed``, ``audited``, ``n_judgments``, ``n_skipped``, ``target``, ``consent_ok``,
``model_confidence``, ``model_choice``, ``is_gold``); ``judgments`` as
:mod:`scoring.quality.panel` takes them (``item``, ``rater``, ``source``, ``created_at``,
``choice``); ``consensus``: item id -> the panel's label (adjudicated, else majority).

The model's preferred output of a pairwise item is its ``metadata.model_choice`` (``a``/``b``);
``model_confidence`` is read as the model's confidence in that choice. Items without one are
counted but cannot be calibrated.
"""
from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pandas as pd

from scoring.quality.measures import proportion, wilson_interval

PACE_DAYS = 14  # judgments per day are averaged over this many days before "now"
BINS = np.linspace(0.0, 1.0, 11)


def states(items: pd.DataFrame) -> dict:
    return {k: int(v) for k, v in Counter(items["state"]).items()} if len(items) else {}


STEPS = ("imported", "routed", "judged", "counted", "agreed", "exportable")


def funnel(items: pd.DataFrame, judgments: dict | None = None) -> list[dict]:
    """imported → routed → judged → counted → agreed → exportable, each step with what it lost
    and why. ``items`` may carry ``n_excluded``: its current judgments by raters a manager
    excluded from statistics (absent: none). An item is *counted* when a rater who is not
    excluded judged it (or it was adjudicated): judged only by excluded raters, the statistics
    see nothing of it. ``judgments``: the judgment-level counts of that step
    (:func:`scoring.quality.data.judgment_counts`), attached to it as they are."""
    regular = items[~items["is_gold"]] if len(items) else items
    count = lambda mask: int(mask.sum())  # noqa: E731
    if regular.empty:
        return [{"step": s, "n": 0, "lost": []} | ({"judgments": judgments} if s == "counted" and judgments else {})
                for s in STEPS]
    state = regular["state"]
    excluded = regular["n_excluded"].fillna(0) if "n_excluded" in regular else pd.Series(0, index=regular.index)
    routed = regular["routed"] | state.eq("adjudicated")
    judged = routed & ((regular["n_judgments"] > 0) | state.eq("adjudicated"))
    counted = judged & ((regular["n_judgments"] > excluded) | state.eq("adjudicated"))
    agreed = counted & state.isin(["agreed", "adjudicated"])
    exportable = agreed & regular["consent_ok"]
    unjudged = routed & ~judged
    counted_step = {"step": "counted", "n": count(counted), "lost": [
        {"reason": "judged only by raters a manager excluded from statistics", "n": count(judged & ~counted)}]}
    if judgments:
        counted_step["judgments"] = judgments
    return [
        {"step": "imported", "n": count(pd.Series(True, index=regular.index)), "lost": []},
        {"step": "routed", "n": count(routed), "lost": [
            {"reason": "auto-accepted: the model was confident and the item was not drawn for audit",
             "n": count(~routed)}]},
        {"step": "judged", "n": count(judged), "lost": [
            {"reason": "flagged media held out of routing", "n": count(unjudged & state.eq("flagged"))},
            {"reason": "skipped by every rater who was served it so far",
             "n": count(unjudged & ~state.eq("flagged") & (regular["n_skipped"] > 0))},
            {"reason": "not judged yet", "n": count(unjudged & ~state.eq("flagged") & (regular["n_skipped"] == 0))}]},
        counted_step,
        {"step": "agreed", "n": count(agreed), "lost": [
            {"reason": "still split: waiting for adjudication", "n": count(counted & state.eq("split"))},
            {"reason": "panel still collecting or extended", "n": count(counted & state.isin(["in_progress", "extended"]))},
            {"reason": "flagged after judging", "n": count(counted & state.eq("flagged"))}]},
        {"step": "exportable", "n": count(exportable), "lost": [
            {"reason": "an output lacks export consent (pending or revoked)", "n": count(agreed & ~regular["consent_ok"])}]},
    ]


def progress(items: pd.DataFrame, judgments: pd.DataFrame, now: pd.Timestamp) -> dict:
    """Items by state, judgments and active raters per day, and the projected completion."""
    out = {"states": states(items), "per_day": [], "active_raters_7d": 0, "pace_per_day": 0.0,
           "remaining_judgments": 0, "awaiting_adjudication": 0, "projected_days": None, "projected_at": None}
    if len(items):
        regular = items[~items["is_gold"] & items["routed"] & items["state"].isin(["queued", "in_progress", "extended"])]
        out["remaining_judgments"] = int((regular["target"] - regular["n_judgments"]).clip(lower=0).sum())
        out["awaiting_adjudication"] = int((items["state"] == "split").sum())
    if len(judgments):
        day = judgments["created_at"].dt.floor("D")
        per_day = judgments.groupby(day).agg(judgments=("item", "size"), raters=("rater", "nunique"))
        out["per_day"] = [{"day": d.strftime("%Y-%m-%d"), "judgments": int(r.judgments), "raters": int(r.raters)}
                          for d, r in per_day.iterrows()]
        recent = judgments[judgments["created_at"] > now - pd.Timedelta(days=7)]
        out["active_raters_7d"] = int(recent["rater"].nunique())
        live = judgments[(judgments["source"] == "live") & (judgments["created_at"] > now - pd.Timedelta(days=PACE_DAYS))]
        out["pace_per_day"] = len(live) / PACE_DAYS
    if out["remaining_judgments"] == 0:
        out["projected_days"] = 0.0
    elif out["pace_per_day"] > 0:
        out["projected_days"] = out["remaining_judgments"] / out["pace_per_day"]
        out["projected_at"] = (now + pd.Timedelta(days=out["projected_days"])).isoformat()
    return out


def calibration(items: pd.DataFrame, consensus: dict, *, threshold: float, overlap: int) -> dict:
    """Reliability diagram of the gate, judgments it saved, and the error rate of auto-accepted
    items estimated from the audited ones (Wilson 95% interval)."""
    regular = items[~items["is_gold"]] if len(items) else items
    auto = int((~regular["routed"]).sum()) if len(regular) else 0
    out = {"threshold": threshold, "auto_accepted": auto, "judgments_saved": auto * overlap, "bins": [],
           "n_with_model_choice": 0, "audit": proportion(0, 0), "estimated_errors": None}
    if regular.empty:
        return out
    scored = regular[regular["model_confidence"].notna() & regular["model_choice"].isin(["a", "b"])].copy()
    scored["consensus"] = scored["item_id"].map(consensus)
    scored = scored[scored["consensus"].notna()]
    out["n_with_model_choice"] = int(regular["model_choice"].isin(["a", "b"]).sum())
    scored["agrees"] = scored["consensus"] == scored["model_choice"]
    index = np.clip(np.digitize(scored["model_confidence"], BINS) - 1, 0, len(BINS) - 2)
    for b in range(len(BINS) - 1):
        rows = scored[index == b]
        k, n = int(rows["agrees"].sum()), len(rows)
        out["bins"].append({"low": float(BINS[b]), "high": float(BINS[b + 1]),
                            "mean_confidence": float(rows["model_confidence"].mean()) if n else None,
                            **proportion(k, n)})
    audited = scored[scored["audited"]]
    errors, n = int((~audited["agrees"]).sum()), len(audited)
    out["audit"] = proportion(errors, n)
    if n:
        low, high = wilson_interval(errors, n)
        out["estimated_errors"] = {"n": math.floor(errors / n * auto + 0.5), "low": low * auto, "high": high * auto}
    return out
