"""A rater against the rest of the panel (pure numpy/pandas/scipy; no Flask, no database).

* :func:`loo_consensus` — for every judgment, the consensus of the *other* raters on the same
  item (leave-one-out): their majority label (nominal; a tied majority gives none) or the median
  level rounded half to even (ordinal scales).
* :func:`kappa_against` — Cohen's κ of a rater's labels against that consensus
  (:func:`scoring.stats._kappa.cohen_kappa_details`; quadratic weights on ordinal scales),
  with its large-sample 95% interval.
* :func:`dawid_skene_accuracy`, :func:`mace_competence` — each rater's estimated accuracy under
  Dawid–Skene and competence under MACE (``scoring.stats``).
* :func:`vote_surprise` — Chatbot Arena's check of its voters: every pairwise vote gets the
  p-value of an outcome as unlikely as it, given the other raters' votes on the same pair of
  models, and a rater's p-values are combined with Fisher's method.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats

from scoring.stats._kappa import cohen_kappa_details  # as scoring.reports.report does
from scoring.stats.consensus import dawid_skene
from scoring.stats.mace import mace

MIN_VOTES = 20
EMPIRICAL_NULL_RATERS = 8
SURPRISE_COLUMNS = ("rater", "n", "fisher", "z", "p_value", "share_surprising")


def loo_consensus(labels: pd.DataFrame, categories, *, ordinal: bool) -> np.ndarray:
    """For each row of ``labels`` (columns ``item``, ``label``; label one of ``categories``),
    the other rows' consensus on that item, or None (no other label, or a tied majority)."""
    cats = list(categories)
    n_rows = len(labels)
    out = np.full(n_rows, None, dtype=object)
    if n_rows == 0:
        return out
    code = pd.Index(cats).get_indexer(labels["label"].to_numpy(dtype=object))
    item, _ = pd.factorize(labels["item"])
    k = len(cats)
    counts = np.bincount(item * k + code, minlength=(item.max() + 1) * k).reshape(-1, k)
    others = counts[item].copy()
    others[np.arange(n_rows), code] -= 1
    n_others = others.sum(axis=1)
    has = n_others > 0
    if ordinal:
        # The median level of the others: mean of the two middle ranks, rounded half to even.
        cum = others.cumsum(axis=1)
        low = (cum >= ((n_others + 1) // 2)[:, None]).argmax(axis=1)
        high = (cum >= (n_others // 2 + 1)[:, None]).argmax(axis=1)
        chosen = np.round((low + high) / 2).astype(int)
        out[has] = np.asarray(cats, dtype=object)[chosen[has]]
        return out
    top = others.max(axis=1)
    unique_top = (others == top[:, None]).sum(axis=1) == 1
    keep = has & unique_top
    out[keep] = np.asarray(cats, dtype=object)[others.argmax(axis=1)[keep]]
    return out


def kappa_against(own, consensus, categories, *, ordinal: bool) -> dict:
    """Cohen's κ of ``own`` labels against ``consensus`` labels (pairs with a consensus), with the
    share of exact agreement and the 95% interval of its large-sample standard error (Fleiss,
    Cohen & Everitt 1969; :func:`scoring.stats._kappa.cohen_kappa_details`)."""
    a = np.asarray(own, dtype=object)
    b = np.asarray(consensus, dtype=object)
    keep = np.array([x is not None for x in b], dtype=bool) if b.size else np.zeros(0, dtype=bool)
    a, b = a[keep], b[keep]
    n = int(a.size)
    result = {"n": n, "kappa": None, "ci": [None, None], "agreement": None,
              "weights": "quadratic" if ordinal else None}
    if n == 0:
        return result
    result["agreement"] = float(np.mean(a == b))
    details = cohen_kappa_details(a, b, weights="quadratic" if ordinal else None, labels=list(categories))
    if math.isnan(details.kappa):
        return result
    result["kappa"] = float(details.kappa)
    if not any(math.isnan(x) for x in details.ci):
        result["ci"] = [float(details.ci[0]), float(details.ci[1])]
    return result


def dawid_skene_accuracy(labels: pd.DataFrame, categories) -> tuple[dict, dict]:
    """rater -> Dawid–Skene accuracy estimate (``labels``: item, rater, label), fitted to
    convergence (accelerated; ``MACE_MAX_ITER`` EM steps at most, the same guard as MACE's), and
    the fit: ``iterations`` and ``converged`` -- reported, never a silent cap."""
    if labels.empty or labels["item"].nunique() < 2:
        return {}, {"iterations": 0, "converged": None}
    result = dawid_skene(labels[["item", "rater", "label"]], classes=list(categories), n_iter=MACE_MAX_ITER,
                         tol=MACE_TOL, accelerate=True)
    return (dict(zip(result.raters["rater"], result.raters["accuracy"].astype(float))),
            {"iterations": int(result.n_iter), "converged": bool(result.converged)})


MACE_TOL = 1e-5  # EM (MACE's and Dawid–Skene's) stops when no item's posterior moves by more than this
MACE_MAX_ITER = 5000  # a guard, not the stopping rule: the fit reports whether it converged


def mace_competence(labels: pd.DataFrame, categories) -> tuple[dict, dict]:
    """rater -> MACE competence, the estimated probability that the rater knew the answer rather
    than answering by habit (:func:`scoring.stats.mace.mace`); unlike Dawid–Skene it marks a
    rater who always gives the same answer as a spammer. Fitted over the distinct (item, rater,
    label) rows with their counts, once per distinct item profile and accelerated (SQUAREM): at
    200,000 judgments 542 EM steps (converged) instead of 5,000 without converging. Also returns
    the fit: ``iterations`` and ``converged``."""
    if labels.empty or labels["item"].nunique() < 2:
        return {}, {"iterations": 0, "converged": None}
    counts = labels.groupby(["item", "rater", "label"], sort=False).size().rename("count").reset_index()
    result = mace(counts, classes=list(categories), n_iter=MACE_MAX_ITER, tol=MACE_TOL, accelerate=True)
    return (dict(zip(result.raters["rater"], result.raters["competence"].astype(float))),
            {"iterations": int(result.n_iter), "converged": bool(result.converged)})


def vote_surprise(votes: pd.DataFrame, smoothing: float = 1.0) -> pd.DataFrame:
    """Per-vote p-values given the rest of the panel's history for the pair, combined per rater.

    ``votes``: one row per pairwise vote with ``rater``, ``model_a``, ``model_b``, ``choice``
    (``a``/``b``/``tie``); rows with the same model on both sides are left out. The outcome
    probabilities of a pair are the other raters' outcome shares on it (``smoothing`` added to
    each of win, loss, tie). A vote's p-value is the total probability of the outcomes no more
    likely than it. Returns one row per rater: ``n`` votes, ``fisher`` (−2 Σ ln p), ``z`` and
    ``p_value`` (one-sided), and ``share_surprising`` (votes with p < 0.05).

    Raters differ in care and items within a pair differ in difficulty, so real panels spread
    wider than that null: with at least ``EMPIRICAL_NULL_RATERS`` raters of ``MIN_VOTES`` votes,
    ``z`` is re-centred on the panel's median and scaled by its robust spread (1.4826 × MAD,
    never narrower than 1) — Efron's empirical null — so a rater stands out from this panel.

    These p-values are discrete (three outcomes), so Fisher's statistic is not χ² with 2n degrees
    of freedom — it would be far too lenient. Its exact mean and variance under the pair's outcome
    shares are summed over the votes instead and the statistic is compared with them (normal
    approximation; reliable from about 20 votes, the flag's minimum).
    """
    columns = list(SURPRISE_COLUMNS)
    v = votes[votes["model_a"].notna() & votes["model_b"].notna() & (votes["model_a"] != votes["model_b"])]
    if v.empty:
        return pd.DataFrame(columns=columns)
    a, b = v["model_a"].astype(str).to_numpy(), v["model_b"].astype(str).to_numpy()
    swapped = a > b
    pair, _ = pd.factorize(pd.Series(np.where(swapped, b + "\x00" + a, a + "\x00" + b)))
    choice = v["choice"].to_numpy(dtype=object)
    # Outcome in sorted-model terms: 0 the first model won, 1 the second, 2 a tie.
    outcome = np.where(choice == "tie", 2, np.where((choice == "a") != swapped, 0, 1))
    rater, raters = pd.factorize(v["rater"])
    n_pairs = pair.max() + 1
    total = np.bincount(pair * 3 + outcome, minlength=n_pairs * 3).reshape(n_pairs, 3).astype(float)
    own_key = rater.astype(np.int64) * n_pairs + pair
    own_codes, own_index = np.unique(own_key, return_inverse=True)
    own = np.zeros((own_codes.size, 3))
    np.add.at(own, (own_index, outcome), 1.0)
    rest = total[pair] - own[own_index] + smoothing
    prob = rest / rest.sum(axis=1, keepdims=True)
    # p-value of every possible outcome of each vote (the outcomes no more likely than it).
    p_each = np.stack([(prob * (prob <= prob[:, [o]] + 1e-12)).sum(axis=1) for o in range(3)], axis=1)
    score_each = -2.0 * np.log(np.clip(p_each, 1e-300, 1.0))
    rows = np.arange(len(prob))
    p_value = p_each[rows, outcome]
    score = score_each[rows, outcome]
    mean = (prob * score_each).sum(axis=1)
    var = (prob * score_each ** 2).sum(axis=1) - mean ** 2
    n = np.bincount(rater, minlength=len(raters))
    fisher = np.bincount(rater, weights=score, minlength=len(raters))
    null_mean = np.bincount(rater, weights=mean, minlength=len(raters))
    null_sd = np.sqrt(np.bincount(rater, weights=var, minlength=len(raters)))
    z = empirical_null(np.divide(fisher - null_mean, null_sd, out=np.zeros(len(raters)), where=null_sd > 0),
                       n >= MIN_VOTES)
    surprising = np.bincount(rater, weights=(p_value < 0.05).astype(float), minlength=len(raters))
    return pd.DataFrame({"rater": list(raters), "n": n, "fisher": fisher, "z": z,
                         "p_value": stats.norm.sf(z), "share_surprising": surprising / n})


def empirical_null(z: np.ndarray, usable: np.ndarray) -> np.ndarray:
    """``z`` re-centred and re-scaled by the usable raters' median and MAD (see above)."""
    if usable.sum() < EMPIRICAL_NULL_RATERS:
        return z
    ref = z[usable]
    centre = float(np.median(ref))
    scale = max(1.0, 1.4826 * float(np.median(np.abs(ref - centre))))
    return (z - centre) / scale
