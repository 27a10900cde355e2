"""Login, logout, bad password, rate limit, redirects, CSRF and sessions."""
import pytest
from sqlalchemy import select

from raters.models import LoginAttempt
from tests.conftest import PASSWORD


def test_login_then_logout(client, make_user):
    user = make_user("manager")
    response = client.login(user.email)
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert "Test Manager" in client.get("/").get_data(as_text=True)
    assert client.post("/logout").status_code == 302
    assert client.get("/").status_code == 302  # back to the login page


def test_bad_password_is_refused_and_recorded(client, make_user, session):
    user = make_user("manager")
    response = client.login(user.email, "wrong password!")
    assert response.status_code == 200
    assert "Wrong e-mail or password." in response.get_data(as_text=True)
    assert client.get("/").status_code == 302
    assert session.scalars(select(LoginAttempt.email)).all() == [user.email]


def test_unknown_email_gets_the_same_answer(client):
    response = client.login("nobody@test.example", "whatever123")
    assert "Wrong e-mail or password." in response.get_data(as_text=True)


def test_login_is_rate_limited_after_repeated_failures(client, make_user, app):
    user = make_user("rater")
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        assert client.login(user.email, "wrong password!").status_code == 200
    blocked = client.login(user.email, PASSWORD)  # even the right password now waits
    assert blocked.status_code == 429
    assert "Too many failed attempts" in blocked.get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_successful_login_clears_earlier_failures(client, make_user, session):
    user = make_user("rater")
    client.login(user.email, "wrong password!")
    assert client.login(user.email).status_code == 302
    assert session.scalars(select(LoginAttempt)).all() == []


def test_deactivated_user_cannot_log_in(client, make_user, session):
    from raters import services
    from raters.models import User
    user = make_user("rater")
    services.set_active(session, session.get(User, user.id), False)
    session.commit()
    assert "Wrong e-mail" in client.login(user.email).get_data(as_text=True)


def test_deactivation_ends_an_open_session(client, make_user, session):
    from raters import services
    from raters.models import User
    user = make_user("manager")
    client.login(user.email)
    assert client.get("/").status_code == 200
    services.set_active(session, session.get(User, user.id), False)
    session.commit()
    assert client.get("/").status_code == 302


@pytest.mark.parametrize("target,expected", [
    ("/assets", "/assets"),
    ("https://evil.example/", "/"),
    ("//evil.example/x", "/"),
    ("/\\evil.example", "/"),
    ("javascript:alert(1)", "/"),
])
def test_next_redirect_only_follows_local_paths(client, make_user, target, expected):
    user = make_user("manager")
    client.csrf_token()
    response = client.post(f"/login?next={target}", data={"email": user.email, "password": PASSWORD})
    assert response.headers["Location"] == expected


def test_session_cookie_is_httponly_and_samesite(client, make_user):
    user = make_user("manager")
    response = client.login(user.email)
    cookie = next(v for k, v in response.headers.items() if k == "Set-Cookie" and v.startswith("session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_rater_without_consent_is_sent_to_the_consent_page(client, make_user, session):
    from raters.models import User
    user = make_user("rater", consent=False)
    client.login(user.email)
    response = client.get("/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/consent")
    assert client.post("/consent", data={"agree": "yes"}).status_code == 302
    assert client.get("/").status_code == 200
    session.expire_all()
    assert session.get(User, user.id).consent_version is not None


def test_an_over_long_next_is_not_carried_into_the_login_form_so_signing_in_still_works(client, make_user):
    """A "next" past the form's bound falls back to home on the page itself: the form it renders
    never holds a value its own model would refuse."""
    import re
    from raters.inputs import MAX_NEXT_CHARS
    user = make_user("manager")
    target = "/assets?q=" + "x" * MAX_NEXT_CHARS
    page = client.get(f"/login?next={target}").get_data(as_text=True)
    hidden = re.search(r'name="next" value="([^"]*)"', page).group(1)
    assert hidden == "/"
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = client.post("/login", data={"email": user.email, "password": PASSWORD, "next": hidden,
                                           "csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"] == "/"
