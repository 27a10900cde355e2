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

    @property
    def shape(self) -> tuple[int, int, int]:
        return self.items.shape[0], self.raters.shape[0], self.classes.shape[0]

    def vote_counts(self) -> np.ndarray:
        """``(I, K)`` number of labels of each class per item."""
        n_items, _, n_classes = self.shape
        flat = self.item.astype(np.int64) * n_classes + self.label
        return np.bincount(flat, minlength=n_items * n_classes).reshape(n_items, n_classes)


def code_labels(labels: pd.DataFrame, classes=None) -> CodedLabels:
    """Code a long DataFrame with columns ``item``, ``rater``, ``label``.

    Rows whose label is missing (NaN/None) are dropped; a missing item or
    rater raises ``ValueError``.  ``classes`` fixes the label set and order
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
    return CodedLabels(items, raters, classes, item, rater, label)


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
