"""The database: declarative base with a naming convention, engine and a request-scoped session.

The request boundary owns the transaction: services only add and flush; ``after_request``
commits a successful response and rolls back any other (see ``init_app``). Two refinements:

* ``db.serialise_writes()`` (called before the request first touches the session, e.g. from a
  blueprint's ``before_request``) makes SQLite start the request's transaction with
  ``BEGIN IMMEDIATE``: concurrent writers then queue for the write lock up front instead of
  failing mid-transaction when a deferred reader tries to become a writer. PostgreSQL ignores it
  (it serialises what matters with row locks).
* ``db.keep_on_refusal()`` commits a 4xx response's writes too: a refused judgment keeps the
  refused answer as the rater's draft.

**Hot statements** (the token's read, the project's, a pick's and a submit's) are built once
(``functools.cache`` on a function returning the statement, values as ``bindparam``) and
executed with parameters: SQLAlchemy memoises a statement's cache key on the statement object,
so these cost neither their construction nor their cache key again on every request — about a
third of the Python work of a ``next`` or a ``submit`` before this.

When the database is away (:data:`UNAVAILABLE_ERRORS`, raised by the view or by the commit
here) the app's handler for them answers 503; the session is discarded, never reused.
"""
from __future__ import annotations

import fcntl
import os
import sqlite3
import time
from datetime import datetime, timezone

