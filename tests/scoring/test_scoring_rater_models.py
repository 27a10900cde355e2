"""Dawid-Skene semi-supervised with gold, one-coin, MACE; smoothing refused; confusion matrices.
Oracle: crowd-kit's DawidSkene / OneCoinDawidSkene (tiny smoothing, run to convergence)."""

import warnings

import numpy as np
import pandas as pd
import pytest

from scoring.stats.consensus import dawid_skene
from scoring.stats.mace import mace

crowdkit = pytest.importorskip("crowdkit.aggregation")


def simulated(seed=3, items=200, accuracy=(0.9, 0.8, 0.7, 0.6, 0.5, 0.85), per_item=4, k=3):
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, k, items)
    rows = []
    for i in range(items):
        for j in rng.choice(len(accuracy), per_item, replace=False):
            label = truth[i] if rng.random() < accuracy[j] else rng.integers(0, k)
            rows.append((i, j, int(label)))
    return pd.DataFrame(rows, columns=["item", "rater", "label"]), truth


def crowd(frame):
    return frame.rename(columns={"item": "task", "rater": "worker"})


def fitted(model, frame, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return model(n_iter=5000, tol=1e-12).fit(crowd(frame), **kw).probas_.sort_index()


def test_full_model_matches_crowdkit():
    frame, _ = simulated()
    ours = dawid_skene(frame, n_iter=5000, tol=1e-10, smoothing=1e-10)
    ref = fitted(crowdkit.DawidSkene, frame)
    assert ours.converged
    assert np.abs(ours.posterior.to_numpy() - ref[ours.posterior.columns].to_numpy()).max() < 1e-3


def test_one_coin_matches_crowdkit():
    frame, _ = simulated()
    ours = dawid_skene(frame, n_iter=5000, tol=1e-10, smoothing=1e-10, model="one_coin")
    ref = fitted(crowdkit.OneCoinDawidSkene, frame)
    assert np.abs(ours.posterior.to_numpy() - ref[ours.posterior.columns].to_numpy()).max() < 1e-6
    conf = ours.confusion_frame(0).to_numpy()
    assert np.allclose(np.diag(conf), conf[0, 0]) and np.allclose(conf.sum(axis=1), 1.0)


def test_semi_supervised_gold_matches_crowdkit_and_is_clamped():
    frame, truth = simulated()
    gold = pd.Series(truth[:50], index=range(50))
    ours = dawid_skene(frame, n_iter=5000, tol=1e-10, smoothing=1e-10, gold=gold)
    ref = fitted(crowdkit.DawidSkene, frame, true_labels=gold)
    assert np.abs(ours.posterior.to_numpy() - ref[ours.posterior.columns].to_numpy()).max() < 1e-6
    assert (ours.items.set_index("item").loc[range(50), "label"].astype(int).to_numpy() == truth[:50]).all()
    assert ours.items.set_index("item").loc[range(50), "probability"].eq(1.0).all()


def test_gold_label_outside_classes_is_refused():
    frame, _ = simulated(items=20)
    with pytest.raises(ValueError, match="gold label"):
        dawid_skene(frame, gold={0: 7})


@pytest.mark.parametrize("smoothing", [0.0, -0.1, float("nan")])
def test_smoothing_of_zero_or_below_is_refused(smoothing):
    frame, _ = simulated(items=20)
    with pytest.raises(ValueError, match="smoothing must be > 0"):
        dawid_skene(frame, smoothing=smoothing)


def test_unknown_model_refused():
    frame, _ = simulated(items=10)
    with pytest.raises(ValueError, match="model must be one of"):
        dawid_skene(frame, model="two_coin")


def test_per_rater_confusion_matrices_rows_are_distributions():
    frame, _ = simulated()
    result = dawid_skene(frame)
    for rater in result.raters["rater"]:
        conf = result.confusion_frame(rater)
        assert conf.index.name == "true" and conf.columns.name == "given"
        assert np.allclose(conf.sum(axis=1), 1.0)
    # a good rater's diagonal dominates
    assert np.diag(result.confusion_frame(0).to_numpy()).min() > 0.8


def test_mace_flags_a_constant_answer_spammer_that_dawid_skene_trusts():
    frame, truth = simulated()
    spam = pd.DataFrame({"item": range(200), "rater": 9, "label": 0})
    data = pd.concat([frame, spam], ignore_index=True)
    result = mace(data)
    competence = result.raters.set_index("rater")["competence"]
    assert result.converged
    assert competence[9] < 0.05 and competence[0] > 0.85
    assert (result.items["label"].astype(int).to_numpy() == truth).mean() >= 0.95
    strategy = result.strategy.loc[9]
    assert strategy[0] > 0.99  # the spammer's strategy: always 0


def test_mace_over_counts_equals_mace_over_the_rows_they_stand_for():
    frame, _ = simulated()
    rows = pd.concat([frame, frame.iloc[::3]], ignore_index=True)  # some labels given twice
    counts = rows.groupby(["item", "rater", "label"]).size().rename("count").reset_index()
    by_rows, by_counts = mace(rows), mace(counts)
    assert by_counts.n_iter == by_rows.n_iter and by_counts.converged
    assert np.allclose(by_counts.raters["competence"], by_rows.raters["competence"], atol=1e-12)
    assert by_counts.raters["n_labels"].tolist() == by_rows.raters["n_labels"].tolist()


def test_mace_at_least_as_accurate_as_crowdkit_vb():
    frame, truth = simulated()
    data = pd.concat([frame, pd.DataFrame({"item": range(200), "rater": 9, "label": 0})], ignore_index=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = crowdkit.MACE(n_iter=200).fit(crowd(data)).labels_.sort_index()
    ours = mace(data).items["label"].astype(int).to_numpy()
    assert (ours == truth).mean() >= (ref.to_numpy().astype(int) == truth).mean()


def test_mace_refuses_bad_smoothing():
    frame, _ = simulated(items=10)
    with pytest.raises(ValueError, match="smoothing"):
        mace(frame, smoothing=0)


# -- statistics from aggregates (issue 8): (rater, item, label) counts give the row-level answers ---

from scoring.stats.consensus import majority_vote  # noqa: E402


@pytest.mark.parametrize("model", ["full", "one_coin"])
def test_dawid_skene_from_counts_equals_rows(model):
    frame, truth = simulated(items=120)
    doubled = pd.concat([frame, frame.iloc[::3]], ignore_index=True)  # repeated labels count twice
    grouped = doubled.groupby(["item", "rater", "label"]).size().reset_index(name="count")
    gold = pd.Series(truth[:10], index=range(10))
    rows = dawid_skene(doubled, model=model, gold=gold)
    counts = dawid_skene(grouped, model=model, gold=gold)
    assert np.allclose(rows.posterior.to_numpy(), counts.posterior.to_numpy(), atol=1e-12)
    assert (rows.n_iter, rows.converged) == (counts.n_iter, counts.converged)
    pd.testing.assert_frame_equal(rows.raters, counts.raters)
    assert rows.log_likelihood == pytest.approx(counts.log_likelihood)
    pd.testing.assert_frame_equal(majority_vote(doubled), majority_vote(grouped))


@pytest.mark.parametrize("model", ["full", "one_coin"])
def test_squarem_reaches_the_same_answer_in_fewer_steps(model):
    frame, truth = simulated(items=300, accuracy=(0.6, 0.55, 0.5, 0.65, 0.45, 0.6))
    gold = pd.Series(truth[:5], index=range(5))
    plain = dawid_skene(frame, n_iter=20_000, tol=1e-9, model=model, gold=gold)
    fast = dawid_skene(frame, n_iter=20_000, tol=1e-9, model=model, gold=gold, accelerate=True)
    assert plain.converged and fast.converged
    assert np.abs(plain.posterior.to_numpy() - fast.posterior.to_numpy()).max() < 1e-5
    assert fast.n_iter < plain.n_iter


# -- MACE at scale: over item profiles, accelerated ----------------------------------------------

def _shared_profiles(seed=5, items=600):
    """A panel where many items share their (rater, label) profile: few raters, few classes."""
    frame, truth = simulated(seed=seed, items=items, accuracy=(0.85, 0.7, 0.6, 0.5), per_item=3, k=2)
    return frame, truth


@pytest.mark.parametrize("accelerate", [False, True])
def test_mace_over_profiles_equals_mace_item_by_item(accelerate):
    frame, _ = _shared_profiles()
    rows = pd.concat([frame, frame.iloc[::4]], ignore_index=True)  # some labels given twice
    profiles = mace(rows, n_iter=3000, tol=1e-9, accelerate=accelerate)
    items = mace(rows, n_iter=3000, tol=1e-9, accelerate=accelerate, collapse=False)
    assert frame.groupby("item").ngroups == 600  # and far fewer distinct profiles than items:
    assert rows.groupby("item")[["rater", "label"]].apply(lambda g: tuple(sorted(zip(g["rater"], g["label"])))).nunique() < 150
    assert (profiles.n_iter, profiles.converged) == (items.n_iter, items.converged)
    assert np.allclose(profiles.posterior.to_numpy(), items.posterior.to_numpy(), atol=1e-10)
    assert np.allclose(profiles.raters["competence"], items.raters["competence"], atol=1e-10)
    assert np.allclose(profiles.strategy.to_numpy(), items.strategy.to_numpy(), atol=1e-10)
    assert profiles.log_likelihood == pytest.approx(items.log_likelihood, rel=1e-12)
    assert profiles.items["label"].tolist() == items.items["label"].tolist()


def test_accelerated_mace_reaches_the_plain_fixed_point_in_fewer_steps():
    frame, _ = simulated(items=300, accuracy=(0.6, 0.55, 0.5, 0.65, 0.45, 0.6))
    plain = mace(frame, n_iter=50_000, tol=1e-9)
    fast = mace(frame, n_iter=50_000, tol=1e-9, accelerate=True)
    assert plain.converged and fast.converged
    assert fast.n_iter < plain.n_iter / 2
    assert np.abs(plain.raters["competence"] - fast.raters["competence"]).max() < 1e-5
    assert np.abs(plain.posterior.to_numpy() - fast.posterior.to_numpy()).max() < 1e-5
    assert fast.log_likelihood >= plain.log_likelihood - 1e-6


def test_accelerated_mace_keeps_parameters_inside_the_model():
    """An extrapolation may overshoot; what it keeps are competences in (0, 1) and strategies
    that are distributions -- even for a rater who always answers the same (competence -> 0)."""
    frame, _ = simulated(items=200)
    data = pd.concat([frame, pd.DataFrame({"item": range(200), "rater": 9, "label": 0})], ignore_index=True)
    result = mace(data, n_iter=5000, tol=1e-8, accelerate=True)
    competence = result.raters["competence"].to_numpy()
    assert result.converged and np.all((competence > 0) & (competence < 1))
    assert np.allclose(result.strategy.sum(axis=1), 1.0) and (result.strategy.to_numpy() > 0).all()
    assert result.raters.set_index("rater")["competence"][9] < 0.05
