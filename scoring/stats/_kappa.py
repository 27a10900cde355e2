"""Private: Fleiss' and Cohen's kappa (re-exported by :mod:`scoring.stats.agreement`)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

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


@dataclass(frozen=True)
class KappaDetails:
    """Cohen's kappa with its asymptotic standard error and normal interval."""

    kappa: float
    se: float  # Fleiss, Cohen & Everitt (1969) large-sample SE (as statsmodels' ``std_kappa``)
    ci: tuple[float, float]
    confidence: float
    n: int  # pairs used
    weights: str | None  # None, "linear", "quadratic" or "matrix"


def cohen_kappa(rater1, rater2, weights=None, labels=None) -> float:
    """Cohen's kappa of two raters, optionally weighted.

    ``rater1`` and ``rater2`` are equal-length sequences of labels; a pair
    where either label is missing (NaN/None) is dropped.  The categories are
    the sorted union of observed labels, or ``labels`` in the given order;
    weights use the *position* of a label in that order, not its numeric
    value: ``linear`` ``|i - j|``, ``quadratic`` ``(i - j)^2``, or a user
    ``(k, k)`` matrix of *disagreement* weights (0 on the diagonal), which
    needs ``labels`` to fix the order of its rows.  NaN (no warning) when no
    pair remains or the chance disagreement is zero.

    ``labels`` differs from ``sklearn.metrics.cohen_kappa_score`` on purpose:
    scikit-learn silently drops every pair with a label outside ``labels``
    (its confusion matrix ignores them), which changes kappa without notice;
    here such a pair raises ``ValueError`` naming the labels.  Otherwise the
    results equal scikit-learn's.
    """
    return cohen_kappa_details(rater1, rater2, weights, labels).kappa


def cohen_kappa_details(rater1, rater2, weights=None, labels=None,
                        confidence: float = 0.95) -> KappaDetails:
    """:func:`cohen_kappa` with its standard error and ``confidence`` interval.

    The SE is the large-sample one of Fleiss, Cohen & Everitt (1969) for
    (weighted) kappa, equal to ``statsmodels.stats.inter_rater.cohens_kappa``'s
    ``std_kappa``; the interval is ``kappa +- z * se`` clipped to [-1, 1].
    """
    w_name, matrix_given = _weights_name(weights, labels)
    a, b = _present_pairs(rater1, rater2)
    undefined = KappaDetails(math.nan, math.nan, (math.nan, math.nan), confidence, int(a.size), w_name)
    if a.size == 0:
        return undefined
    categories = _categories(np.unique(np.concatenate([a, b])) if a.dtype.kind == "f" else
                             np.concatenate([a, b]), labels)
    index = pd.Index(categories)
    ia, ib = index.get_indexer(a), index.get_indexer(b)
    if (ia < 0).any() or (ib < 0).any():
        outside = sorted({str(v) for v in np.concatenate([a[ia < 0], b[ib < 0]])})[:5]
        raise ValueError(f"rating(s) {outside} are not among the given labels (scikit-learn would drop "
                         "those pairs silently; remove them or add them to labels)")
    k = len(categories)
    confusion = np.bincount(ia * k + ib, minlength=k * k).reshape(k, k).astype(np.float64)
    if matrix_given:
        w = np.asarray(weights, dtype=np.float64)
        if w.shape != (k, k):
            raise ValueError(f"a weight matrix must be {k} x {k} (one row per label), got {w.shape}")
    else:
        grid = np.arange(k)
        w = _WEIGHTS[weights](grid[:, None], grid[None, :])
    p = confusion / a.size
    expected = np.outer(p.sum(axis=1), p.sum(axis=0))
    chance = float((w * expected).sum())
    if chance <= 0.0:
        return undefined
    kappa = float(1.0 - (w * p).sum() / chance)
    se = _kappa_se(p, w, kappa, a.size)
    z = stats.norm.ppf(0.5 + confidence / 2.0)
    ci = (max(-1.0, kappa - z * se), min(1.0, kappa + z * se)) if math.isfinite(se) else (math.nan, math.nan)
    return KappaDetails(kappa, se, ci, confidence, int(a.size), w_name)


def _present_pairs(rater1, rater2) -> tuple[np.ndarray, np.ndarray]:
    """The pairs where both labels are present: floats when both raters are numeric, else objects."""
    a, b = np.asarray(rater1).ravel(), np.asarray(rater2).ravel()
    if a.shape != b.shape:
        raise ValueError(f"raters must have the same length, got {a.size} and {b.size}")
    if a.dtype.kind in "biuf" and b.dtype.kind in "biuf":
        a, b = a.astype(np.float64), b.astype(np.float64)
        keep = ~(np.isnan(a) | np.isnan(b))
        return a[keep], b[keep]
    a, b = pd.Series(a.astype(object)), pd.Series(b.astype(object))
    keep = ~(a.isna().to_numpy() | b.isna().to_numpy())
    return a[keep].to_numpy(), b[keep].to_numpy()


def _weights_name(weights, labels):
    if weights is None or (isinstance(weights, str) and weights in _WEIGHTS):
        return weights, False
    if isinstance(weights, str):
        raise ValueError(f"weights must be None, 'linear', 'quadratic' or a matrix, got {weights!r}")
    w = np.asarray(weights, dtype=np.float64)
    if w.ndim != 2 or w.shape[0] != w.shape[1]:
        raise ValueError("a weight matrix must be square")
    if not np.all(np.isfinite(w)) or w.min() < 0 or np.any(np.diag(w) != 0):
        raise ValueError("disagreement weights must be finite, non-negative and 0 on the diagonal")
    if labels is None:
        raise ValueError("a weight matrix needs labels= to say which label each row stands for")
    return "matrix", True


def _kappa_se(p: np.ndarray, w: np.ndarray, kappa: float, n: int) -> float:
    """Large-sample SE of (weighted) kappa from disagreement weights (Fleiss et al. 1969)."""
    agree = 1.0 - w / w.max() if w.max() > 0 else np.ones_like(w)
    rows, cols = p.sum(axis=1), p.sum(axis=0)
    pe = float((agree * np.outer(rows, cols)).sum())
    if pe >= 1.0:
        return math.nan
    w_row = agree @ cols  # weighted average agreement of each row category
    w_col = rows @ agree
    term = (p * (agree - (w_row[:, None] + w_col[None, :]) * (1.0 - kappa)) ** 2).sum()
    var = (term - (kappa - pe * (1.0 - kappa)) ** 2) / ((1.0 - pe) ** 2 * n)
    return math.sqrt(max(var, 0.0))


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
