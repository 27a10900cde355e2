"""Private helpers: coerce reliability data and count values per unit.

Reliability data are a raters x units matrix with ``NaN`` for a missing
judgment (the convention of the ``krippendorff`` package).  Everything the
agreement statistics need is a function of the *value-count* matrix
``c[u, v]`` = number of raters who gave value ``v`` to unit ``u``; this module
builds that matrix as fast as numpy allows:

* small domains (at most ``SMALL_DOMAIN`` distinct values, e.g. rubric levels
  or a/b/tie) give a dense, value-major ``(V, N)`` float matrix built by
  ``V x raters`` vectorised comparisons (no sort, no ``np.unique``);
* larger domains (continuous scores) give a ``scipy.sparse`` ``(N, V)`` CSR
  matrix built from hashed codes (``pandas.factorize``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse

#: Largest number of distinct values handled with a dense count matrix.
SMALL_DOMAIN = 16


@dataclass(frozen=True)
class ValueCounts:
    """Per-unit value counts of a reliability matrix.

    ``values`` is sorted ascending (integer codes for label data).  Small
    domains are stored as *profiles*: the distinct count columns
    ``profiles[:, p]`` (shape ``(V, P)``), ``freq[p]`` units having each, and
    ``unit_profile[u]`` the profile of unit ``u``.  Large domains are stored as
    a CSR ``(N, V)`` matrix ``csr``.  Exactly one representation is set.
    """

    values: np.ndarray
    n_units: int
    profiles: np.ndarray | None = None
    freq: np.ndarray | None = None
    unit_profile: np.ndarray | None = None
    csr: sparse.csr_matrix | None = None

    @property
    def n_values(self) -> int:
        return int(self.values.shape[0])


def reliability_matrix(data, *, allow_labels: bool) -> np.ndarray:
    """Return ``data`` as a 2-D float array (raters x units), NaN = missing.

    Non-numeric data (strings, mixed objects) are only accepted when
    ``allow_labels`` is true (nominal statistics); they are then coded as
    integers in order of first appearance, with ``None``/NaN as missing.
    Raises ``ValueError`` for data that is not two-dimensional (an empty
    1-D input is accepted and means "no units").
    """
    if isinstance(data, pd.DataFrame):
        data = data.to_numpy(dtype=object if _is_label_frame(data) else float, na_value=np.nan)
    arr = np.asarray(data)
    if arr.dtype.kind in "US":  # numpy turns NaN into the string "nan" (as krippendorff does)
        arr = arr.astype(object)
        arr[arr == "nan"] = None
    if arr.size == 0:
        return np.zeros(arr.shape if arr.ndim == 2 else (0, 0))
    if arr.ndim != 2:
        raise ValueError(f"reliability data must be 2-D (raters x units), got shape {arr.shape}")
    if arr.dtype.kind in "biuf":
        return arr.astype(np.float64, copy=False)
    try:
        return arr.astype(np.float64)
    except (TypeError, ValueError):
        if not allow_labels:
            raise TypeError(
                "non-numeric reliability data can only be used with a nominal statistic; "
                "map the labels to ordered numbers for ordinal/interval/ratio"
            ) from None
    codes, _ = pd.factorize(pd.Series(arr.ravel(), dtype=object), use_na_sentinel=True)
    out = codes.astype(np.float64).reshape(arr.shape)
    out[codes.reshape(arr.shape) < 0] = np.nan
    return out


def _is_label_frame(frame: pd.DataFrame) -> bool:
    return any(not pd.api.types.is_numeric_dtype(dtype) for dtype in frame.dtypes)


def count_values(x: np.ndarray) -> ValueCounts:
    """Count values per unit of a float raters x units matrix (NaN = missing).

    Raises ``ValueError`` on infinite values.
    """
    n_raters, n_units = x.shape
    lo = np.fmin.reduce(x, axis=None) if x.size else np.nan
    if np.isnan(lo):  # no units, or everything missing
        return _profile_counts(np.zeros(0), np.zeros((0, n_units), dtype=np.uint8), n_raters)
    hi = np.fmax.reduce(x, axis=None)
    if not (np.isfinite(lo) and np.isfinite(hi)):
        raise ValueError("reliability data must be finite numbers (use NaN for missing)")
    n_present = x.size - int(np.count_nonzero(np.isnan(x)))
    if lo == np.floor(lo) and hi - lo < SMALL_DOMAIN:
        candidates = lo + np.arange(int(hi - lo) + 1, dtype=np.float64)
        counts = _dense_counts(x, candidates)
        if int(counts.sum(dtype=np.int64)) == n_present:  # all values were integers in range
            return _profile_counts(candidates, counts, n_raters)
    return _counts_from_codes(x, n_present)


def _count_dtype(n_raters: int) -> type:
    for dtype in (np.uint8, np.uint16, np.uint32):
        if n_raters <= np.iinfo(dtype).max:
            return dtype
    return np.uint64


def _dense_counts(x: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Value-major counts ``(V, N)`` by exact comparison with each value."""
    counts = np.zeros((values.shape[0], x.shape[1]), dtype=_count_dtype(x.shape[0]))
    hit = np.empty(x.shape[1], dtype=bool)
    for row in x:
        for v, value in enumerate(values):
            np.equal(row, value, out=hit)
            np.add(counts[v], hit, out=counts[v])
    return counts


