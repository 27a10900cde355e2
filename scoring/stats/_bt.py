"""Private: pairwise-comparison aggregation and Bradley-Terry fitting.

Model: ``P(i beats j) = sigmoid(theta_i - theta_j)``.  The fit maximises

    F(theta) = sum_ij W_ij log sigmoid(theta_i - theta_j)
               - alpha * K * sum_i (exp(theta_i) - theta_i)

where ``W_ij`` is the (possibly fractional, ties = 1/2) number of wins of
``i`` over ``j`` and ``K`` the number of models.  The penalty is exactly the
regularisation of ``choix.ilsr_pairwise_dense(W, alpha)`` (whose Markov
chain starts every rate at ``alpha``): its fixed point solves
``grad LL_i = alpha K (exp(theta_i) - 1)``.  For ``alpha > 0`` F is strictly
concave, so the estimate exists and is unique even when a model never wins
or never loses; ``alpha = 0`` is the plain MLE, which exists only when the
"beats" graph is strongly connected.  Newton's method with backtracking on
F, on the K x K aggregated matrix, converges in a few iterations.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.sparse.csgraph import connected_components
from scipy.special import expit

OUTCOMES = ("a", "b", "tie")
_MAX_NEWTON = 500


@dataclass(frozen=True)
class Aggregate:
    """Comparisons aggregated per (model_a, model_b, outcome) cell."""

    models: np.ndarray  # (K,) model names, sorted
    cells: np.ndarray  # (K, K, 3) counts: [a, b, outcome] for outcome a-wins, b-wins, tie

    @property
    def n_models(self) -> int:
        return int(self.models.shape[0])


def aggregate(comparisons: pd.DataFrame) -> Aggregate:
    """Aggregate rows (model_a, model_b, winner in {"a", "b", "tie"}), one per comparison or, with
    a ``count`` column, one per distinct (model_a, model_b, winner) -- e.g. straight from a SQL
    ``GROUP BY``: the fit and its multinomial bootstrap then cost what the distinct cells cost."""
    missing = {"model_a", "model_b", "winner"} - set(comparisons.columns)
    if missing:
        raise ValueError(f"comparisons lacks column(s) {sorted(missing)}")
    n_rows = len(comparisons)
    codes, models = pd.factorize(
        np.concatenate([comparisons["model_a"].to_numpy(), comparisons["model_b"].to_numpy()]),
        use_na_sentinel=True,
    )
    if (codes < 0).any():
        raise ValueError("model_a/model_b contain missing values")
    models, codes = _sorted_codes(np.asarray(models, dtype=object), codes)
    a, b = codes[:n_rows], codes[n_rows:]
    if (a == b).any():
        raise ValueError(f"{int((a == b).sum())} comparison(s) of a model with itself")
    outcome = _outcome_codes(comparisons["winner"])
    k = models.shape[0]
    flat = (a.astype(np.int64) * k + b) * 3 + outcome
    weight = _counts(comparisons)
    cells = np.bincount(flat, weights=weight, minlength=k * k * 3).reshape(k, k, 3)
    return Aggregate(models=models, cells=np.rint(cells).astype(np.int64) if weight is not None else cells)


def _counts(comparisons: pd.DataFrame) -> np.ndarray | None:
    """The optional ``count`` column: how many identical comparisons a row stands for."""
    if "count" not in comparisons:
        return None
    count = comparisons["count"].to_numpy(dtype=np.float64)
    if not np.all(np.isfinite(count)) or np.any(count < 0) or np.any(count != np.round(count)):
        raise ValueError("count must be a non-negative whole number")
    return count


def _sorted_codes(models: np.ndarray, codes: np.ndarray):
    try:
        order = np.argsort(models.astype(str), kind="stable")
    except (TypeError, ValueError):
        return models, codes
    rank = np.empty_like(order)
    rank[order] = np.arange(order.shape[0])
    return models[order], rank[codes]


def _outcome_codes(winner: pd.Series) -> np.ndarray:
    codes, uniques = pd.factorize(winner, use_na_sentinel=True)
    lookup = np.array([OUTCOMES.index(u) if u in OUTCOMES else -1 for u in uniques] + [-1])
    bad = [u for u in uniques if u not in OUTCOMES]
    if (codes < 0).any() or bad:
        shown = bad[:5] + (["<missing>"] if (codes < 0).any() else [])
        raise ValueError(f"winner must be one of {OUTCOMES}; found {shown}")
    return lookup[codes]


def win_matrix(cells: np.ndarray, ties: str) -> np.ndarray:
    """``W[i, j]`` wins of i over j from cells; a tie is half a win each ("half")."""
    wins = cells[:, :, 0] + cells[:, :, 1].T
    if ties == "half":
        tied = cells[:, :, 2]
        wins = wins + 0.5 * (tied + tied.T)
    return wins.astype(np.float64)


def per_model_counts(cells: np.ndarray) -> dict[str, np.ndarray]:
    """Wins, losses, ties and comparisons per model, from all input rows."""
    as_a, as_b = cells.sum(axis=1), cells.sum(axis=0)  # (K, 3)
    wins = as_a[:, 0] + as_b[:, 1]
    losses = as_a[:, 1] + as_b[:, 0]
    ties = as_a[:, 2] + as_b[:, 2]
    return {"wins": wins, "losses": losses, "ties": ties, "n_comparisons": wins + losses + ties}


def components(wins: np.ndarray, strong: bool = False) -> tuple[int, np.ndarray]:
    """Connected components of the comparison graph (or of the beats graph)."""
    graph = wins > 0 if strong else (wins + wins.T) > 0
    return connected_components(graph, directed=strong, connection="strong")


# --------------------------------------------------------------------------
# fitting


def _objective(theta: np.ndarray, wins: np.ndarray, alpha_k: float, precision: float = 0.0) -> float:
    """F(theta); -inf where a trial step overflows (so the line search rejects it)."""
    diff = theta[:, None] - theta[None, :]
    with np.errstate(over="ignore"):
        penalty = alpha_k * (np.exp(theta) - theta).sum() if alpha_k else 0.0
    penalty += 0.5 * precision * float((theta * theta).sum())
    return float(-(wins * np.logaddexp(0.0, -diff)).sum() - penalty)


def fit(wins: np.ndarray, alpha: float, theta0: np.ndarray | None = None, tol: float = 1e-10,
        prior_sd: float | None = None):
    """Maximise F (module docstring), or with ``prior_sd`` the posterior mode under independent
    Gaussian priors ``theta_i ~ N(0, prior_sd^2)``: F minus ``sum theta_i^2 / (2 prior_sd^2)`` --
    ``choix.opt_pairwise(..., alpha=1 / (2 prior_sd^2))``.

    Returns ``(theta centred to mean 0, iterations, converged)``; raises
    ``ValueError`` when ``alpha == 0`` (and no prior) and the MLE does not exist.
    """
    precision = 0.0 if prior_sd is None else 1.0 / (prior_sd * prior_sd)
    k = wins.shape[0]
    if k == 1:
        return np.zeros(1), 0, True
    total = wins + wins.T
    alpha_k = alpha * k
    if alpha_k == 0 and precision == 0 and components(wins, strong=True)[0] > 1:
        raise ValueError(
            "the maximum-likelihood Bradley-Terry scores do not exist: some model(s) "
            "never win or never lose against part of the field; use alpha > 0"
        )
    theta = np.zeros(k) if theta0 is None else np.log(_normalised(np.exp(theta0 - theta0.mean())))
    current = _objective(theta, wins, alpha_k, precision)
    for n_iter in range(1, _MAX_NEWTON + 1):
        p = expit(theta[:, None] - theta[None, :])  # P(i beats j)
        grad = (wins - total * p).sum(axis=1) - alpha_k * (np.exp(theta) - 1.0) - precision * theta
        curv = total * p * (1.0 - p)
        hess = np.diag(curv.sum(axis=1) + alpha_k * np.exp(theta) + precision) - curv  # -Hessian
        if alpha_k == 0 and precision == 0:
            hess += 1.0 / k  # fix the gauge: steps orthogonal to the all-ones direction
        step = np.linalg.solve(hess, grad)
        t, value = 1.0, _objective(theta + step, wins, alpha_k, precision)
        while value < current - 1e-12 * abs(current) and t > 1e-8:  # backtracking
            t *= 0.5
            value = _objective(theta + t * step, wins, alpha_k, precision)
        if value < current - 1e-12 * abs(current):  # no ascent left at float precision
            return theta - theta.mean(), n_iter, True
        theta, current = theta + t * step, value
        if np.max(np.abs(t * step)) < tol:
            return theta - theta.mean(), n_iter, True
    return theta - theta.mean(), _MAX_NEWTON, False


def _normalised(weights: np.ndarray) -> np.ndarray:
    return weights * (weights.shape[0] / weights.sum())


def fit_batch(wins: np.ndarray, alpha: float, theta0: np.ndarray, prior_sd: float | None = None,
              tol: float = 1e-10, max_iter: int = 30) -> tuple[np.ndarray, np.ndarray]:
    """:func:`fit` of many win matrices ``(B, K, K)`` at once by undamped Newton from ``theta0``
    (the full-data estimate: bootstrap resamples start close to their optimum, where Newton
    converges quadratically). Returns ``(theta (B, K) centred, converged (B,))``; a resample
    that has not converged (or diverged) is for the caller to refit with :func:`fit`."""
    n_batch, k, _ = wins.shape
    precision = 0.0 if prior_sd is None else 1.0 / (prior_sd * prior_sd)
    alpha_k = alpha * k
    total = wins + wins.transpose(0, 2, 1)
    theta = np.broadcast_to(theta0 - theta0.mean(), (n_batch, k)).copy()
    step_size = np.full(n_batch, np.inf)
    diagonal = np.arange(k)
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(max_iter):
            p = expit(theta[:, :, None] - theta[:, None, :])
            grad = (wins - total * p).sum(axis=2) - alpha_k * (np.exp(theta) - 1.0) - precision * theta
            curv = total * p * (1.0 - p)
            hess = -curv
            hess[:, diagonal, diagonal] += curv.sum(axis=2) + alpha_k * np.exp(theta) + precision
            if alpha_k == 0 and precision == 0:
                hess += 1.0 / k
            try:
                step = np.linalg.solve(hess, grad[..., None])[..., 0]
            except np.linalg.LinAlgError:
                break
            theta = theta + step
            step_size = np.abs(step).max(axis=1)
            if not np.any(step_size >= tol):
                break
    converged = np.isfinite(step_size) & (step_size < 1e-8) & np.isfinite(theta).all(axis=1)
    return theta - theta.mean(axis=1, keepdims=True), converged
