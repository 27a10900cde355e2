"""Private: fast unit bootstrap for Krippendorff's alpha / percent agreement.

A unit bootstrap resamples the N units (columns) with replacement.  Alpha
depends on the data only through sums over units of per-unit terms, so a
resample is fully described by how often each unit was drawn (a count
vector ``k``), and every disagreement sum is ``k @ per_unit_term``.

Units with identical value counts ("profiles") contribute identically, so
with a small value domain we collapse the N units to their P distinct
profiles (P <= a few hundred for rubric data) and draw the profile counts
directly: drawing N units uniformly with replacement gives profile counts
``Multinomial(N, freq / N)`` -- the same distribution as resampling units.
The statistic of each resample is then a matrix product, never a rebuild.
Cost: O(resamples x min(P * ~100 ns multinomial, N * ~5 ns index draws)),
so it is ~10x one alpha for rubric data (P of a few hundred) and grows with
the number of distinct unit profiles (many raters x many levels).

Large (sparse) domains have no profiles: per-unit terms are resampled by
index draws, with fast paths for nominal, interval and percent agreement.

``Plan.evaluate(K)`` maps a ``(b, P)`` matrix of draw counts to ``b``
statistic values (NaN where undefined).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import sparse

from ._alpha import (
    agreement_ratio,
    batched_disagreement,
    distance_matrix,
    expected_sum,
    unit_weights,
)
from ._reliability import ValueCounts

_CHUNK_CELLS = 4_000_000  # bound on resamples x (profiles or values^2) per block
_MULTINOMIAL_RATIO = 20  # multinomial (~100 ns per profile) when profiles * ratio <= units


@dataclass(frozen=True)
class Plan:
    """Per-profile contributions ready for resampling."""

    n_units: int  # N, units drawn per resample
    n_profiles: int  # P, columns of the count matrix ``evaluate`` expects
    unit_profile: np.ndarray | None  # (N,) profile of each unit; None = identity
    evaluate: Callable[[np.ndarray], np.ndarray]
    width: int = 1  # per-resample working size, to size the blocks
    freq: np.ndarray | None = None  # (P,) units per profile; None = one each


# --------------------------------------------------------------------------
# drawing count matrices


def draw_counts(plan: Plan, size: int, rng: np.random.Generator) -> np.ndarray:
    """``(size, P)`` draw counts of ``size`` unit bootstrap resamples."""
    n, p = plan.n_units, plan.n_profiles
    if plan.unit_profile is not None and p * _MULTINOMIAL_RATIO <= n:
        return rng.multinomial(n, plan.freq / n, size=size).astype(np.float64)
    dtype = np.int32 if n < 2**31 - 1 else np.int64
    out = np.empty((size, p))
    for row in range(size):
        drawn = rng.integers(0, n, size=n, dtype=dtype)
        if plan.unit_profile is not None:
            drawn = plan.unit_profile[drawn]
        out[row] = np.bincount(drawn, minlength=p)
    return out


def resample(plan: Plan, n_resamples: int, rng: np.random.Generator) -> np.ndarray:
    """Statistic values of ``n_resamples`` resamples, evaluated in blocks."""
    block = max(1, min(n_resamples, _CHUNK_CELLS // max(plan.n_profiles, plan.width, 1)))
    parts = []
    for start in range(0, n_resamples, block):
        size = min(block, n_resamples - start)
        parts.append(plan.evaluate(draw_counts(plan, size, rng)))
    return np.concatenate(parts) if parts else np.zeros(0)


# --------------------------------------------------------------------------
# plans for the profile (small-domain) representation


def _profile_fixed_plan(counts: ValueCounts, level: str, percent: bool) -> Plan:
    prof, unit_profile = counts.profiles, counts.unit_profile
    pairable, weights = unit_weights(prof.sum(axis=0))
    d = distance_matrix(counts.values, level)
    observed = weights * np.einsum("vp,vk,kp->p", prof, d, prof)
    marginals = (prof * pairable).T  # (P, V) pairable value counts

    def evaluate(k: np.ndarray) -> np.ndarray:
        obs = k @ observed
        n_v = k @ marginals
        if percent:
            return agreement_ratio(obs, n_v.sum(axis=1))
        return agreement_ratio(obs, expected_sum(n_v, counts.values, level))

    return Plan(counts.n_units, prof.shape[1], unit_profile, evaluate, counts.n_values, counts.freq)


def _profile_ordinal_plan(counts: ValueCounts) -> Plan:
    """Ordinal distances depend on the resample's marginals: carry full ``o``."""
    prof, unit_profile = counts.profiles, counts.unit_profile
    n_values, n_prof = prof.shape
    pairable, weights = unit_weights(prof.sum(axis=0))
    marginals = (prof * pairable).T
    step = max(1, _CHUNK_CELLS // max(n_values * n_values, 1))

    def coincidence_terms(lo: int, hi: int) -> np.ndarray:
        block = prof[:, lo:hi].T  # (p, V)
        terms = block[:, :, None] * block[:, None, :]
        terms[:, np.arange(n_values), np.arange(n_values)] -= block
        return (terms * weights[lo:hi, None, None]).reshape(hi - lo, -1)

    cached = coincidence_terms(0, n_prof) if n_prof <= step else None

    def evaluate(k: np.ndarray) -> np.ndarray:
        if cached is not None:
            flat = k @ cached
        else:
            flat = sum(k[:, lo : lo + step] @ coincidence_terms(lo, min(lo + step, n_prof))
                       for lo in range(0, n_prof, step))
        o = flat.reshape(k.shape[0], n_values, n_values)
        observed, expected = batched_disagreement(o, k @ marginals, counts.values, "ordinal")
        return agreement_ratio(observed, expected)

    return Plan(counts.n_units, n_prof, unit_profile, evaluate, n_values * n_values, counts.freq)


# --------------------------------------------------------------------------
# per-unit plans for a sparse (large-domain) count matrix


def _sparse_basics(csr: sparse.csr_matrix):
    totals = np.asarray(csr.sum(axis=1)).ravel()
    pairable, weights = unit_weights(totals)
    return totals, pairable, weights


def _sparse_nominal_plan(counts: ValueCounts, percent: bool) -> Plan:
    csr = counts.csr
    totals, pairable, weights = _sparse_basics(csr)
    squares = np.asarray(csr.multiply(csr).sum(axis=1)).ravel()
    observed = weights * (totals * totals - squares)
    marginals_t = (sparse.diags(pairable.astype(np.float64)) @ csr).T.tocsr()  # (V, N)

    def evaluate(k: np.ndarray) -> np.ndarray:
        obs = k @ observed
        if percent:
            return agreement_ratio(obs, k @ (totals * pairable))
        n_v = np.asarray(marginals_t @ k.T).T
        return agreement_ratio(obs, expected_sum(n_v, counts.values, "nominal"))

    return Plan(counts.n_units, counts.n_units, None, evaluate, counts.n_values)


#: relative size under which a resample's value spread counts as zero
_ZERO_SPREAD = 1e-10


def _sparse_interval_plan(counts: ValueCounts) -> Plan:
    csr = counts.csr
    totals, pairable, weights = _sparse_basics(csr)
    n_v = np.asarray(csr.T @ pairable.astype(np.float64)).ravel()
    x = counts.values - np.dot(n_v, counts.values) / max(n_v.sum(), 1.0)  # centred values
    first = csr @ x
    second = csr @ (x * x)
    mean = np.zeros_like(first)
    np.divide(first, totals, out=mean, where=totals > 0)
    coo = csr.tocoo()
    spread = np.bincount(coo.row, weights=coo.data * (x[coo.col] - mean[coo.row]) ** 2,
                         minlength=counts.n_units)
    observed = 2.0 * weights * totals * spread
    moments = np.column_stack([totals, first, second]) * pairable[:, None]

    def evaluate(k: np.ndarray) -> np.ndarray:
        n, t1, t2 = (k @ moments).T
        raw = 2.0 * (n * t2 - t1 * t1)
        degenerate = raw <= _ZERO_SPREAD * 2.0 * n * t2
        expected = np.zeros_like(raw)
        np.divide(raw, n - 1.0, out=expected, where=~degenerate & (n > 1))
        return agreement_ratio(k @ observed, expected)

    return Plan(counts.n_units, counts.n_units, None, evaluate, 3)


# --------------------------------------------------------------------------
# plan builders by statistic (None: no fast path, caller falls back)


def alpha_plan(counts: ValueCounts, level: str) -> Plan | None:
    if counts.profiles is not None:
        if level == "ordinal":
            return _profile_ordinal_plan(counts)
        return _profile_fixed_plan(counts, level, percent=False)
    sparse_builders = {
        "nominal": lambda c: _sparse_nominal_plan(c, percent=False),
        "interval": _sparse_interval_plan,
    }
    builder = sparse_builders.get(level)
    return builder(counts) if builder is not None else None


def percent_agreement_plan(counts: ValueCounts) -> Plan:
    if counts.profiles is not None:
        return _profile_fixed_plan(counts, "nominal", percent=True)
    return _sparse_nominal_plan(counts, percent=True)
