"""How many judgments hold the top of a Bradley-Terry leaderboard up (pure numpy/pandas).

``top_rank_robustness`` searches for the fewest comparisons whose removal changes which model is
ranked first -- the check of Huang et al. (2025), "Dropping just a handful of preferences can
change top large language model rankings", who found public leaderboards whose top flips after
dropping a few dozen of tens of thousands of votes.

Search (greedy, with exact refits): at each step, for every kind of comparison still present (a
``(model_a, model_b, outcome)`` cell) and every challenger, the first-order influence of
removing one such comparison on the gap ``theta_top - theta_challenger`` is
``-e_gap^T H^{-1} g`` (H the fit's negative Hessian, g the comparison's gradient); the removal
that shrinks some gap the most is made, and the model is refitted exactly from the previous
estimate. It stops when another model is on top (found) or after ``max_removals``. The count is
therefore an *upper bound* on the true minimum (an exact search is combinatorial), and its cost
follows the number of distinct cells, not of judgments.

``fragile`` is the documented rule: the top flips after removing at most ``fragile_share`` of the
judgments (default 1 %, at least one judgment).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import expit

from . import _bt

__all__ = ["TopRankRobustness", "top_rank_robustness"]


@dataclass(frozen=True)
class TopRankRobustness:
    top: str  # the model ranked first on all the data
    n_judgments: int
    n_removed: int | None  # removals found to change the top; None = not within max_removals
    new_top: str | None
    removed: pd.DataFrame  # model_a, model_b, winner, count: what was removed
    max_removals: int
    fragile: bool
    fragile_limit: int  # the rule: fragile when n_removed <= this

    def as_dict(self) -> dict:
        return {"top": self.top, "n_judgments": self.n_judgments, "n_removed": self.n_removed,
                "new_top": self.new_top, "max_removals": self.max_removals, "fragile": self.fragile,
                "fragile_limit": self.fragile_limit,
                "removed": self.removed.to_dict("records")}


def top_rank_robustness(comparisons: pd.DataFrame, ties: str = "half", alpha: float = 1e-3,
                        prior_sd: float | None = None, max_removals: int | None = None,
                        fragile_share: float = 0.01) -> TopRankRobustness:
    """Fewest comparisons (found greedily) whose removal changes the top model (module docstring).

    ``max_removals`` defaults to 10 % of the comparisons (at least 1, at most 2,000).
    """
    if not 0 <= fragile_share < 1:
        raise ValueError(f"fragile_share must be in [0, 1), got {fragile_share}")
    agg = _bt.aggregate(comparisons)
    if agg.n_models < 2:
        raise ValueError("the top rank needs at least two models")
    fit_alpha = 0.0 if prior_sd is not None else alpha
    cells = agg.cells.astype(np.float64).copy()
    n = int(cells.sum())
    budget = max_removals if max_removals is not None else min(2000, max(1, math.ceil(0.1 * n)))
    limit = max(1, math.floor(fragile_share * n))
    theta, _, _ = _bt.fit(_bt.win_matrix(cells, ties), fit_alpha, prior_sd=prior_sd)
    top = int(np.argmax(theta))
    removed: list[tuple[int, int, int]] = []
    new_top = None
    while len(removed) < budget:
        move = _best_removal(cells, theta, top, ties, fit_alpha, prior_sd)
        if move is None:
            break
        cells[move] -= 1.0
        removed.append(move)
        theta, _, _ = _bt.fit(_bt.win_matrix(cells, ties), fit_alpha, theta0=theta, prior_sd=prior_sd)
        if int(np.argmax(theta)) != top and theta.max() > theta[top] + 1e-12:
            new_top = int(np.argmax(theta))
            break
    found = new_top is not None
    table = _removed_table(agg.models, removed)
    return TopRankRobustness(
        top=str(agg.models[top]), n_judgments=n, n_removed=len(removed) if found else None,
        new_top=str(agg.models[new_top]) if found else None, removed=table, max_removals=budget,
        fragile=found and len(removed) <= limit, fragile_limit=limit)


def _best_removal(cells, theta, top, ties, alpha, prior_sd):
    """The (a, b, outcome) cell whose one removal shrinks some gap top - challenger the most."""
    k = theta.shape[0]
    wins = _bt.win_matrix(cells, ties)
    total = wins + wins.T
    p = expit(theta[:, None] - theta[None, :])
    curv = total * p * (1.0 - p)
    precision = 0.0 if prior_sd is None else 1.0 / prior_sd**2
    hess = np.diag(curv.sum(axis=1) + alpha * k * np.exp(theta) + precision) - curv + 1.0 / k
    cov = np.linalg.inv(hess)
    best, best_change = None, 0.0
    for a, b, outcome in zip(*np.nonzero(cells)):
        if outcome == 2 and ties != "half":
            continue
        grad = _comparison_gradient(a, b, outcome, p, k)
        shift = -cov @ grad  # change of theta when this comparison is removed
        gaps = shift[top] - np.delete(shift, top)  # change of theta_top - theta_c for each challenger
        gap_now = theta[top] - np.delete(theta, top)
        # rank by the smallest remaining gap after the move (most threatened challenger)
        change = float(np.min(gap_now + gaps) - np.min(gap_now))
        if change < best_change:
            best, best_change = (int(a), int(b), int(outcome)), change
    return best


def _comparison_gradient(a, b, outcome, p, k):
    """Gradient of one comparison's log-likelihood term wrt theta."""
    g = np.zeros(k)
    if outcome == 0:  # a won
        g[a], g[b] = 1.0 - p[a, b], -(1.0 - p[a, b])
    elif outcome == 1:  # b won
        g[b], g[a] = 1.0 - p[b, a], -(1.0 - p[b, a])
    else:  # tie: half a win each way
        g[a] = 0.5 * (1.0 - p[a, b]) - 0.5 * (1.0 - p[b, a])
        g[b] = -g[a]
    return g


def _removed_table(models, removed) -> pd.DataFrame:
    if not removed:
        return pd.DataFrame({"model_a": [], "model_b": [], "winner": [], "count": []})
    frame = pd.DataFrame(removed, columns=["a", "b", "o"])
    grouped = frame.groupby(["a", "b", "o"]).size().reset_index(name="count")
    return pd.DataFrame({"model_a": [str(models[i]) for i in grouped["a"]],
                         "model_b": [str(models[i]) for i in grouped["b"]],
                         "winner": [_bt.OUTCOMES[o] for o in grouped["o"]],
                         "count": grouped["count"].astype(int)})

