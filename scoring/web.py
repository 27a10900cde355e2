"""The statistics part's web side, wired by ``init_app``: the page, the API and the job.

Kept apart from ``scoring/__init__.py`` so that importing the pure statistics
(``scoring.stats.agreement`` and friends) never imports Flask or the database.
"""
from __future__ import annotations

from flask import Flask

from scoring import exports
from scoring.reports import api, snapshots, views  # noqa: F401  (snapshots declares the background job)


def init_app(app: Flask) -> None:
    app.register_blueprint(views.bp)
    app.register_blueprint(api.bp)
    exports.init_app(app)