def _profile_counts(values: np.ndarray, counts: np.ndarray, n_raters: int) -> ValueCounts:
    """Collapse value-major counts ``(V, N)`` to distinct unit profiles."""
    codes, profiles = _profile_codes(counts, base=n_raters + 1)
    keep = profiles.any(axis=1)
    return ValueCounts(
        values=values[keep],
        n_units=counts.shape[1],
        profiles=profiles[keep],
        freq=np.bincount(codes, minlength=profiles.shape[1]).astype(np.float64),
        unit_profile=codes,
    )


def _profile_codes(counts: np.ndarray, base: int) -> tuple[np.ndarray, np.ndarray]:
    """``(code per unit, distinct columns (V, P))`` of value-major counts.

    Each column is read as a mixed-radix integer (digits < ``base``); keys are
    numbered by a bincount when their range is small, else by hashing.
    """
    n_values, n_units = counts.shape
    if n_values * math.log2(base) > 62:
        return _profile_codes_wide(counts, base)
    key = np.zeros(n_units, dtype=np.int64)
    for row in counts:
        key *= base
        key += row
    span = base**n_values
    if span <= max(4 * n_units, 1 << 16):
        present = np.bincount(key, minlength=span) > 0
        uniques = np.flatnonzero(present)
        codes = (np.cumsum(present) - 1)[key]
    else:
        codes, uniques = pd.factorize(key)
    powers = base ** np.arange(n_values - 1, -1, -1, dtype=np.int64)
    profiles = (np.asarray(uniques)[None, :] // powers[:, None]) % base
    return codes.astype(np.intp), profiles.astype(np.float64)


def _profile_codes_wide(counts: np.ndarray, base: int) -> tuple[np.ndarray, np.ndarray]:
    """As :func:`_profile_codes` when one key would overflow int64: re-code as we go."""
    key = np.zeros(counts.shape[1], dtype=np.int64)
    span = 1
    for row in counts:
        if span * base > 2**62:
            codes, uniques = pd.factorize(key)
            key, span = codes.astype(np.int64), len(uniques)
        key = key * base + row
        span *= base
    codes, _ = pd.factorize(key)
    # factorize numbers codes by first appearance: the first unit of each code
    first = np.flatnonzero(np.diff(np.maximum.accumulate(codes), prepend=-1))
    return codes.astype(np.intp), counts[:, first].astype(np.float64)


def _counts_from_codes(x: np.ndarray, n_present: int) -> ValueCounts:
    n_units = x.shape[1]
    codes, uniques = pd.factorize(x.ravel(), use_na_sentinel=True)
    uniques = np.asarray(uniques, dtype=np.float64)
    order = np.argsort(uniques, kind="stable")
    values = uniques[order]
    if values.shape[0] <= SMALL_DOMAIN:
        return _profile_counts(values, _dense_counts(x, values), x.shape[0])
    rank = np.empty(order.shape[0] + 1, dtype=np.int64)
    rank[order] = np.arange(order.shape[0])
    rank[-1] = -1  # factorize's NaN sentinel -1 indexes the last slot
    coded = rank[codes]
    present = np.flatnonzero(coded >= 0)
    units = present % n_units
    csr = sparse.csr_matrix(
        (np.ones(n_present), (units, coded[present])), shape=(n_units, values.shape[0])
    )
    csr.sum_duplicates()
    return ValueCounts(values=values, n_units=n_units, csr=csr)
