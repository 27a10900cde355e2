"""Health checks, and 503 with Retry-After (never 500) while the database is away, with
recovery and no restart when it is back."""
from __future__ import annotations

import pytest
from sqlalchemy import create_engine, select, text

from app import create_app
from database import db
from raters.access import public


def _app_on(url: str, tmp_path):
    return create_app({"TESTING": True, "SECRET_KEY": "test-secret", "DATABASE_URL": url,
                       "ASSET_STORE": str(tmp_path / "assets"), "JOBS_URL": "memory://",
                       "WTF_CSRF_ENABLED": False})


def test_healthz_and_readyz_answer_when_the_database_is_up(client):
    assert client.get("/healthz").json == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json["database"] == "ok"


UNREACHABLE = {
    "postgresql_closed_port": "postgresql+psycopg://postgres@127.0.0.1:1/nothing",
    "sqlite_missing_directory": "sqlite:///{tmp}/no/such/dir/db.sqlite3",
}


@pytest.mark.parametrize("kind", sorted(UNREACHABLE))
def test_unreachable_database_answers_503_with_retry_after_everywhere(tmp_path, kind):
    app = _app_on(UNREACHABLE[kind].format(tmp=tmp_path), tmp_path)
    http = app.test_client()
    assert http.get("/healthz").status_code == 200  # alive: do not restart it

    ready = http.get("/readyz")
    assert ready.status_code == 503 and ready.json["error"]["code"] == "database_unavailable"
    assert ready.headers["Retry-After"] == "5"

    api = http.get("/api/v1/me", headers={"Authorization": "Bearer dly_whatever"})
    assert api.status_code == 503 and api.headers["Retry-After"] == "5"
    assert api.json["error"]["code"] == "database_unavailable"
    assert "try again" in api.json["error"]["message"]

    page = http.post("/login", data={"email": "a@b.example", "password": "x" * 12})
    assert page.status_code == 503 and page.headers["Retry-After"] == "5"
    body = page.get_data(as_text=True)
    assert "Briefly unavailable" in body and "try again in a few seconds" in body
    assert page.headers["Content-Security-Policy"]  # the usual headers still apply
    app.extensions["database"].engine.dispose()


def _kill_other_backends(database_url: str) -> int:
    killer = create_engine(database_url)
    with killer.begin() as conn:
        killed = conn.execute(text(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()")).scalar()
    killer.dispose()
    return killed


@pytest.fixture
def postgres(database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL only: TEST_DATABASE_URL")
    return database_url


def test_pooled_connections_killed_between_requests_reconnect_silently(app, postgres, api):
    client, _user = api("admin")
    assert client.get("/api/v1/me").status_code == 200  # the pool now holds a connection
    assert _kill_other_backends(postgres) >= 1
    assert client.get("/api/v1/me").status_code == 200  # pre-ping replaced it
    assert client.get("/readyz").status_code == 200


def test_connection_killed_mid_request_is_a_503_then_recovers_without_restart(app, postgres, api):
    client, _user = api("admin")

    @app.get("/test-only/killed-mid-request")
    @public
    def killed_mid_request():
        db.session.execute(select(1))
        _kill_other_backends(postgres)  # including this request's own connection
        db.session.execute(select(1))
        return {"unreachable": True}

    response = client.get("/test-only/killed-mid-request")
    assert response.status_code == 503 and response.headers["Retry-After"] == "5"
    assert client.get("/api/v1/me").status_code == 200
    assert client.get("/readyz").status_code == 200


def test_commit_failing_at_the_request_boundary_is_a_503(app, monkeypatch, api):
    client, _user = api("admin")
    from sqlalchemy.exc import OperationalError
    from sqlalchemy.orm import Session

    def failing_commit(self):
        raise OperationalError("COMMIT", {}, Exception("server closed the connection unexpectedly"))

    monkeypatch.setattr(Session, "commit", failing_commit)
    response = client.post("/api/v1/tokens", json={"name": "laptop"})
    assert response.status_code == 503
    assert response.json["error"]["code"] == "database_unavailable"
    assert response.headers["Retry-After"] == "5" and response.headers["X-Content-Type-Options"] == "nosniff"
