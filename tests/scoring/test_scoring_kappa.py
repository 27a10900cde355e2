"""Fleiss' and Cohen's kappa: published examples, oracles, edge cases."""

import math
import warnings

import numpy as np
import pytest
from hypothesis import example, given, settings
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


# --------------------------------------------------------------------------
# Cohen: labels= decision, standard errors, user weight matrices

from scoring.stats._kappa import cohen_kappa_details  # noqa: E402


def test_cohen_labels_outside_raise_where_sklearn_drops_pairs():
    """Decided: a label outside ``labels`` raises (scikit-learn drops the pair silently)."""
    a, b = ["x", "y", "z", "x"], ["x", "y", "x", "z"]
    with pytest.raises(ValueError, match=r"\['z'\] are not among the given labels"):
        cohen_kappa(a, b, labels=["x", "y"])
    # scikit-learn's answer is the kappa of the pairs inside labels only
    kept = [0, 1]
    assert cohen_kappa([a[i] for i in kept], [b[i] for i in kept], labels=["x", "y"]) == pytest.approx(
        cohen_kappa_score(a, b, labels=["x", "y"]))


@settings(max_examples=60, deadline=None)
@given(st.integers(2, 5), st.integers(8, 80), st.integers(0, 2**31 - 1),
       st.sampled_from([None, "linear", "quadratic"]))
@example(k=2, n=11, seed=245, weights=None)  # one rater used one category: the variance is exactly 0
def test_cohen_se_matches_statsmodels(k, n, seed, weights):
    rng = np.random.default_rng(seed)
    a = rng.integers(0, k, n)
    b = np.where(rng.random(n) < 0.6, a, rng.integers(0, k, n))
    details = cohen_kappa_details(a, b, weights, labels=list(range(k)))
    table = np.bincount(a * k + b, minlength=k * k).reshape(k, k)
    ref = inter_rater.cohens_kappa(table, wt=weights, weights=None if weights is None else np.arange(k))
    if math.isnan(details.kappa):
        return
    assert details.kappa == pytest.approx(ref.kappa, abs=1e-10)
    # statsmodels takes the square root of a variance that rounds to -1e-17 when it is exactly 0 (NaN)
    ref_se = 0.0 if abs(ref.var_kappa) < 1e-12 else ref.std_kappa
    assert details.se == pytest.approx(ref_se, abs=1e-10)
    assert details.ci[0] == pytest.approx(max(-1.0, ref.kappa - 1.959963984540054 * ref_se), abs=1e-9)


def test_cohen_user_weight_matrix():
    a, b = [0, 1, 2, 2, 1, 0, 2], [0, 2, 2, 1, 1, 0, 0]
    quad = np.subtract.outer(np.arange(3), np.arange(3)) ** 2
    assert cohen_kappa(a, b, weights=quad, labels=[0, 1, 2]) == pytest.approx(
        cohen_kappa(a, b, weights="quadratic", labels=[0, 1, 2]))
    assert cohen_kappa_details(a, b, weights=quad, labels=[0, 1, 2]).weights == "matrix"
    with pytest.raises(ValueError, match="needs labels"):
        cohen_kappa(a, b, weights=quad)
    with pytest.raises(ValueError, match="0 on the diagonal"):
        cohen_kappa(a, b, weights=np.ones((3, 3)), labels=[0, 1, 2])
