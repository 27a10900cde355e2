"""Fixtures: a migrated database (SQLite, or PostgreSQL via TEST_DATABASE_URL), the app, clients.

The schema is made once per run by the Alembic migrations; every test starts from empty tables.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from sqlalchemy import text

import migrate
from app import create_app
from database import Base, db
from raters import services

PASSWORD = "correct horse battery"
DEMO_MEDIA = Path(__file__).resolve().parent.parent / "demo" / "media"


@pytest.fixture(autouse=True, scope="session")
def _cheap_password_hashing():
    """Argon2 with minimal cost in tests: the same code path, milliseconds instead of tenths."""
    fast = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    original = services._hasher
    services._hasher = fast
    services._DUMMY_HASH = fast.hash("dummy-password")
    yield
    services._hasher = original


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    url = os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"
    migrate.reset(url)
    return url


def make_app(database_url: str, tmp_path: Path, **settings):
    """The app of one test: its own asset store, media root and exports under ``tmp_path``."""
    (tmp_path / "media").mkdir(exist_ok=True)
    return create_app({
        "TESTING": True, "SECRET_KEY": "test-secret", "DATABASE_URL": database_url,
        "ASSET_STORE": str(tmp_path / "assets"), "MEDIA_ROOT": str(tmp_path / "media"),
        "EXPORT_ROOT": str(tmp_path / "exports"),
        "MAX_UPLOAD_MB": 2, "MAX_IMPORT_MB": 1, "JOBS_URL": "memory://", **settings,
    })


def empty_tables(application) -> None:
    engine = application.extensions["database"].engine
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            names = ", ".join(t.name for t in Base.metadata.sorted_tables)
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in reversed(Base.metadata.sorted_tables):
                conn.execute(table.delete())
    engine.dispose()


@pytest.fixture
def app(database_url, tmp_path):
    application = make_app(database_url, tmp_path)
    yield application
    empty_tables(application)


@pytest.fixture
def session(app):
    """A session of the test's own (outside any request), for arranging and checking state."""
    own = app.extensions["database"].sessionmaker()
    yield own
    own.close()


class Client:
    """A browser-like test client: logs in through the form and sends CSRF tokens with posts."""

    def __init__(self, flask_client):
        self.http = flask_client
        self._token = None

    def csrf_token(self) -> str:
        if self._token is None:
            page = self.http.get("/login") if not self.logged_in else self.http.get("/account")
            self._token = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True)).group(1)
        return self._token

    @property
    def logged_in(self) -> bool:
        with self.http.session_transaction() as sess:
            return "_user_id" in sess

    def login(self, email: str, password: str = PASSWORD):
        self._token = None
        response = self.post("/login", data={"email": email, "password": password})
        self._token = None
        return response

    def get(self, *args, **kwargs):
        return self.http.get(*args, **kwargs)

    def post(self, url, data=None, **kwargs):
        data = dict(data or {})
        data.setdefault("csrf_token", self.csrf_token())
        return self.http.post(url, data=data, **kwargs)


@pytest.fixture
def client(app):
    return Client(app.test_client())


@pytest.fixture
def make_user(app):
    """Create a user (committed); returns its id-bearing detached object."""
    counter = iter(range(1, 10_000))

    def make(role="rater", email=None, expertise=(), consent=True, senior=False, password=PASSWORD):
        with app.app_context():
            user = services.create_user(db.session, email=email or f"{role}{next(counter)}@test.example",
                                        name=f"Test {role.title()}", role=role, password=password,
                                        expertise=list(expertise), senior=senior)
            if consent and role == "rater":
                services.record_consent(db.session, user)
            db.session.commit()
            return user

    return make


@pytest.fixture
def login_as(client, make_user):
    """A client logged in as a new user of ``role``; returns (client, user)."""
    def login(role, **kwargs):
        user = make_user(role, **kwargs)
        response = client.login(user.email)
        assert response.status_code == 302, response.get_data(as_text=True)
        return client, user

    return login


@pytest.fixture
def api(app, make_user):
    """``api(role)`` → (a JSON client sending that user's bearer token, the user)."""
    def make(role, **kwargs):
        user = make_user(role, **kwargs)
        with app.app_context():
            _token, secret = services.create_token(db.session, user, "tests")
            db.session.commit()
        return ApiClient(app.test_client(), secret), user

    return make


class ApiClient:
    def __init__(self, http, secret):
        self.http, self.headers = http, {"Authorization": f"Bearer {secret}"}

    def __getattr__(self, method):
        def call(url, **kwargs):
            headers = {**self.headers, **kwargs.pop("headers", {})}
            return getattr(self.http, method)(url, headers=headers, **kwargs)
        return call
