"""API tokens (shown once, stored hashed, revocable, scoped to the role) and user management."""
import hashlib
import re

from sqlalchemy import select

from raters.models import ApiToken, AuditEvent, User


def test_token_is_shown_once_and_stored_only_as_a_hash(login_as, session):
    client, user = login_as("researcher")
    page = client.post("/account/tokens", data={"name": "notebook"}).get_data(as_text=True)
    secret = re.search(r'value="(dly_[^"]+)"', page).group(1)
    token = session.scalar(select(ApiToken).where(ApiToken.user_id == user.id))
    assert token.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in {token.token_hash, token.prefix, token.name} and token.prefix == secret[:10]
    assert secret not in client.get("/account").get_data(as_text=True)  # never shown again
    me = client.http.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert me.status_code == 200 and me.json["role"] == "researcher"


def test_revoked_token_stops_working(api, session):
    client, user = api("manager")
    assert client.get("/api/v1/me").status_code == 200
    token = session.scalar(select(ApiToken).where(ApiToken.user_id == user.id))
    assert client.delete(f"/api/v1/tokens/{token.id}").status_code == 200
    response = client.get("/api/v1/me")
    assert response.status_code == 401 and response.json["error"]["code"] == "unauthorized"


def test_token_of_a_deactivated_user_stops_working(api, login_as, session):
    client, user = api("rater")
    admin_client, _ = login_as("admin")
    assert admin_client.post(f"/admin/users/{user.id}/active", data={"active": "0"}).status_code == 302
    assert client.get("/api/v1/me").status_code == 401


def test_a_token_acts_with_its_users_role(api):
    rater, _ = api("rater")
    assert rater.post("/api/v1/projects", json={"name": "x", "kind": "pairwise", "modality": "video"}).status_code == 403


def test_malformed_authorization_is_401(client):
    for header in ("Bearer", "Bearer dly_nope", "Basic abc", "dly_x"):
        assert client.get("/api/v1/me", headers={"Authorization": header}).status_code == 401


def test_cli_token_printed_once_and_usable(app, make_user):
    user = make_user("manager")
    result = app.test_cli_runner().invoke(args=["tokens", "create", user.email, "--name", "ci"])
    assert result.exit_code == 0
    secret = result.stdout.strip().splitlines()[0]
    assert secret.startswith("dly_")
    assert app.test_client().get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"}).json["email"] == user.email


def test_cli_creates_a_user_with_the_password_from_stdin(app, client):
    result = app.test_cli_runner().invoke(
        args=["users", "create", "ed@studio.example", "--name", "Ed", "--role", "rater", "--expertise", "editing,vfx"],
        input="a long enough password\n")
    assert result.exit_code == 0, result.output
    assert client.login("ed@studio.example", "a long enough password").status_code == 302
    short = app.test_cli_runner().invoke(args=["users", "create", "x@studio.example", "--name", "X", "--role", "rater"],
                                         input="short\n")
    assert short.exit_code == 1 and "at least 10 characters" in short.output


def test_admin_creates_edits_and_deactivates_users(login_as, session):
    client, admin = login_as("admin")
    response = client.post("/admin/users", data={"email": "New@Studio.example", "name": "Nia", "role": "rater",
                                                 "expertise": ["sound", "editing"], "extra_expertise": "foley",
                                                 "password": "initial-password"})
    assert response.status_code == 302
    user = session.scalar(select(User).where(User.email == "new@studio.example"))
    assert (user.role, user.expertise) == ("rater", ["editing", "foley", "sound"])
    dup = client.post("/admin/users", data={"email": "new@studio.example", "name": "Nia", "role": "rater",
                                            "password": "initial-password"})
    assert dup.status_code == 400 and "already has an account" in dup.get_data(as_text=True)
    client.post(f"/admin/users/{user.id}", data={"name": "Nia K", "role": "rater", "expertise": ["sound"], "senior": "on"})
    client.post(f"/admin/users/{user.id}/active", data={"active": "0"})
    session.expire_all()
    user = session.get(User, user.id)
    assert (user.name, user.expertise, user.senior, user.active) == ("Nia K", ["sound"], True, False)
    actions = session.scalars(select(AuditEvent.action).where(AuditEvent.subject == user.email)).all()
    assert actions == ["user.create", "user.senior", "user.expertise", "user.deactivate"]


def test_admin_cannot_deactivate_themselves(login_as, session):
    client, admin = login_as("admin")
    page = client.post(f"/admin/users/{admin.id}/active", data={"active": "0"}, follow_redirects=True)
    assert "cannot deactivate your own account" in page.get_data(as_text=True)
    assert session.get(User, admin.id).active


def test_password_change_signs_out_other_sessions(app, login_as, client):
    first, user = login_as("manager")
    second = app.test_client()
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', second.get("/login").get_data(as_text=True)).group(1)
    second.post("/login", data={"email": user.email, "password": "correct horse battery", "csrf_token": csrf})
    assert second.get("/").status_code == 200
    response = first.post("/account/password", data={"current_password": "correct horse battery",
                                                      "new_password": "a brand new password",
                                                      "confirm_password": "a brand new password"})
    assert response.status_code == 302
    assert first.get("/").status_code == 200
    assert second.get("/").status_code == 302
