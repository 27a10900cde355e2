"""Every role against every route: who is let in, who is refused, and how.

Roles: anonymous, admin, manager, researcher, a rater on the project (``member``) and a rater
who is not (``outsider``). A route missing from ROUTES fails ``test_every_route_is_in_the_matrix``.
"""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from database import db, utcnow
from raters import services
from raters.models import User
from scoring.exports.models import Export
from tasks.catalogue.models import Asset, Item
from tasks.rating.models import Assignment, Flag
from tests.helpers import import_rows, install_demo_media, make_project, video_row

ROLES = ("anonymous", "admin", "manager", "researcher", "member", "outsider")
STAFF = {"admin", "manager"}
READERS = STAFF | {"researcher"}
SIGNED_IN = READERS | {"member", "outsider"}
PROJECT_VIEWERS = READERS | {"member"}

# (method, path template, roles allowed)
ROUTES = [
    ("GET", "/login", set(ROLES)),
    ("GET", "/healthz", set(ROLES)),
    ("GET", "/readyz", set(ROLES)),
    ("POST", "/login", set(ROLES)),
    ("POST", "/consent", SIGNED_IN),
    ("POST", "/admin/users/{user}", {"admin"}),
    ("POST", "/projects/new", STAFF),
    ("POST", "/projects/{project}/edit", STAFF),
    ("POST", "/logout", SIGNED_IN),
    ("GET", "/consent", SIGNED_IN),
    ("GET", "/account", SIGNED_IN),
    ("POST", "/account/tokens", SIGNED_IN),
    ("POST", "/account/tokens/{token}/revoke", SIGNED_IN),
    ("POST", "/account/password", SIGNED_IN),
    ("GET", "/admin/users", {"admin"}),
    ("GET", "/admin/audit", {"admin"}),
    ("GET", "/api/v1/audit", {"admin"}),
    ("POST", "/admin/users", {"admin"}),
    ("GET", "/admin/users/{user}", {"admin"}),
    ("POST", "/admin/users/{user}/active", {"admin"}),
    ("GET", "/", SIGNED_IN),
    ("GET", "/projects/new", STAFF),
    ("GET", "/projects/{project}", PROJECT_VIEWERS),
    ("GET", "/projects/{project}/edit", STAFF),
    ("POST", "/projects/{project}/members", STAFF),
    ("POST", "/projects/{project}/items", STAFF),
    ("GET", "/assets", READERS),
    ("POST", "/assets", STAFF),
    ("GET", "/assets/{asset}", READERS),
    ("POST", "/assets/{asset}", STAFF),
    ("GET", "/media/{media}", PROJECT_VIEWERS),
    ("GET", "/api/v1/openapi.json", set(ROLES)),
    ("GET", "/api/v1/me", SIGNED_IN),
    ("GET", "/api/v1/tokens", SIGNED_IN),
    ("POST", "/api/v1/tokens", SIGNED_IN),
    ("DELETE", "/api/v1/tokens/{token}", SIGNED_IN),
    ("GET", "/api/v1/users", {"admin"}),
    ("POST", "/api/v1/users", {"admin"}),
    ("GET", "/api/v1/projects", SIGNED_IN),
    ("POST", "/api/v1/projects", STAFF),
    ("GET", "/api/v1/projects/{project}", PROJECT_VIEWERS),
    ("PATCH", "/api/v1/projects/{project}", STAFF),
    ("GET", "/api/v1/projects/{project}/items", READERS),
    ("POST", "/api/v1/projects/{project}/items", STAFF),
    ("POST", "/api/v1/assets", STAFF),
    ("GET", "/api/v1/assets/{asset}", READERS),
    ("PATCH", "/api/v1/assets/{asset}", STAFF),
    ("POST", "/api/v1/projects/{project}/assignments/next", {"member"}),
    ("GET", "/api/v1/assignments/{assignment}", {"member"}),  # the member's own; other raters get 404
    ("PUT", "/api/v1/assignments/{assignment}/draft", {"member"}),
    ("POST", "/api/v1/assignments/{assignment}/judgment", {"member"}),
    ("PUT", "/api/v1/assignments/{assignment}/judgment", {"member"}),
    ("POST", "/api/v1/assignments/{assignment}/skip", {"member"}),
    ("POST", "/api/v1/assignments/{assignment}/flag", {"member"}),
    ("GET", "/api/v1/projects/{project}/flags", STAFF),
    ("POST", "/api/v1/flags/{flag}/resolve", STAFF),
    ("GET", "/api/v1/projects/{project}/adjudications/queue", STAFF),  # and senior raters: tests/tasks
    ("POST", "/api/v1/items/{item}/adjudication", STAFF),
    ("POST", "/projects/{project}/next", {"member"}),
    ("GET", "/assignments/{assignment}", {"member"}),
    ("POST", "/assignments/{assignment}", {"member"}),
    ("POST", "/assignments/{assignment}/draft", {"member"}),
    ("POST", "/assignments/{assignment}/progress", {"member"}),
    ("POST", "/assignments/{assignment}/skip", {"member"}),
    ("POST", "/assignments/{assignment}/flag", {"member"}),
    ("GET", "/projects/{project}/adjudication", STAFF),
    ("POST", "/items/{item}/adjudication", STAFF),
    ("GET", "/projects/{project}/flags", STAFF),
    ("POST", "/flags/{flag}/resolve", STAFF),
    ("GET", "/projects/{project}/statistics", READERS),
    ("GET", "/projects/{project}/statistics/status", READERS),
    ("POST", "/projects/{project}/statistics/recompute", READERS),
    ("POST", "/projects/{project}/judgments/import", READERS),
    ("GET", "/api/v1/projects/{project}/agreement", READERS),
    ("GET", "/api/v1/projects/{project}/leaderboard", READERS),
    ("GET", "/api/v1/projects/{project}/consensus", READERS),
    ("POST", "/api/v1/projects/{project}/statistics/recompute", READERS),
    ("POST", "/api/v1/projects/{project}/judgments/import", READERS),
    ("GET", "/projects/{project}/exports", READERS),
    ("POST", "/projects/{project}/exports", READERS),
    ("POST", "/projects/{project}/exports/settings", STAFF),
    ("POST", "/exports/{export}/release", STAFF),  # and only the owner or an admin succeeds: tests/exports
    ("POST", "/exports/{export}/retry", READERS),
    ("GET", "/exports/{export}/download", READERS),  # released; drafts: staff only (tests/exports)
    ("POST", "/api/v1/projects/{project}/exports", READERS),
    ("GET", "/api/v1/projects/{project}/exports", READERS),
    ("GET", "/api/v1/exports/{export}", READERS),
    ("POST", "/api/v1/exports/{export}/release", STAFF),
    ("POST", "/api/v1/exports/{export}/retry", READERS),
    ("GET", "/api/v1/exports/{export}/download", READERS),
    ("GET", "/api/v1/projects/{project}/judgments", READERS),
    ("GET", "/projects/{project}/raters", READERS),
    ("GET", "/projects/{project}/raters/{user}", READERS),  # readers: 404 while the rater has no judgments
    ("GET", "/projects/{project}/progress", READERS),
    ("GET", "/projects/{project}/calibration", READERS),
    ("GET", "/projects/{project}/items", READERS),
    ("GET", "/api/v1/projects/{project}/raters", READERS),
    ("GET", "/api/v1/projects/{project}/raters/{user}", READERS),
    ("POST", "/projects/{project}/raters/{user}/standing", STAFF),
    ("GET", "/projects/{project}/quality/settings", STAFF),
    ("GET", "/projects/{project}/raters/{user}/judgments/{item}", READERS),  # readers: 404 for a judgment not theirs
    ("POST", "/projects/{project}/quality/settings", STAFF),
    *[("POST", f"/api/v1/projects/{{project}}/raters/{{user}}/{act}", STAFF)
      for act in ("pause", "resume", "remove", "exclude", "include")],
    ("GET", "/api/v1/projects/{project}/quality/thresholds", READERS),
    ("PUT", "/api/v1/projects/{project}/quality/thresholds", STAFF),
    ("GET", "/api/v1/projects/{project}/progress", READERS),
    ("GET", "/api/v1/projects/{project}/calibration", READERS),
]
SESSION_ENDING = ("/logout", "/account/password", "/account/tokens/{token}/revoke", "/api/v1/tokens/{token}")


