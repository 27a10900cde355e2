"""The login throttle behind proxies (per account, per real client), the password change
through it, and session hygiene: remember-me lifetime, CSRF expiry, rotation on login and on a
privilege change."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime

import pytest
from itsdangerous import TimestampSigner

from app import create_app
from raters import services
from raters.models import User
from tests.conftest import PASSWORD, Client


@pytest.fixture
def proxied(database_url, tmp_path):
    """An app behind one trusted proxy, sharing the test database (its tables are emptied by
    the ``app`` fixture, which the tests using this one also request)."""
    def make(hops: int):
        return create_app({"TESTING": True, "SECRET_KEY": "test-secret", "DATABASE_URL": database_url,
                           "ASSET_STORE": str(tmp_path / "assets"), "JOBS_URL": "memory://",
                           "TRUSTED_PROXY_HOPS": hops})
    return make


def _login(http, email, password, forwarded_for=None):
    page = http.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    return http.post("/login", data={"email": email, "password": password, "csrf_token": token},
                     headers=headers, environ_base={"REMOTE_ADDR": "10.0.0.1"})  # the proxy


def test_behind_a_trusted_proxy_one_clients_failures_do_not_lock_out_another(app, proxied, make_user):
    user = make_user("manager")
    http = proxied(1).test_client()
    for i in range(app.config["LOGIN_CLIENT_MAX_FAILURES"]):
        assert _login(http, f"guess{i}@test.example", "wrong-password", "203.0.113.9").status_code == 200
    assert _login(http, user.email, PASSWORD, "203.0.113.9").status_code == 429  # the guesser waits
    assert _login(http, user.email, PASSWORD, "198.51.100.4").status_code == 302  # everyone else does not


def test_without_trusted_proxies_a_forged_forwarded_for_does_not_escape_the_throttle(app, proxied):
    http = proxied(0).test_client()
    for i in range(app.config["LOGIN_CLIENT_MAX_FAILURES"]):
        _login(http, f"guess{i}@test.example", "wrong-password", f"192.0.2.{i}")
    assert _login(http, "another@test.example", "wrong-password", "192.0.2.200").status_code == 429


def test_one_account_from_one_client_waits_while_the_owner_elsewhere_does_not(app, proxied, make_user):
    user = make_user("rater")
    http = proxied(1).test_client()
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        _login(http, user.email, "wrong-password", "203.0.113.9")
    assert _login(http, user.email, PASSWORD, "203.0.113.9").status_code == 429
    assert _login(http, user.email, PASSWORD, "198.51.100.4").status_code == 302


def test_one_account_guessed_from_many_clients_waits(app, proxied, make_user):
    proxy_app = proxied(1)
    proxy_app.config["LOGIN_ACCOUNT_MAX_FAILURES"] = 6
    user = make_user("rater")
    http = proxy_app.test_client()
    for i in range(6):
        _login(http, user.email, "wrong-password", f"203.0.113.{i}")
    assert _login(http, user.email, PASSWORD, "198.51.100.4").status_code == 429


def test_the_lockout_does_not_reveal_whether_the_account_exists(app, make_user):
    user = make_user("rater")
    answers = []
    for email in (user.email, "nobody@test.example"):
        http = app.test_client()
        for _ in range(app.config["LOGIN_MAX_FAILURES"]):
            _login(http, email, "wrong-password")
        blocked = _login(http, email, "wrong-password")
        body = blocked.get_data(as_text=True)
        answers.append((blocked.status_code, re.search(r'class="[^"]*error[^"]*"[^>]*>([^<]+)<', body).group(1)))
    assert answers[0] == answers[1] and answers[0][0] == 429
    assert "Too many failed attempts" in answers[0][1]


def test_ipv6_clients_are_counted_by_their_64_prefix():
    assert services.client_key("2001:db8:1:2:aaaa::1") == services.client_key("2001:db8:1:2:bbbb::9")
    assert services.client_key("2001:db8:1:3::1") != services.client_key("2001:db8:1:2::1")
    assert services.client_key("::ffff:192.0.2.7") == "192.0.2.7" == services.client_key("192.0.2.7")
    assert services.client_key(None) == "unknown"


def test_the_password_change_goes_through_the_same_throttle(app, login_as, session):
    client, user = login_as("manager")
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        client.post("/account/password", data={"current_password": "not it at all",
                                               "new_password": "brand-new-password", "confirm_password": "brand-new-password"})
    right = client.post("/account/password", data={"current_password": PASSWORD, "new_password": "brand-new-password",
                                                    "confirm_password": "brand-new-password"}, follow_redirects=True)
    assert "Too many failed attempts" in right.get_data(as_text=True)
    session.expire_all()
    assert services.authenticate(session, user.email, PASSWORD, "127.0.0.9") is not None  # unchanged


def test_remember_me_lasts_the_configured_days_not_a_year(client, make_user, app):
    assert app.config["REMEMBER_COOKIE_DURATION"] == timedelta(days=14)
    user = make_user("manager")
    client.csrf_token()
    response = client.post("/login", data={"email": user.email, "password": PASSWORD, "remember": "1"})
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("remember_token="))
    expires = parsedate_to_datetime(re.search(r"Expires=([^;]+)", cookie).group(1))
    assert abs(expires - (datetime.now(timezone.utc) + timedelta(days=14))) < timedelta(minutes=5)
    assert "HttpOnly" in cookie


def test_a_csrf_token_expires(login_as, monkeypatch, app):
    assert app.config["WTF_CSRF_TIME_LIMIT"] == 8 * 3600
    client, _ = login_as("manager")
    token = client.csrf_token()
    later = TimestampSigner.get_timestamp
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: later(self) + 8 * 3600 + 60)
    response = client.http.post("/projects/new", data={"name": "late", "csrf_token": token})
    assert response.status_code == 400 and "expired" in response.get_data(as_text=True)


def test_login_starts_a_fresh_session(client, make_user):
    user = make_user("manager")
    before = client.csrf_token()
    with client.http.session_transaction() as sess:
        sess["planted"] = "by someone else"
    client.post("/login", data={"email": user.email, "password": PASSWORD})
    with client.http.session_transaction() as sess:
        assert "planted" not in sess and "_user_id" in sess
    client._token = None
    assert client.csrf_token() != before


@pytest.mark.parametrize("change", [{"role": "researcher"}, {"senior": True}])
def test_a_privilege_change_ends_the_users_sessions(app, make_user, session, change):
    user = make_user("rater", expertise=["editing"])
    http = Client(app.test_client())
    assert http.login(user.email).status_code == 302 and http.get("/").status_code == 200
    services.update_user(session, session.get(User, user.id), actor=None, **change)
    session.commit()
    assert http.get("/").status_code == 302  # signed out: sign in again under the new rights
