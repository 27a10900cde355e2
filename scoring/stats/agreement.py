"""Inter-rater agreement statistics (pure numpy/scipy; no I/O).

Conventions
-----------
* *Reliability data* are a **raters x units** array-like (list of lists,
  ndarray or DataFrame with raters as rows) with ``numpy.nan`` (or ``None``)
  for a missing judgment -- the convention of the ``krippendorff`` package.
  Values are arbitrary finite numbers; nominal statistics also accept string
  labels.
* A unit with fewer than two values is *not pairable* and drops out.
* Where a statistic is undefined the functions return ``float('nan')``
  **without emitting a numpy warning**; :func:`alpha_details` says why.

Functions: :func:`krippendorff_alpha`, :func:`alpha_details`,
:func:`percent_agreement`, :func:`fleiss_kappa`, :func:`cohen_kappa`,
:func:`bootstrap_ci`.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import _bootstrap
from ._alpha import check_level, coordinates as _coordinates, disagreement, distance_matrix as _pair_distance
from ._alpha import profile_coincidences, unit_weights
from ._kappa import cohen_kappa, fleiss_kappa
from ._reliability import SMALL_DOMAIN, ValueCounts, _count_dtype, _profile_counts, count_values, reliability_matrix

__all__ = [
    "FAST_STATISTICS",
    "AlphaDetails",
    "alpha_details",
    "alpha_details_from_counts",
    "alpha_from_counts",
    "bootstrap_ci_from_counts",
    "krippendorff_bootstrap_from_counts",
    "percent_agreement_from_counts",
    "unit_value_counts",
    "krippendorff_bootstrap",
    "bootstrap_ci",
    "cohen_kappa",
    "fleiss_kappa",
    "krippendorff_alpha",
    "percent_agreement",
]

NO_PAIRABLE_UNITS = "no pairable units (no unit has two or more values)"
NO_EXPECTED_DISAGREEMENT = (
    "expected disagreement is zero (fewer than two distinct values, "
    "or only values at zero distance, among the pairable values)"
)


@dataclass(frozen=True)
class AlphaDetails:
    """Krippendorff's alpha with the quantities it is made of.

    ``observed_disagreement`` is ``D_o`` and ``expected_disagreement`` is
    ``D_e`` (Krippendorff 2011), ``alpha = 1 - D_o / D_e``.  When alpha is
    undefined, ``alpha`` is NaN and ``reason`` says why (else ``None``).
    """

    alpha: float
    level: str
    n_units: int  # pairable units (with >= 2 values)
    n_pairable_values: int
    observed_disagreement: float
    expected_disagreement: float
    reason: str | None = None


def alpha_details(reliability_data, level: str = "nominal") -> AlphaDetails:
    """Krippendorff's alpha and its parts; see :func:`krippendorff_alpha`."""
    check_level(level)
    x = reliability_matrix(reliability_data, allow_labels=level == "nominal")
    return alpha_details_from_counts(count_values(x), level)


def alpha_details_from_counts(counts: ValueCounts, level: str = "nominal") -> AlphaDetails:
    """:func:`alpha_details` from per-unit value counts (``count_values`` of the data, or
    :func:`unit_value_counts` of a units x values table): the cost follows the distinct unit
    profiles, not the judgments."""
    check_level(level)
    return _details(disagreement(counts, level), level)


def unit_value_counts(table, values, n_raters: int) -> ValueCounts:
    """Per-unit value counts from a **units x values** count table (``table[u, v]`` raters who gave
    ``values[v]`` to unit ``u``; ``values`` ascending integers spanning fewer than
    ``SMALL_DOMAIN``), as :func:`count_values` makes them from the raters x units data with
    ``n_raters`` rows: the same profiles in the same order, so every statistic and bootstrap
    draw from them equals the one from the data."""
    table = np.asarray(table)
    values = np.asarray(values, dtype=np.float64)
    if table.ndim != 2 or table.shape[1] != values.shape[0]:
        raise ValueError(f"table must be units x values ({values.shape[0]} values), got shape {table.shape}")
    if table.shape[0] == 0 or not table.any():
        return count_values(np.zeros((n_raters, 0)))
    used = np.flatnonzero(table.any(axis=0))
    lo, hi = values[used[0]], values[used[-1]]
    if lo != np.floor(lo) or hi - lo >= SMALL_DOMAIN or np.any(np.diff(values) <= 0):
        raise ValueError("unit_value_counts takes ascending integer values spanning fewer than "
                         f"{SMALL_DOMAIN}; use count_values on the data")
    candidates = lo + np.arange(int(hi - lo) + 1, dtype=np.float64)
    dense = np.zeros((candidates.shape[0], table.shape[0]), dtype=_count_dtype(n_raters))
    dense[np.searchsorted(candidates, values[used])] = table[:, used].T
    return _profile_counts(candidates, dense, n_raters)


