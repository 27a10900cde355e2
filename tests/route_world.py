"""A world every route can be called in: a project with a member rater, an item, an asset, an open
assignment, a flag and a released export; and clients signed in as each role (browser session with
its CSRF token, plus a bearer token for the API). Shared by the authorisation matrix and the
bad-input battery, which both walk ``app.url_map``."""
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
            "user": member.id, "assignment": assignment.id, "flag": flag.id, "item": item.id}


def login(app, role, world):
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


# A path argument's name → the world's key for it (``<int:rater_id>`` is a user, ``<public_id>`` media).
ARGUMENT_KEYS = {"project_id": "project", "asset_id": "asset", "public_id": "media", "user_id": "user",
                 "rater_id": "user", "token_id": "token", "assignment_id": "assignment", "export_id": "export",
                 "flag_id": "flag", "item_id": "item",
                 "judgment_id": "item"}  # the world has no judgment: an id that answers 404 to readers, 403 to others


def routes(app):
    """(endpoint, method, rule) for every route but static files, in a stable order."""
    return sorted((rule.endpoint, method, rule) for rule in app.url_map.iter_rules() if rule.endpoint != "static"
                  for method in rule.methods - {"HEAD", "OPTIONS"})


def path_of(rule, world, token_id) -> str:
    """The rule's path with the world's ids; fails naming the argument when the world has none."""
    values = {}
    for arg in rule.arguments:
        key = ARGUMENT_KEYS.get(arg)
        assert key, f"{rule.rule}: no world value for <{arg}> — add it to ARGUMENT_KEYS in tests/route_world.py"
        values[arg] = token_id if key == "token" else world[key]
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", lambda m: str(values[m.group(1)]), rule.rule)
