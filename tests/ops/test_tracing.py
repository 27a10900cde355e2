"""X-Request-ID on every response, JSON log lines carrying it, and stored with what it wrote."""
from __future__ import annotations

import json
import logging

from sqlalchemy import select

from ops.tracing import JsonFormatter
from raters.models import AuditEvent
from tasks.rating.models import Judgment
from tests.tasks.test_rating_api import backdate, client_answer, next_for, world  # noqa: F401 (fixture)


def test_every_response_carries_a_request_id_and_a_sane_one_is_kept(client):
    made = {client.get(path).headers["X-Request-ID"] for path in ("/healthz", "/login", "/api/v1/nope")}
    assert len(made) == 3 and all(len(rid) == 32 for rid in made)
    kept = client.get("/healthz", headers={"X-Request-ID": "lb-7f3a:01.2_x"})
    assert kept.headers["X-Request-ID"] == "lb-7f3a:01.2_x"


def test_an_insane_client_request_id_is_replaced(client):
    for bad in ("x" * 65, "has space", "semi;colon", "<script>", "é-accented"):
        rid = client.get("/healthz", headers={"X-Request-ID": bad}).headers["X-Request-ID"]
        assert rid != bad and len(rid) == 32


def test_each_request_logs_one_json_line_with_its_id(client, caplog):
    with caplog.at_level(logging.INFO, logger="dailies.access"):
        response = client.get("/login", headers={"X-Request-ID": "trace-me-42"})
    records = [r for r in caplog.records if r.name == "dailies.access" and getattr(r, "path", "") == "/login"]
    assert len(records) == 1
    line = json.loads(JsonFormatter().format(records[0]))
    assert line["request_id"] == "trace-me-42" == response.headers["X-Request-ID"]
    assert line["status"] == 200 and line["method"] == "GET" and line["level"] == "info"
    assert line["duration_ms"] >= 0


def test_an_unhandled_error_is_logged_as_json_with_its_request_id(app, caplog):
    from raters.access import public

    @app.get("/test-only/boom")
    @public
    def boom():
        raise RuntimeError("kaboom")

    app.config["PROPAGATE_EXCEPTIONS"] = False
    with caplog.at_level(logging.ERROR, logger="dailies"):
        response = app.test_client().get("/test-only/boom", headers={"X-Request-ID": "boom-1"})
    assert response.status_code == 500 and response.headers["X-Request-ID"] == "boom-1"
    record = next(r for r in caplog.records if r.name == "dailies" and r.exc_info)
    line = json.loads(JsonFormatter().format(record))
    assert "kaboom" in line["exception"]


def test_audit_entries_record_the_request_and_the_project(api, session):
    client, _admin = api("admin")
    created = client.post("/api/v1/projects", json={"name": "Traced", "kind": "pairwise", "modality": "video"},
                          headers={"X-Request-ID": "req-create-1"})
    assert created.status_code == 201, created.json
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "project.create"))
    assert event.request_id == "req-create-1" and event.project_id == created.json["id"]
    token_event = session.scalar(select(AuditEvent).where(AuditEvent.action == "token.create"))
    assert token_event.request_id is None and token_event.project_id is None  # made outside a request


def test_a_judgment_records_the_request_that_stored_it(world, session):  # noqa: F811
    payload = next_for(world).json
    backdate(session, payload["id"])
    response = world["clients"]["member"].post(
        f"/api/v1/assignments/{payload['id']}/judgment", json=client_answer(payload),
        headers={"Idempotency-Key": "k-1", "X-Request-ID": "submit-req-9"})
    assert response.status_code == 201, response.json
    assert response.headers["X-Request-ID"] == "submit-req-9"
    assert session.scalar(select(Judgment.request_id)) == "submit-req-9"
