"""Rater quality and the manager's desk.

Pure (no Flask, no database; frames in, numbers out): :mod:`~scoring.quality.measures` (one
figure each: time on task, gold accuracy, position bias, ties, straight-lining, rationale effort,
weekly drift), :mod:`~scoring.quality.agreement` (leave-one-out consensus κ, Dawid–Skene
accuracy, anomalous votes combined with Fisher's method), :mod:`~scoring.quality.thresholds`
(per-figure thresholds with documented defaults, and the flags they raise),
:mod:`~scoring.quality.panel` (every figure for every rater) and :mod:`~scoring.quality.pipeline`
(items by state, progress, the funnel and the confidence gate's calibration).

Around them: :mod:`~scoring.quality.data` (the one module here that reads the database) and the
pages and API (``views``, ``api``, ``figures``).
"""
