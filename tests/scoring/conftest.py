"""Published worked examples used by the scoring tests.

Sources are cited next to each table; the printed values live in the tests.
"""

import numpy as np
import pytest

NAN = np.nan


@pytest.fixture
def krippendorff_2011():
    """Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability",
    section C: 4 observers x 12 units, interval-scaled values 1..5 with
    missing data (the example also used in the ``krippendorff`` package docs).
    Printed results: nominal .743, ordinal .815, interval .849, ratio .797.
    """
    return np.array([
        [1, 2, 3, 3, 2, 1, 4, 1, 2, NAN, NAN, NAN],
        [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, NAN, 3],
        [NAN, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, NAN],
        [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, NAN],
    ])


@pytest.fixture
def fleiss_wikipedia_table():
    """The Wikipedia "Fleiss' kappa" worked example: 10 subjects, 14 raters,
    5 categories (also statsmodels' test table); printed kappa = 0.210."""
    return np.array([
        [0, 0, 0, 0, 14],
        [0, 2, 6, 4, 2],
        [0, 0, 3, 5, 6],
        [0, 3, 9, 2, 0],
        [2, 2, 8, 1, 1],
        [7, 7, 0, 0, 0],
        [3, 2, 6, 3, 0],
        [2, 5, 3, 2, 2],
        [6, 5, 2, 1, 0],
        [0, 2, 2, 3, 7],
    ])


@pytest.fixture
def fleiss_1971_diagnoses():
    """Fleiss (1971), Psychological Bulletin 76(5):378-382, Table 1: 30
    patients, 6 psychiatrists each, 5 diagnoses (1 depression, 2 personality
    disorder, 3 schizophrenia, 4 neurosis, 5 other), as the ``diagnoses`` data
    of R's irr package.  Printed overall kappa = .430 (irr: 0.4302445)."""
    return np.array([
        [4, 4, 4, 4, 4, 4], [2, 2, 2, 5, 5, 5], [2, 3, 3, 3, 3, 5], [5, 5, 5, 5, 5, 5],
        [2, 2, 2, 4, 4, 4], [1, 1, 3, 3, 3, 3], [3, 3, 3, 3, 5, 5], [1, 1, 3, 3, 3, 4],
        [1, 1, 4, 4, 4, 4], [5, 5, 5, 5, 5, 5], [1, 4, 4, 4, 4, 4], [1, 2, 4, 4, 4, 4],
        [2, 2, 2, 3, 3, 3], [1, 4, 4, 4, 4, 4], [2, 2, 4, 4, 4, 5], [3, 3, 3, 3, 3, 5],
        [1, 1, 1, 4, 5, 5], [1, 1, 1, 1, 1, 2], [2, 2, 4, 4, 4, 4], [1, 3, 3, 5, 5, 5],
        [5, 5, 5, 5, 5, 5], [2, 4, 4, 4, 4, 4], [2, 2, 4, 5, 5, 5], [1, 1, 4, 4, 4, 4],
        [1, 4, 4, 4, 4, 5], [2, 2, 2, 2, 2, 4], [1, 1, 1, 1, 5, 5], [2, 2, 4, 4, 4, 4],
        [1, 3, 3, 3, 3, 3], [5, 5, 5, 5, 5, 5],
    ])


@pytest.fixture
def irr_anxiety():
    """R irr package ``anxiety`` data: 20 subjects rated 1..6 by 3 raters."""
    return np.array([
        3, 3, 3, 4, 5, 5, 2, 3, 5, 2, 2, 6, 1, 5, 2, 2, 1, 2, 4, 3, 3, 6, 4,
        6, 2, 4, 2, 4, 3, 3, 2, 3, 3, 3, 2, 2, 1, 3, 3, 4, 2, 1, 4, 4, 3, 2,
        1, 6, 1, 1, 1, 2, 3, 3, 1, 1, 3, 3, 2, 2,
    ]).reshape(20, 3, order="F")
