"""Majority vote and Dawid-Skene: tie policy, reference EM, recovery."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scoring.stats.consensus import dawid_skene, majority_vote


def long_frame(rows):
    return pd.DataFrame(rows, columns=["item", "rater", "label"])


# --------------------------------------------------------------------------
# majority vote


def test_majority_vote_tie_policy():
    labels = long_frame([
        ("x", "r1", "a"), ("x", "r2", "a"), ("x", "r3", "b"),
        ("y", "r1", "a"), ("y", "r2", "b"),
        ("z", "r1", "tie"),
    ])
    votes = majority_vote(labels).set_index("item")
    assert votes.loc["x", ["label", "votes", "n_labels", "tied"]].tolist() == ["a", 2, 3, False]
    assert votes.loc["x", "share"] == pytest.approx(2 / 3)
    assert votes.loc["y", "label"] is None and bool(votes.loc["y", "tied"])
    assert votes.loc["y", "votes"] == 1
    assert votes.loc["z", "label"] == "tie" and not votes.loc["z", "tied"]
    custom = majority_vote(labels, tie_label="tie-unresolved").set_index("item")
    assert custom.loc["y", "label"] == "tie-unresolved"


def test_majority_vote_drops_missing_labels_and_sorts_items():
    labels = long_frame([(3, "r1", 2), (1, "r1", 4), (1, "r2", None), (3, "r2", 2), (2, "r1", 1)])
    votes = majority_vote(labels)
    assert votes["item"].tolist() == [1, 2, 3]
    assert votes["label"].tolist() == [4, 1, 2]
    assert votes["n_labels"].tolist() == [1, 1, 2]


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 5), st.integers(0, 3), st.sampled_from("abc")), min_size=1))
def test_majority_vote_matches_value_counts(rows):
    labels = long_frame(rows)
    votes = majority_vote(labels).set_index("item")
    for item, group in labels.groupby("item"):
        counts = group["label"].value_counts()
        top = counts.max()
        winners = sorted(counts[counts == top].index)
        assert votes.loc[item, "votes"] == top
        assert bool(votes.loc[item, "tied"]) == (len(winners) > 1)
        assert votes.loc[item, "label"] == (None if len(winners) > 1 else winners[0])


# --------------------------------------------------------------------------
# Dawid-Skene


def reference_dawid_skene(labels, classes, n_iter, smoothing):
    """Direct transcription of Dawid & Skene (1979) with per-label loops."""
    items = sorted(labels["item"].unique())
    raters = sorted(labels["rater"].unique())
    k = len(classes)
    obs = [(items.index(i), raters.index(r), classes.index(lab))
           for i, r, lab in labels[["item", "rater", "label"]].itertuples(index=False)]
    post = np.zeros((len(items), k))
    for i, _, lab in obs:
        post[i, lab] += 1
    post /= post.sum(axis=1, keepdims=True)
    for _ in range(n_iter):
        prior = post.sum(axis=0) + smoothing
        prior /= prior.sum()
        conf = np.full((len(raters), k, k), smoothing)
        for i, r, lab in obs:
            conf[r, :, lab] += post[i]
        conf /= conf.sum(axis=2, keepdims=True)
        log_post = np.tile(np.log(prior), (len(items), 1))
        for i, r, lab in obs:
            log_post[i] += np.log(conf[r, :, lab])
        post = np.exp(log_post - log_post.max(axis=1, keepdims=True))
        post /= post.sum(axis=1, keepdims=True)
    return post


@settings(max_examples=30, deadline=None)
@given(
    rows=st.lists(st.tuples(st.integers(0, 7), st.integers(0, 4), st.sampled_from(["a", "b", "tie"])),
                  min_size=1, max_size=60),
    n_iter=st.integers(1, 4),
)
def test_dawid_skene_equals_reference_em(rows, n_iter):
    labels = long_frame(rows)
    classes = sorted(labels["label"].unique())
    result = dawid_skene(labels, n_iter=n_iter, tol=0.0)
    expected = reference_dawid_skene(labels, classes, n_iter, smoothing=0.01)
    assert result.n_iter == n_iter
    np.testing.assert_allclose(result.posterior.to_numpy(), expected, atol=1e-10)
    assert list(result.posterior.columns) == classes


def simulate(n_items, accuracies, seed, per_item=3, n_classes=3):
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, n_classes, n_items)
    item = np.repeat(np.arange(n_items), per_item)
    rater = rng.integers(0, len(accuracies), item.shape[0])
    right = rng.random(item.shape[0]) < np.asarray(accuracies)[rater]
    wrong = (truth[item] + rng.integers(1, n_classes, item.shape[0])) % n_classes
    given_ = np.where(right, truth[item], wrong)
    return long_frame(zip(item, rater, given_)), truth


def test_dawid_skene_beats_majority_vote_and_ranks_raters():
    accuracies = [0.95, 0.9, 0.85, 0.6, 0.45, 0.4, 0.35]
    labels, truth = simulate(3000, accuracies, seed=1)
    result = dawid_skene(labels)
    votes = majority_vote(labels)
    ds_acc = (result.items["label"].to_numpy() == truth).mean()
    mv_acc = (votes["label"].to_numpy() == truth).mean()
    assert result.converged and result.n_iter < 500
    assert ds_acc > mv_acc + 0.03
    estimated = result.raters.set_index("rater")["accuracy"]
    assert np.corrcoef(estimated.loc[range(len(accuracies))], accuracies)[0, 1] > 0.98
    assert np.abs(estimated.to_numpy() - accuracies).max() < 0.06
    assert result.class_priors.sum() == pytest.approx(1.0)
    np.testing.assert_allclose(result.posterior.sum(axis=1), 1.0)
    np.testing.assert_allclose(result.confusion.sum(axis=2), 1.0)
    confusion = result.confusion_frame(0)
    assert np.diag(confusion.to_numpy()).min() > 0.9


def test_dawid_skene_rubric_levels_and_flags():
    labels = long_frame([(i, r, (i + (r == 2)) % 4 + 1) for i in range(40) for r in range(3)])
    result = dawid_skene(labels, n_iter=1, tol=0.0)
    assert list(result.posterior.columns) == [1, 2, 3, 4]
    assert (result.n_iter, result.converged) == (1, False)
    full = dawid_skene(labels)
    assert full.converged
    assert (full.items["label"].to_numpy() == np.arange(40) % 4 + 1).all()
    raters = full.raters.set_index("rater")
    assert raters.loc[2, "accuracy"] < 0.05 < 0.95 < raters.loc[0, "accuracy"]
    assert np.isfinite(full.log_likelihood)


@pytest.mark.filterwarnings("error")
def test_dawid_skene_degenerate_inputs():
    empty = dawid_skene(long_frame([]))
    assert len(empty.items) == 0 and empty.converged and empty.n_iter == 0
    one_class = dawid_skene(long_frame([(1, "r", "a"), (2, "s", "a")]))
    assert one_class.items["probability"].tolist() == [1.0, 1.0]
    agree = dawid_skene(long_frame([(i, r, "ab"[i % 2]) for i in range(10) for r in "xyz"]))
    assert (agree.items["probability"] > 0.99).all()
    assert majority_vote(long_frame([])).empty


def test_dawid_skene_explicit_classes_and_validation():
    labels = long_frame([(1, "r", "b"), (1, "s", "b")])
    result = dawid_skene(labels, classes=["a", "b", "tie"])
    assert list(result.posterior.columns) == ["a", "b", "tie"]
    assert result.items["label"].tolist() == ["b"]
    with pytest.raises(ValueError, match="not among classes"):
        dawid_skene(labels, classes=["a", "tie"])
    with pytest.raises(ValueError, match="lacks column"):
        dawid_skene(labels.rename(columns={"rater": "annotator"}))
    with pytest.raises(ValueError, match="n_iter"):
        dawid_skene(labels, n_iter=0)


# -- Dawid-Skene over distinct profiles (issue 8): items sharing (rater, label) counts run once ---

@st.composite
def panels(draw):
    """Small panels where many items share a profile: few raters, few labels, repeated items."""
    n_raters = draw(st.integers(1, 4))
    n_classes = draw(st.integers(2, 3))
    patterns = draw(st.lists(st.lists(st.tuples(st.integers(0, n_raters - 1), st.integers(0, n_classes - 1)),
                                      min_size=1, max_size=4), min_size=1, max_size=6))
    uses = draw(st.lists(st.integers(0, len(patterns) - 1), min_size=1, max_size=40))
    rows = [(item, rater, "abc"[label]) for item, p in enumerate(uses) for rater, label in patterns[p]]
    gold = draw(st.dictionaries(st.integers(0, len(uses) - 1), st.sampled_from("abc"[:n_classes]), max_size=3))
    classes = list("abc"[:n_classes])
    return pd.DataFrame(rows, columns=["item", "rater", "label"]), classes, gold


@settings(max_examples=60, deadline=None)
@given(panel=panels(), model=st.sampled_from(["full", "one_coin"]), n_iter=st.integers(1, 6),
       accelerate=st.booleans())
def test_dawid_skene_over_profiles_equals_row_wise(panel, model, n_iter, accelerate):
    labels, classes, gold = panel
    kwargs = dict(classes=classes, model=model, gold=gold, n_iter=n_iter, tol=0.0, accelerate=accelerate)
    profiles = dawid_skene(labels, **kwargs)
    rows = dawid_skene(labels, collapse=False, **kwargs)
    np.testing.assert_allclose(profiles.posterior.to_numpy(), rows.posterior.to_numpy(), atol=1e-9)
    np.testing.assert_allclose(profiles.confusion, rows.confusion, atol=1e-9)
    assert profiles.n_iter == rows.n_iter
    assert profiles.log_likelihood == pytest.approx(rows.log_likelihood, rel=1e-9, abs=1e-9)
    distinct = [tuple(sorted(zip(g["rater"], g["label"]))) + ((gold[item],) if item in gold else ())
                for item, g in labels.groupby("item")]
    assert profiles.n_profiles == len(set(distinct)) and rows.n_profiles == len(distinct)


@settings(max_examples=30, deadline=None)
@given(panel=panels())
def test_dawid_skene_over_profiles_stays_on_the_row_wise_path_over_long_runs(panel):
    # plain EM, many steps: rounding does not carry the two apart (SQUAREM's accept test may tip on
    # rounding, and on a flat likelihood EM crawls, so a tolerance stop is no common point to compare)
    labels, classes, gold = panel
    profiles = dawid_skene(labels, classes=classes, gold=gold, n_iter=2_000, tol=0.0)
    rows = dawid_skene(labels, classes=classes, gold=gold, n_iter=2_000, tol=0.0, collapse=False)
    assert profiles.n_iter == rows.n_iter == 2_000
    np.testing.assert_allclose(profiles.posterior.to_numpy(), rows.posterior.to_numpy(), atol=1e-8)
    assert profiles.log_likelihood == pytest.approx(rows.log_likelihood, rel=1e-9, abs=1e-9)


def test_dawid_skene_warm_start_reaches_the_same_answer_sooner():
    frame, truth = simulate(400, [0.6, 0.55, 0.5, 0.65, 0.45, 0.6], seed=3)
    cold = dawid_skene(frame, n_iter=20_000, tol=1e-9)
    start = {"classes": list(cold.posterior.columns), "class_priors": cold.class_priors.tolist(),
             "confusion": {r: cold.confusion_frame(r).to_numpy().tolist() for r in cold.raters["rater"]}}
    more = pd.concat([frame, pd.DataFrame({"item": range(400, 420), "rater": 0, "label": truth[:20]})],
                     ignore_index=True)
    fresh = dawid_skene(more, n_iter=20_000, tol=1e-9)
    warm = dawid_skene(more, n_iter=20_000, tol=1e-9, start=start)
    assert warm.start_used and not fresh.start_used and fresh.converged and warm.converged
    assert warm.n_iter < fresh.n_iter
    assert np.abs(warm.posterior.to_numpy() - fresh.posterior.to_numpy()).max() < 1e-5
    # a start for other classes, or naming none of these raters, is ignored
    for other in ({**start, "classes": ["x", "y", "z"]}, {**start, "confusion": {"nobody": [[1.0]]}}):
        ignored = dawid_skene(more, n_iter=20_000, tol=1e-9, start=other)
        assert not ignored.start_used and ignored.n_iter == fresh.n_iter
