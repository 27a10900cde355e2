"""The audit log: every privileged act is on record (who, what, which project, which request),
and admins read it, filtered, on a page and over the API."""
from __future__ import annotations

import io
from datetime import timedelta

import pytest
from sqlalchemy import select

from raters.models import AuditEvent, User
from tasks.rating import flags, overlap
from tasks.rating.models import Flag
from tests.helpers import install_demo_media, jsonl, video_row
from tests.tasks.rating_factories import T0, wsession  # noqa: F401 (fixture)
from tests.tasks.test_overlap import panel, split_item  # noqa: F401 (fixture)


def _events(session, **where):
    session.expire_all()
    query = select(AuditEvent).order_by(AuditEvent.id)
    for key, value in where.items():
        query = query.where(getattr(AuditEvent, key) == value)
    return session.scalars(query).all()


def test_account_project_import_and_asset_acts_are_recorded_with_project_and_request(app, api, session):
    install_demo_media(app)
    admin, admin_user = api("admin")
    manager, manager_user = api("manager")
    created = admin.post("/api/v1/users", json={"email": "r@test.example", "name": "R", "role": "rater",
                                                "password": "long enough pw"}, headers={"X-Request-ID": "mk-user"})
    assert created.status_code == 201, created.json
    project = manager.post("/api/v1/projects", json={"name": "Audited", "kind": "pairwise", "modality": "video"}).json
    pid = project["id"]
    assert manager.patch(f"/api/v1/projects/{pid}", json={"overlap": 4}).status_code == 200
    imported = manager.post(f"/api/v1/projects/{pid}/items", data=jsonl(video_row("a-1")),
                            headers={"Content-Type": "application/x-ndjson", "X-Request-ID": "imp-1"})
    assert imported.status_code == 201, imported.json
    upload = manager.post("/api/v1/assets", data={"file": (io.BytesIO(b"plain script text"), "s.txt"),
                                                  "consent": "granted"}, content_type="multipart/form-data")
    assert upload.status_code == 201, upload.json
    asset_id = upload.json["id"]
    edit = manager.patch(f"/api/v1/assets/{asset_id}", json={"consent": "revoked", "note": "withdrawn",
                                                             "license": "CC0-1.0"})
    assert edit.status_code == 200, edit.json

    user_event = _events(session, action="user.create", subject="r@test.example")[0]
    assert (user_event.actor_id, user_event.request_id) == (admin_user.id, "mk-user")
    project_events = [(e.action, e.actor_id) for e in _events(session, project_id=pid)]
    assert project_events == [("project.create", manager_user.id), ("project.update", manager_user.id),
                              ("items.import", manager_user.id)]
    assert _events(session, action="items.import")[0].request_id == "imp-1"
    asset_events = [(e.action, e.detail) for e in _events(session, subject=f"asset:{asset_id}")]
    # the consent change, then its effects (items out of routing, judgments out of statistics)
    assert [a for a, _ in asset_events] == ["asset.create", "asset.provenance", "asset.consent",
                                            "asset.consent_withdrawn"]
    assert "granted -> revoked" in asset_events[2][1] and "withdrawn" in asset_events[2][1]
    assert all(e.request_id for e in _events(session, actor_id=manager_user.id) if e.action != "token.create")


def test_adjudication_and_flag_resolution_are_recorded(panel, wsession):  # noqa: F811
    item = split_item(panel, wsession)
    manager = wsession.get(User, panel["manager"].id)
    overlap.adjudicate(wsession, item, manager, {"choice": "b", "rationale": "B keeps one take as asked " * 2},
                       now=T0 + timedelta(hours=1))
    flag = Flag(project_id=panel["project"].id, item_id=item.id, kind="broken", reason="black frames")
    wsession.add(flag)
    wsession.flush()
    flags.resolve_flag(wsession, flag, manager, "re-encoded the clip", now=T0 + timedelta(hours=2), action="returned")
    wsession.commit()
    events = _events(wsession, project_id=panel["project"].id)
    acts = [(e.action, e.subject, e.actor_id) for e in events if e.action in ("item.adjudicate", "flag.returned")]
    assert acts == [("item.adjudicate", f"item:{item.id}", manager.id), ("flag.returned", f"flag:{flag.id}", manager.id)]


