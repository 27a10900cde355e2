"""Background jobs on Huey: SQLite by default, Redis in production, run inline in tests.

Parts declare jobs with ``@jobs.job`` (a registry, no queue at import time); ``init_app`` builds
the queue from ``JOBS_URL`` and registers them. ``enqueue(name, …)`` puts one on the queue;
``flask --app app jobs worker`` runs them, each inside an application context.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable
from urllib.parse import urlsplit

from flask import Flask, current_app
from huey import Huey, MemoryHuey, RedisHuey, SqliteHuey
from sqlalchemy import event
from sqlalchemy.orm import Session

_JOBS: dict[str, Callable] = {}


def job(fn: Callable) -> Callable:
    """Declare ``fn`` a background job (it runs inside an application context)."""
    _JOBS[fn.__name__] = fn
    return fn


def make_queue(url: str) -> Huey:
    """``sqlite:///path``, ``redis://host:port/db`` or ``memory://`` (inline, for tests)."""
    scheme = urlsplit(url).scheme
    if scheme == "sqlite":
        path = Path(url[len("sqlite:///"):])
        path.parent.mkdir(parents=True, exist_ok=True)
        return SqliteHuey("dailies", filename=str(path))
    if scheme in ("redis", "rediss"):
        return RedisHuey("dailies", url=url)
    if scheme == "memory":
        return MemoryHuey("dailies", immediate=True)
    raise ValueError(f"JOBS_URL must be sqlite:///…, redis://… or memory://, not {url!r}")


def init_app(app: Flask) -> None:
    queue = make_queue(app.config["JOBS_URL"])
    tasks = {}
    for name, fn in _JOBS.items():
        def run(*args, _fn=fn, **kwargs):
            with app.app_context():
                return _fn(*args, **kwargs)
        run.__name__ = name
        tasks[name] = queue.task(name=name)(run)
    app.extensions["jobs"] = {"queue": queue, "tasks": tasks}


def enqueue(name: str, *args, **kwargs):
    """Queue the job ``name``; returns Huey's result handle."""
    return current_app.extensions["jobs"]["tasks"][name](*args, **kwargs)


def enqueue_after_commit(session: Session, name: str, *args, **kwargs) -> None:
    """Queue the job ``name`` once ``session`` commits (never, if it does not): the job then sees
    the writes it depends on and never waits on the lock they hold (SQLite; inline in tests)."""
    app = current_app._get_current_object()

    def _enqueue(_session):
        with app.app_context():
            enqueue(name, *args, **kwargs)

    event.listen(session, "after_commit", _enqueue, once=True)


def queue() -> Huey:
    return current_app.extensions["jobs"]["queue"]