@pytest.fixture
def world(app, session, make_user):
    """A project with one member rater, an item whose media the member may fetch."""
    install_demo_media(app)
    manager = make_user("manager")
    member = make_user("rater", expertise=["editing"])
    outsider = make_user("rater", expertise=["editing"])
    users = {"admin": make_user("admin"), "manager": manager, "researcher": make_user("researcher"),
             "member": member, "outsider": outsider}
    project = make_project(session, session.get(User, manager.id), members=[session.get(User, member.id)])
    import_rows(session, app, project, video_row("m-1"))
    asset = session.scalars(select(Asset)).first()
    item = session.scalars(select(Item)).first()
    now = utcnow()
    assignment = Assignment(project_id=project.id, item_id=item.id, rater_id=member.id, served_at=now,
                            expires_at=now + timedelta(minutes=30), left_label="a", status="open")
    flag = Flag(project_id=project.id, item_id=item.id, kind="broken", reason="black frames")
    export = Export(project_id=project.id, kind="preferences", file_format="parquet", options={}, series_key="x",
                    version=1, state="released", progress=1.0, released_at=now)
    session.add_all([assignment, flag, export])
    session.commit()
    return {"export": export.id, "users": users, "project": project.id, "asset": asset.id, "media": asset.public_id,
            "target_user": member.id, "assignment": assignment.id, "flag": flag.id, "item": item.id}


