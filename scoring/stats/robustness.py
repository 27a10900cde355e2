"""How many judgments hold the top of a Bradley-Terry leaderboard up (pure numpy/pandas).

``top_rank_robustness`` searches for the fewest comparisons whose removal changes which model is
ranked first -- the check of Huang et al. (2025), "Dropping just a handful of preferences can
change top large language model rankings", who found public leaderboards whose top flips after
dropping a few dozen of tens of thousands of votes.

Search (greedy, with exact refits): at each step, for every kind of comparison still present (a
``(model_a, model_b, outcome)`` cell) and every challenger, the first-order influence of
removing one such comparison on the gap ``theta_top - theta_challenger`` is
``-e_gap^T H^{-1} g`` (H the fit's negative Hessian, g the comparison's gradient); comparisons of
the cell that shrinks some gap the most are removed -- half as many as the linear prediction
says would close the gap, at least one -- and the model is refitted exactly from the previous
estimate. When a batch changes the top, bisection finds the fewest of its removals that do. It
stops when another model is on top (found) or after ``max_removals``. The count is
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
    def refit(counts, start):
        return _bt.fit(_bt.win_matrix(counts, ties), fit_alpha, theta0=start, prior_sd=prior_sd)[0]

    theta = refit(cells, None)
    top = int(np.argmax(theta))
    removed: list[tuple[int, int, int]] = []
    new_top = None
    while len(removed) < budget:
        move = _best_removal(cells, theta, top, ties, fit_alpha, prior_sd)
        if move is None:
            break
        cell, batch = move
        batch = int(min(batch, cells[cell], budget - len(removed)))
        trial = cells.copy()
        trial[cell] -= batch
        fitted = refit(trial, theta)
        if _flipped(fitted, top):  # the fewest removals of this cell that flip, by bisection
            low, high = 0, batch  # low: does not flip; high: flips
            while high - low > 1:
                mid = (low + high) // 2
                trial = cells.copy()
                trial[cell] -= mid
                if _flipped(refit(trial, theta), top):
                    high, fitted = mid, None
                else:
                    low = mid
            cells[cell] -= high
            removed.extend([cell] * high)
            theta = refit(cells, theta)
            new_top = int(np.argmax(theta))
            break
        cells, theta = trial, fitted
        removed.extend([cell] * batch)
    found = new_top is not None
    table = _removed_table(agg.models, removed)
    return TopRankRobustness(
        top=str(agg.models[top]), n_judgments=n, n_removed=len(removed) if found else None,
        new_top=str(agg.models[new_top]) if found else None, removed=table, max_removals=budget,
        fragile=found and len(removed) <= limit, fragile_limit=limit)


def _flipped(theta: np.ndarray, top: int) -> bool:
    return int(np.argmax(theta)) != top and theta.max() > theta[top] + 1e-12


def _best_removal(cells, theta, top, ties, alpha, prior_sd):
    """``((a, b, outcome), batch)``: the cell whose removal shrinks some gap top - challenger the
    most (first-order influence, all cells at once), and how many of its comparisons to remove
    before refitting: half of those the linear prediction needs to close the gap (at least 1)."""
    k = theta.shape[0]
    wins = _bt.win_matrix(cells, ties)
    total = wins + wins.T
    p = expit(theta[:, None] - theta[None, :])
    curv = total * p * (1.0 - p)
    precision = 0.0 if prior_sd is None else 1.0 / prior_sd**2
    hess = np.diag(curv.sum(axis=1) + alpha * k * np.exp(theta) + precision) - curv + 1.0 / k
    cov = np.linalg.inv(hess)
    a, b, outcome = np.nonzero(cells)
    if ties != "half":
        keep = outcome != 2
        a, b, outcome = a[keep], b[keep], outcome[keep]
    if a.size == 0:
        return None
    # one comparison's gradient is c (e_a - e_b): c = 1 - P(a beats b) if a won, -(1 - P(b beats a))
    # if b won, half of each for a tie; removing it moves theta by -c cov (e_a - e_b)
    c = np.select([outcome == 0, outcome == 1],
                  [1.0 - p[a, b], -(1.0 - p[b, a])], 0.5 * (1.0 - p[a, b]) - 0.5 * (1.0 - p[b, a]))
    shift = -c[:, None] * (cov[:, a] - cov[:, b]).T  # (cells, K)
    others = np.delete(np.arange(k), top)
    gap_now = theta[top] - theta[others]
    change = shift[:, [top]] - shift[:, others]  # per removal, per challenger
    after = gap_now[None, :] + change
    best_challenger = after.argmin(axis=1)
    score = after[np.arange(a.size), best_challenger] - gap_now.min()
    i = int(np.argmin(score))
    if score[i] >= 0:
        return None
    per_removal = change[i, best_challenger[i]]
    needed = gap_now[best_challenger[i]] / -per_removal if per_removal < 0 else 1.0
    return (int(a[i]), int(b[i]), int(outcome[i])), max(1, int(needed // 2))


def _removed_table(models, removed) -> pd.DataFrame:
    if not removed:
        return pd.DataFrame({"model_a": [], "model_b": [], "winner": [], "count": []})
    frame = pd.DataFrame(removed, columns=["a", "b", "o"])
    grouped = frame.groupby(["a", "b", "o"]).size().reset_index(name="count")
    return pd.DataFrame({"model_a": [str(models[i]) for i in grouped["a"]],
                         "model_b": [str(models[i]) for i in grouped["b"]],
                         "winner": [_bt.OUTCOMES[o] for o in grouped["o"]],
                         "count": grouped["count"].astype(int)})

