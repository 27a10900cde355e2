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

from ._labels import Profiles, code_labels, group_profiles, incidence

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
         classes=None, *, accelerate: bool = False, collapse: bool = True) -> MaceResult:
    """Fit MACE to long labels ``item, rater, label`` (module docstring).

    ``smoothing`` defaults to ``0.01 / K`` (as crowd-kit); it must be > 0.

    Cost follows the distinct item *profiles* (their (rater, label) counts), not the items: items
    sharing one have the same posterior at every step, so EM runs once per profile, weighted by
    how many items share it (``collapse=False``: once per item; the same results to rounding,
    tested). ``accelerate=True`` speeds EM up with SQUAREM (Varadhan & Roland 2008, scheme S3)
    over the raters' parameters: after an EM step a second one and an extrapolation along the
    two, kept only when it does not lower the objective EM increases (the log-likelihood plus the
    log-density of the smoothing's Beta/Dirichlet prior); same fixed point and the same stopping
    test (a plain EM step moving no posterior by ``tol``); ``n_iter`` counts EM steps either way.
    """
    if n_iter < 1:
        raise ValueError(f"n_iter must be >= 1, got {n_iter}")
    coded = code_labels(labels, classes)
    n_items, n_raters, n_classes = coded.shape
    s = 0.01 / max(n_classes, 1) if smoothing is None else smoothing
    if not s > 0:
        raise ValueError(f"smoothing must be > 0, got {smoothing}")
    given = np.bincount(coded.rater, weights=coded.weights, minlength=n_raters)
    start = (np.full(n_raters, 0.5), np.full((n_raters, max(n_classes, 1)), 1.0 / max(n_classes, 1)))
    if n_items == 0:
        return _result(coded, np.zeros((0, n_classes)), given, *start, 0, True, 0.0)
    group = group_profiles(incidence(coded)) if collapse else Profiles.identity(incidence(coded), None)
    fit = _Fit(group, n_raters, n_classes, given, s)
    theta, posterior, done, converged = fit.pack(*start), None, 0, False
    step_max = 1.0
    while not converged and done < n_iter:
        new, objective, following = fit.em_step(theta)
        done += 1
        converged = posterior is not None and bool(np.max(np.abs(new - posterior)) < tol)
        posterior = new
        if converged or not accelerate or done + 2 > n_iter:
            theta = following
            continue
        theta, posterior, steps, step_max = fit.squarem(theta, following, objective, step_max)
        done += steps
    posterior, log_lik, _, _ = fit.e_step(*fit.unpack(theta))
    return _result(coded, posterior[group.inverse], given, *fit.unpack(theta), done, converged, log_lik)


def _result(coded, posterior, given, competence, strategy, n_iter, converged, log_lik) -> MaceResult:
    n_items, _, n_classes = coded.shape
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
        n_iter=n_iter, converged=converged, log_likelihood=log_lik)


