"""The short form of ``make bench`` (about a minute): a real gunicorn server with several
workers on the suite's database, raters looping next → submit, then faults — responses dropped
and retried with the same Idempotency-Key, ``kill -9`` of a worker, and on PostgreSQL every
connection terminated. Every acknowledged judgment is stored exactly once; no client ever sees a
500 or "database is locked"; while PostgreSQL connections are cut it sees 503s, then recovery."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
import load  # noqa: E402

WORKERS = 3


@pytest.fixture
def server(app, database_url, tmp_path):
    running = load.Server(database_url, tmp_path, workers=WORKERS)
    try:
        running.wait_ready()
        yield running
    finally:
        running.stop()


def _no_500(run: dict) -> None:
    assert not [k for k in run["statuses"] if k.endswith(" 500")], run["statuses"]
    assert run["client_errors"]["database_is_locked_messages"] == 0


def test_raters_under_load_lose_nothing_and_see_no_error(app, server, database_url):
    raters = 50 if database_url.startswith("sqlite") else 20  # SQLite: 50 concurrent writers, none locked out
    run = load.load_run(app, server, raters, 2, healthz_s=1.0, tag="short")
    print(load.summary_line(run))
    assert run["count_check"]["ok"] and run["count_check"]["acknowledged"] == raters * 2, run["count_check"]
    assert run["count_check"]["stored_never_acknowledged"] == 0
    _no_500(run)
    assert set(run["client_errors"]) == {"database_is_locked_messages"}, run["client_errors"]  # not one 5xx
    assert run["next"]["p50_ms"] and run["submit"]["p50_ms"] and run["healthz"]["rps"] > 0


def test_dropped_responses_a_killed_worker_and_cut_connections_lose_and_double_nothing(app, server, database_url):
    run = load.fault_run(app, server, database_url, 6, 12, drop_rate=0.15, tag="faults")
    print(run)
    assert run["count_check"]["ok"], run["count_check"]
    assert run["count_check"]["acknowledged"] == 6 * 12 and run["count_check"]["stored_never_acknowledged"] == 0
    assert run["dropped_responses"] >= 1 and run["replayed_on_retry"] >= 1
    assert [f["fault"] for f in run["faults"]][0] == "kill -9 worker" and run["workers_after"] == WORKERS
    _no_500(run)
    if database_url.startswith("postgresql"):
        cut = run["faults"][1]
        assert cut["connections"] >= 1 and cut["recovery_s"] is not None and cut["recovery_s"] < 15
        unavailable = {k: n for k, n in run["client_errors"].items() if k.split()[-1].startswith("5")}
        assert set(unavailable) <= {"next 503", "submit 503"}, unavailable
