"""Unit bootstrap of agreement statistics: fast path == direct, and the CI contract."""

import contextlib
import functools
import math
from unittest import mock

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scoring.stats import _bootstrap, _reliability
from scoring.stats.agreement import FAST_STATISTICS, bootstrap_ci, krippendorff_alpha, percent_agreement

NAN = np.nan


@contextlib.contextmanager
def sparse_representation():
    with mock.patch.object(_reliability, "SMALL_DOMAIN", 0):
        yield


@st.composite
def small_data(draw):
    n_raters = draw(st.integers(2, 5))
    n_units = draw(st.integers(2, 20))
    domain = draw(st.lists(st.integers(-3, 9), min_size=2, max_size=6, unique=True))
    cells = st.one_of(st.sampled_from(domain), st.just(NAN))
    flat = draw(st.lists(cells, min_size=n_raters * n_units, max_size=n_raters * n_units))
    return np.array(flat, dtype=float).reshape(n_raters, n_units)


def explicit_counts(plan, draws):
    """Count matrix of explicit unit draws, in the plan's profile coordinates."""
    rows = []
    for idx in draws:
        cols = idx if plan.unit_profile is None else plan.unit_profile[idx]
        rows.append(np.bincount(cols, minlength=plan.n_profiles))
    return np.array(rows, dtype=np.float64)


def assert_same(fast, direct):
    for f, d in zip(fast, direct):
        assert (math.isnan(f) and math.isnan(d)) or f == pytest.approx(d, rel=1e-9, abs=1e-9)


@pytest.mark.parametrize("name", sorted(FAST_STATISTICS))
@pytest.mark.parametrize("sparse", [False, True])
@settings(max_examples=30, deadline=None)
@given(data=small_data(), seed=st.integers(0, 2**32 - 1))
def test_fast_path_equals_statistic_on_materialised_resamples(name, sparse, data, seed):
    fast = FAST_STATISTICS[name]
    ctx = sparse_representation() if sparse else contextlib.nullcontext()
    with ctx:
        plan = fast.plan(_reliability.count_values(data))
        if plan is None:  # no fast path for this representation (ordinal/ratio, sparse)
            assert sparse and name in ("alpha_ordinal", "alpha_ratio")
            return
        draws = np.random.default_rng(seed).integers(0, data.shape[1], size=(8, data.shape[1]))
        values = plan.evaluate(explicit_counts(plan, draws))
        assert_same(values, [fast.direct(data[:, idx]) for idx in draws])


@pytest.mark.parametrize("name", ["alpha_ordinal", "alpha_nominal"])
def test_blocked_evaluation_equals_single_block(name):
    rng = np.random.default_rng(12)
    data = rng.integers(0, 6, size=(4, 300)).astype(float)
    data[rng.random(data.shape) < 0.2] = NAN
    counts = _reliability.count_values(data)
    plan = FAST_STATISTICS[name].plan(counts)
    with mock.patch.object(_bootstrap, "_CHUNK_CELLS", 40):  # tiny blocks and profile chunks
        blocked_plan = FAST_STATISTICS[name].plan(counts)
        blocked = _bootstrap.resample(blocked_plan, 30, np.random.default_rng(1))
    whole = _bootstrap.resample(plan, 30, np.random.default_rng(1))
    np.testing.assert_allclose(blocked, whole, rtol=1e-12)


@pytest.mark.parametrize("n_units", [40, 4000])  # index draws, then multinomial draws
def test_draw_counts_are_unit_resamples(n_units):
    rng = np.random.default_rng(0)
    data = rng.integers(1, 4, size=(3, n_units)).astype(float)
    plan = _bootstrap.alpha_plan(_reliability.count_values(data), "nominal")
    counts = _bootstrap.draw_counts(plan, 3000, np.random.default_rng(1))
    assert counts.shape == (3000, plan.n_profiles)
    np.testing.assert_array_equal(counts.sum(axis=1), n_units)
    # each profile is drawn freq/N of the time on average
    np.testing.assert_allclose(counts.mean(axis=0), plan.freq, rtol=0.1, atol=0.5)


def test_fast_and_callable_intervals_agree_in_distribution():
    rng = np.random.default_rng(5)
    truth = rng.integers(1, 6, 150)
    data = np.where(rng.random((4, 150)) < 0.6, truth, rng.integers(1, 6, (4, 150))).astype(float)
    data[rng.random(data.shape) < 0.2] = NAN
    fast = bootstrap_ci(data, "alpha_ordinal", n_resamples=2000, seed=1)
    slow = bootstrap_ci(data, functools.partial(krippendorff_alpha, level="ordinal"),
                        n_resamples=2000, seed=2)
    assert fast[0] < krippendorff_alpha(data, "ordinal") < fast[1]
    assert fast == pytest.approx(slow, abs=0.02)
    assert 0.05 < fast[1] - fast[0] < 0.4


