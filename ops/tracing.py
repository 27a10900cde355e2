"""Traceability: a request id on every request and response, and structured JSON logs carrying it.

The id comes from the client's (or the proxy's) ``X-Request-ID`` when it is sane — 1 to 64
characters of ``[A-Za-z0-9._:-]`` — else a new one is made. It is echoed on the response, put
on every log record made while serving the request, and stored with the audit entries and
judgments the request writes (``current_request_id()``).
"""
from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from datetime import datetime, timezone

from flask import Flask, g, has_request_context, request
from sqlalchemy import inspect

HEADER = "X-Request-ID"
SANE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
_HANDLER_MARK = "_dailies_json"
access_log = logging.getLogger("dailies.access")


def current_request_id() -> str | None:
    """The id of the request being served, or None outside a request (CLI, jobs)."""
    return g.get("request_id") if has_request_context() else None


def request_id_from(header: str | None) -> str:
    if header and SANE_ID.match(header):
        return header
    return uuid.uuid4().hex


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, request id and any ``extra`` fields
    named in ``FIELDS``, and the traceback when there is one."""

    FIELDS = ("method", "path", "status", "duration_ms", "remote_addr", "user_id")

    def format(self, record: logging.LogRecord) -> str:
        entry = {"ts": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
                 "level": record.levelname.lower(), "logger": record.name, "message": record.getMessage(),
                 "request_id": getattr(record, "request_id", None) or current_request_id()}
        entry.update({k: getattr(record, k) for k in self.FIELDS if hasattr(record, k)})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def configure_logging(level: str) -> None:
    """JSON lines on stderr for the app's loggers (``dailies.*``), installed once per process."""
    logger = logging.getLogger("dailies")
    logger.setLevel(level.upper())
    if not any(getattr(h, _HANDLER_MARK, False) for h in logger.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonFormatter())
        setattr(handler, _HANDLER_MARK, True)
        logger.addHandler(handler)


def _user_id() -> int | None:
    """The signed-in user's id when the request already loaded them — read from the identity
    map key, so neither a query nor a refresh of a rolled-back session."""
    state = inspect(g.get("_login_user"), raiseerr=False)
    return state.identity[0] if state is not None and state.identity else None


def init_app(app: Flask) -> None:
    configure_logging(app.config["LOG_LEVEL"])

    @app.before_request
    def _assign_request_id():
        g.request_id = request_id_from(request.headers.get(HEADER))
        g.request_started = time.perf_counter()

    @app.after_request
    def _echo_and_log(response):
        request_id = g.get("request_id") or request_id_from(None)
        response.headers[HEADER] = request_id
        if request.endpoint != "static":
            started = g.get("request_started")
            access_log.info("%s %s %s", request.method, request.path, response.status_code, extra={
                "request_id": request_id, "method": request.method, "path": request.path, "status": response.status_code,
                "duration_ms": round((time.perf_counter() - started) * 1000, 1) if started else None,
                "remote_addr": request.remote_addr, "user_id": _user_id()})
        return response
