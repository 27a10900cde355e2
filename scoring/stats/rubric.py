"""Comparing models from rubric scores (pure numpy/pandas).

Input: a long DataFrame with one row per judgment and columns ``item``, ``prompt``, ``model`` and
``score`` (one criterion's level, or any number). The unit is the **item** (one output of one
model for one prompt): its score is the mean of its raters' scores, so an item judged by five
raters weighs as much as one judged by one.

* :func:`model_means` -- per model the mean item score with a percentile bootstrap interval over
  its items (each model's items redrawn with replacement, independently), and the rank interval
  of each model over the same resamples (1 = highest mean).
* :func:`paired_differences` -- for each pair of models, the mean over the prompts both answered
  of ``mean(model_a on the prompt) - mean(model_b on the prompt)``, with a percentile bootstrap
  interval over those shared prompts. Pairing removes the prompt's difficulty from the comparison;
  pairs without a shared prompt are listed with ``n_prompts = 0`` and no numbers.

Resamples are drawn as multinomial counts over the units (same distribution as redrawing rows).
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

__all__ = ["item_scores", "model_means", "paired_differences"]

COLUMNS = ("item", "prompt", "model", "score")


def item_scores(scores: pd.DataFrame) -> pd.DataFrame:
    """One row per item: ``item, prompt, model, score`` (mean of its judgments), ``n_judgments``."""
    missing = set(COLUMNS) - set(scores.columns)
    if missing:
        raise ValueError(f"scores lacks column(s) {sorted(missing)}")
    frame = scores[scores["score"].notna()]
    if frame.empty:
        return pd.DataFrame({"item": [], "prompt": [], "model": [], "score": [], "n_judgments": []})
    grouped = frame.groupby("item", sort=True)
    out = grouped.agg(prompt=("prompt", "first"), model=("model", "first"), score=("score", "mean"),
                      n_judgments=("score", "size")).reset_index()
    return out


def _interval(samples: np.ndarray, confidence: float, axis=0):
    tail = (1.0 - confidence) / 2.0 * 100.0
    return np.percentile(samples, [tail, 100.0 - tail], axis=axis)


def model_means(scores: pd.DataFrame, n_resamples: int = 1000, confidence: float = 0.95,
                seed: int | None = 0) -> pd.DataFrame:
    """Per model: ``mean``, ``ci_low``, ``ci_high``, ``n_items``, ``n_judgments``, ``n_prompts``,
    ``rank`` and ``rank_best``/``rank_worst``; sorted by mean, best first (module docstring).

    A model with a single item has no interval (NaN): one item cannot show its spread."""
    _check(n_resamples, confidence)
    items = item_scores(scores)
    rng = np.random.default_rng(seed)
    models = sorted(items["model"].unique(), key=str)
    rows, samples = [], np.full((n_resamples, len(models)), np.nan)
    for column, model in enumerate(models):
        mine = items[items["model"] == model]
        values = mine["score"].to_numpy(dtype=np.float64)
        n = values.shape[0]
        draws = rng.multinomial(n, np.full(n, 1.0 / n), size=n_resamples)
        samples[:, column] = draws @ values / n
        low, high = _interval(samples[:, column], confidence) if n > 1 else (math.nan, math.nan)
        rows.append({"model": model, "mean": float(values.mean()), "ci_low": float(low), "ci_high": float(high),
                     "n_items": n, "n_judgments": int(mine["n_judgments"].sum()),
                     "n_prompts": int(mine["prompt"].nunique())})
    board = pd.DataFrame(rows, columns=["model", "mean", "ci_low", "ci_high", "n_items", "n_judgments",
                                        "n_prompts"])
    if board.empty:
        return board.assign(rank=[], rank_best=[], rank_worst=[])
    ranks = (-samples).argsort(axis=1, kind="stable").argsort(axis=1) + 1
    tail = (1.0 - confidence) / 2.0 * 100.0
    board["rank_best"] = np.percentile(ranks, tail, axis=0, method="lower").astype(int)
    board["rank_worst"] = np.percentile(ranks, 100.0 - tail, axis=0, method="higher").astype(int)
    order = np.lexsort((board["model"].astype(str).to_numpy(), -board["mean"].to_numpy()))
    board = board.iloc[order].reset_index(drop=True)
    board.insert(0, "rank", np.arange(1, len(board) + 1))
    return board


def paired_differences(scores: pd.DataFrame, n_resamples: int = 1000, confidence: float = 0.95,
                       seed: int | None = 0, order=None) -> pd.DataFrame:
    """Per pair of models: ``model_a``, ``model_b``, ``n_prompts`` shared, ``mean_difference``
    (a minus b) and its interval ``ci_low``, ``ci_high`` (module docstring). ``order`` lists the
    models (e.g. leaderboard order, so that a is the better-ranked); default sorted."""
    _check(n_resamples, confidence)
    items = item_scores(scores)
    per_prompt = items.groupby(["prompt", "model"])["score"].mean().unstack("model")
    models = list(order) if order is not None else sorted(per_prompt.columns, key=str)
    rng = np.random.default_rng(seed)
    rows = []
    for i, a in enumerate(models):
        for b in models[i + 1:]:
            both = per_prompt[[a, b]].dropna() if a in per_prompt and b in per_prompt else pd.DataFrame()
            n = len(both)
            row = {"model_a": a, "model_b": b, "n_prompts": n, "mean_difference": math.nan,
                   "ci_low": math.nan, "ci_high": math.nan}
            if n:
                diff = (both[a] - both[b]).to_numpy(dtype=np.float64)
                row["mean_difference"] = float(diff.mean())
                if n > 1:
                    draws = rng.multinomial(n, np.full(n, 1.0 / n), size=n_resamples) @ diff / n
                    row["ci_low"], row["ci_high"] = (float(v) for v in _interval(draws, confidence))
            rows.append(row)
    return pd.DataFrame(rows, columns=["model_a", "model_b", "n_prompts", "mean_difference", "ci_low", "ci_high"])


def _check(n_resamples, confidence):
    if n_resamples < 1:
        raise ValueError(f"n_resamples must be >= 1, got {n_resamples}")
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
