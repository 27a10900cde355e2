"""The application factory: configuration, extensions, blueprints, error handlers."""
from __future__ import annotations

import logging

from flask import Flask, redirect, render_template, request, url_for
from werkzeug.routing import IntegerConverter
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge, ServiceUnavailable, Unauthorized

import api
import boundary
import cli
import config
import jobs
import ops
import raters
import scoring.web
import security
import static_files
import tasks
from database import UNAVAILABLE_ERRORS, db
from ops import health
from tasks.catalogue import store
from raters import access


class DatabaseIdConverter(IntegerConverter):
    """``<int:…>`` in every route: a path id beyond the id columns' range (PostgreSQL ``integer``)
    matches no route — a 404, never an overflow in the database."""

    def __init__(self, url_map, fixed_digits=0, min=None, max=2**31 - 1, signed=False):
        super().__init__(url_map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def create_app(test_config: dict | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=True)
    app.url_map.converters["int"] = DatabaseIdConverter
    app.config.from_mapping(config.load(app.instance_path))
    if test_config:
        app.config.update(test_config)
    app.config["MAX_CONTENT_LENGTH"] = (
        max(app.config["MAX_UPLOAD_MB"], app.config["MAX_IMPORT_MB"]) * 1024 * 1024 + 64 * 1024)

    # Hooks registered earlier run later: headers (ops, security) are set after the database
    # hook has committed, or replaced a failed commit by a 503.
    ops.init_app(app)
    store.init_app(app)  # before security: a bucket's address joins the CSP's media sources
    security.init_app(app)
    boundary.init_app(app)
    db.init_app(app)
    static_files.init_app(app)
    access.init_app(app)
    raters.init_app(app)
    tasks.init_app(app)
    scoring.web.init_app(app)
    jobs.init_app(app)
    app.register_blueprint(api.bp)
    security.exempt_api_from_csrf(app)
    cli.init_app(app)
    register_error_handlers(app)
    return app


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(api.ApiError)
    def _api_error(exc: api.ApiError):
        return api.error_response(exc.status, exc.code, exc.message, exc.details)

    @app.errorhandler(boundary.Invalid)
    def _invalid(exc: boundary.Invalid):
        if security.wants_json():
            return api.error_response(exc.status, exc.code, exc.message, exc.details)
        return render_template("error.html", code=exc.status, title="Not valid", message=exc.message,
                               details=exc.details), exc.status

    for error in UNAVAILABLE_ERRORS:
        app.register_error_handler(error, health.database_unavailable)

    @app.errorhandler(RequestEntityTooLarge)
    def _too_large(exc):
        limit_mb = app.config["MAX_CONTENT_LENGTH"] // (1024 * 1024)
        message = f"The upload is larger than the {limit_mb} MB limit."
        if security.wants_json():
            return api.error_response(413, "too_large", message)
        return render_template("error.html", code=413, title="Too large", message=message), 413

    @app.errorhandler(Unauthorized)
    def _unauthorized(exc):
        if security.wants_json():
            return api.error_response(401, "unauthorized", "Send a valid API token: Authorization: Bearer <token>.")
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))

    @app.errorhandler(access.ConsentRequired)
    def _consent_required(exc):
        if security.wants_json():
            return api.error_response(403, exc.api_code, exc.description)
        return redirect(url_for("auth.consent", next=request.full_path.rstrip("?")))

    @app.errorhandler(store.StoreUnavailable)
    def _store_unavailable(exc: store.StoreUnavailable):
        logging.getLogger("dailies").error("asset store unavailable: %s", exc)
        return _http_error(ServiceUnavailable("The media store cannot be reached just now; try again shortly."))

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        if security.wants_json():
            return api.error_response(exc.code or 500, api.http_error_code(exc), exc.description)
        return render_template("error.html", code=exc.code, title=exc.name,
                               message=exc.description), exc.code

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        logging.getLogger("dailies").exception("unhandled error")
        if security.wants_json():
            return api.error_response(500, "internal_error", "Something went wrong on our side.")
        return render_template("error.html", code=500, title="Server error",
                               message="Something went wrong on our side."), 500
