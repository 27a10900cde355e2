"""Fleiss' and Cohen's kappa: published examples, oracles, edge cases."""

import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats import inter_rater

from scoring.stats.agreement import cohen_kappa, fleiss_kappa

NAN = np.nan


def ratings_to_table(ratings, n_categories):
    """subjects x raters category codes (0-based) -> subjects x categories counts."""
    ratings = np.asarray(ratings)
    return np.stack([(ratings == c).sum(axis=1) for c in range(n_categories)], axis=1)


# --------------------------------------------------------------------------
# Fleiss


def test_fleiss_wikipedia_example(fleiss_wikipedia_table):
    assert round(fleiss_kappa(fleiss_wikipedia_table), 3) == 0.210


def test_fleiss_1971_diagnoses(fleiss_1971_diagnoses):
    table = ratings_to_table(fleiss_1971_diagnoses - 1, 5)
    value = fleiss_kappa(table)
    assert round(value, 3) == 0.430  # Fleiss (1971)
    assert value == pytest.approx(0.4302445, abs=5e-8)  # R irr::kappam.fleiss


@settings(max_examples=80, deadline=None)
@given(
    n_raters=st.integers(2, 9),
    n_categories=st.integers(2, 6),
    ratings=st.lists(st.lists(st.integers(0, 5), min_size=9, max_size=9), min_size=1, max_size=25),
)
def test_fleiss_matches_statsmodels(n_raters, n_categories, ratings):
    ratings = np.asarray(ratings)[:, :n_raters] % n_categories
    table = ratings_to_table(ratings, n_categories)
    value = fleiss_kappa(table)
    with np.errstate(all="ignore"):
        expected = inter_rater.fleiss_kappa(table, method="fleiss")
    if np.isfinite(expected):
        assert value == pytest.approx(expected, rel=1e-9, abs=1e-12)
    else:  # every rating in one category: chance agreement 1
        assert math.isnan(value)
        assert (table.sum(axis=0) > 0).sum() == 1


def test_fleiss_unequal_raters_raises_clearly():
    with pytest.raises(ValueError, match=r"same number of raters.*subject 1 has 3"):
        fleiss_kappa([[2, 2], [1, 2], [4, 0]])


def test_fleiss_validation():
    with pytest.raises(ValueError, match="at least 2 raters"):
        fleiss_kappa([[1, 0], [0, 1]])
    with pytest.raises(ValueError, match="non-negative"):
        fleiss_kappa([[3, -1], [1, 1]])
    with pytest.raises(ValueError, match="2-D"):
        fleiss_kappa([[[1, 1]]])


@pytest.mark.filterwarnings("error")
def test_fleiss_degenerate():
    assert math.isnan(fleiss_kappa([[4, 0], [4, 0]]))  # one category only
    assert math.isnan(fleiss_kappa(np.zeros((0, 3))))  # empty
    assert fleiss_kappa([[3, 0], [0, 3]]) == 1.0  # all agree, two categories


# --------------------------------------------------------------------------
# Cohen


def test_cohen_sas_example():
    # SAS/STAT PROC FREQ agreement example (3x3 table), as reproduced in
    # statsmodels' test_inter_rater.py: simple kappa 0.4842, weighted kappa
    # with Cicchetti-Allison (= linear) weights 0.4701.
    table = np.array([[0, 4, 1], [0, 8, 0], [0, 1, 5]])
    rows, cols = np.indices(table.shape)
    rater1 = np.repeat(rows.ravel(), table.ravel())
    rater2 = np.repeat(cols.ravel(), table.ravel())
    assert round(cohen_kappa(rater1, rater2), 4) == 0.4842
    assert round(cohen_kappa(rater1, rater2, weights="linear"), 4) == 0.4701


@pytest.mark.parametrize(
    ("weights", "printed"),
    # R irr::kappa2(anxiety[, 2:3], weight) -- unweighted, "equal", "squared"
    [(None, -0.006289308), ("linear", 0.1459075), ("quadratic", 0.2520325)],
)
def test_cohen_irr_anxiety(irr_anxiety, weights, printed):
    value = cohen_kappa(irr_anxiety[:, 1], irr_anxiety[:, 2], weights=weights)
    assert value == pytest.approx(printed, abs=5e-8)


def test_cohen_wikipedia_binary_example():
    # Wikipedia "Cohen's kappa": 50 proposals, yes/yes 20, yes/no 5, no/yes 10, no/no 15 -> 0.4
    a = ["yes"] * 25 + ["no"] * 25
    b = ["yes"] * 20 + ["no"] * 5 + ["yes"] * 10 + ["no"] * 15
    assert cohen_kappa(a, b) == pytest.approx(0.4)


@pytest.mark.parametrize("weights", [None, "linear", "quadratic"])
@settings(max_examples=60, deadline=None)
@given(pairs=st.lists(st.tuples(st.one_of(st.integers(0, 4), st.just(NAN)),
                                st.one_of(st.integers(-2, 4), st.just(NAN))), max_size=40))
def test_cohen_matches_sklearn_after_dropping_missing_pairs(weights, pairs):
    a = np.array([p[0] for p in pairs], dtype=float)
    b = np.array([p[1] for p in pairs], dtype=float)
    keep = ~(np.isnan(a) | np.isnan(b))
    value = cohen_kappa(a, b, weights=weights)
    if not keep.any():
        assert math.isnan(value)
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with np.errstate(all="ignore"):
            expected = cohen_kappa_score(a[keep], b[keep], weights=weights)
    if np.isfinite(expected):
        assert value == pytest.approx(expected, rel=1e-9, abs=1e-12)
    else:
        assert math.isnan(value)


def test_cohen_labels_argument_orders_categories():
    a, b = ["low", "high", "mid", "mid"], ["mid", "high", "low", "mid"]
    ordered = cohen_kappa(a, b, weights="linear", labels=["low", "mid", "high"])
    codes = {"low": 0, "mid": 1, "high": 2}
    assert ordered == pytest.approx(cohen_kappa([codes[x] for x in a], [codes[x] for x in b], "linear"))
    with pytest.raises(ValueError, match="not among the given labels"):
        cohen_kappa(a, b, labels=["low", "mid"])


def test_cohen_validation():
    with pytest.raises(ValueError, match="weights"):
        cohen_kappa([1, 2], [1, 2], weights="cubic")
    with pytest.raises(ValueError, match="same length"):
        cohen_kappa([1, 2], [1])


@pytest.mark.filterwarnings("error")
def test_cohen_degenerate():
    assert math.isnan(cohen_kappa([1, 1, 1], [1, 1, 1]))  # one category only
    assert math.isnan(cohen_kappa([], []))  # empty
    assert math.isnan(cohen_kappa([1, None], [None, 2]))  # no complete pair
    assert cohen_kappa([0, 1, 1], [0, 1, 1]) == 1.0  # all agree
    assert cohen_kappa([0, 1, NAN], [0, 1, 0]) == 1.0  # the pair with a NaN is dropped
