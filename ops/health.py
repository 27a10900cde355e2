"""Liveness and readiness for load balancers, and the 503 answered while the database is away.

``/healthz`` says the process serves requests (no database, no session, no login): a load
balancer restarts what fails it. ``/readyz`` runs ``SELECT 1`` on its own connection: a load
balancer stops routing to a worker that fails it, without restarting anything.

While the database cannot be reached (connection refused or dropped, PostgreSQL restarting, the
pool exhausted, SQLite locked past its busy timeout) every request answers **503** with
``Retry-After``; ``pool_pre_ping`` and the pool's invalidation on disconnect reconnect by
themselves once it is back, so no restart is needed.
"""
from __future__ import annotations

import logging

from flask import Blueprint, Flask, current_app, render_template, request
from sqlalchemy import text

import api
from database import UNAVAILABLE_ERRORS, db
from raters.access import public

log = logging.getLogger("dailies.ops")
bp = Blueprint("ops", __name__)

UNAVAILABLE_MESSAGE = ("The service cannot reach its database for a moment. What you just sent may not "
                       "have been saved: try again in a few seconds (a judgment sent again is never "
                       "stored twice).")


@bp.get("/healthz")
@public
def healthz():
    return {"status": "ok"}


@bp.get("/readyz")
@public
def readyz():
    try:
        with db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except UNAVAILABLE_ERRORS as exc:
        log.warning("readiness check failed: %s", type(exc).__name__)
        response = api.error_response(503, "database_unavailable", "The database cannot be reached.")
        response.headers["Retry-After"] = str(current_app.config["UNAVAILABLE_RETRY_AFTER_S"])
        return response
    return {"status": "ready", "database": "ok"}


def database_unavailable(exc: Exception):
    """The error handler for :data:`database.UNAVAILABLE_ERRORS`: 503, ``Retry-After``, and a
    page that needs no database (no signed-in user, no navigation)."""
    log.warning("database unavailable: %s: %s", type(exc).__name__, str(exc).splitlines()[0] if str(exc) else "")
    if request.path.startswith("/api/") or request.path in ("/healthz", "/readyz") \
            or request.accept_mimetypes.best == "application/json":
        response = api.error_response(503, "database_unavailable", UNAVAILABLE_MESSAGE)
    else:
        response = current_app.make_response(
            (render_template("ops/unavailable.html", message=UNAVAILABLE_MESSAGE), 503))
    response.headers["Retry-After"] = str(current_app.config["UNAVAILABLE_RETRY_AFTER_S"])
    return response


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
