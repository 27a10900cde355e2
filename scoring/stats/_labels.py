"""Private: integer coding of long-format labels (item, rater, label), and items grouped by
their *profile* (the (rater, label) counts they have), over which EM runs once per profile."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse


@dataclass(frozen=True)
class CodedLabels:
    items: np.ndarray  # (I,) item ids, sorted when sortable
    raters: np.ndarray  # (J,) rater ids, sorted when sortable
    classes: np.ndarray  # (K,) label values: categorical order, else sorted
    item: np.ndarray  # (N,) item code of each label
    rater: np.ndarray  # (N,) rater code
    label: np.ndarray  # (N,) class code
    weight: np.ndarray | None = None  # (N,) how many identical labels each row stands for; None = 1

    @property
    def weights(self) -> np.ndarray:
        return np.ones(self.item.shape[0]) if self.weight is None else self.weight

    @property
    def shape(self) -> tuple[int, int, int]:
        return self.items.shape[0], self.raters.shape[0], self.classes.shape[0]

    def vote_counts(self) -> np.ndarray:
        """``(I, K)`` number of labels of each class per item."""
        n_items, _, n_classes = self.shape
        flat = self.item.astype(np.int64) * n_classes + self.label
        counts = np.bincount(flat, weights=self.weight, minlength=n_items * n_classes)
        integral = self.weight is None or bool(np.all(self.weight == np.round(self.weight)))
        return counts.reshape(n_items, n_classes).astype(np.int64 if integral else np.float64)


def code_labels(labels: pd.DataFrame, classes=None) -> CodedLabels:
    """Code a long DataFrame with columns ``item``, ``rater``, ``label`` and,
    optionally, ``count`` (aggregated rows: one row stands for ``count``
    identical labels, e.g. from ``GROUP BY rater, item, label``).

    Rows whose label is missing (NaN/None) are dropped; a missing item or
    rater raises ``ValueError``, a negative or non-finite count too.  ``classes`` fixes the label set and order
    (labels outside it raise); by default a categorical column's categories,
    else the sorted distinct labels.
    """
    missing = {"item", "rater", "label"} - set(labels.columns)
    if missing:
        raise ValueError(f"labels lacks column(s) {sorted(missing)}")
    frame = labels[labels["label"].notna()]
    if frame["item"].isna().any() or frame["rater"].isna().any():
        raise ValueError("item and rater must not be missing")
    item, items = _sorted_factorize(frame["item"])
    rater, raters = _sorted_factorize(frame["rater"])
    label, classes = _class_codes(frame["label"], classes)
    weight = None
    if "count" in frame:
        weight = frame["count"].to_numpy(dtype=np.float64)
        if not np.all(np.isfinite(weight)) or np.any(weight < 0):
            raise ValueError("count must be finite and non-negative")
    return CodedLabels(items, raters, classes, item, rater, label, weight)


def _sorted_factorize(column: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    codes, uniques = pd.factorize(column, sort=False)
    uniques = np.asarray(uniques, dtype=object)
    try:
        order = np.argsort(uniques, kind="stable")
    except TypeError:  # unorderable mix: keep first-appearance order
        return codes.astype(np.intp), uniques
    rank = np.empty(order.shape[0], dtype=np.intp)
    rank[order] = np.arange(order.shape[0])
    return rank[codes], uniques[order]


def _class_codes(column: pd.Series, classes) -> tuple[np.ndarray, np.ndarray]:
    if classes is None and isinstance(column.dtype, pd.CategoricalDtype):
        classes = list(column.cat.categories)
    if classes is None:
        return _sorted_factorize(column)
    classes = np.asarray(list(classes), dtype=object)
    codes = pd.Index(classes).get_indexer(column.to_numpy(dtype=object))
    if (codes < 0).any():
        unknown = pd.unique(column.to_numpy(dtype=object)[codes < 0])[:5]
        raise ValueError(f"labels {list(unknown)} are not among classes {list(classes)}")
    return codes.astype(np.intp), classes


def incidence(coded: CodedLabels) -> sparse.csr_matrix:
    """``(items, raters x classes)``: how many labels of each (rater, given class) cell each item
    has (canonical CSR: sorted indices, duplicates summed)."""
    n_items, n_raters, n_classes = coded.shape
    cell = coded.rater.astype(np.int64) * n_classes + coded.label  # (rater, given) code
    matrix = sparse.csr_matrix((coded.weights, (coded.item, cell)), shape=(n_items, n_raters * n_classes))
    matrix.sum_duplicates()
    matrix.sort_indices()
    return matrix


@dataclass(frozen=True)
class Profiles:
    """Items grouped by profile: ``matrix`` (profiles x (rater, label)) counts, ``weight`` how many
    items share each profile, ``first`` one item of each, ``inverse`` each item's profile and
    ``gold`` each profile's gold class code (-1 none; None without gold)."""

    matrix: sparse.csr_matrix
    weight: np.ndarray
    first: np.ndarray
    inverse: np.ndarray
    gold: np.ndarray | None

    @classmethod
    def identity(cls, cell: sparse.csr_matrix, gold_code) -> "Profiles":
        index = np.arange(cell.shape[0])
        return cls(cell, np.ones(cell.shape[0]), index, index, gold_code)


def group_profiles(cell: sparse.csr_matrix, gold_code: np.ndarray | None = None) -> Profiles:
    """Group the items (rows of ``cell``, canonical: sorted column indices, no duplicates) by
    their (rater, label) counts and gold label. Rows of one length at a time: each row's column
    indices, counts (as their bits) and gold code form one fixed-width key, and ``np.unique`` of
    the keys finds the distinct ones -- vectorised, memory twice the matrix's."""
    n_items = cell.shape[0]
    lengths = np.diff(cell.indptr)
    gold = np.full(n_items, -1, dtype=np.int64) if gold_code is None else gold_code
    inverse = np.empty(n_items, dtype=np.intp)
    firsts, weights, n_profiles = [], [], 0
    for length in np.unique(lengths):
        rows = np.flatnonzero(lengths == length)
        at = cell.indptr[rows][:, None] + np.arange(length)
        key = np.concatenate([cell.indices[at].astype(np.int64), cell.data[at].view(np.int64),
                              gold[rows][:, None]], axis=1)
        key = np.ascontiguousarray(key).view(np.dtype((np.void, key.shape[1] * 8))).ravel()
        _, first, local, count = np.unique(key, return_index=True, return_inverse=True, return_counts=True)
        inverse[rows] = n_profiles + local.ravel()
        firsts.append(rows[first])
        weights.append(count)
        n_profiles += first.shape[0]
    first = np.concatenate(firsts) if firsts else np.zeros(0, dtype=np.intp)
    return Profiles(cell[first], np.concatenate(weights).astype(np.float64) if weights else np.zeros(0),
                     first, inverse, None if gold_code is None else gold_code[first])