class _Fit:
    """EM over item profiles. The labels of each profile, one row per (profile, rater, label):
    ``profile``, ``rater``, ``label`` codes and ``count`` (how many such labels one item of the
    profile has); ``weight``: items per profile. Parameters travel packed in one vector
    (competences, then the strategies row by row) for SQUAREM's norms and extrapolation."""

    def __init__(self, group: Profiles, n_raters: int, n_classes: int, given: np.ndarray, smoothing: float):
        matrix = group.matrix
        self.n_profiles, self.n_raters, self.n_classes = matrix.shape[0], n_raters, n_classes
        self.profile = np.repeat(np.arange(self.n_profiles), np.diff(matrix.indptr))
        self.rater, self.label = np.divmod(matrix.indices.astype(np.int64), n_classes)
        self.count, self.weight = matrix.data.astype(np.float64), group.weight
        self.cell = self.profile * n_classes + self.label
        self.spam_cell = self.rater * n_classes + self.label
        self.counted = self.count * self.weight[self.profile]  # each label row times the items sharing it
        self.given, self.smoothing = given, smoothing

    def pack(self, competence, strategy) -> np.ndarray:
        return np.concatenate([competence, strategy.ravel()])

    def unpack(self, theta):
        return theta[:self.n_raters], theta[self.n_raters:].reshape(self.n_raters, -1)

    def e_step(self, competence, strategy):
        """Posteriors, log-likelihood, expected "knew it" counts per rater and spam counts per
        label. Over the labels as given, not over items x classes: a label ``l`` by rater ``j``
        has likelihood ``spam = (1 - c_j) s_j[l]`` under every true class but ``l``, and
        ``c_j + spam`` under ``l``; so a profile's log posterior is the sum of its labels'
        ``log spam`` plus, per class, the ``log((c_j + spam) / spam)`` of the labels naming it."""
        n, k = self.n_profiles, self.n_classes
        theta = competence[self.rater]
        spam = (1.0 - theta) * strategy[self.rater, self.label]
        base = np.bincount(self.profile, weights=self.count * np.log(spam), minlength=n)
        boost = np.bincount(self.cell, weights=self.count * np.log1p(theta / spam), minlength=n * k)
        log_post = base[:, None] + boost.reshape(n, k)
        top = log_post.max(axis=1, keepdims=True)
        exp = np.exp(log_post - top)
        norm = exp.sum(axis=1, keepdims=True)
        posterior = exp / norm
        log_lik = float(np.dot(self.weight, top[:, 0] + np.log(norm[:, 0]) - np.log(k)))
        p_knew = posterior.ravel()[self.cell] * theta / (theta + spam)  # P(not spamming | data)
        knew = np.bincount(self.rater, weights=self.counted * p_knew, minlength=self.n_raters)
        spam_counts = np.bincount(self.spam_cell, weights=self.counted * (1.0 - p_knew),
                                  minlength=self.n_raters * k).reshape(self.n_raters, k)
        return posterior, log_lik, knew, spam_counts

    def em_step(self, theta):
        """``(posteriors at theta, EM's objective at theta, the parameters one EM step on)``. The
        objective is the log-likelihood plus the log-density (over ``smoothing``) of the
        Beta/Dirichlet prior the smoothed M-step maximises."""
        competence, strategy = self.unpack(theta)
        posterior, log_lik, knew, spam_counts = self.e_step(competence, strategy)
        s = self.smoothing
        prior = s * float(np.log(competence).sum() + np.log1p(-competence).sum() + np.log(strategy).sum())
        spam_counts = spam_counts + s
        following = self.pack((knew + s) / (self.given + 2.0 * s), spam_counts / spam_counts.sum(axis=1, keepdims=True))
        return posterior, log_lik + prior, following

    def squarem(self, start, first, start_objective, step_max):
        """One SQUAREM S3 cycle from ``start`` (whose EM step gave ``first``) with the adaptive
        step bound of Varadhan & Roland's ``squarem``: ``(parameters, posteriors at the point the
        next EM step starts from, EM steps taken, next step bound)``."""
        second_posterior, _, second = self.em_step(first)
        r = first - start
        v = second - first - r
        norm_v = float(np.sqrt(v @ v))
        if norm_v == 0.0:
            return second, second_posterior, 1, step_max
        step = max(min(float(np.sqrt(r @ r)) / norm_v, step_max), 1.0)
        jump = self._valid(start + 2.0 * step * r + step * step * v)
        posterior, objective, stabilised = self.em_step(jump)
        if np.isfinite(objective) and objective >= start_objective:
            return stabilised, posterior, 2, step_max * _STEP_FACTOR if step == step_max else step_max
        return second, second_posterior, 1, max(1.0, step_max / _STEP_FACTOR) if step == step_max else step_max

    def _valid(self, theta):
        """Extrapolated parameters pulled back into the model: competences inside (0, 1),
        strategies positive rows summing to 1."""
        competence, strategy = self.unpack(theta)
        competence = np.clip(competence, _EDGE, 1.0 - _EDGE)
        strategy = np.clip(strategy, _EDGE, None)
        return self.pack(competence, strategy / strategy.sum(axis=1, keepdims=True))


_STEP_FACTOR = 4.0
_EDGE = 1e-9