def test_password_changes_and_resets_are_recorded(login_as, session):
    client, admin = login_as("admin")
    client.post("/account/password", data={"current_password": "correct horse battery",
                                           "new_password": "another long one", "confirm_password": "another long one"})
    assert [(e.action, e.detail) for e in _events(session, action="user.password")] == [("user.password", "own")]


@pytest.fixture
def logged(api, session):
    """An admin API client and a few entries from two actors."""
    admin, admin_user = api("admin")
    manager, _ = api("manager")
    for i in range(3):
        manager.post("/api/v1/projects", json={"name": f"P{i}", "kind": "pairwise", "modality": "video"},
                     headers={"X-Request-ID": f"req-{i}"})
    return admin, admin_user


def test_the_api_lists_newest_first_paginated_and_filtered(logged):
    admin, _ = logged
    everything = admin.get("/api/v1/audit").json
    assert everything["total"] == len(everything["items"]) >= 5
    ids = [e["id"] for e in everything["items"]]
    assert ids == sorted(ids, reverse=True)
    page = admin.get("/api/v1/audit?per_page=2").json
    assert len(page["items"]) == 2 and page["next"] and "page=2" in page["next"]
    projects = admin.get("/api/v1/audit?action=project.create").json
    assert projects["total"] == 3 and {e["actor"]["email"] for e in projects["items"]} == {"manager2@test.example"}
    family = admin.get("/api/v1/audit?action=project.").json
    assert family["total"] == 3
    one = admin.get("/api/v1/audit?request_id=req-1").json["items"]
    assert [e["action"] for e in one] == ["project.create"] and one[0]["project_id"]
    by_project = admin.get(f"/api/v1/audit?project={one[0]['project_id']}").json
    assert by_project["total"] == 1
    assert admin.get("/api/v1/audit?actor=MANAGER2@test.example&since=2020-01-01&until=2999-12-31").json["total"] == 4
    assert admin.get("/api/v1/audit?until=2020-01-01").json["total"] == 0


@pytest.mark.parametrize("query", ["project=abc", "project=99999999999999999999", "project=0", "since=yesterday",
                                  "until=2026-13-45", "page=0", "per_page=100000", "actor=" + "x" * 300,
                                  "project=%C2%B2", "subject=a%00b"])
def test_bad_filters_are_a_400_naming_the_filter(logged, query):
    admin, _ = logged
    response = admin.get(f"/api/v1/audit?{query}")
    assert response.status_code == 400, response.json
    assert response.json["error"]["code"] == "invalid_parameter"


def test_only_admins_read_the_audit_log(logged, api):
    for role in ("manager", "researcher", "rater"):
        client, _ = api(role)
        assert client.get("/api/v1/audit").status_code == 403


def test_the_api_is_in_the_openapi_document(logged):
    admin, _ = logged
    doc = admin.get("/api/v1/openapi.json").json
    op = doc["paths"]["/audit"]["get"]
    assert op["x-access"] == "audit.view"
    assert {p["name"] for p in op["parameters"]} >= {"actor", "action", "project", "request_id", "since", "until", "page"}


def test_the_admin_page_lists_and_filters(logged, login_as):
    client, _ = login_as("admin")
    page = client.get("/admin/audit?action=project.create")
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and body.count("<code>project.create</code>") == 3
    assert "<code>token.create</code>" not in body
    for value in ("12x", "²", str(2**31)):
        bad = client.get("/admin/audit", query_string={"project": value})
        assert bad.status_code == 400 and "Project: must be" in bad.get_data(as_text=True), value
    assert "Audit log" in client.get("/").get_data(as_text=True)  # in the admin's navigation
