"""The scoring part's web side, wired by ``init_app``: the statistics page, API and job, and
the manager's desk (rater quality, progress, items, calibration).

Kept apart from ``scoring/__init__.py`` so that importing the pure statistics
(``scoring.stats.agreement`` and friends) never imports Flask or the database.
"""
from __future__ import annotations

from flask import Flask

from scoring import exports
from scoring.quality import api as quality_api
from scoring.quality import views as quality_views
from scoring.reports import api, snapshots, views  # noqa: F401  (snapshots declares the background job)


def init_app(app: Flask) -> None:
    app.register_blueprint(views.bp)
    app.register_blueprint(api.bp)
    exports.init_app(app)
    app.register_blueprint(quality_views.bp)
    app.register_blueprint(quality_api.bp)
