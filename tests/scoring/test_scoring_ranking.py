"""Bradley-Terry with a Gaussian prior (choix oracle), rank intervals, top-rank robustness."""

import itertools

import choix
import numpy as np
import pandas as pd
import pytest

from scoring.stats.preferences import ELO_MEAN, ELO_SCALE, bootstrap_leaderboard, bradley_terry
from scoring.stats.robustness import top_rank_robustness


def simulated(theta, n, seed=0):
    rng = np.random.default_rng(seed)
    k = len(theta)
    a = rng.integers(0, k, n)
    b = (a + rng.integers(1, k, n)) % k
    theta = np.asarray(theta)
    won = rng.random(n) < 1.0 / (1.0 + np.exp(-(theta[a] - theta[b])))
    frame = pd.DataFrame({"model_a": [f"m{i}" for i in a], "model_b": [f"m{i}" for i in b],
                          "winner": np.where(won, "a", "b")})
    return frame, a, b, won


@pytest.mark.parametrize("sd", [0.3, 1.0, 3.0])
def test_gaussian_prior_is_choix_opt_pairwise(sd):
    frame, a, b, won = simulated([1.0, 0.5, 0.0, -1.0, -0.5], 300)
    data = [(x, y) if w else (y, x) for x, y, w in zip(a, b, won)]
    ref = choix.opt_pairwise(5, data, alpha=1.0 / (2.0 * sd * sd))
    board = bradley_terry(frame, prior_sd=sd).set_index("model")
    theta = (board.loc[[f"m{i}" for i in range(5)], "score"].to_numpy() - 1000.0) / ELO_SCALE
    assert np.allclose(theta, ref - ref.mean(), atol=1e-7)


def test_prior_keeps_a_disconnected_graph_finite_and_shrinks():
    frame = pd.DataFrame({"model_a": ["x", "y"], "model_b": ["z", "w"], "winner": ["a", "a"]})
    wide = bradley_terry(frame, prior_sd=10.0, on_disconnected="warn")
    narrow = bradley_terry(frame, prior_sd=0.1, on_disconnected="warn")
    assert np.isfinite(wide["score"]).all()
    assert np.ptp(narrow["score"]) < np.ptp(wide["score"])
    with pytest.raises(ValueError, match="prior_sd"):
        bradley_terry(frame, prior_sd=0.0)


def test_rank_intervals_cover_the_rank_and_separate_clear_gaps():
    frame, *_ = simulated([2.0, 0.0, -0.05, -2.0], 800)
    board = bootstrap_leaderboard(frame, n_resamples=300)
    assert (board["rank_best"] <= np.arange(1, 5)).all() and (np.arange(1, 5) <= board["rank_worst"]).all()
    first = board.iloc[0]
    assert (first["rank_best"], first["rank_worst"]) == (1, 1)  # a clear leader
    middle = board.iloc[1]
    assert (middle["rank_best"], middle["rank_worst"]) == (2, 3)  # two near-equal models share 2-3


def _exact_minimum(frame, limit):
    """Brute force: fewest rows whose removal changes the top (None if more than ``limit``)."""
    top = bradley_terry(frame)["model"].iloc[0]
    for size in range(1, limit + 1):
        for drop in itertools.combinations(range(len(frame)), size):
            rest = frame.drop(index=list(drop))
            if bradley_terry(rest, on_disconnected="warn")["model"].iloc[0] != top:
                return size
    return None


def test_robustness_removal_really_flips_and_bounds_the_exact_minimum():
    rows = [("p", "q", "a")] * 4 + [("p", "q", "b")] * 3 + [("p", "r", "a")] * 3 + [("q", "r", "a")] * 3 \
        + [("r", "p", "a")] * 1 + [("r", "q", "a")] * 1
    frame = pd.DataFrame(rows, columns=["model_a", "model_b", "winner"])
    result = top_rank_robustness(frame)
    exact = _exact_minimum(frame, 3)
    assert result.n_removed is not None and exact is not None
    assert exact <= result.n_removed <= exact + 1
    rest = frame.copy()
    for r in result.removed.itertuples():
        hit = rest.index[(rest.model_a == r.model_a) & (rest.model_b == r.model_b) & (rest.winner == r.winner)]
        rest = rest.drop(index=hit[: r.count])
    assert bradley_terry(rest)["model"].iloc[0] == result.new_top != result.top


def test_robust_leader_is_not_fragile_and_close_race_is():
    clear, *_ = simulated([2.0, 0.0, -1.0], 600, seed=1)
    robust = top_rank_robustness(clear)
    assert not robust.fragile and (robust.n_removed is None or robust.n_removed > robust.fragile_limit)
    rows = [("p", "q", "a")] * 101 + [("p", "q", "b")] * 100 + [("p", "r", "a")] * 60 \
        + [("q", "r", "a")] * 60 + [("r", "p", "a")] * 20 + [("r", "q", "a")] * 20
    close = pd.DataFrame(rows, columns=["model_a", "model_b", "winner"])
    fragile = top_rank_robustness(close)
    assert fragile.fragile and fragile.n_removed <= fragile.fragile_limit
    assert fragile.as_dict()["removed"]


# -- statistics from aggregates (issue 8): grouped counts give the row-level answers ----------------

def test_leaderboard_from_grouped_counts_equals_the_one_from_rows():
    frame, *_ = simulated([1.0, 0.3, 0.0, -0.8], 500, seed=5)
    frame.loc[::7, "winner"] = "tie"
    grouped = frame.groupby(["model_a", "model_b", "winner"]).size().reset_index(name="count")
    rows = bootstrap_leaderboard(frame, n_resamples=200, seed=4)
    counts = bootstrap_leaderboard(grouped, n_resamples=200, seed=4)
    pd.testing.assert_frame_equal(rows, counts)
    with pytest.raises(ValueError, match="whole number"):
        bradley_terry(grouped.assign(count=0.5))


def test_robustness_from_grouped_counts_equals_the_one_from_rows():
    frame, *_ = simulated([0.2, 0.1, -0.3], 300, seed=6)
    grouped = frame.groupby(["model_a", "model_b", "winner"]).size().reset_index(name="count")
    assert top_rank_robustness(frame).as_dict() == top_rank_robustness(grouped).as_dict()


def test_batched_bootstrap_fits_equal_one_by_one_fits():
    from scoring.stats import _bt
    from scoring.stats.preferences import _resampled_scores

    frame, *_ = simulated([1.0, 0.4, 0.0, -0.6, -1.2], 400, seed=8)
    frame.loc[::9, "winner"] = "tie"
    agg = _bt.aggregate(frame)
    theta, _, _ = _bt.fit(_bt.win_matrix(agg.cells, "half"), 1e-3)
    batched = _resampled_scores(agg.cells, "half", 1e-3, theta, 50, np.random.default_rng(3))
    rng = np.random.default_rng(3)
    flat = agg.cells.reshape(-1)
    used = np.flatnonzero(flat)
    draws = rng.multinomial(int(flat.sum()), flat[used] / flat.sum(), size=50)
    for b in range(50):
        cells = np.zeros_like(flat)
        cells[used] = draws[b]
        one, _, _ = _bt.fit(_bt.win_matrix(cells.reshape(agg.cells.shape), "half"), 1e-3, theta0=theta)
        assert np.allclose(batched[b], ELO_MEAN + ELO_SCALE * one, atol=1e-7)
