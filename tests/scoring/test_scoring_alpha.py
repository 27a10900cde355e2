"""Krippendorff's alpha and percent agreement: worked examples, oracle, edge cases."""

import contextlib
import math
import warnings
from unittest import mock

import krippendorff
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scoring.stats import _reliability
from scoring.stats.agreement import AlphaDetails, alpha_details, krippendorff_alpha, percent_agreement

LEVELS = ("nominal", "ordinal", "interval", "ratio")
NAN = np.nan


@contextlib.contextmanager
def representation(kind):
    """Force the profile (small-domain) or the sparse (large-domain) code path."""
    limit = {"profiles": 10**6, "sparse": 0}[kind]
    with mock.patch.object(_reliability, "SMALL_DOMAIN", limit):
        yield


def oracle(data, level):
    """krippendorff.alpha, with its errors and 0/0 mapped to NaN."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return float(krippendorff.alpha(np.asarray(data, dtype=float), level_of_measurement=level))
        except ValueError:
            return math.nan


@st.composite
def reliability_data(draw, max_raters=6, max_units=25):
    """Raters x units with NaNs, over a drawn domain of integers or 2-decimal floats."""
    n_raters = draw(st.integers(1, max_raters))
    n_units = draw(st.integers(1, max_units))
    value = st.one_of(st.integers(-5, 12), st.integers(-100_000, 100_000).map(lambda v: v / 100))
    domain = draw(st.lists(value, min_size=1, max_size=8, unique=True))
    cells = st.one_of(st.sampled_from(domain), st.just(NAN))
    flat = draw(st.lists(cells, min_size=n_raters * n_units, max_size=n_raters * n_units))
    return np.array(flat, dtype=float).reshape(n_raters, n_units)


# --------------------------------------------------------------------------
# published example: Krippendorff (2011), section C


@pytest.mark.parametrize(
    ("level", "printed"),
    [("nominal", 0.743), ("ordinal", 0.815), ("interval", 0.849), ("ratio", 0.797)],
)
@pytest.mark.parametrize("kind", ["profiles", "sparse"])
def test_krippendorff_2011_printed_values(krippendorff_2011, level, printed, kind):
    with representation(kind):
        value = krippendorff_alpha(krippendorff_2011, level)
    assert round(value, 3) == printed
    assert value == pytest.approx(krippendorff.alpha(krippendorff_2011, level_of_measurement=level),
                                  abs=1e-9)


def test_krippendorff_2011_details(krippendorff_2011):
    details = alpha_details(krippendorff_2011, "nominal")
    # unit 12 has a single value and is not pairable; 40 pairable values remain
    assert (details.n_units, details.n_pairable_values, details.reason) == (11, 40, None)
    assert details.observed_disagreement == pytest.approx(8 / 40)  # 8 off-diagonal coincidences
    assert details.alpha == pytest.approx(1 - details.observed_disagreement / details.expected_disagreement)


def test_package_doc_example_with_wikipedia_data():
    # krippendorff package docstring: nominal 0.691358, interval 0.810845
    data = [
        [NAN, NAN, NAN, NAN, NAN, 3, 4, 1, 2, 1, 1, 3, 3, NAN, 3],
        [1, NAN, 2, 1, 3, 3, 4, 3, NAN, NAN, NAN, NAN, NAN, NAN, NAN],
        [NAN, NAN, 2, 1, 3, 4, 4, NAN, 2, 1, 1, 3, 3, NAN, 4],
    ]
    assert round(krippendorff_alpha(data, "nominal"), 6) == 0.691358
    assert round(krippendorff_alpha(data, "interval"), 6) == 0.810845


# --------------------------------------------------------------------------
# oracle: the krippendorff package on random data


@pytest.mark.parametrize("kind", ["profiles", "sparse"])
@pytest.mark.parametrize("level", LEVELS)
@settings(max_examples=60, deadline=None)
@given(data=reliability_data())
def test_matches_krippendorff_package(kind, level, data):
    expected = oracle(data, level)
    with representation(kind), warnings.catch_warnings():
        warnings.simplefilter("error")
        value = krippendorff_alpha(data, level)
    if math.isnan(expected):
        assert math.isnan(value)
    else:
        assert value == pytest.approx(expected, rel=1e-9, abs=1e-9)


@settings(max_examples=25, deadline=None)
@given(data=reliability_data(max_raters=25, max_units=40), shift=st.integers(-3, 3))
def test_many_raters_and_wide_profiles(data, shift):
    # up to 25 raters x 8 values exercises the overflow-safe profile keys
    data = data + shift
    for level in LEVELS:
        expected = oracle(data, level)
        value = krippendorff_alpha(data, level)
        assert (math.isnan(value) and math.isnan(expected)) or value == pytest.approx(
            expected, rel=1e-9, abs=1e-9)


def test_profile_keys_agree_with_wide_keys():
    rng = np.random.default_rng(3)
    counts = rng.integers(0, 4, size=(9, 400)).astype(np.uint8)
    counts[:, 200:] = counts[:, :200]  # plenty of repeated profiles
    codes, profiles = _reliability._profile_codes(counts, base=4)
    wide_codes, wide_profiles = _reliability._profile_codes_wide(counts, base=4)
    np.testing.assert_array_equal(profiles[:, codes], counts)
    np.testing.assert_array_equal(wide_profiles[:, wide_codes], counts)
    assert profiles.shape[1] == wide_profiles.shape[1] == len(np.unique(counts.T, axis=0))


def test_large_continuous_domain_uses_sparse_path_and_matches():
    rng = np.random.default_rng(7)
    data = np.round(rng.normal(50, 10, size=(4, 300)), 1)
    data[rng.random(data.shape) < 0.3] = NAN
    for level in LEVELS:
        assert krippendorff_alpha(data, level) == pytest.approx(
            krippendorff.alpha(data, level_of_measurement=level), abs=1e-9)


def test_string_labels_nominal_match_codes():
    labels = [["a", "b", None, "tie"], ["a", "b", "b", "tie"], ["b", None, "b", "a"]]
    codes = [[0, 1, NAN, 2], [0, 1, 1, 2], [1, NAN, 1, 0]]
    assert krippendorff_alpha(labels) == pytest.approx(krippendorff_alpha(codes))
    assert percent_agreement(labels) == pytest.approx(percent_agreement(codes))
    with pytest.raises(TypeError, match="nominal"):
        krippendorff_alpha(labels, "ordinal")


def test_dataframe_input_raters_as_rows(krippendorff_2011):
    frame = pd.DataFrame(krippendorff_2011, index=["r1", "r2", "r3", "r4"])
    assert krippendorff_alpha(frame, "interval") == pytest.approx(0.849, abs=5e-4)


def test_invariances(krippendorff_2011):
    data = krippendorff_2011
    # nominal and ordinal only see the order / identity of values
    relabelled = np.where(np.isnan(data), NAN, data**3 + 100)
    for level in ("nominal", "ordinal"):
        assert krippendorff_alpha(relabelled, level) == pytest.approx(krippendorff_alpha(data, level))
    # interval is invariant to affine maps; rater order and unit order never matter
    assert krippendorff_alpha(3 * data - 7, "interval") == pytest.approx(
        krippendorff_alpha(data, "interval"))
    permuted = data[::-1, ::-1]
    for level in LEVELS:
        assert krippendorff_alpha(permuted, level) == pytest.approx(krippendorff_alpha(data, level))


def test_validation():
    with pytest.raises(ValueError, match="level"):
        krippendorff_alpha([[1, 2], [1, 2]], "circular")
    with pytest.raises(ValueError, match="2-D"):
        krippendorff_alpha([1, 2, 3])
    with pytest.raises(ValueError, match="finite"):
        krippendorff_alpha([[1, np.inf], [1, 2]])


# --------------------------------------------------------------------------
# undefined cases: NaN, a reason, and no warning


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ([[2, 2, 2], [2, 2, 2]], "expected disagreement is zero"),  # one category, all agree
        ([[1, NAN, 3], [NAN, 2, NAN]], "no pairable units"),  # a single rater per unit
        ([[NAN, NAN], [NAN, NAN]], "no pairable units"),  # all missing
        ([[7, 7, 9], [NAN, 7, NAN]], "expected disagreement is zero"),  # 9 is not pairable
        ([], "no pairable units"),  # empty
        (np.zeros((3, 0)), "no pairable units"),  # raters but no units
    ],
)
def test_undefined_alpha_is_nan_with_reason(level, data, reason):
    details = alpha_details(data, level)
    assert isinstance(details, AlphaDetails)
    assert math.isnan(details.alpha) and math.isnan(krippendorff_alpha(data, level))
    assert details.reason.startswith(reason)


@pytest.mark.filterwarnings("error")
def test_ratio_zero_expected_disagreement_for_opposite_values():
    # ratio distance of c and -c is 0 by the package's convention (c + k == 0)
    assert "expected disagreement is zero" in alpha_details([[-1, 1], [-1, 1]], "ratio").reason


@pytest.mark.filterwarnings("error")
def test_perfect_agreement_is_one_and_single_disagreement_lowers_it():
    data = [[1, 2, 3, 1], [1, 2, 3, 1], [1, 2, 3, NAN]]
    for level in LEVELS:
        assert krippendorff_alpha(data, level) == 1.0
    worse = [[1, 2, 3, 1], [1, 2, 3, 2], [1, 2, 3, NAN]]
    assert krippendorff_alpha(worse, "nominal") < 1.0


# --------------------------------------------------------------------------
# percent agreement


def test_percent_agreement_hand_computed():
    # unit 1: 3 values all equal -> 6/6 agreeing ordered pairs, weight 1/2 each
    # unit 2: values (1, 1, 2)   -> 2/6 agreeing pairs
    # unit 3: one value          -> not pairable
    data = [[1, 1, 5], [1, 1, NAN], [1, 2, NAN]]
    assert percent_agreement(data) == pytest.approx((3 + 1) / 6)


@settings(max_examples=50, deadline=None)
@given(data=reliability_data())
def test_percent_agreement_is_one_minus_nominal_observed_disagreement(data):
    details = alpha_details(data, "nominal")
    value = percent_agreement(data)
    if details.n_pairable_values == 0:
        assert math.isnan(value)
    else:
        assert value == pytest.approx(1 - details.observed_disagreement, abs=1e-12)
        assert 0.0 <= value <= 1.0


@settings(max_examples=40, deadline=None)
@given(n_raters=st.integers(2, 6), seed=st.integers(0, 2**32 - 1))
def test_percent_agreement_complete_data_is_mean_share_of_agreeing_rater_pairs(n_raters, seed):
    data = np.random.default_rng(seed).integers(0, 3, size=(n_raters, 15))
    shares = [
        np.mean([data[i, u] == data[j, u] for i in range(n_raters) for j in range(n_raters) if i != j])
        for u in range(data.shape[1])
    ]
    assert percent_agreement(data) == pytest.approx(np.mean(shares))


@pytest.mark.filterwarnings("error")
def test_percent_agreement_undefined_is_nan():
    assert math.isnan(percent_agreement([[1, NAN], [NAN, 2]]))
    assert math.isnan(percent_agreement([]))
    assert percent_agreement([[4, 4], [4, 4]]) == 1.0


# --------------------------------------------------------------------------
# alpha from value counts; Krippendorff's pair bootstrap

from scoring.stats.agreement import alpha_from_counts, bootstrap_ci, krippendorff_bootstrap  # noqa: E402
from scoring.stats.chance import count_table  # noqa: E402


@settings(max_examples=60, deadline=None)
@given(st.integers(2, 6), st.integers(2, 40), st.integers(0, 2**31 - 1),
       st.sampled_from(["nominal", "ordinal", "interval", "ratio"]))
def test_alpha_from_value_counts_equals_alpha_of_the_data(raters, units, seed, level):
    rng = np.random.default_rng(seed)
    x = rng.integers(1, 6, (raters, units)).astype(float)
    x[rng.random(x.shape) < 0.3] = np.nan
    table = count_table(x, [1.0, 2.0, 3.0, 4.0, 5.0])
    got = alpha_from_counts(table, [1, 2, 3, 4, 5], level)
    want = alpha_details(x, level)
    assert got.n_units == want.n_units and got.n_pairable_values == want.n_pairable_values
    assert (np.isnan(got.alpha) and np.isnan(want.alpha)) or got.alpha == pytest.approx(want.alpha, abs=1e-12)


def test_alpha_from_counts_frame_columns_are_values():
    import pandas as pd
    frame = pd.DataFrame({"a": [2, 0, 1], "b": [0, 2, 1]})
    assert alpha_from_counts(frame).alpha == pytest.approx(alpha_details([["a", "b", "a"], ["a", "b", "b"]]).alpha)
    with pytest.raises(TypeError):
        alpha_from_counts(frame, level="interval")


def test_krippendorff_pair_bootstrap_brackets_alpha_and_is_reproducible():
    rng = np.random.default_rng(4)
    truth = rng.integers(1, 6, 60)
    x = np.where(rng.random((4, 60)) < 0.8, truth, rng.integers(1, 6, (4, 60))).astype(float)
    alpha = alpha_details(x, "ordinal").alpha
    low, high = krippendorff_bootstrap(x, "ordinal", n_resamples=2000, seed=1)
    assert low < alpha < high and high - low < 0.3
    assert krippendorff_bootstrap(x, "ordinal", n_resamples=2000, seed=1) == (low, high)
    unit_low, unit_high = bootstrap_ci(x, "alpha_ordinal", n_resamples=2000, seed=1)
    assert unit_low < alpha < unit_high  # both methods bracket the estimate


def test_krippendorff_pair_bootstrap_undefined_is_nan():
    low, high = krippendorff_bootstrap([[1, 1], [1, 1]])
    assert np.isnan(low) and np.isnan(high)
