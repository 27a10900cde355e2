"""Dailies scoring: pure statistics for expert human evaluation.

* :mod:`scoring.stats.agreement` -- Krippendorff's alpha, Fleiss'/Cohen's kappa,
  percent agreement, unit bootstrap intervals;
* :mod:`scoring.stats.preferences` -- Bradley-Terry leaderboards from pairwise
  comparisons, with bootstrap intervals;
* :mod:`scoring.stats.consensus` -- majority vote and Dawid-Skene label consensus.

No Flask, no database in those: inputs are array-likes and pandas DataFrames.
:mod:`scoring.reports.frames` (judgments -> reliability data, labels, comparisons) and
:mod:`scoring.reports.report` (frames -> a JSON-able report) and :mod:`scoring.reports.figures`
(report -> plotly JSON) are pure too.

Around them, the product: :mod:`scoring.reports.data` (the only module here that reads
the database), :mod:`scoring.reports.models` and :mod:`scoring.reports.snapshots` (the cached
reports and the background job), and the web side wired by
:mod:`scoring.web` (``views``: the statistics page; ``api``: ``/api/v1``).
"""
