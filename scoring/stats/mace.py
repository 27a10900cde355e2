"""MACE -- Multi-Annotator Competence Estimation (Hovy et al., NAACL 2013), by EM (pure numpy).

Each rater ``j`` either knows the answer (probability ``competence_j``) and gives the true label,
or is "spamming" and draws a label from their own strategy ``strategy_j`` (a distribution over the
classes):  ``P(says l | true t) = competence_j [l == t] + (1 - competence_j) strategy_j[l]``.
True labels have a uniform prior. Unlike Dawid-Skene, a rater who always answers the same class
is recognised as a spammer (low competence) instead of as an expert on that class.

EM, deterministic (no random restarts): starts from competence 0.5 and uniform strategies; each
iteration computes item posteriors (E-step) and the expected "knew it" and strategy counts, then
re-estimates with ``smoothing`` pseudo-counts (M-step, the ``em`` variant of the paper and of
crowd-kit's ``MACE(method="em")``). Stops when no posterior moves by ``tol`` or after ``n_iter``
iterations; ``converged`` reports which.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ._labels import code_labels

__all__ = ["MaceResult", "mace"]


@dataclass(frozen=True)
class MaceResult:
    items: pd.DataFrame  # item, label, probability
    posterior: pd.DataFrame  # items x classes
    raters: pd.DataFrame  # rater, n_labels, competence
    strategy: pd.DataFrame  # raters x classes: what a rater answers when not knowing
    n_iter: int
    converged: bool
    log_likelihood: float


def mace(labels: pd.DataFrame, n_iter: int = 500, tol: float = 1e-6, smoothing: float | None = None,
         classes=None) -> MaceResult:
    """Fit MACE to long labels ``item, rater, label`` (module docstring).

    ``smoothing`` defaults to ``0.01 / K`` (as crowd-kit); it must be > 0.
    """
    if n_iter < 1:
        raise ValueError(f"n_iter must be >= 1, got {n_iter}")
    coded = code_labels(labels, classes)
    n_items, n_raters, n_classes = coded.shape
    s = 0.01 / max(n_classes, 1) if smoothing is None else smoothing
    if not s > 0:
        raise ValueError(f"smoothing must be > 0, got {smoothing}")
    competence = np.full(n_raters, 0.5)
    strategy = np.full((n_raters, max(n_classes, 1)), 1.0 / max(n_classes, 1))
    posterior = np.zeros((n_items, n_classes))
    weight = coded.weights
    given = np.bincount(coded.rater, weights=weight, minlength=n_raters)
    done, converged, log_lik = 0, n_items == 0, 0.0
    while not converged and done < n_iter:
        new, log_lik, knew, spam_counts = _e_step(coded, weight, competence, strategy)
        converged = bool(np.max(np.abs(new - posterior)) < tol) if done else False
        posterior, done = new, done + 1
        competence = (knew + s) / (given + 2.0 * s)
        strategy = (spam_counts + s) / (spam_counts + s).sum(axis=1, keepdims=True)
    if n_items:
        posterior, log_lik, _, _ = _e_step(coded, weight, competence, strategy)
    best = posterior.argmax(axis=1) if n_classes else np.zeros(n_items, dtype=np.intp)
    class_index = pd.Index(coded.classes, name="label")
    return MaceResult(
        items=pd.DataFrame({"item": coded.items,
                            "label": pd.Series(coded.classes[best] if n_classes else [], dtype=object),
                            "probability": posterior[np.arange(n_items), best] if n_classes else []}),
        posterior=pd.DataFrame(posterior, index=pd.Index(coded.items, name="item"), columns=class_index),
        raters=pd.DataFrame({"rater": coded.raters, "n_labels": np.rint(given).astype(np.int64),
                             "competence": competence}),
        strategy=pd.DataFrame(strategy[:, :n_classes], index=pd.Index(coded.raters, name="rater"),
                              columns=class_index),
        n_iter=done, converged=converged, log_likelihood=log_lik)


def _e_step(coded, weight, competence, strategy):
    """Posteriors, log-likelihood, expected "knew it" counts per rater and spam counts per label.

    Over the labels as given (one row per distinct item, rater, label with its ``weight``), not
    over items x classes: a label ``l`` by rater ``j`` has likelihood ``spam = (1 - c_j) s_j[l]``
    under every true class but ``l``, and ``c_j + spam`` under ``l``; so an item's log posterior
    is the sum of its labels' ``log spam`` plus, per class, the ``log((c_j + spam) / spam)`` of
    the labels that name it."""
    n_items, n_raters, n_classes = coded.shape
    theta = competence[coded.rater]  # (N,)
    spam = (1.0 - theta) * strategy[coded.rater, coded.label]  # (N,)
    base = np.bincount(coded.item, weights=weight * np.log(spam), minlength=n_items)
    cell = coded.item.astype(np.int64) * n_classes + coded.label
    boost = np.bincount(cell, weights=weight * np.log1p(theta / spam), minlength=n_items * n_classes)
    log_post = base[:, None] + boost.reshape(n_items, n_classes)
    top = log_post.max(axis=1, keepdims=True)
    norm = np.exp(log_post - top).sum(axis=1, keepdims=True)
    posterior = np.exp(log_post - top) / norm
    log_lik = float((top[:, 0] + np.log(norm[:, 0]) - np.log(n_classes)).sum())
    p_knew = posterior.ravel()[cell] * theta / (theta + spam)  # P(not spamming | data)
    knew = np.bincount(coded.rater, weights=weight * p_knew, minlength=n_raters)
    spam_cell = coded.rater.astype(np.int64) * n_classes + coded.label
    spam_counts = np.bincount(spam_cell, weights=weight * (1.0 - p_knew),
                              minlength=n_raters * n_classes).reshape(n_raters, n_classes)
    return posterior, log_lik, knew, spam_counts
