"""Private core of Krippendorff's alpha: coincidences, metrics, disagreements.

Notation follows Krippendorff (2011), "Computing Krippendorff's
Alpha-Reliability", and the ``krippendorff`` PyPI package:

* ``o[c, k]`` coincidence matrix, ``o = sum_u (c_u c_u^T - diag c_u) / (m_u - 1)``
  over *pairable* units (``m_u >= 2`` values);
* ``n_c`` pairable values equal to ``c`` (row sums of ``o``), ``n = sum n_c``;
* ``observed = sum_ck o_ck d_ck`` and ``expected = sum_ck n_c n_k d_ck / (n - 1)``
  so that ``alpha = 1 - observed / expected`` (``D_o = observed / n`` and
  ``D_e = expected / n`` in Krippendorff's notation).

Distances ``d`` (all zero on the diagonal):

* nominal ``[c != k]``; interval ``(c - k)^2``;
  ratio ``((c - k) / (c + k))^2`` (0 where ``c + k == 0``, as the package does);
* ordinal ``(sum_{g=c..k} n_g - (n_c + n_k) / 2)^2``, which equals
  ``(M_k - M_c)^2`` with the mid-rank ``M_c = cumsum(n)_c - n_c / 2``: ordinal
  alpha is interval alpha on mid-ranks of the observed value domain.

The expected sums use closed forms (O(V)) except for ratio (quadratic form).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse

from ._reliability import ValueCounts

LEVELS = ("nominal", "ordinal", "interval", "ratio")
_RATIO_BLOCK = 2048  # rows per block in the O(V^2) ratio expectation


@dataclass(frozen=True)
class Disagreement:
    """Sums behind one alpha: ``alpha = 1 - observed / expected``."""

    observed: float
    expected: float
    n_values: float  # pairable values n
    n_units: int  # pairable units
    n_distinct: int  # distinct values among pairable values


def check_level(level: str) -> str:
    if level not in LEVELS:
        raise ValueError(f"level must be one of {LEVELS}, got {level!r}")
    return level


def unit_weights(totals: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(pairable mask, 1 / (m_u - 1) or 0)`` for per-unit totals."""
    pairable = totals >= 2
    weights = np.zeros(totals.shape)
    np.divide(1.0, totals - 1.0, out=weights, where=pairable)
    return pairable, weights


# --------------------------------------------------------------------------
# coordinates and distances (batched over leading axes of ``n_v``)


def coordinates(values: np.ndarray, n_v: np.ndarray, level: str) -> np.ndarray:
    """Per-value coordinates: mid-ranks for ordinal, the values otherwise."""
    if level == "ordinal":
        return np.cumsum(n_v, axis=-1) - n_v / 2.0
    return values


def _nominal_d(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a != b).astype(np.float64)


def _squared_d(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a - b) ** 2