from flask import Flask, current_app, g
from sqlalchemy import MetaData, any_, create_engine, event, literal
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import DateTime, TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on every backend (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None:
            if value.tzinfo is None:
                raise ValueError("naive datetime given to a UTC column")
            value = value.astimezone(timezone.utc)
            if dialect.name == "sqlite":
                value = value.replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


# "The database is away", not "this request is wrong": refused or dropped connections, PostgreSQL
# restarting (and its serialisation failures and deadlocks, both ``OperationalError``), the pool
# exhausted, SQLite locked past its busy timeout. Answered 503 with ``Retry-After``.
UNAVAILABLE_ERRORS: tuple[type[Exception], ...] = (
    sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.DisconnectionError, sa_exc.TimeoutError)


# Execution option asking SQLite to open the transaction as a writer (see ``serialise_writes``).
IMMEDIATE_OPTION = "dailies_begin_immediate"


class WriterQueue:
    """Orders SQLite writers across threads and worker processes: an ``flock`` on
    ``<database>-writers``, taken before ``BEGIN IMMEDIATE`` and released when the connection
    goes back to the pool (after its commit or rollback).

    SQLite's own busy handler sleeps between tries, up to 100 ms at a time, so a freed write lock
    sits idle while its waiters sleep and the longest waits grow with the number of writers;
    here a waiter retries within 1–8 ms. The kernel releases the lock of a killed process.
    Waiting longer than ``timeout_s`` is the 503 of a locked database."""

    def __init__(self, path: str, timeout_s: float = 30.0) -> None:
        self.path, self.timeout_s = path, timeout_s

    def acquire(self, info: dict) -> None:
        if "writer_fd" not in info:
            info["writer_fd"] = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        deadline, delay = time.monotonic() + self.timeout_s, 0.001
        while True:
            try:
                fcntl.flock(info["writer_fd"], fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise sa_exc.OperationalError("BEGIN IMMEDIATE", {}, sqlite3.OperationalError(
                        f"database is locked: no turn to write within {self.timeout_s:.0f} s")) from None
                time.sleep(delay)
                delay = min(delay * 2, 0.008)

    @staticmethod
    def release(info: dict) -> None:
        if "writer_fd" in info:
            fcntl.flock(info["writer_fd"], fcntl.LOCK_UN)

    @staticmethod
    def close(info: dict) -> None:
        fd = info.pop("writer_fd", None)
        if fd is not None:
            os.close(fd)  # releases the lock too


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
        database = make_url(url).database
        writers = WriterQueue(f"{database}-writers") if database and database != ":memory:" else None

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(connection):
            # Other transactions keep pysqlite's default (BEGIN just before the first write, so
            # reads never pin a stale snapshot); a writer session takes the write lock up front.
            # pysqlite sees the open transaction and emits no BEGIN of its own.
            if connection.get_execution_options().get(IMMEDIATE_OPTION):
                if writers is not None:
                    writers.acquire(connection.connection.info)
                connection.exec_driver_sql("BEGIN IMMEDIATE")

        if writers is not None:
            event.listen(engine, "checkin", lambda _dbapi, record: record and WriterQueue.release(record.info))
            event.listen(engine, "close", lambda _dbapi, record: WriterQueue.close(record.info))
            event.listen(engine, "invalidate", lambda _dbapi, record, _exc: WriterQueue.close(record.info))

        return engine
    # pre-ping replaces connections that died while pooled (a restart, pg_terminate_backend);
    # a bounded connect timeout makes an unreachable server a quick 503, not a hung worker.
    return create_engine(url, pool_pre_ping=True, connect_args={"connect_timeout": 5})


def one_of(session: Session, column, values):
    """``column IN values`` for a batch of values: on PostgreSQL one array parameter
    (``= ANY(:values)``: one statement text whatever the batch's size, nothing to split or
    prepare per value), elsewhere an ordinary IN list."""
    values = list(values)
    if session.get_bind().dialect.name != "postgresql":
        return column.in_(values)
    return column == any_(literal(values, ARRAY(column.type)))


class Database:
    """Holds the engine and hands each request (or CLI command) its own session."""

    def __init__(self) -> None:
        self.engine: Engine | None = None
        self.sessionmaker: sessionmaker | None = None
        # Sessions whose transactions begin as writers (SQLite ``BEGIN IMMEDIATE``).
        self.writer_sessionmaker: sessionmaker | None = None

    def init_app(self, app: Flask) -> None:
        self.engine = make_engine(app.config["DATABASE_URL"])
        self.sessionmaker = sessionmaker(self.engine, expire_on_commit=False)
        self.writer_sessionmaker = sessionmaker(
            self.engine.execution_options(**{IMMEDIATE_OPTION: True}), expire_on_commit=False)
        app.extensions["database"] = self

        # Hooks registered earlier run later: ``create_app`` initialises the database after the
        # hooks that set headers, so a 503 made here still gets them.
        @app.after_request
        def _finish_transaction(response):
            session = g.pop("db_session", None)
            keep = g.pop("db_keep_on_refusal", False)
            if session is None:
                return response
            try:
                if response.status_code < 400 or (keep and response.status_code < 500):
                    session.commit()
                else:
                    session.rollback()
            except UNAVAILABLE_ERRORS as exc:
                _discard(session)
                return current_app.make_response(current_app.handle_user_exception(exc))
            session.close()
            return response

        @app.teardown_appcontext
        def _close(_exc):
            session = g.pop("db_session", None)
            if session is not None:
                _discard(session)

    @property
    def session(self) -> Session:
        """The current application context's session (created on first use)."""
        if "db_session" not in g:
            maker = self.writer_sessionmaker if g.get("db_serialise_writes") else self.sessionmaker
            g.db_session = maker()
        return g.db_session

    def serialise_writes(self) -> None:
        """Make this request's transaction a writer from its first statement (SQLite
        ``BEGIN IMMEDIATE``; a no-op on PostgreSQL). Call before the session is first used."""
        if "db_session" in g:
            raise RuntimeError("serialise_writes() must run before the request first uses the session")
        g.db_serialise_writes = True

    def keep_on_refusal(self) -> None:
        """Commit this request's writes even though it answers 4xx (never on 5xx)."""
        g.db_keep_on_refusal = True


def _discard(session: Session) -> None:
    """Roll back and close, tolerating a connection that is already gone."""
    try:
        session.rollback()
    except UNAVAILABLE_ERRORS:
        pass
    finally:
        session.close()


db = Database()