def krippendorff_alpha(reliability_data, level: str = "nominal") -> float:
    """Krippendorff's alpha of raters x units data (NaN = missing).

    ``level`` is one of ``"nominal"``, ``"ordinal"``, ``"interval"``,
    ``"ratio"``; the default is nominal (the ``krippendorff`` package defaults
    to interval).  Results equal ``krippendorff.alpha(data,
    level_of_measurement=level)``: the value domain is the set of observed
    values, and the ordinal metric is rank based, using the marginal
    frequencies ``n_c`` of the pairable values.

    Undefined -> ``nan`` (no warning) when there is no pairable unit (empty
    or all-missing input, every unit rated once) or when the expected
    disagreement is zero (e.g. a single value observed).  The package raises
    or warns in those cases.  Use :func:`alpha_details` to learn which.
    """
    return alpha_details(reliability_data, level).alpha


def percent_agreement(reliability_data) -> float:
    """Pairwise percent agreement over pairable units, in [0, 1].

    Definition: over every unit with ``m_u >= 2`` values, each of the
    ``m_u (m_u - 1)`` ordered pairs of its values is weighted ``1 / (m_u - 1)``
    (so each value carries total weight 1, as in Krippendorff's coincidence
    matrix); the result is the weighted share of agreeing pairs, i.e.
    ``1 - D_o`` for the nominal metric, ``sum_c o_cc / n``.  With a constant
    number of raters per unit this is the mean over units of the share of
    agreeing rater pairs.  NaN (no warning) when there is no pairable unit.
    """
    x = reliability_matrix(reliability_data, allow_labels=True)
    return percent_agreement_from_counts(count_values(x))


def percent_agreement_from_counts(counts: ValueCounts) -> float:
    """:func:`percent_agreement` from per-unit value counts."""
    parts = disagreement(counts, "nominal")
    if parts.n_values == 0:
        return math.nan
    return 1.0 - parts.observed / parts.n_values


# --------------------------------------------------------------------------
# bootstrap


@dataclass(frozen=True)
class FastStatistic:
    """A named statistic with a resampling fast path (``plan``) and a direct form."""

    plan: Callable  # ValueCounts -> _bootstrap.Plan | None
    direct: Callable  # reliability data -> float
    allow_labels: bool = False


FAST_STATISTICS: dict[str, FastStatistic] = {
    f"alpha_{level}": FastStatistic(
        plan=functools.partial(_bootstrap.alpha_plan, level=level),
        direct=functools.partial(krippendorff_alpha, level=level),
        allow_labels=level == "nominal",
    )
    for level in ("nominal", "ordinal", "interval", "ratio")
}
FAST_STATISTICS["percent_agreement"] = FastStatistic(
    plan=_bootstrap.percent_agreement_plan, direct=percent_agreement, allow_labels=True
)


def bootstrap_ci(
    reliability_data,
    statistic: str | Callable = "alpha_nominal",
    n_resamples: int = 1000,
    confidence: float = 0.95,
    seed: int | None = 0,
    min_valid_fraction: float = 0.5,
) -> tuple[float, float]:
    """Percentile bootstrap interval of an agreement statistic, resampling units.

    Each resample draws the N units (columns) with replacement.
    ``statistic`` is either a callable taking reliability data (e.g.
    ``functools.partial(krippendorff_alpha, level="ordinal")``), evaluated on
    each materialised resample of the data as given, or a name from :data:`FAST_STATISTICS`
    (``"alpha_nominal"``, ``"alpha_ordinal"``, ``"alpha_interval"``,
    ``"alpha_ratio"``, ``"percent_agreement"``) evaluated by the fast path:
    per-unit contributions are computed once and each resample is a weighted
    sum of them (same resampling distribution, different random stream
    than the callable form).  For large value domains the fast path covers
    nominal, interval and percent agreement; ordinal and ratio then fall back
    to the direct loop.

    Returns ``(low, high)``: the ``(1 - confidence) / 2`` and
    ``(1 + confidence) / 2`` percentiles (linear interpolation) of the
    resample values.  Resamples where the statistic is undefined (NaN) are
    dropped; if fewer than ``max(2, ceil(min_valid_fraction * n_resamples))``
    remain, or there are no units, the result is ``(nan, nan)``.
    """
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    if n_resamples < 1:
        raise ValueError(f"n_resamples must be >= 1, got {n_resamples}")
    rng = np.random.default_rng(seed)
    values = _resample_values(reliability_data, statistic, n_resamples, rng)
    return _percentile_interval(values, confidence, n_resamples, min_valid_fraction)


