"""Progress, funnel and the gate's calibration as pure functions over frames."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from scoring.quality import pipeline
from tasks.rating.item_states import state_of

BASE = {"is_gold": False, "adjudicated": False, "flagged": False, "routed": True, "audited": False,
        "panel_state": None, "n_judgments": 0, "n_open": 0, "n_skipped": 0, "target": 3, "consent_ok": True,
        "model_confidence": None, "model_choice": None}


def _items(rows: list[dict]) -> pd.DataFrame:
    frame = pd.DataFrame([{**BASE, "item_id": i, **r} for i, r in enumerate(rows)])
    frame["state"] = [state_of(r) for r in frame.to_dict("records")]
    return frame


def test_state_of_follows_the_documented_precedence():
    assert state_of({**BASE, "is_gold": True, "adjudicated": True}) == "gold"
    assert state_of({**BASE, "adjudicated": True, "flagged": True}) == "adjudicated"
    assert state_of({**BASE, "flagged": True, "routed": False}) == "flagged"
    assert state_of({**BASE, "routed": False}) == "auto_accepted"
    assert state_of({**BASE, "panel_state": "split"}) == "split"
    assert state_of({**BASE, "panel_state": "collecting", "n_judgments": 1}) == "in_progress"
    assert state_of({**BASE, "n_open": 1}) == "in_progress"
    assert state_of(BASE) == "queued"


def test_the_funnel_says_where_items_were_lost():
    items = _items([
        {"routed": False},  # auto-accepted
        {"flagged": True},  # held out, never judged
        {"n_skipped": 2},  # skipped so far
        {},  # queued
        {"panel_state": "split", "n_judgments": 5},
        {"panel_state": "extended", "n_judgments": 3},
        {"panel_state": "agreed", "n_judgments": 3},
        {"panel_state": "agreed", "n_judgments": 3, "consent_ok": False},
        {"adjudicated": True, "n_judgments": 5},
        {"is_gold": True, "n_judgments": 4},
    ])
    steps = {s["step"]: s for s in pipeline.funnel(items)}
    assert [steps[k]["n"] for k in ("imported", "routed", "judged", "counted", "agreed", "exportable")] == [9, 8, 5, 5, 3, 2]
    assert steps["counted"]["lost"][0]["n"] == 0 and "judgments" not in steps["counted"]
    judged_lost = {e["reason"]: e["n"] for e in steps["judged"]["lost"]}
    assert list(judged_lost.values()) == [1, 1, 1]
    agreed_lost = [e["n"] for e in steps["agreed"]["lost"]]
    assert agreed_lost == [1, 1, 0]
    assert steps["exportable"]["lost"][0]["n"] == 1


def test_the_funnel_loses_items_judged_only_by_excluded_raters_at_the_counted_step():
    items = _items([
        {"panel_state": "agreed", "n_judgments": 3, "n_excluded": 3},  # every rater excluded: not counted
        {"panel_state": "agreed", "n_judgments": 3, "n_excluded": 1},  # one of three: still counted, agreed
        {"panel_state": "split", "n_judgments": 2, "n_excluded": 2},  # lost at counted, not as split
        {"adjudicated": True, "n_judgments": 2, "n_excluded": 2},  # a senior's decision stands
    ])
    counts = {"current": 10, "counted": 4, "excluded_rater": 6, "consent": 0}
    steps = {s["step"]: s for s in pipeline.funnel(items, counts)}
    assert [steps[k]["n"] for k in ("judged", "counted", "agreed", "exportable")] == [4, 2, 2, 2]
    assert steps["counted"]["lost"] == [{"reason": "judged only by raters a manager excluded from statistics", "n": 2}]
    assert steps["counted"]["judgments"] == counts
    assert [e["n"] for e in steps["agreed"]["lost"]] == [0, 0, 0]  # the split item was lost a step earlier


def test_progress_projects_completion_from_the_recent_live_pace():
    now = pd.Timestamp("2026-11-30T12:00:00Z")
    items = _items([{"n_judgments": 1}, {}, {"panel_state": "extended", "n_judgments": 3, "target": 4},
                    {"panel_state": "agreed", "n_judgments": 3}])
    judgments = pd.DataFrame({"item": range(28), "rater": [i % 4 for i in range(28)], "source": "live",
                              "created_at": [now - pd.Timedelta(hours=12 * i) for i in range(28)]})
    out = pipeline.progress(items, judgments, now)
    assert out["remaining_judgments"] == 2 + 3 + 1
    assert out["pace_per_day"] == pytest.approx(28 / 14)
    assert out["projected_days"] == pytest.approx(6 / 2)
    assert out["active_raters_7d"] == 4 and sum(d["judgments"] for d in out["per_day"]) == 28


def _gate_panel(seed: int, *, n=3000, threshold=0.9, audit_rate=0.25, bias=0.2):
    """Items whose model is right with probability ``confidence - bias`` (a gate too sure of
    itself); the panel's label is the truth."""
    rng = np.random.default_rng(seed)
    confidence = rng.uniform(0.5, 1.0, n)
    right = rng.random(n) < np.clip(confidence - bias, 0, 1)
    confident = confidence >= threshold
    audited = confident & (rng.random(n) < audit_rate)
    routed = ~confident | audited
    items = _items([{"model_confidence": c, "model_choice": "a", "routed": bool(r), "audited": bool(a)}
                    for c, r, a in zip(confidence, routed, audited)])
    truth = np.where(right, "a", "b")
    consensus = {i: truth[i] for i in range(n) if routed[i]}
    true_error = bias + (1 - (threshold + 1) / 2)  # 1 - E[confidence - bias] above the threshold
    return items, consensus, true_error


def test_calibration_recovers_the_error_rate_of_a_miscalibrated_gate():
    covered = 0
    seeds = range(40)
    for seed in seeds:
        items, consensus, true_error = _gate_panel(seed)
        cal = pipeline.calibration(items, consensus, threshold=0.9, overlap=3)
        low, high = cal["audit"]["ci"]
        covered += low <= true_error <= high
    assert covered / len(seeds) >= 0.85  # a 95% interval; 40 seeds
    items, consensus, true_error = _gate_panel(0)
    cal = pipeline.calibration(items, consensus, threshold=0.9, overlap=3)
    assert cal["audit"]["share"] == pytest.approx(true_error, abs=0.06)
    assert cal["judgments_saved"] == 3 * cal["auto_accepted"]
    top = [b for b in cal["bins"] if b["low"] >= 0.9][0]
    assert top["share"] < top["mean_confidence"] - 0.1  # the diagram shows the gate is too sure
    est = cal["estimated_errors"]
    assert est["n"] == round(cal["audit"]["share"] * cal["auto_accepted"])
    assert est["low"] <= true_error * cal["auto_accepted"] <= est["high"]
