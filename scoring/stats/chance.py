"""Chance-corrected agreement of many raters with missing ratings: Gwet's AC1/AC2, Brennan-
Prediger and Fleiss' kappa generalised to unequal numbers of ratings, each with its standard
error and confidence interval (pure numpy/scipy; no I/O).

Input is a **units x categories** table of counts, ``counts[i, k]`` = raters who put unit ``i`` in
category ``k`` (:func:`count_table` builds it from raters x units reliability data). A unit may
have any number of ratings: units with at least one rating enter the category shares, units with
two or more the observed agreement -- Gwet (2014), *Handbook of Inter-Rater Reliability*, 4th ed.,
ch. 2-5, the formulas of the R package ``irrCAC`` and its Python port:

* observed ``p_a = mean over units with r_i >= 2 of sum_k r_ik (r*_ik - 1) / (r_i (r_i - 1))``,
  ``r*_ik = sum_l w_kl r_il`` (agreement weights ``w``, 1 on the diagonal);
* category shares ``pi_k = mean over units with r_i >= 1 of r_ik / r_i``;
* chance agreement ``p_e``: Fleiss ``sum_kl w_kl pi_k pi_l``; Gwet ``T_w sum_k pi_k (1 - pi_k) /
  (q (q - 1))`` with ``T_w = sum_kl w_kl`` (AC1 with identity weights, AC2 otherwise);
  Brennan-Prediger ``T_w / q^2``;
* coefficient ``(p_a - p_e) / (1 - p_e)``; variance from the per-unit linearisation of Gwet
  (2008) with the finite-population factor ``1 - n / N`` (``population_size`` N, default
  infinite); interval ``coefficient +- t_{n-1} * se``, capped at 1 above.

With identity weights and the same number of ratings for every unit, the Fleiss variant equals
Fleiss' (1971) kappa (:func:`scoring.stats.agreement.fleiss_kappa`).

Weights are *agreement* weights in [0, 1] (1 = full agreement). :data:`WEIGHTS` holds Gwet's
families by name, computed from the category values (numbers; labels use positions 1..q); a
user matrix (q x q, symmetric not required) is accepted as given.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

__all__ = ["CHANCE_MODELS", "WEIGHTS", "ChanceCorrected", "agreement_weights", "brennan_prediger",
           "chance_corrected", "count_table", "fleiss_kappa_missing", "gwet_ac"]


def _scaled(raw: np.ndarray) -> np.ndarray:
    top = raw.max()
    return 1.0 - raw / top if top > 0 else np.ones_like(raw)


def _identity(x: np.ndarray) -> np.ndarray:
    return np.eye(x.shape[0])


def _linear(x: np.ndarray) -> np.ndarray:
    return _scaled(np.abs(x[:, None] - x[None, :]))


def _quadratic(x: np.ndarray) -> np.ndarray:
    return _scaled((x[:, None] - x[None, :]) ** 2)


def _ordinal(x: np.ndarray) -> np.ndarray:
    rank = np.arange(x.shape[0])
    n = np.abs(rank[:, None] - rank[None, :]) + 1
    return _scaled(n * (n - 1) / 2.0)


def _radical(x: np.ndarray) -> np.ndarray:
    return _scaled(np.sqrt(np.abs(x[:, None] - x[None, :])))


def _ratio(x: np.ndarray) -> np.ndarray:
    total = x[:, None] + x[None, :]
    if np.any(total == 0):
        raise ValueError("ratio weights need categories whose pairwise sums are non-zero")
    return _scaled(((x[:, None] - x[None, :]) / total) ** 2)


def _circular(x: np.ndarray) -> np.ndarray:
    span = x.max() - x.min() + 1.0
    return _scaled(np.sin(np.pi * (x[:, None] - x[None, :]) / span) ** 2)


def _bipolar(x: np.ndarray) -> np.ndarray:
    lo, hi = x.min(), x.max()
    a, b = x[:, None], x[None, :]
    denom = (a + b - 2.0 * lo) * (2.0 * hi - a - b)
    raw = np.zeros(denom.shape)
    np.divide((a - b) ** 2, denom, out=raw, where=denom != 0)
    np.fill_diagonal(raw, 0.0)
    return _scaled(raw)


#: Gwet's (2014, ch. 3) weight families: name -> function of the sorted category values.
WEIGHTS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "identity": _identity, "linear": _linear, "quadratic": _quadratic, "ordinal": _ordinal,
    "radical": _radical, "ratio": _ratio, "circular": _circular, "bipolar": _bipolar,
}


def agreement_weights(weights, categories) -> np.ndarray:
    """The q x q agreement-weight matrix: a name from :data:`WEIGHTS` or a user matrix."""
    q = len(categories)
    if isinstance(weights, str):
        if weights not in WEIGHTS:
            raise ValueError(f"weights must be one of {sorted(WEIGHTS)} or a matrix, got {weights!r}")
        try:
            values = np.asarray(categories, dtype=np.float64)
        except (TypeError, ValueError):
            values = np.arange(1.0, q + 1.0)  # labels: their positions
        return WEIGHTS[weights](values) if q else np.zeros((0, 0))
    matrix = np.asarray(weights, dtype=np.float64)
    if matrix.shape != (q, q):
        raise ValueError(f"a weight matrix must be {q} x {q} (one row and column per category), "
                         f"got shape {matrix.shape}")
    if not np.all(np.isfinite(matrix)) or matrix.min() < 0 or matrix.max() > 1:
        raise ValueError("agreement weights must be finite and within [0, 1]")
    if not np.allclose(np.diag(matrix), 1.0):
        raise ValueError("agreement weights must be 1 on the diagonal (a category agrees with itself)")
    return matrix


def count_table(reliability_data, categories) -> np.ndarray:
    """Units x categories counts of raters x units data (NaN missing) over ``categories``.

    A value outside ``categories`` raises ``ValueError``; units without any rating are dropped.
    """
    x = np.asarray(reliability_data)
    if x.size == 0:
        return np.zeros((0, len(categories)))
    if x.ndim != 2:
        raise ValueError(f"reliability data must be 2-D (raters x units), got shape {x.shape}")
    if x.dtype.kind in "biuf":
        x = x.astype(np.float64)
        present = ~np.isnan(x)
    else:
        x = x.astype(object)
        present = ~pd.isna(pd.DataFrame(x)).to_numpy()
    table = np.stack([(x == c).sum(axis=0) for c in categories], axis=1).astype(np.float64)
    outside = present.sum(axis=0) - table.sum(axis=1)
    if np.any(outside > 0):
        raise ValueError(f"{int(outside.sum())} rating(s) are not among the categories {list(categories)}")
    return table[table.sum(axis=1) > 0]


@dataclass(frozen=True)
class ChanceCorrected:
    """One chance-corrected coefficient with its parts and its uncertainty."""

    method: str  # gwet | fleiss | brennan_prediger
    name: str  # "Gwet's AC1", "Gwet's AC2", "Fleiss' kappa", "Brennan-Prediger"
    coefficient: float
    observed: float  # p_a
    chance: float  # p_e
    se: float
    ci: tuple[float, float]
    confidence: float
    n_units: int  # units with at least one rating
    n_pairable_units: int  # units with two or more
    n_categories: int
    weighted: bool
    reason: str | None = None  # why the coefficient is undefined (NaN), else None


def _pe_fleiss(pi, w, q):
    return float(pi @ w @ pi)


def _pe_gwet(pi, w, q):
    return float(w.sum() * (pi * (1.0 - pi)).sum() / (q * (q - 1.0)))


def _pe_bp(pi, w, q):
    return float(w.sum() / (q * q))


def _pe_unit_fleiss(shares, pi, w, q):
    return shares @ ((w + w.T) @ pi / 2.0)


def _pe_unit_gwet(shares, pi, w, q):
    return w.sum() / (q * (q - 1.0)) * (shares @ (1.0 - pi))


#: method -> (display name, chance agreement, per-unit chance agreement or None when p_e is fixed)
CHANCE_MODELS = {
    "fleiss": ("Fleiss' kappa", _pe_fleiss, _pe_unit_fleiss),
    "gwet": ("Gwet's AC", _pe_gwet, _pe_unit_gwet),
    "brennan_prediger": ("Brennan-Prediger", _pe_bp, None),
}


def chance_corrected(counts, method: str = "gwet", weights="identity", categories=None,
                     confidence: float = 0.95, population_size: float = math.inf) -> ChanceCorrected:
    """Chance-corrected agreement of a units x categories table of counts (module docstring).

    ``categories`` (values or labels of the table's columns, in order) matter only for named
    weights; by default positions 1..q. Undefined (``coefficient`` NaN, ``reason`` set) with
    fewer than two categories, no unit with two ratings, or chance agreement of 1.
    """
    if method not in CHANCE_MODELS:
        raise ValueError(f"method must be one of {sorted(CHANCE_MODELS)}, got {method!r}")
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    table = np.asarray(counts, dtype=np.float64)
    if table.ndim != 2:
        raise ValueError(f"counts must be 2-D (units x categories), got shape {table.shape}")
    if not np.all(np.isfinite(table)) or np.any(table < 0):
        raise ValueError("counts must be finite and non-negative")
    q = table.shape[1]
    categories = list(range(1, q + 1)) if categories is None else list(categories)
    w = agreement_weights(weights, categories)
    label, chance_fn, unit_chance_fn = CHANCE_MODELS[method]
    weighted = not np.array_equal(w, np.eye(q))
    if method == "gwet":
        label = "Gwet's AC2" if weighted else "Gwet's AC1"
    table = table[table.sum(axis=1) > 0]
    r = table.sum(axis=1)
    n, pairable = table.shape[0], r >= 2
    n2 = int(pairable.sum())
    result = dict(method=method, name=label, confidence=confidence, n_units=n, n_pairable_units=n2,
                  n_categories=q, weighted=weighted)
    undefined = (_undefined_reason(q, n2))
    if undefined:
        return ChanceCorrected(coefficient=math.nan, observed=math.nan, chance=math.nan, se=math.nan,
                               ci=(math.nan, math.nan), reason=undefined, **result)
    agree_unit = (table * (table @ w.T - 1.0)).sum(axis=1)  # sum_k r_ik (r*_ik - 1)
    pair_count = np.where(pairable, r * (r - 1.0), 1.0)
    pa_unit = np.where(pairable, agree_unit / pair_count, 0.0)
    pa = float(pa_unit[pairable].mean())
    shares = table / r[:, None]
    pi = shares.mean(axis=0)
    pe = chance_fn(pi, w, q)
    if pe >= 1.0:
        return ChanceCorrected(coefficient=math.nan, observed=pa, chance=pe, se=math.nan,
                               ci=(math.nan, math.nan), reason="chance agreement is 1", **result)
    coef = (pa - pe) / (1.0 - pe)
    unit = (n / n2) * (pa_unit - pe * pairable) / (1.0 - pe)
    if unit_chance_fn is not None:
        unit = unit - 2.0 * (1.0 - coef) * (unit_chance_fn(shares, pi, w, q) - pe) / (1.0 - pe)
    fpc = 1.0 - n / population_size if math.isfinite(population_size) else 1.0
    se = math.sqrt(fpc / (n * (n - 1.0)) * float(((unit - coef) ** 2).sum())) if n > 1 else math.nan
    if n > 1 and se > 0:
        low, high = stats.t.interval(confidence, df=n - 1, loc=coef, scale=se)
        ci = (float(low), float(min(1.0, high)))
    else:
        ci = (math.nan, math.nan) if n <= 1 else (coef, coef)
    return ChanceCorrected(coefficient=float(coef), observed=pa, chance=pe, se=se, ci=ci, **result)


def _undefined_reason(q: int, n_pairable: int) -> str | None:
    if q < 2:
        return "fewer than two categories"
    if n_pairable == 0:
        return "no unit has two or more ratings"
    return None


def gwet_ac(counts, weights="identity", categories=None, **kw) -> ChanceCorrected:
    """Gwet's AC1 (identity weights) or AC2 (any other weights)."""
    return chance_corrected(counts, "gwet", weights, categories, **kw)


def brennan_prediger(counts, weights="identity", categories=None, **kw) -> ChanceCorrected:
    """Brennan & Prediger (1981): chance agreement from a uniform use of the q categories."""
    return chance_corrected(counts, "brennan_prediger", weights, categories, **kw)


def fleiss_kappa_missing(counts, weights="identity", categories=None, **kw) -> ChanceCorrected:
    """Fleiss' kappa generalised to units with unequal numbers of ratings (Gwet 2014, ch. 5)."""
    return chance_corrected(counts, "fleiss", weights, categories, **kw)
