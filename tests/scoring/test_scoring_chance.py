"""Gwet's AC1/AC2, Brennan-Prediger and Fleiss' kappa with missing ratings: Gwet's published
example, the irrCAC package as oracle, and agreement with the existing Fleiss kappa."""

import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scoring.stats.agreement import fleiss_kappa
from scoring.stats.chance import (
    WEIGHTS, agreement_weights, brennan_prediger, chance_corrected, count_table, fleiss_kappa_missing,
    gwet_ac,
)

NAN = np.nan
# Gwet (2014), Handbook of Inter-Rater Reliability, 4 raters x 12 units with missing ratings
# (irrCAC's ``raw_4raters``); raters are rows here.
GWET_4RATERS = np.array([
    [1, 2, 3, 3, 2, 1, 4, 1, 2, NAN, NAN, NAN],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, NAN, NAN],
    [NAN, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, 3],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, NAN],
])
CATEGORIES = [1, 2, 3, 4, 5]


@pytest.fixture
def table():
    return count_table(GWET_4RATERS, CATEGORIES)


@pytest.mark.parametrize("method, weights, value, se, low, pa, pe", [
    ("gwet", "identity", 0.77544, 0.14295, 0.46081, 0.81818, 0.19032),
    ("fleiss", "identity", 0.76117, 0.15302, 0.42438, 0.81818, 0.23872),
    ("brennan_prediger", "identity", 0.77273, 0.14472, 0.45421, 0.81818, 0.2),
    ("gwet", "quadratic", 0.914, 0.10396, 0.68518, 0.97538, 0.7137),
])
def test_gwet_handbook_four_raters(table, method, weights, value, se, low, pa, pe):
    """Published values (Gwet 2014; irrCAC 0.4.4 prints them to 5 digits)."""
    got = chance_corrected(table, method, weights, CATEGORIES)
    assert got.coefficient == pytest.approx(value, abs=6e-6)
    assert got.se == pytest.approx(se, abs=6e-6)
    assert got.ci[0] == pytest.approx(low, abs=6e-6)
    assert got.ci[1] == 1.0  # capped at 1
    assert (got.observed, got.chance) == (pytest.approx(pa, abs=6e-6), pytest.approx(pe, abs=6e-6))
    assert got.n_units == 12 and got.n_pairable_units == 11


def test_names_say_ac1_or_ac2(table):
    assert gwet_ac(table, categories=CATEGORIES).name == "Gwet's AC1"
    assert gwet_ac(table, "linear", CATEGORIES).name == "Gwet's AC2"
    assert brennan_prediger(table).name == "Brennan-Prediger"
    assert fleiss_kappa_missing(table).name == "Fleiss' kappa"


def test_high_agreement_low_kappa_paradox():
    """One answer dominates: 48 units agreed 'a', 2 split. Kappa collapses, AC1 does not."""
    table = np.array([[2, 0]] * 48 + [[1, 1]] * 2)
    kappa = fleiss_kappa_missing(table).coefficient
    ac1 = gwet_ac(table).coefficient
    assert kappa < 0.0 and ac1 > 0.95


@settings(max_examples=60, deadline=None)
@given(st.integers(2, 5), st.integers(2, 6), st.integers(2, 30), st.integers(0, 2**31 - 1))
def test_fleiss_generalised_equals_fleiss_1971_with_equal_ratings(q, raters, units, seed):
    rng = np.random.default_rng(seed)
    table = rng.multinomial(raters, np.full(q, 1.0 / q), size=units)
    old = fleiss_kappa(table)
    new = fleiss_kappa_missing(table).coefficient
    assert (math.isnan(old) and math.isnan(new)) or new == pytest.approx(old, abs=1e-12)


def test_user_weight_matrix_equals_named_family(table):
    named = gwet_ac(table, "linear", CATEGORIES)
    custom = gwet_ac(table, agreement_weights("linear", CATEGORIES), CATEGORIES)
    assert custom.coefficient == named.coefficient and custom.se == named.se


@pytest.mark.parametrize("bad, message", [
    (np.ones((3, 3)), "5 x 5"),
    (np.full((5, 5), 2.0), "within"),
    (np.zeros((5, 5)), "diagonal"),
])
def test_bad_weight_matrix_is_refused(table, bad, message):
    with pytest.raises(ValueError, match=message):
        gwet_ac(table, bad, CATEGORIES)


def test_undefined_cases_say_why():
    assert "two or more" in gwet_ac(np.array([[1, 0], [0, 1]])).reason
    assert math.isnan(gwet_ac(np.array([[1, 0], [0, 1]])).coefficient)
    assert "categories" in fleiss_kappa_missing(np.array([[3], [2]])).reason
    with pytest.raises(ValueError, match="method"):
        chance_corrected(np.ones((2, 2)), "cohen")


def test_count_table_refuses_values_outside_categories():
    with pytest.raises(ValueError, match="not among the categories"):
        count_table([[1, 2], [3, 9]], [1, 2, 3])


# -- irrCAC as oracle on random data with missing ratings, every weight family --------------

@settings(max_examples=25, deadline=None)
@given(st.integers(2, 5), st.integers(2, 5), st.integers(4, 30), st.integers(0, 2**31 - 1),
       st.sampled_from(sorted(WEIGHTS)))
def test_matches_irrcac(q, raters, units, seed, weights):
    import pandas as pd
    irrcac = pytest.importorskip("irrCAC.raw", reason="irrCAC is installed by `make dev` (--no-deps)")
    rng = np.random.default_rng(seed)
    cats = list(range(1, q + 1))
    x = rng.choice(cats, size=(raters, units)).astype(float)
    x[rng.random(x.shape) < 0.3] = NAN
    x[:2, 0] = 1.0  # at least one pairable unit
    table = count_table(x, cats)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        oracle = irrcac.CAC(pd.DataFrame(x.T), weights=weights, categories=cats)
        refs = {}
        for method, compute in (("gwet", oracle.gwet), ("fleiss", oracle.fleiss), ("brennan_prediger", oracle.bp)):
            try:
                refs[method] = compute()
            except ZeroDivisionError:  # chance agreement 1 (every rating one category): undefined
                refs[method] = None
    for method, ref in refs.items():
        got = chance_corrected(table, method, weights, cats)
        if ref is None:  # where the oracle divides by zero, ours says the coefficient is undefined, and why
            assert math.isnan(got.coefficient) and got.reason
            continue
        assert got.coefficient == pytest.approx(ref["est"]["coefficient_value"], abs=6e-6)
        assert got.se == pytest.approx(ref["est"]["se"], abs=6e-6)
        assert got.ci[0] == pytest.approx(ref["est"]["confidence_interval"][0], abs=6e-6)