def _resample_values(data, statistic, n_resamples, rng) -> np.ndarray:
    if callable(statistic):  # the callable sees the data as given (only columns resampled)
        raw = np.asarray(data.to_numpy() if isinstance(data, pd.DataFrame) else data)
        if raw.ndim != 2:
            raw = reliability_matrix(raw, allow_labels=True)  # empty -> (0, 0); else raises
        return _resample_direct(raw, statistic, n_resamples, rng)
    try:
        fast = FAST_STATISTICS[statistic]
    except KeyError:
        raise ValueError(
            f"unknown statistic {statistic!r}; use a callable or one of {sorted(FAST_STATISTICS)}"
        ) from None
    x = reliability_matrix(data, allow_labels=fast.allow_labels)
    if x.shape[1] == 0:
        return np.zeros(0)
    plan = fast.plan(count_values(x))
    if plan is None:
        return _resample_direct(x, fast.direct, n_resamples, rng)
    return _bootstrap.resample(plan, n_resamples, rng)


def bootstrap_ci_from_counts(counts: ValueCounts, statistic: str = "alpha_nominal", n_resamples: int = 1000,
                             confidence: float = 0.95, seed: int | None = 0,
                             min_valid_fraction: float = 0.5) -> tuple[float, float]:
    """:func:`bootstrap_ci` of a named statistic from per-unit value counts (units resampled as
    multinomial counts over their distinct profiles: the same draws as from the data)."""
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    if n_resamples < 1:
        raise ValueError(f"n_resamples must be >= 1, got {n_resamples}")
    if statistic not in FAST_STATISTICS:
        raise ValueError(f"unknown statistic {statistic!r}; use one of {sorted(FAST_STATISTICS)}")
    rng = np.random.default_rng(seed)
    plan = FAST_STATISTICS[statistic].plan(counts) if counts.n_units else None
    if plan is None:
        if counts.n_units:
            raise ValueError(f"{statistic} has no count-based bootstrap for these values; use bootstrap_ci")
        return _percentile_interval(np.zeros(0), confidence, n_resamples, min_valid_fraction)
    values = _bootstrap.resample(plan, n_resamples, rng)
    return _percentile_interval(values, confidence, n_resamples, min_valid_fraction)


def _resample_direct(x: np.ndarray, statistic: Callable, n_resamples: int, rng) -> np.ndarray:
    n_units = x.shape[1]
    if n_units == 0:
        return np.zeros(0)
    out = np.empty(n_resamples)
    for b in range(n_resamples):
        out[b] = statistic(x[:, rng.integers(0, n_units, size=n_units)])
    return out


def _percentile_interval(values, confidence, n_resamples, min_valid_fraction):
    valid = values[np.isfinite(values)]
    if valid.size < max(2, math.ceil(min_valid_fraction * n_resamples)):
        return (math.nan, math.nan)
    tail = (1.0 - confidence) / 2.0 * 100.0
    low, high = np.percentile(valid, [tail, 100.0 - tail])
    return (float(low), float(high))


# --------------------------------------------------------------------------
# alpha from value counts, and Krippendorff's own bootstrap


def alpha_from_counts(counts, values=None, level: str = "nominal") -> AlphaDetails:
    """Krippendorff's alpha from a **units x values** table of counts.

    ``counts[u, v]`` is how many raters gave value ``values[v]`` to unit ``u``
    (a DataFrame's columns are its values; else ``values`` or 0..V-1).  The
    same number as :func:`alpha_details` on the raters x units data the table
    counts, without ever building that matrix: a project's statistics can come
    from ``GROUP BY unit, value`` counts.  Labels (strings) need ``nominal``.
    """
    check_level(level)
    if isinstance(counts, pd.DataFrame):
        values = list(counts.columns) if values is None else values
        counts = counts.to_numpy()
    table = np.asarray(counts, dtype=np.float64)
    if table.ndim != 2:
        raise ValueError(f"counts must be 2-D (units x values), got shape {table.shape}")
    if not np.all(np.isfinite(table)) or np.any(table < 0):
        raise ValueError("counts must be finite and non-negative")
    values = np.arange(table.shape[1]) if values is None else np.asarray(values)
    if values.shape[0] != table.shape[1]:
        raise ValueError(f"{values.shape[0]} values for {table.shape[1]} count columns")
    if values.dtype.kind not in "biuf":
        if level != "nominal":
            raise TypeError("non-numeric values can only be used with the nominal level")
        values = np.arange(values.shape[0])
    values = values.astype(np.float64)
    order = np.argsort(values, kind="stable")
    profiles = table[:, order].T
    keep = profiles.any(axis=1)
    counts_ = ValueCounts(values=values[order][keep], n_units=table.shape[0], profiles=profiles[keep],
                          freq=np.ones(table.shape[0]))
    return _details(disagreement(counts_, level), level)