def test_seed_reproducible_and_confidence_monotone():
    rng = np.random.default_rng(9)
    data = rng.integers(0, 3, size=(3, 60)).astype(float)
    assert bootstrap_ci(data, "alpha_nominal", seed=4) == bootstrap_ci(data, "alpha_nominal", seed=4)
    assert bootstrap_ci(data, "alpha_nominal", seed=4) != bootstrap_ci(data, "alpha_nominal", seed=5)
    narrow = bootstrap_ci(data, "percent_agreement", confidence=0.5, seed=3)
    wide = bootstrap_ci(data, "percent_agreement", confidence=0.99, seed=3)
    assert wide[0] < narrow[0] <= narrow[1] < wide[1]
    assert wide[0] <= percent_agreement(data) <= wide[1]


def test_sparse_ordinal_falls_back_to_direct_resampling():
    rng = np.random.default_rng(2)
    data = np.round(rng.normal(0, 1, size=(3, 30)), 2)  # ~90 distinct values: sparse path
    statistic = functools.partial(krippendorff_alpha, level="ordinal")
    by_name = bootstrap_ci(data, "alpha_ordinal", n_resamples=50, seed=8)
    by_callable = bootstrap_ci(data, statistic, n_resamples=50, seed=8)
    assert by_name == by_callable


def test_large_domain_interval_fast_path_matches_callable():
    rng = np.random.default_rng(4)
    truth = rng.normal(50, 10, 120)
    data = np.round(truth + rng.normal(0, 4, size=(3, 120)), 1)
    fast = bootstrap_ci(data, "alpha_interval", n_resamples=2000, seed=1)
    slow = bootstrap_ci(data, functools.partial(krippendorff_alpha, level="interval"),
                        n_resamples=1000, seed=1)
    assert fast == pytest.approx(slow, abs=0.02)


@pytest.mark.filterwarnings("error")
def test_undefined_resamples_are_dropped_or_interval_is_nan():
    # one pairable unit (0 vs 2) among 30: about a third of resamples miss it
    data = np.full((2, 30), NAN)
    data[0] = np.arange(30) % 3
    data[1, 0] = 2.0
    strict = bootstrap_ci(data, "percent_agreement", n_resamples=300, min_valid_fraction=0.95)
    lenient = bootstrap_ci(data, "percent_agreement", n_resamples=300, min_valid_fraction=0.1)
    assert all(math.isnan(v) for v in strict)
    assert lenient == (0.0, 0.0)  # every defined resample has only disagreeing pairs


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("name", sorted(FAST_STATISTICS))
@pytest.mark.parametrize("data", [[], np.full((3, 4), NAN), [[1, 1, 1], [1, 1, 1]]])
def test_degenerate_inputs_give_nan_interval(name, data):
    interval = bootstrap_ci(data, name, n_resamples=50)
    if name == "percent_agreement" and np.size(data) and not np.isnan(data).all():
        assert interval == (1.0, 1.0)  # defined: all pairs agree
    else:
        assert all(math.isnan(v) for v in interval)


def test_callable_receives_data_as_given():
    labels = np.array([["a", "b", "a", "tie", "b"], ["a", "b", "b", "tie", None]], dtype=object)
    codes = np.array([[0, 1, 0, 2, 1], [0, 1, 1, 2, NAN]])
    seen = []

    def spy(data):
        seen.append(data)
        return percent_agreement(data)

    assert bootstrap_ci(labels, spy, n_resamples=40, seed=6) == bootstrap_ci(
        codes, percent_agreement, n_resamples=40, seed=6)
    assert seen[0].dtype == object and seen[0].shape == labels.shape
    assert set(seen[0].ravel()) <= set(labels.ravel())


def test_validation():
    with pytest.raises(ValueError, match="unknown statistic"):
        bootstrap_ci([[1, 2], [1, 2]], "alpha_circular")
    with pytest.raises(ValueError, match="confidence"):
        bootstrap_ci([[1, 2], [1, 2]], confidence=1.5)
    with pytest.raises(ValueError, match="n_resamples"):
        bootstrap_ci([[1, 2], [1, 2]], n_resamples=0)