def _ratio_d(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    total = a + b
    out = np.zeros(np.broadcast_shapes(np.shape(a), np.shape(b)))
    np.divide(a - b, total, out=out, where=total != 0)
    return out**2


PAIR_DISTANCE = {
    "nominal": _nominal_d,
    "ordinal": _squared_d,
    "interval": _squared_d,
    "ratio": _ratio_d,
}


def distance_matrix(coords: np.ndarray, level: str) -> np.ndarray:
    """``(..., V, V)`` distance matrix from ``(..., V)`` coordinates."""
    return PAIR_DISTANCE[level](coords[..., :, None], coords[..., None, :])


# --------------------------------------------------------------------------
# expected disagreement numerators, sum_ck n_c n_k d_ck (batched)


def _expected_nominal(n_v: np.ndarray, coords: np.ndarray) -> np.ndarray:
    n = n_v.sum(axis=-1)
    return n * n - (n_v * n_v).sum(axis=-1)


def _expected_squared(n_v: np.ndarray, coords: np.ndarray) -> np.ndarray:
    n = n_v.sum(axis=-1)
    safe_n = np.where(n > 0, n, 1.0)
    centre = (n_v * coords).sum(axis=-1) / safe_n
    spread = (n_v * (coords - centre[..., None]) ** 2).sum(axis=-1)
    return 2.0 * n * spread


def _expected_ratio(n_v: np.ndarray, coords: np.ndarray) -> np.ndarray:
    total = np.zeros(n_v.shape[:-1])
    for start in range(0, coords.shape[-1], _RATIO_BLOCK):
        block = slice(start, start + _RATIO_BLOCK)
        d = _ratio_d(coords[..., block, None], coords[..., None, :])
        total += np.einsum("...c,...ck,...k->...", n_v[..., block], d, n_v)
    return total


EXPECTED = {
    "nominal": _expected_nominal,
    "ordinal": _expected_squared,
    "interval": _expected_squared,
    "ratio": _expected_ratio,
}


def expected_sum(n_v: np.ndarray, coords: np.ndarray, level: str) -> np.ndarray:
    """``sum_ck n_c n_k d_ck / (n - 1)``; exactly 0 when < 2 distinct values."""
    n = n_v.sum(axis=-1)
    raw = EXPECTED[level](n_v, coords)
    distinct = np.count_nonzero(n_v > 0, axis=-1)
    ok = (distinct >= 2) & (n > 1)
    out = np.zeros(np.shape(raw))
    np.divide(raw, n - 1.0, out=out, where=ok)
    return out


# --------------------------------------------------------------------------
# full-data disagreements


def profile_coincidences(profiles: np.ndarray, freq: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """Coincidence matrix from distinct unit profiles ``(V, P)`` and their frequencies.

    Returns ``(o, n_v, pairable units)`` with exact integer ``n_v``.
    """
    pairable, weights = unit_weights(profiles.sum(axis=0))
    weighted = profiles * (weights * freq)
    o = weighted @ profiles.T
    o[np.diag_indices_from(o)] -= weighted.sum(axis=1)
    n_v = profiles @ (pairable * freq)
    return o, n_v, int(freq[pairable].sum())


def batched_disagreement(
    o: np.ndarray, n_v: np.ndarray, values: np.ndarray, level: str
) -> tuple[np.ndarray, np.ndarray]:
    """(observed, expected) for coincidence matrices ``o`` of shape (..., V, V)."""
    coords = coordinates(values, n_v, level)
    observed = (o * distance_matrix(coords, level)).sum(axis=(-2, -1))
    return observed, expected_sum(n_v, coords, level)


def _sparse_disagreement(csr: sparse.csr_matrix, values: np.ndarray, level: str):
    pairable, weights = unit_weights(np.asarray(csr.sum(axis=1)).ravel())
    weighted = sparse.diags(weights) @ csr
    o = (csr.T @ weighted).tocoo()
    n_v = np.asarray(csr.T @ pairable.astype(np.float64)).ravel()
    coords = coordinates(values, n_v, level)
    d = PAIR_DISTANCE[level](coords[o.row], coords[o.col])  # zero on the diagonal
    observed = float(np.dot(o.data, d))
    return observed, float(expected_sum(n_v, coords, level)), n_v, int(np.count_nonzero(pairable))


def disagreement(counts: ValueCounts, level: str) -> Disagreement:
    """Observed and expected disagreement sums of one reliability matrix."""
    if counts.profiles is not None:
        o, n_v, n_units = profile_coincidences(counts.profiles, counts.freq)
        observed, expected = batched_disagreement(o, n_v, counts.values, level)
        observed, expected = float(observed), float(expected)
    else:
        observed, expected, n_v, n_units = _sparse_disagreement(counts.csr, counts.values, level)
    return Disagreement(
        observed=observed,
        expected=expected,
        n_values=float(n_v.sum()),
        n_units=n_units,
        n_distinct=int(np.count_nonzero(n_v > 0)),
    )


def agreement_ratio(observed: np.ndarray, expected: np.ndarray) -> np.ndarray:
    """``1 - observed / expected`` with NaN where ``expected == 0`` (no warning)."""
    observed = np.asarray(observed, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    out = np.full(np.broadcast_shapes(observed.shape, expected.shape), np.nan)
    ok = expected > 0
    np.divide(observed, expected, out=out, where=ok)
    return np.where(ok, 1.0 - out, np.nan)
