"""Private: Fleiss' and Cohen's kappa (re-exported by :mod:`scoring.stats.agreement`)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

_WEIGHTS = {
    None: lambda i, j: (i != j).astype(np.float64),
    "linear": lambda i, j: np.abs(i - j).astype(np.float64),
    "quadratic": lambda i, j: ((i - j) ** 2).astype(np.float64),
}


def fleiss_kappa(counts) -> float:
    """Fleiss' kappa (1971) of a subjects x categories table of counts.

    ``counts[i, j]`` is the number of raters who put subject ``i`` in
    category ``j``; every subject must have the same number ``n >= 2`` of
    ratings (``ValueError`` otherwise).  Chance agreement uses the pooled
    category proportions, as ``statsmodels.stats.inter_rater.fleiss_kappa(
    table, method="fleiss")``.  NaN (no warning) for an empty table or when
    chance agreement is 1 (all ratings in one category).
    """
    table = np.asarray(counts, dtype=np.float64)
    if table.size == 0:
        return math.nan
    if table.ndim != 2:
        raise ValueError(f"counts must be 2-D (subjects x categories), got shape {table.shape}")
    if not np.all(np.isfinite(table)) or np.any(table < 0):
        raise ValueError("counts must be finite and non-negative")
    raters = table.sum(axis=1)
    n = raters[0]
    if not np.allclose(raters, n, rtol=1e-12, atol=0.0):
        bad = np.flatnonzero(~np.isclose(raters, n, rtol=1e-12, atol=0.0))
        raise ValueError(
            "Fleiss' kappa needs the same number of raters for every subject; "
            f"subject 0 has {n:g} ratings but subject {bad[0]} has {raters[bad[0]]:g} "
            f"({bad.size} subjects differ). Use krippendorff_alpha for unequal/missing ratings."
        )
    if n < 2:
        raise ValueError(f"Fleiss' kappa needs at least 2 raters per subject, got {n:g}")
    p_cat = table.sum(axis=0) / table.sum()
    p_subject = ((table * table).sum(axis=1) - n) / (n * (n - 1.0))
    p_observed = p_subject.mean()
    p_chance = float((p_cat * p_cat).sum())
    if p_chance >= 1.0:
        return math.nan
    return float((p_observed - p_chance) / (1.0 - p_chance))


def cohen_kappa(rater1, rater2, weights: str | None = None, labels=None) -> float:
    """Cohen's kappa of two raters, optionally linearly/quadratically weighted.

    ``rater1`` and ``rater2`` are equal-length sequences of labels; a pair
    where either label is missing (NaN/None) is dropped.  As
    ``sklearn.metrics.cohen_kappa_score``, the categories are the sorted
    union of observed labels (or ``labels``, in the given order) and
    weights use the *position* of a label in that order, not its numeric
    value: ``linear`` ``|i - j|``, ``quadratic`` ``(i - j)^2``.  NaN (no
    warning) when no pair remains or the chance disagreement is zero (both
    raters used one and the same single category).
    """
    if weights not in _WEIGHTS:
        raise ValueError(f"weights must be None, 'linear' or 'quadratic', got {weights!r}")
    a = pd.Series(np.asarray(rater1, dtype=object).ravel())
    b = pd.Series(np.asarray(rater2, dtype=object).ravel())
    if len(a) != len(b):
        raise ValueError(f"raters must have the same length, got {len(a)} and {len(b)}")
    keep = ~(a.isna().to_numpy() | b.isna().to_numpy())
    a, b = a[keep].to_numpy(), b[keep].to_numpy()
    if a.size == 0:
        return math.nan
    categories = _categories(np.concatenate([a, b]), labels)
    index = pd.Index(categories)
    ia, ib = index.get_indexer(a), index.get_indexer(b)
    if (ia < 0).any() or (ib < 0).any():
        raise ValueError("a rating is not among the given labels")
    k = len(categories)
    confusion = np.bincount(ia * k + ib, minlength=k * k).reshape(k, k).astype(np.float64)
    expected = np.outer(confusion.sum(axis=1), confusion.sum(axis=0)) / a.size
    grid = np.arange(k)
    w = _WEIGHTS[weights](grid[:, None], grid[None, :])
    chance = float((w * expected).sum())
    if chance <= 0.0:
        return math.nan
    return float(1.0 - (w * confusion).sum() / chance)


def _categories(observed: np.ndarray, labels) -> list:
    if labels is not None:
        categories = list(labels)
        if len(set(categories)) != len(categories):
            raise ValueError("labels must be distinct")
        return categories
    try:
        return sorted(set(observed.tolist()))
    except TypeError:
        raise ValueError("labels of mixed, unorderable types: pass labels= explicitly") from None
