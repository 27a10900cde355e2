"""Bradley-Terry leaderboards: choix oracle, closed forms, output contract."""

import math
import warnings

import choix
import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from scoring.stats.preferences import ELO_SCALE, bootstrap_leaderboard, bradley_terry


def rows_from_counts(wins, ties=None):
    """Comparison rows: wins[i, j] rows 'i beats j', ties[i, j] rows tied (i as model_a)."""
    rows = []
    names = [f"m{i}" for i in range(wins.shape[0])]
    for i, j in zip(*np.nonzero(wins)):
        rows += [(names[i], names[j], "a")] * int(wins[i, j] // 2)
        rows += [(names[j], names[i], "b")] * int(wins[i, j] - wins[i, j] // 2)
    if ties is not None:
        for i, j in zip(*np.nonzero(ties)):
            rows += [(names[i], names[j], "tie")] * int(ties[i, j])
    return pd.DataFrame(rows, columns=["model_a", "model_b", "winner"])


def theta_by_model(board):
    return dict(zip(board["model"], (board["score"] - 1000.0) / ELO_SCALE))


def frame(*rows):
    return pd.DataFrame(rows, columns=["model_a", "model_b", "winner"])


# --------------------------------------------------------------------------
# oracle: choix with the same regularisation


@pytest.mark.parametrize("ties", ["half", "ignore"])
@settings(max_examples=40, deadline=None)
@given(
    k=st.integers(2, 6),
    alpha=st.sampled_from([0.01, 0.1, 1.0]),
    seed=st.integers(0, 2**32 - 1),
    density=st.floats(0.2, 1.0),
)
def test_matches_choix_up_to_shift(ties, k, alpha, seed, density):
    rng = np.random.default_rng(seed)
    wins = rng.integers(0, 12, size=(k, k)) * (rng.random((k, k)) < density)
    tied = rng.integers(0, 4, size=(k, k)) * (rng.random((k, k)) < density / 2)
    np.fill_diagonal(wins, 0)
    np.fill_diagonal(tied, 0)
    data = rows_from_counts(wins, tied)
    assume(len(data) > 0)
    present = sorted(set(data["model_a"]) | set(data["model_b"]), key=lambda m: int(m[1:]))
    idx = [int(m[1:]) for m in present]
    comp = wins.astype(float) + (0.5 * (tied + tied.T) if ties == "half" else 0.0)
    comp = comp[np.ix_(idx, idx)]
    try:
        expected = choix.ilsr_pairwise_dense(comp, alpha=alpha, max_iter=20_000, tol=1e-13)
    except (RuntimeError, ValueError):
        assume(False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # disconnected draws are allowed here
        board = bradley_terry(data, ties=ties, alpha=alpha, on_disconnected="warn")
    ours = theta_by_model(board)
    np.testing.assert_allclose([ours[m] for m in present], expected, atol=1e-6)


def test_plain_mle_matches_choix_without_regularisation():
    rng = np.random.default_rng(11)
    wins = rng.integers(1, 30, size=(5, 5))
    np.fill_diagonal(wins, 0)
    board = bradley_terry(rows_from_counts(wins), alpha=0.0)
    expected = choix.ilsr_pairwise_dense(wins.astype(float), alpha=0.0, tol=1e-13, max_iter=10_000)
    ours = theta_by_model(board)
    np.testing.assert_allclose([ours[f"m{i}"] for i in range(5)], expected, atol=1e-8)


# --------------------------------------------------------------------------
# closed forms and the Elo-like scale


def test_two_models_closed_form_and_scale():
    # MLE for two models: theta_A - theta_B = log(wins / losses);
    # on the arena scale a 10:1 record is a 400-point gap, centred on 1000
    data = frame(*([("A", "B", "a")] * 10 + [("B", "A", "a")]))
    board = bradley_terry(data, alpha=0.0)
    assert list(board["model"]) == ["A", "B"]
    assert board["score"].tolist() == pytest.approx([1200.0, 800.0])
    assert board["score"].mean() == pytest.approx(1000.0)


def test_tie_policies():
    data = frame(*([("A", "B", "a")] * 3 + [("B", "A", "a")] + [("A", "B", "tie")] * 4))
    half = bradley_terry(data, ties="half", alpha=0.0).set_index("model")["score"]
    ignore = bradley_terry(data, ties="ignore", alpha=0.0).set_index("model")["score"]
    assert half["A"] - half["B"] == pytest.approx(400 * math.log10(5 / 3))  # 3+2 vs 1+2
    assert ignore["A"] - ignore["B"] == pytest.approx(400 * math.log10(3))


def test_counts_and_win_rate_columns():
    data = frame(("A", "B", "a"), ("B", "C", "tie"), ("C", "A", "a"), ("A", "C", "b"), ("B", "A", "b"))
    board = bradley_terry(data).set_index("model")
    assert board.loc["A", ["n_comparisons", "wins", "losses", "ties"]].tolist() == [4, 2, 2, 0]
    assert board.loc["B", ["n_comparisons", "wins", "losses", "ties"]].tolist() == [3, 0, 2, 1]
    assert board.loc["C", ["n_comparisons", "wins", "losses", "ties"]].tolist() == [3, 2, 0, 1]
    assert board.loc["B", "win_rate"] == pytest.approx(0.5 / 3)
    assert board.loc["C", "win_rate"] == pytest.approx(2.5 / 3)


def test_output_sorted_with_model_column_and_mean_1000():
    rng = np.random.default_rng(2)
    wins = rng.integers(0, 20, size=(6, 6))
    np.fill_diagonal(wins, 0)
    board = bradley_terry(rows_from_counts(wins))
    assert list(board.columns[:2]) == ["model", "score"]
    assert isinstance(board.index, pd.RangeIndex)
    assert board["score"].is_monotonic_decreasing
    assert board["score"].mean() == pytest.approx(1000.0)


def test_never_winning_model_is_finite_with_regularisation_and_raises_without():
    data = frame(*([("A", "B", "a")] * 5 + [("B", "C", "a")] * 5 + [("C", "B", "a")] * 2
                   + [("A", "C", "a")] * 4 + [("B", "A", "a")] * 2))
    data = pd.concat([data, frame(*([("A", "Z", "a")] * 6 + [("Z", "B", "b")] * 3))])
    board = bradley_terry(data, alpha=1e-3)
    assert board["model"].iloc[-1] == "Z"
    assert np.isfinite(board["score"]).all()
    assert board["score"].iloc[-1] < board["score"].iloc[-2] - 400
    with pytest.raises(ValueError, match="alpha > 0"):
        bradley_terry(data, alpha=0.0)


def test_disconnected_graph_raises_or_warns():
    data = frame(("A", "B", "a"), ("B", "A", "a"), ("C", "D", "a"), ("D", "C", "b"))
    with pytest.raises(ValueError, match="disconnected into 2 groups"):
        bradley_terry(data)
    with pytest.warns(UserWarning, match="disconnected"):
        board = bradley_terry(data, on_disconnected="warn")
    assert len(board) == 4 and np.isfinite(board["score"]).all()
    with pytest.raises(ValueError, match="disconnected"):
        bradley_terry(data, on_disconnected="warn", alpha=0.0)


def test_validation():
    with pytest.raises(ValueError, match="winner must be one of"):
        bradley_terry(frame(("A", "B", "A")))
    with pytest.raises(ValueError, match="itself"):
        bradley_terry(frame(("A", "A", "a")))
    with pytest.raises(ValueError, match="lacks column"):
        bradley_terry(pd.DataFrame({"model_a": ["A"], "model_b": ["B"]}))
    with pytest.raises(ValueError, match="ties"):
        bradley_terry(frame(("A", "B", "a")), ties="drop")
    with pytest.raises(ValueError, match="no comparisons"):
        bradley_terry(frame())


@pytest.mark.filterwarnings("error")
def test_single_pair_all_ties_is_even():
    board = bradley_terry(frame(("A", "B", "tie"), ("B", "A", "tie")))
    assert board["score"].tolist() == pytest.approx([1000.0, 1000.0])
    assert board["win_rate"].tolist() == [0.5, 0.5]


# --------------------------------------------------------------------------
# bootstrap


def simulated(n_rows, seed, k=5):
    rng = np.random.default_rng(seed)
    strength = np.linspace(-1, 1, k)
    a = rng.integers(0, k, n_rows)
    b = (a + rng.integers(1, k, n_rows)) % k
    p_a = 1 / (1 + np.exp(strength[b] - strength[a]))
    winner = np.where(rng.random(n_rows) < 0.1, "tie", np.where(rng.random(n_rows) < p_a, "a", "b"))
    names = np.array([f"m{i}" for i in range(k)])
    return pd.DataFrame({"model_a": names[a], "model_b": names[b], "winner": winner})


def test_bootstrap_leaderboard_columns_and_reproducibility():
    data = simulated(3000, seed=1)
    board = bootstrap_leaderboard(data, n_resamples=200, seed=3)
    point = bradley_terry(data)
    pd.testing.assert_frame_equal(board.drop(columns=["ci_low", "ci_high", "rank_best", "rank_worst"]), point, check_like=False)
    assert ((board["ci_low"] < board["score"]) & (board["score"] < board["ci_high"])).all()
    again = bootstrap_leaderboard(data, n_resamples=200, seed=3)
    pd.testing.assert_frame_equal(board, again)
    assert board.attrs["n_valid_resamples"] == 200


def test_cell_multinomial_bootstrap_matches_row_resampling():
    data = simulated(800, seed=4)
    fast = bootstrap_leaderboard(data, n_resamples=400, seed=1).set_index("model")
    rng = np.random.default_rng(2)
    scores = []
    for _ in range(400):
        sample = data.iloc[rng.integers(0, len(data), len(data))]
        scores.append(bradley_terry(sample).set_index("model")["score"])
    slow = pd.concat(scores, axis=1)
    low, high = slow.quantile(0.025, axis=1), slow.quantile(0.975, axis=1)
    width = (high - low).mean()
    assert np.abs(fast["ci_low"] - low).max() < 0.15 * width
    assert np.abs(fast["ci_high"] - high).max() < 0.15 * width
