"""Label consensus: majority vote and Dawid-Skene (pure numpy/pandas).

Input everywhere: a long DataFrame with one row per judgment and columns
``item``, ``rater``, ``label`` -- or one row per distinct (item, rater, label)
with a ``count`` column (``GROUP BY``-aggregated: same results, cost follows
the distinct rows) (e.g. pairwise choices ``"a"/"b"/"tie"`` or
rubric levels).  Rows with a missing label are dropped.  Classes are the
categories of a categorical ``label`` column, else the sorted distinct
labels, or the ``classes`` argument.  Items are returned sorted by id.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ._labels import CodedLabels, Profiles, code_labels, group_profiles, incidence

__all__ = ["DawidSkeneResult", "dawid_skene", "majority_vote"]


def majority_vote(labels: pd.DataFrame, tie_label=None, classes=None) -> pd.DataFrame:
    """Most frequent label per item, with explicit ties.

    Returns one row per item with columns ``item``, ``label``, ``votes``
    (count of the winning label), ``n_labels``, ``share`` (``votes /
    n_labels``) and ``tied``.  Tie policy: when two or more labels share the
    top count, **no label is chosen** -- ``label`` is ``tie_label`` (default
    ``None``) and ``tied`` is True; ``votes`` is still the top count.
    """
    coded = code_labels(labels, classes)
    votes = coded.vote_counts()
    top = votes.max(axis=1, initial=0)
    n_labels = votes.sum(axis=1)
    tied = (votes == top[:, None]).sum(axis=1) > 1
    winner = coded.classes[votes.argmax(axis=1)] if votes.shape[1] else np.array([], dtype=object)
    label = np.where(tied, np.array(tie_label, dtype=object), winner.astype(object))
    return pd.DataFrame({
        "item": coded.items,
        "label": pd.Series(label, dtype=object),
        "votes": top,
        "n_labels": n_labels,
        "share": top / np.maximum(n_labels, 1),
        "tied": tied,
    })


@dataclass(frozen=True)
class DawidSkeneResult:
    """Dawid-Skene estimates.

    * ``items``: DataFrame ``item``, ``label`` (MAP class), ``probability``
      (its posterior probability);
    * ``posterior``: DataFrame items x classes of posterior probabilities;
    * ``raters``: DataFrame ``rater``, ``n_labels``, ``accuracy`` -- expected
      share of the rater's labels equal to the true class under the posterior;
    * ``confusion``: array ``(raters, classes, classes)``, ``confusion[j, t, l]`` =
      P(rater j says l | true class t); see :meth:`confusion_frame`;
    * ``class_priors``: Series of estimated class prevalences;
    * ``n_iter``, ``converged``, ``log_likelihood`` (of the final estimates);
    * ``final_change``: the largest change of a posterior probability in the last plain EM step
      (the quantity the convergence test compares with ``tol``; NaN when no step ran);
    * ``n_profiles``: how many distinct item profiles EM ran over (items without ``collapse``);
    * ``start_used``: whether EM started from the given ``start`` (else from the majority vote).
    """

    items: pd.DataFrame
    posterior: pd.DataFrame
    raters: pd.DataFrame
    confusion: np.ndarray
    class_priors: pd.Series
    n_iter: int
    converged: bool
    log_likelihood: float
    final_change: float = float("nan")
    n_profiles: int = 0
    start_used: bool = False

    def confusion_frame(self, rater) -> pd.DataFrame:
        """Confusion matrix of one rater: rows true class, columns given label."""
        j = int(np.flatnonzero(self.raters["rater"].to_numpy() == rater)[0])
        classes = self.posterior.columns
        return pd.DataFrame(self.confusion[j], index=classes.rename("true"),
                            columns=classes.rename("given"))


def dawid_skene(
    labels: pd.DataFrame,
    n_iter: int = 500,
    tol: float = 1e-6,
    smoothing: float = 0.01,
    classes=None,
    gold=None,
    model: str = "full",
    accelerate: bool = False,
    start=None,
    collapse: bool = True,
) -> DawidSkeneResult:
    """Dawid & Skene (1979) EM estimate of true labels and rater confusions.

    Initialised from the majority vote (each item's vote shares as its class
    posterior, as in the original paper).  Each iteration: M-step -- class
    priors and per-rater confusion matrices from the posteriors, with
    ``smoothing`` pseudo-counts added to every confusion cell and prior (so no
    probability is exactly 0 and the log-likelihood stays finite); E-step --
    posteriors from priors and confusions.  Stops when the largest change of
    any posterior probability in an iteration is below ``tol``
    (``converged=True``; ``tol=0`` runs exactly ``n_iter`` iterations) or after
    ``n_iter`` iterations (``converged=False`` -- reported, never silent: the
    caller shows it).  A rater's repeated labels of an item count as
    independent judgments.

    Cost follows the distinct *profiles*, not the items: items with the same
    (rater, label) counts (and the same gold label, if any) have the same
    posterior at every step, so EM runs once per profile, weighted by how many
    items share it (``collapse=False`` runs it once per item: same results up
    to rounding, tested). Vectorised: each iteration is two sparse products
    with the (profile, rater x label) count matrix.

    ``smoothing`` must be > 0: with 0 a class no rater used for some true
    class gives log(0) and NaN posteriors, so ``ValueError`` is raised.

    ``gold`` (mapping item -> known label, or a Series) makes the fit
    semi-supervised: those items' posteriors are clamped to their known label
    at every step, so they teach the confusion matrices (as crowd-kit's
    ``DawidSkene.fit(..., true_labels=...)``); gold items not in ``labels`` are
    ignored, a gold label outside the classes raises.

    ``start`` warm-starts EM from earlier estimates (e.g. the previous
    snapshot's): a mapping with ``classes`` (their order), ``confusion``
    (rater -> K x K rows true class, columns given label) and optionally
    ``class_priors`` (K). Raters it does not name keep their majority-vote
    estimate. It is used only when its first EM step scores at least as high
    an objective as the majority-vote start's (``start_used`` says which ran);
    a start whose classes differ is ignored. Same stopping test either way.

    ``accelerate=True`` speeds EM up with SQUAREM (Varadhan & Roland 2008,
    scheme S3): after each EM step, a second one and an extrapolation along
    the two steps, kept only when it does not lower the likelihood (else the
    two plain steps are kept). Same fixed point and the same stopping test (a
    plain EM step moving no posterior by ``tol``), typically several times
    fewer EM steps where plain EM crawls (``n_iter`` counts EM steps either way).

    ``model``: ``"full"`` (a K x K confusion matrix per rater) or
    ``"one_coin"`` (one accuracy ``p_j`` per rater; a wrong label is uniform
    over the other K - 1 classes, as crowd-kit's ``OneCoinDawidSkene``).
    """
    if n_iter < 1:
        raise ValueError(f"n_iter must be >= 1, got {n_iter}")
    if not smoothing > 0:
        raise ValueError(f"smoothing must be > 0 (got {smoothing}): with 0 a label never given for "
                         "some true class has probability 0 and the posteriors become NaN")
    if model not in M_STEPS:
        raise ValueError(f"model must be one of {sorted(M_STEPS)}, got {model!r}")
    coded = code_labels(labels, classes)
    n_items, _, n_classes = coded.shape
    votes = coded.vote_counts().astype(np.float64)
    gold_code = _gold_codes(coded, gold)
    if n_items == 0:
        empty = np.zeros(0)
        return _result(coded, votes, empty, np.zeros((0, 0, 0)), 0, True, 0.0)
    cell = incidence(coded)
    group = group_profiles(cell, gold_code) if collapse else Profiles.identity(cell, gold_code)
    weight = group.weight[:, None]
    by_cell = group.matrix.T.tocsr()  # (rater, label) x profiles: the M-step's product, built once
    posterior = votes[group.first] / np.maximum(votes[group.first].sum(axis=1, keepdims=True), 1.0)
    clamp = _clamp(group.gold, n_classes)
    posterior = clamp(posterior)
    m_step = M_STEPS[model]

    def e_step(log_prior, log_conf):
        new, log_lik = _e_step(n_classes, log_prior, log_conf, group.matrix, group.weight)
        return clamp(new), log_lik + smoothing * _log_prior_density(model, log_prior, log_conf)

    def em_step(post):
        """One EM step from posteriors; also the objective EM increases (the log-likelihood plus
        the log-density of the smoothing's Dirichlet/Beta prior) at the parameters they give."""
        return e_step(*m_step(coded.shape, post * weight, by_cell, smoothing))

    start_used = False
    if start is not None:
        warm = _warm_parameters(coded, start, m_step(coded.shape, posterior * weight, by_cell, smoothing))
        if warm is not None:
            warm_posterior = e_step(*warm)[0]
            start_used = bool(em_step(warm_posterior)[1] >= em_step(posterior)[1])
            posterior = warm_posterior if start_used else posterior
    done, converged, step_max, change = 0, False, 1.0, float("nan")
    while not converged and done < n_iter:
        new, log_lik = em_step(posterior)
        done += 1
        change = float(np.max(np.abs(new - posterior)))
        converged = change < tol
        if converged or not accelerate or done + 2 > n_iter:
            posterior = new
            continue
        posterior, steps, step_max = _squarem(em_step, posterior, new, log_lik, clamp, step_max, group.weight)
        done += steps
    log_prior, log_conf = m_step(coded.shape, posterior * weight, by_cell, smoothing)
    _, log_lik = _e_step(n_classes, log_prior, log_conf, group.matrix, group.weight)
    return _result(coded, posterior[group.inverse], log_prior, log_conf, done, converged, log_lik, change,
                   n_profiles=group.matrix.shape[0], start_used=start_used)


def _log_prior_density(model: str, log_prior, log_conf) -> float:
    """Up to a constant, over ``smoothing``: the log prior density the smoothed M-step maximises."""
    if model == "one_coin":
        accuracy = np.exp(log_conf[:, 0, 0]) if log_conf.shape[1] else np.zeros(0)
        return float(np.log(accuracy).sum() + np.log1p(-np.minimum(accuracy, 1 - 1e-300)).sum()
                     + log_prior.sum())
    return float(log_conf.sum() + log_prior.sum())


def _squarem(em_step, start, first, start_log_lik, clamp, step_max, weight):
    """One SQUAREM S3 cycle from ``start`` (whose EM step gave ``first``), with the adaptive step
    bound of Varadhan & Roland's ``squarem`` (the step may grow fourfold past a bound it reached,
    and shrinks back after a rejected jump): ``(posteriors, EM steps, next step bound)``. Rows are
    profiles: the norms count each as many times as items share it (``weight``)."""
    second, _ = em_step(first)
    r = first - start
    v = second - first - r
    norm_v = float(np.sqrt(np.einsum("i,ij,ij->", weight, v, v)))  # einsum: no BLAS (see _e_step)
    if norm_v == 0.0:
        return second, 1, step_max
    step = min(float(np.sqrt(np.einsum("i,ij,ij->", weight, r, r))) / norm_v, step_max)
    step = max(step, 1.0)
    jump = np.clip(start + 2.0 * step * r + step * step * v, 0.0, None)
    total = np.einsum("ij->i", jump)[:, None]  # row sums (faster than a row reduction over few columns)
    jump = np.where(total > 0, jump / np.where(total > 0, total, 1.0), second)
    stabilised, log_lik = em_step(clamp(jump))
    if np.isfinite(log_lik) and log_lik >= start_log_lik:
        return stabilised, 2, step_max * _STEP_FACTOR if step == step_max else step_max
    return second, 1, max(1.0, step_max / _STEP_FACTOR) if step == step_max else step_max


_STEP_FACTOR = 4.0


def _gold_codes(coded: CodedLabels, gold) -> np.ndarray | None:
    """Per item, the class code of its known (gold) label, -1 where none; None without gold."""
    if gold is None or len(gold) == 0:
        return None
    gold = pd.Series(gold, dtype=object)
    position = pd.Index(coded.items).get_indexer(gold.index)
    known = position >= 0
    codes = pd.Index(coded.classes).get_indexer(gold.to_numpy(dtype=object)[known])
    if (codes < 0).any():
        bad = list(gold.to_numpy(dtype=object)[known][codes < 0][:5])
        raise ValueError(f"gold label(s) {bad} are not among the classes {list(coded.classes)}")
    out = np.full(coded.shape[0], -1, dtype=np.int64)
    out[position[known]] = codes
    return out


def _clamp(gold_code: np.ndarray | None, n_classes: int):
    """A function fixing the posteriors of gold rows to their known label (identity without gold)."""
    if gold_code is None or not (gold_code >= 0).any():
        return lambda posterior: posterior
    rows = np.flatnonzero(gold_code >= 0)
    one_hot = np.zeros((rows.shape[0], n_classes))
    one_hot[np.arange(rows.shape[0]), gold_code[rows]] = 1.0

    def clamp(posterior):
        posterior = posterior.copy()
        posterior[rows] = one_hot
        return posterior
    return clamp


def _warm_parameters(coded: CodedLabels, start, fallback):
    """``(log_prior, log_conf)`` from an earlier fit (``start``: classes, confusion by rater,
    optional class_priors), ``fallback``'s for what it does not give; None when its classes differ
    from these or it names none of these raters."""
    if list(start.get("classes", [])) != list(coded.classes):
        return None
    log_prior, log_conf = fallback
    log_conf = log_conf.copy()
    confusion = start.get("confusion") or {}
    position = {rater: j for j, rater in enumerate(coded.raters.tolist())}
    n_classes = coded.shape[2]
    used = 0
    for rater, matrix in confusion.items():
        j = position.get(rater)
        matrix = np.asarray(matrix, dtype=np.float64)
        if j is None or matrix.shape != (n_classes, n_classes) or not np.all(matrix > 0):
            continue
        log_conf[j] = np.log(matrix / matrix.sum(axis=1, keepdims=True))
        used += 1
    if not used:
        return None
    priors = start.get("class_priors")
    if priors is not None and len(priors) == n_classes and np.all(np.asarray(priors, dtype=np.float64) > 0):
        priors = np.asarray(priors, dtype=np.float64)
        log_prior = np.log(priors / priors.sum())
    return log_prior, log_conf


def _m_step(shape, weighted, by_cell, smoothing):
    """``weighted``: each profile's posterior times how many items share it; ``by_cell``: the
    transposed (profile, rater x label) count matrix."""
    _, n_raters, n_classes = shape
    prior = np.einsum("ij->j", weighted) + smoothing  # a column sum: einsum is ~5x numpy's axis-0 sum here
    log_prior = np.log(prior / prior.sum())
    # [rater * K + given, true]: expected labels of each (rater, given) cell per true class
    expected = np.asarray(by_cell @ weighted)
    counts = expected.reshape(n_raters, n_classes, n_classes).transpose(0, 2, 1) + smoothing
    return log_prior, np.log(counts / counts.sum(axis=2, keepdims=True))


def _m_step_one_coin(shape, weighted, by_cell, smoothing):
    """One accuracy per rater: P(says l | true t) = p_j if l == t else (1 - p_j) / (K - 1)."""
    _, n_raters, n_classes = shape
    prior = np.einsum("ij->j", weighted) + smoothing  # a column sum: einsum is ~5x numpy's axis-0 sum here
    log_prior = np.log(prior / prior.sum())
    expected = np.asarray(by_cell @ weighted).reshape(n_raters, n_classes, n_classes)  # [rater, given, true]
    correct = np.trace(expected, axis1=1, axis2=2)
    given = expected.sum(axis=(1, 2))
    accuracy = (correct + smoothing) / (given + 2.0 * smoothing)
    wrong = (1.0 - accuracy) / max(n_classes - 1, 1)
    conf = np.repeat(wrong[:, None, None], n_classes, axis=1).repeat(n_classes, axis=2)
    conf[:, np.arange(n_classes), np.arange(n_classes)] = accuracy[:, None]
    return log_prior, np.log(conf)


M_STEPS = {"full": _m_step, "one_coin": _m_step_one_coin}


def _e_step(n_classes, log_prior, log_conf, incidence, weight):
    """Posteriors of the rows of ``incidence`` and the log-likelihood (each row counted ``weight`` times)."""
    flat = log_conf.transpose(1, 0, 2).reshape(n_classes, -1)  # [t, rater * K + given]
    log_post = np.asarray(incidence @ flat.T) + log_prior
    log_norm = _row_logsumexp(log_post)
    log_post -= log_norm[:, None]
    # no BLAS call in the loop: past ~10,000 rows OpenBLAS splits a product over threads, whose
    # start-up dominated each step (5 ms instead of 0.3) on a busy machine
    return np.exp(log_post, out=log_post), float(np.einsum("i,i->", weight, log_norm))


def _row_logsumexp(x: np.ndarray) -> np.ndarray:
    """``log(sum(exp(x), axis=1))`` of a tall, narrow array, a column at a time (numpy's row
    reductions over a handful of columns are several times slower)."""
    top = x[:, 0].copy()
    for t in range(1, x.shape[1]):
        np.maximum(top, x[:, t], out=top)
    total = np.zeros_like(top)
    for t in range(x.shape[1]):
        total += np.exp(x[:, t] - top)
    return top + np.log(total)


def _result(coded, posterior, log_prior, log_conf, n_iter, converged, log_lik, final_change=float("nan"), *,
            n_profiles: int = 0, start_used: bool = False):
    classes = pd.Index(coded.classes, name="label")
    best = posterior.argmax(axis=1) if coded.shape[2] else np.zeros(coded.shape[0], dtype=np.intp)
    items = pd.DataFrame({
        "item": coded.items,
        "label": pd.Series(coded.classes[best] if coded.shape[2] else [], dtype=object),
        "probability": posterior[np.arange(coded.shape[0]), best] if coded.shape[2] else [],
    })
    n_raters = coded.shape[1]
    n_by_rater = np.bincount(coded.rater, weights=coded.weights, minlength=n_raters).astype(np.int64)
    correct = np.bincount(coded.rater, weights=posterior[coded.item, coded.label] * coded.weights,
                          minlength=n_raters)
    raters = pd.DataFrame({
        "rater": coded.raters,
        "n_labels": n_by_rater,
        "accuracy": correct / np.maximum(n_by_rater, 1),
    })
    return DawidSkeneResult(
        items=items,
        posterior=pd.DataFrame(posterior, index=pd.Index(coded.items, name="item"), columns=classes),
        raters=raters,
        confusion=np.exp(log_conf),
        class_priors=pd.Series(np.exp(log_prior), index=classes, name="prior"),
        n_iter=n_iter,
        converged=converged,
        log_likelihood=log_lik,
        final_change=final_change,
        n_profiles=n_profiles,
        start_used=start_used,
    )