def _login(app, role, world):
    """A test client for ``role`` (web: logged-in session; api: bearer header) and its token id."""
    http = app.test_client()
    if role == "anonymous":
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', http.get("/login").get_data(as_text=True)).group(1)
        return http, {"csrf": csrf}, 999999
    user = world["users"][role]
    with app.app_context():
        token, secret = services.create_token(db.session, db.session.get(User, user.id), "matrix")
        db.session.commit()
        token_id = token.id
    page = http.get("/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert http.post("/login", data={"email": user.email, "password": "correct horse battery",
                                      "csrf_token": csrf}).status_code == 302
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', http.get("/account").get_data(as_text=True)).group(1)
    return http, {"Authorization": f"Bearer {secret}", "csrf": csrf}, token_id


@pytest.mark.parametrize("role", ROLES)
def test_role_against_every_route(app, world, role):
    http, creds, token_id = _login(app, role, world)
    wrong = []
    for method, template, allowed in ROUTES:
        path = template.format(project=world["project"], asset=world["asset"], media=world["media"],
                               user=world["target_user"], token=token_id, assignment=world["assignment"], export=world["export"],
                               flag=world["flag"], item=world["item"])
        is_api = path.startswith("/api/")
        headers = {"Authorization": creds["Authorization"]} if is_api and "Authorization" in creds else {}
        data = None if is_api else {"csrf_token": creds.get("csrf", "")}
        if template in SESSION_ENDING:
            continue  # checked in test_role_against_session_ending_routes
        response = http.open(path, method=method, headers=headers, data=data,
                             json={} if is_api and method in ("POST", "PATCH") else None)
        status = response.status_code
        to_login = status == 302 and "/login" in response.headers.get("Location", "")
        # Media and assignments answer 404 to those who may not see them (nothing is revealed).
        hidden = "{media}" in template or "{assignment}" in template
        denied = status in (401, 403) or to_login or (status == 404 and hidden)
        if (role in allowed) == denied:
            wrong.append(f"{method} {template}: {status} for {role} ({'allowed' if role in allowed else 'denied'} expected)")
    assert wrong == [], "\n".join(wrong)


@pytest.mark.parametrize("role", ROLES)
def test_role_against_session_ending_routes(app, world, role):
    http, creds, token_id = _login(app, role, world)
    response = http.delete(f"/api/v1/tokens/{token_id}", headers={"Authorization": creds.get("Authorization", "")})
    assert response.status_code == (401 if role == "anonymous" else 200)
    for path in (f"/account/tokens/{token_id}/revoke", "/account/password", "/logout"):
        response = http.post(path, data={"csrf_token": creds.get("csrf", "")})
        location = response.headers.get("Location", "")
        assert response.status_code == 302, (path, response.status_code)
        if role == "anonymous":
            assert location.startswith("/login?next="), path  # sent to sign in first
        else:
            assert not location.startswith("/login?next="), path


def test_denied_answers_say_why(app, world):
    http, creds, _ = _login(app, "researcher", world)
    response = http.post("/api/v1/projects", headers={"Authorization": creds["Authorization"]}, json={})
    assert response.status_code == 403
    assert response.json["error"]["code"] == "forbidden"
    assert "researcher" in response.json["error"]["message"]
    assert http.get("/api/v1/me").status_code == 401  # the session cookie never authenticates the API


def test_every_route_is_in_the_matrix(app):
    covered = {(m, re.sub(r"\{[a-z]+\}", "X", p)) for m, p, _ in ROUTES}
    missing = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        path = re.sub(r"<[^>]+>", "X", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            if (method, path) not in covered:
                missing.append(f"{method} {rule.rule}")
    assert missing == []
