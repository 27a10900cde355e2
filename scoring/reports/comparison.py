"""Rubric projects compare models: per criterion and overall, the mean score per model with its
bootstrap interval, the paired differences between models on shared prompts, and a leaderboard
(pure: frames in, a JSON-able dict out; the statistics are ``scoring.stats.rubric``).

*Overall* is each judgment's mean over the criteria it scores, every criterion first rescaled to
0–1 over its scale (``(score - min) / (max - min)``), so criteria with different scales weigh
alike. Items are compared within a prompt: items sharing their prompt text are the same prompt.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from scoring.reports import explain
from scoring.reports import frames as fr
from scoring.stats.rubric import model_means, paired_differences

OVERALL = "overall"


def model_comparison(frames: fr.ProjectFrames, *, n_resamples: int = 1000, confidence: float = 0.95,
                     seed: int = 0) -> dict:
    base = {"criteria": [], "leaderboard": [], "n_models": 0, "undefined_reason": None,
            "method": {"means": explain.METHODS["model_means"], "paired": explain.METHODS["paired"]},
            "overall_definition": "mean over criteria of the score rescaled to 0–1 over each criterion's scale"}
    if frames.kind != "rubric":
        return {**base, "undefined_reason": "pairwise projects compare models in the Bradley–Terry leaderboard"}
    long = _long_scores(frames)
    models = long["model"].dropna().unique() if len(long) else []
    if len(models) == 0:
        return {**base, "undefined_reason": "no scored items with a model yet"}
    sections = []
    for key, label, scale in _targets(frames):
        part = long[long["criterion"] == key]
        if part.empty:
            continue
        sections.append(_section(part, key, label, scale, n_resamples, confidence, seed))
    overall = next((s for s in sections if s["criterion"] == OVERALL), sections[-1] if sections else None)
    reason = None if len(models) >= 2 else "only one model has scored items: nothing to compare yet"
    return {**base, "criteria": sections, "leaderboard": overall["models"] if overall else [],
            "leaderboard_criterion": overall["criterion"] if overall else None, "n_models": len(models),
            "undefined_reason": reason}


def _targets(frames):
    out = [(c.key, c.label, [c.categories[0], c.categories[-1]]) for c in frames.criteria if c.numeric]
    if len(out) > 1:
        out.append((OVERALL, "Overall", [0, 1]))
    return out


def _long_scores(frames: fr.ProjectFrames) -> pd.DataFrame:
    """``item, prompt, model, criterion, score`` per judgment and numeric criterion, plus overall."""
    items = frames.items
    prompts = items["prompt"] if "prompt" in items else items["external_id"]
    parts, scaled = [], []
    for criterion in (c for c in frames.criteria if c.numeric):
        value = fr.values(frames, criterion)
        keep = value.notna().to_numpy()
        item = frames.judgments["item"].to_numpy()[keep]
        score = value[keep].astype(np.float64).to_numpy()
        low, high = float(criterion.categories[0]), float(criterion.categories[-1])
        frame = pd.DataFrame({"judgment": frames.judgments.index.to_numpy()[keep], "item": item,
                              "criterion": criterion.key, "score": score})
        parts.append(frame)
        scaled.append(frame.assign(score=(score - low) / (high - low) if high > low else 0.0))
    if not parts:
        return pd.DataFrame({"item": [], "prompt": [], "model": [], "criterion": [], "score": []})
    long = pd.concat(parts, ignore_index=True)
    if len(scaled) > 1:
        overall = pd.concat(scaled).groupby("judgment").agg(item=("item", "first"), score=("score", "mean"))
        long = pd.concat([long, overall.reset_index().assign(criterion=OVERALL)], ignore_index=True)
    long["model"] = long["item"].map(items["model_a"])
    long["prompt"] = long["item"].map(prompts)
    return long[long["model"].notna()]


def _section(part, key, label, scale, n_resamples, confidence, seed) -> dict:
    board = model_means(part, n_resamples=n_resamples, confidence=confidence, seed=seed)
    pairs = paired_differences(part, n_resamples=n_resamples, confidence=confidence, seed=seed,
                               order=list(board["model"]))
    models = []
    for row in board.to_dict("records"):
        warnings = [w for w in (explain.few(row["n_items"], explain.MIN_ITEMS, "items"),
                                explain.lopsided(row["mean"], row["ci_low"], row["ci_high"])) if w]
        models.append({**row, "warnings": warnings})
    differences = []
    for row in pairs.to_dict("records"):
        note = (None if row["n_prompts"] else "no prompt was answered by both models")
        warnings = [w for w in (explain.few(row["n_prompts"], explain.MIN_PROMPTS, "shared prompts")
                                if row["n_prompts"] else None,) if w]
        excludes_zero = (row["ci_low"] is not None and not np.isnan(row["ci_low"])
                         and (row["ci_low"] > 0 or row["ci_high"] < 0))
        differences.append({**row, "note": note, "warnings": warnings, "clear": bool(excludes_zero)})
    return {"criterion": key, "label": label, "scale": scale, "models": models, "differences": differences}