def krippendorff_bootstrap(reliability_data, level: str = "nominal", n_resamples: int = 1000,
                           confidence: float = 0.95, seed: int | None = 0) -> tuple[float, float]:
    """Krippendorff's own bootstrap interval of alpha (Hayes & Krippendorff 2007).

    Instead of resampling units, it resamples *pairable values*: each resample
    draws ``M = sum_u m_u (m_u - 1) / 2`` value pairs with replacement, a pair
    ``(c, k)`` with probability ``o_ck / n`` from the coincidence matrix, and
    evaluates ``alpha* = 1 - mean(delta_ck) / D_e`` with the expected
    disagreement ``D_e`` of the data held fixed.  Drawn as multinomial counts
    over the coincidence cells, so its cost follows the number of distinct
    value pairs, not of units.  Returns the percentile ``(low, high)``;
    ``(nan, nan)`` when alpha is undefined.

    Unlike the unit bootstrap (:func:`bootstrap_ci`) it treats pairs as
    independent, so its intervals are narrower where units differ a lot
    (Gwet 2015 criticises it for that); the page names which one it shows.
    """
    check_level(level)
    x = reliability_matrix(reliability_data, allow_labels=level == "nominal")
    return krippendorff_bootstrap_from_counts(count_values(x), level, n_resamples, confidence, seed)


def krippendorff_bootstrap_from_counts(counts: ValueCounts, level: str = "nominal", n_resamples: int = 1000,
                                       confidence: float = 0.95, seed: int | None = 0) -> tuple[float, float]:
    """:func:`krippendorff_bootstrap` from per-unit value counts (its coincidence matrix)."""
    check_level(level)
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    parts = disagreement(counts, level)
    if parts.n_values == 0 or parts.expected <= 0:
        return (math.nan, math.nan)
    o, n_v, m_u = _coincidences(counts)
    coords = _coordinates(counts.values, n_v, level)
    delta = _pair_distance(coords, level)
    d_e = parts.expected / parts.n_values
    n_pairs = int(round(float((m_u * (m_u - 1.0) / 2.0).sum())))
    cells = o.ravel()
    used = np.flatnonzero(cells > 0)
    p = cells[used] / cells[used].sum()
    draws = np.random.default_rng(seed).multinomial(n_pairs, p, size=n_resamples)
    samples = 1.0 - (draws @ delta.ravel()[used]) / n_pairs / d_e
    return _percentile_interval(samples, confidence, n_resamples, 0.5)


def _details(parts, level: str) -> AlphaDetails:
    n = parts.n_values
    reason = NO_PAIRABLE_UNITS if n == 0 else NO_EXPECTED_DISAGREEMENT if parts.expected <= 0 else None
    return AlphaDetails(
        alpha=math.nan if reason else 1.0 - parts.observed / parts.expected, level=level,
        n_units=parts.n_units, n_pairable_values=round(n),
        observed_disagreement=parts.observed / n if n > 0 else math.nan,
        expected_disagreement=parts.expected / n if n > 0 else math.nan, reason=reason)


def _coincidences(counts: ValueCounts):
    """Dense coincidence matrix, pairable-value counts and each pairable unit's m_u."""
    if counts.profiles is not None:
        o, n_v, _ = profile_coincidences(counts.profiles, counts.freq)
        totals = counts.profiles.sum(axis=0)
        m_u = np.repeat(totals, counts.freq.astype(np.int64))
    else:
        csr = counts.csr
        totals = np.asarray(csr.sum(axis=1)).ravel()
        pairable, weights = unit_weights(totals)
        o = (csr.T @ (csr.multiply(weights[:, None]))).toarray()
        o[np.diag_indices_from(o)] -= np.asarray(csr.T @ weights).ravel()
        n_v = np.asarray(csr.T @ pairable.astype(np.float64)).ravel()
        m_u = totals
    return o, n_v, m_u[m_u >= 2]
