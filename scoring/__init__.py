"""Dailies scoring: pure statistics for expert human evaluation.

* :mod:`scoring.agreement` -- Krippendorff's alpha, Fleiss'/Cohen's kappa,
  percent agreement, unit bootstrap intervals;
* :mod:`scoring.preferences` -- Bradley-Terry leaderboards from pairwise
  comparisons, with bootstrap intervals;
* :mod:`scoring.consensus` -- majority vote and Dawid-Skene label consensus.

No Flask, no database: inputs are array-likes and pandas DataFrames.
"""
