"""Model comparison from rubric scores: item means, bootstrap intervals, paired differences."""

import numpy as np
import pandas as pd
import pytest

from scoring.stats.rubric import item_scores, model_means, paired_differences


def scores(rows):
    return pd.DataFrame(rows, columns=["item", "prompt", "model", "score"])


def test_an_item_weighs_once_whatever_its_number_of_raters():
    frame = scores([(1, "p", "m", 5), (1, "p", "m", 5), (1, "p", "m", 5), (2, "q", "m", 1)])
    assert item_scores(frame)["score"].tolist() == [5.0, 1.0]
    board = model_means(frame, n_resamples=200)
    assert board.loc[0, "mean"] == 3.0 and board.loc[0, "n_judgments"] == 4 and board.loc[0, "n_items"] == 2


def test_interval_brackets_the_mean_and_matches_a_plain_bootstrap():
    rng = np.random.default_rng(0)
    values = rng.integers(1, 6, 40).astype(float)
    frame = scores([(i, f"p{i}", "m", v) for i, v in enumerate(values)])
    board = model_means(frame, n_resamples=4000, seed=1)
    plain = [rng.choice(values, values.size).mean() for _ in range(4000)]
    assert board.loc[0, "ci_low"] < values.mean() < board.loc[0, "ci_high"]
    assert board.loc[0, "ci_low"] == pytest.approx(np.percentile(plain, 2.5), abs=0.1)
    assert board.loc[0, "ci_high"] == pytest.approx(np.percentile(plain, 97.5), abs=0.1)


def test_one_item_has_no_interval_and_ranks_are_ordered():
    frame = scores([(1, "p", "a", 4), (2, "p", "b", 2), (3, "q", "b", 3)])
    board = model_means(frame, n_resamples=100).set_index("model")
    assert np.isnan(board.loc["a", "ci_low"]) and board.loc["a", "rank"] == 1
    assert (board["rank_best"] <= board["rank"]).all() and (board["rank"] <= board["rank_worst"]).all()


def test_paired_differences_use_only_shared_prompts():
    frame = scores([(1, "p", "a", 5), (2, "p", "b", 3), (3, "q", "a", 4), (4, "q", "b", 4),
                    (5, "r", "a", 1), (6, "s", "c", 2)])
    diffs = paired_differences(frame, n_resamples=500).set_index(["model_a", "model_b"])
    ab = diffs.loc[("a", "b")]
    assert ab["n_prompts"] == 2 and ab["mean_difference"] == pytest.approx(1.0)
    assert ab["ci_low"] == pytest.approx(0.0) and ab["ci_high"] == pytest.approx(2.0)
    assert diffs.loc[("a", "c"), "n_prompts"] == 0 and np.isnan(diffs.loc[("a", "c"), "mean_difference"])


def test_bad_settings_are_refused():
    with pytest.raises(ValueError):
        model_means(scores([(1, "p", "a", 1)]), n_resamples=0)
    with pytest.raises(ValueError, match="lacks"):
        item_scores(pd.DataFrame({"item": [1]}))
