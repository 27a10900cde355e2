"""Every number explains itself: the documented small-sample rules and the method names the page
and the API show beside each statistic (pure: numbers in, short sentences out).

The rules (also on the page under "How these numbers are made"):

* **Agreement** (α, κ, AC1/AC2, Brennan–Prediger) on fewer than ``MIN_UNITS`` = 20 pairable units
  is flagged *few units*: with so few, a coefficient can move by 0.2 when one unit changes, and
  its bootstrap interval is unreliable. An estimate lying in the outer ``EDGE_SHARE`` = 5 % of its
  own interval (or outside it) is flagged *lopsided interval*: the resampling distribution is
  piled up at one end, a sign the data are too few or too uniform for the interval to be read as
  a range of plausible values.
* **Leaderboard**: a model with fewer than ``MIN_COMPARISONS`` = 20 comparisons is flagged; the
  top rank is *fragile* when removing at most 1 % of the judgments changes it
  (``scoring.stats.robustness``).
* **Model means** (rubric): a model with fewer than ``MIN_ITEMS`` = 10 judged items, or a paired
  difference over fewer than ``MIN_PROMPTS`` = 10 shared prompts, is flagged.
* **Consensus**: an item with one judgment has no agreement to show: its source is
  ``single judgment`` and its share is empty, not "100 %".
"""
from __future__ import annotations

import math

MIN_UNITS = 20
EDGE_SHARE = 0.05
MIN_COMPARISONS = 20
MIN_ITEMS = 10
MIN_PROMPTS = 10

METHODS = {
    "alpha": "Krippendorff's α (Krippendorff 2011), coincidence-matrix form, at the criterion's level",
    "alpha_ci_units": "percentile bootstrap over units (units redrawn with replacement)",
    "alpha_ci_pairs": "Krippendorff's bootstrap (Hayes & Krippendorff 2007): pairable value pairs "
                      "redrawn from the coincidence matrix, expected disagreement held fixed",
    "fleiss": "Fleiss' κ generalised to unequal numbers of ratings (Gwet 2014), SE by linearisation",
    "gwet": "Gwet's AC1 (nominal) or AC2 with quadratic weights (ordered levels), Gwet (2008, 2014)",
    "brennan_prediger": "Brennan–Prediger (1981): chance agreement 1/q over the q categories",
    "cohen": "Cohen's κ (two raters), large-sample SE of Fleiss, Cohen & Everitt (1969)",
    "leaderboard": "Bradley–Terry (choix's regularisation α = 0.001), percentile bootstrap by "
                   "multinomial reweighting of the (model a, model b, outcome) counts",
    "robustness": "greedy search with exact refits for the fewest judgments whose removal changes "
                  "the top model (an upper bound on the exact minimum)",
    "model_means": "mean of item scores (each item = mean of its raters), percentile bootstrap over items",
    "paired": "mean over shared prompts of the per-prompt difference, percentile bootstrap over prompts",
}


def few(n: int, minimum: int, what: str) -> str | None:
    return f"only {n} {what} (fewer than {minimum}): read with care" if n < minimum else None


def lopsided(estimate, low, high) -> str | None:
    """The estimate sits at the edge of (or outside) its own interval."""
    if estimate is None or low is None or high is None or any(
            isinstance(v, float) and math.isnan(v) for v in (estimate, low, high)):
        return None
    width = high - low
    if width <= 0:
        return None
    if estimate < low + EDGE_SHARE * width or estimate > high - EDGE_SHARE * width:
        return ("lopsided interval: the estimate lies at the edge of its interval, so the resamples "
                "pile up on one side — too few or too uniform data for a reliable interval")
    return None


def agreement_warnings(row: dict) -> list[str]:
    found = [few(row["n_units"], MIN_UNITS, "pairable units") if row["n_units"] else None,
             lopsided(row["alpha"], *row["alpha_ci"])]
    return [w for w in found if w]
