"""Private: integer coding of long-format labels (item, rater, label)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


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
