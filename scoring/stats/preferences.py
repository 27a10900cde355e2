"""Bradley-Terry leaderboards from pairwise preferences (pure numpy/pandas).

Input: a DataFrame with one row per comparison and columns ``model_a``,
``model_b`` and ``winner`` in ``{"a", "b", "tie"}``.

Output: a DataFrame with a ``model`` column (RangeIndex), sorted by ``score``
descending (ties in score by model name), with columns

* ``score`` -- Bradley-Terry strength on the Elo-like scale of the Chatbot
  Arena leaderboard: ``score = 1000 + 400 * log10(e) * (theta - mean(theta))``,
  so a 400-point gap means 10:1 odds and the mean score is exactly 1000;
* ``n_comparisons``, ``wins``, ``losses``, ``ties`` -- counted over all input
  rows involving the model (whatever the ``ties`` policy of the fit);
* ``win_rate`` -- ``(wins + ties / 2) / n_comparisons`` (descriptive).

Regularisation: ``alpha`` (default ``1e-3``) is choix's: the fit maximises
``loglik(theta) - alpha * K * sum(exp(theta) - theta)`` with K models, which is
what ``choix.ilsr_pairwise_dense(W, alpha)`` converges to.  It keeps every
score finite when a model never wins or never loses (such a model gets a
large but finite gap) and is negligible once models have a few dozen
comparisons.  ``alpha=0`` gives the plain MLE and raises ``ValueError`` when it
does not exist.

Disconnected comparison graphs (groups of models never compared with each
other) make cross-group scores meaningless: by default a ``ValueError`` names
the groups; ``on_disconnected="warn"`` emits a ``UserWarning`` and fits anyway
(cross-group gaps are then set by the regularisation alone).
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd

from . import _bt

__all__ = ["ELO_MEAN", "ELO_SCALE", "bootstrap_leaderboard", "bradley_terry"]

ELO_SCALE = 400.0 / math.log(10.0)  # score points per unit of theta
ELO_MEAN = 1000.0
_TIES = ("half", "ignore")
_ON_DISCONNECTED = ("raise", "warn")


def bradley_terry(
    comparisons: pd.DataFrame,
    ties: str = "half",
    alpha: float = 1e-3,
    on_disconnected: str = "raise",
    prior_sd: float | None = None,
) -> pd.DataFrame:
    """Fit Bradley-Terry scores; see the module docstring for the output.

    ``ties="half"`` counts a tie as half a win for each side (as the Chatbot
    Arena does); ``ties="ignore"`` drops tied rows from the fit.

    ``prior_sd`` (in units of theta, natural-log odds) replaces choix's ``alpha``
    regularisation with a Gaussian prior ``theta_i ~ N(0, prior_sd^2)``: the
    scores are the posterior mode, equal to ``choix.opt_pairwise(K, data,
    alpha=1 / (2 prior_sd^2))``.  A prior shrinks models with few comparisons
    toward the mean and keeps every score finite, even on a disconnected graph.
    """
    _check_prior(prior_sd)
    agg, wins = _prepare(comparisons, ties, alpha, on_disconnected, prior_sd)
    theta, n_iter = _fit(wins, _alpha(alpha, prior_sd), prior_sd)
    board = _leaderboard(agg, theta)
    board.attrs.update({"ties": ties, "alpha": alpha, "n_iter": n_iter, "prior_sd": prior_sd})
    return board


def bootstrap_leaderboard(
    comparisons: pd.DataFrame,
    n_resamples: int = 1000,
    seed: int | None = 0,
    ties: str = "half",
    alpha: float = 1e-3,
    confidence: float = 0.95,
    on_disconnected: str = "raise",
    prior_sd: float | None = None,
) -> pd.DataFrame:
    """:func:`bradley_terry` plus percentile bootstrap columns ``ci_low``, ``ci_high``,
    and rank intervals ``rank_best``, ``rank_worst`` (1 = top: the ``(1 - confidence) / 2``
    and ``(1 + confidence) / 2`` quantiles of the model's rank over the resamples, so "rank
    between 1 and 3").

    Each resample draws all comparison rows with replacement.  Rows enter the
    fit only through their (model_a, model_b, winner) cell, so a resample is
    drawn as multinomial counts over the aggregated cells (same distribution
    as redrawing rows) and refitted from the full-data estimate.  Every
    resample's scores are re-anchored to mean 1000.  Resamples whose fit is
    undefined (only possible with ``alpha=0``) are dropped; if fewer than
    half remain the interval is NaN.
    """
    if n_resamples < 1:
        raise ValueError(f"n_resamples must be >= 1, got {n_resamples}")
    _check_prior(prior_sd)
    agg, wins = _prepare(comparisons, ties, alpha, on_disconnected, prior_sd)
    alpha_fit = _alpha(alpha, prior_sd)
    theta, n_iter = _fit(wins, alpha_fit, prior_sd)
    board = _leaderboard(agg, theta)
    samples = _resampled_scores(agg.cells, ties, alpha_fit, theta, n_resamples, np.random.default_rng(seed),
                                prior_sd)
    valid = samples[np.isfinite(samples).all(axis=1)]
    tail = (1.0 - confidence) / 2.0 * 100.0
    if valid.shape[0] >= max(2, math.ceil(0.5 * n_resamples)):
        low, high = np.percentile(valid, [tail, 100.0 - tail], axis=0)
        ranks = (-valid).argsort(axis=1, kind="stable").argsort(axis=1) + 1
        best = np.percentile(ranks, tail, axis=0, method="lower")
        worst = np.percentile(ranks, 100.0 - tail, axis=0, method="higher")
    else:
        low = high = best = worst = np.full(agg.n_models, np.nan)
    by_model = pd.DataFrame({"model": agg.models, "ci_low": low, "ci_high": high,
                             "rank_best": best, "rank_worst": worst})
    board = board.merge(by_model, on="model", how="left", sort=False)
    board.attrs.update({"ties": ties, "alpha": alpha, "n_iter": n_iter, "prior_sd": prior_sd,
                        "n_resamples": n_resamples, "n_valid_resamples": int(valid.shape[0])})
    return board


def _check_prior(prior_sd):
    if prior_sd is not None and not (math.isfinite(prior_sd) and prior_sd > 0):
        raise ValueError(f"prior_sd must be a positive number, got {prior_sd}")


def _alpha(alpha, prior_sd):
    """The Gaussian prior replaces choix's regularisation."""
    return 0.0 if prior_sd is not None else alpha


def _fit(wins, alpha, prior_sd=None):
    theta, n_iter, converged = _bt.fit(wins, alpha, prior_sd=prior_sd)
    if not converged:
        warnings.warn(f"Bradley-Terry fit did not converge in {n_iter} Newton steps",
                      RuntimeWarning, stacklevel=3)
    return theta, n_iter


def _prepare(comparisons, ties, alpha, on_disconnected, prior_sd=None):
    if ties not in _TIES:
        raise ValueError(f"ties must be one of {_TIES}, got {ties!r}")
    if on_disconnected not in _ON_DISCONNECTED:
        raise ValueError(f"on_disconnected must be one of {_ON_DISCONNECTED}, got {on_disconnected!r}")
    if not alpha >= 0:
        raise ValueError(f"alpha must be >= 0, got {alpha}")
    agg = _bt.aggregate(comparisons)
    if agg.n_models == 0:
        raise ValueError("no comparisons")
    wins = _bt.win_matrix(agg.cells, ties)
    n_groups, labels = _bt.components(wins)
    if n_groups > 1:
        groups = [sorted(map(str, agg.models[labels == g]))[:5] for g in range(n_groups)]
        message = (f"comparison graph (of the comparisons used in the fit) is disconnected "
                   f"into {n_groups} groups (first models: "
                   f"{groups}); scores across groups are not comparable")
        if on_disconnected == "raise" or (alpha == 0 and prior_sd is None):
            raise ValueError(message)
        warnings.warn(message, UserWarning, stacklevel=3)
    return agg, wins


def _leaderboard(agg: _bt.Aggregate, theta: np.ndarray) -> pd.DataFrame:
    counts = _bt.per_model_counts(agg.cells)
    n = counts["n_comparisons"].astype(np.float64)
    win_rate = np.full(n.shape, np.nan)
    np.divide(counts["wins"] + 0.5 * counts["ties"], n, out=win_rate, where=n > 0)
    board = pd.DataFrame({
        "model": agg.models,
        "score": ELO_MEAN + ELO_SCALE * theta,
        "n_comparisons": counts["n_comparisons"],
        "wins": counts["wins"],
        "losses": counts["losses"],
        "ties": counts["ties"],
        "win_rate": win_rate,
    })
    order = np.lexsort((board["model"].astype(str).to_numpy(), -board["score"].to_numpy()))
    return board.iloc[order].reset_index(drop=True)


def _resampled_scores(cells, ties, alpha, theta, n_resamples, rng, prior_sd=None) -> np.ndarray:
    flat = cells.reshape(-1)
    used = np.flatnonzero(flat)
    total = int(flat.sum())
    draws = rng.multinomial(total, flat[used] / total, size=n_resamples)
    out = np.full((n_resamples, cells.shape[0]), np.nan)
    for start in range(0, n_resamples, _BATCH):
        block = draws[start:start + _BATCH]
        resampled = np.zeros((block.shape[0], flat.shape[0]))
        resampled[:, used] = block
        grids = resampled.reshape(block.shape[0], *cells.shape)
        wins = np.stack([_bt.win_matrix(g, ties) for g in grids]) if ties != "half" else _win_matrices(grids)
        fitted, converged = _bt.fit_batch(wins, alpha, theta, prior_sd=prior_sd)
        for b in np.flatnonzero(~converged):  # far from the full-data optimum: the careful fit
            try:
                fitted[b], _, _ = _bt.fit(wins[b], alpha, theta0=theta, prior_sd=prior_sd)
            except ValueError:  # MLE undefined on this resample (alpha == 0)
                fitted[b] = np.nan
        out[start:start + block.shape[0]] = ELO_MEAN + ELO_SCALE * fitted
    return out


_BATCH = 256  # resamples fitted together


def _win_matrices(grids: np.ndarray) -> np.ndarray:
    """:func:`_bt.win_matrix` (ties half) of a batch ``(B, K, K, 3)`` of cell counts."""
    wins = grids[..., 0] + grids[..., 1].transpose(0, 2, 1)
    tied = grids[..., 2]
    return wins + 0.5 * (tied + tied.transpose(0, 2, 1))
