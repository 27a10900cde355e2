"""Revoking an asset's consent takes effect everywhere in one step — routing, open assignments,
media, statistics — keeps every judgment, shows what it touched, refuses re-import; restoring
it brings routing, media and statistics back. Every change is audited."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from database import utcnow
from raters.models import AuditEvent, User
from scoring.reports import data as stats_data
from tasks.catalogue import importing
from tasks.catalogue.models import Asset, Item, Project
from tasks.catalogue.projects import set_members
from tasks.rating import judgment_import
from tasks.rating.models import Assignment, ItemPanel, Judgment
from tests.helpers import import_rows, install_demo_media, jsonl, make_project, video_row
from tests.tasks.rating_factories import rating_project


@pytest.fixture
def consented(app, session, api):
    """Two items (one sharing no asset), three imported judgments on the first, an API rater
    holding an open assignment on the first, and a manager."""
    install_demo_media(app)
    rater_client, rater = api("rater")
    other_client, other = api("rater")
    manager_client, manager = api("manager")
    project = make_project(session, session.get(User, manager.id),
                           members=[session.get(User, rater.id), session.get(User, other.id)],
                           gold_rate=0.0, audit_rate=0.0, overlap=5, max_overlap=5)
    import_rows(session, app, project, video_row("kept", model_confidence=0.1),
                video_row("spare", a="alley-002-a.mp4", b="alley-002-b.mp4", model_confidence=0.5))
    rows = [{"external_id": "kept", "rater": f"panel-{i}", "choice": "a", "strength": 2, "confidence": 3,
             "rationale": f"panel rationale {i} about the kept item"} for i in range(3)]
    judgment_import.import_judgments(session, project, jsonl(*rows), "panel.jsonl", actor=None, now=utcnow())
    session.commit()
    served = rater_client.post(f"/api/v1/projects/{project.id}/assignments/next").json
    asset = session.scalar(select(Asset).where(Asset.original_name == "video/alley-001-b.mp4"))
    return {"rater": rater_client, "other": other_client, "manager": manager_client, "project": project,
            "asset": asset, "served": served}


def set_consent(world, consent: str, note: str):
    response = world["manager"].patch(f"/api/v1/assets/{world['asset'].id}", json={"consent": consent, "note": note})
    assert response.status_code == 200, response.json
    return response


def test_revoking_consent_removes_routing_media_and_statistics_in_one_step_and_restoring_brings_them_back(
        consented, session, client):
    world, project = consented, consented["project"]
    kept = session.scalar(select(Item).where(Item.external_id == "kept"))
    assert world["served"]["id"] and session.get(Assignment, world["served"]["id"]).item_id == kept.id
    media_url = world["served"]["item"]["right" if session.get(Assignment, world["served"]["id"]).left_label == "a"
                                         else "left"]["media_url"]
    assert world["rater"].get(media_url).status_code == 200
    assert len(stats_data.judgments_frame(session, project)) == 3
    revision = project.revision

    set_consent(world, "revoked", "the rights holder withdrew on 2026-11-30")
    session.expire_all()
    # open assignment closed with a reason the rater sees
    closed = world["rater"].get(f"/api/v1/assignments/{world['served']['id']}").json
    assert closed["status"] == "expired" and "consent for this item's media was withdrawn" in closed["skip_reason"]
    draft = world["rater"].put(f"/api/v1/assignments/{world['served']['id']}/draft", json={"rationale": "half"})
    assert draft.status_code == 409 and "consent for this item's media was withdrawn" in draft.json["error"]["message"]
    # routing: the other rater gets the spare item, never the revoked one
    nxt = world["other"].post(f"/api/v1/projects/{project.id}/assignments/next").json
    assert session.get(Assignment, nxt["id"]).item.external_id == "spare"
    # media: refused to raters with a clear error, still served to managers
    refused = world["rater"].get(media_url)
    assert refused.status_code == 451 and refused.json["error"]["code"] == "consent_withdrawn"
    assert world["manager"].get(media_url).status_code == 200
    # statistics: kept, excluded, counted; the cache key moved
    assert session.scalar(select(func.count()).select_from(Judgment)) == 3
    assert len(stats_data.judgments_frame(session, project)) == 0
    assert stats_data.consent_excluded(session, project) == 3
    assert session.get(Project, project.id).revision == revision + 1
    audit = session.scalar(select(AuditEvent).where(AuditEvent.action == "asset.consent_withdrawn"))
    assert audit.subject == f"asset:{world['asset'].id}"
    assert "1 item(s) in 1 project(s), 3 current judgment(s) excluded from statistics, 1 open assignment(s) closed" \
        in audit.detail

    set_consent(world, "granted", "new contract signed")
    session.expire_all()
    assert world["rater"].get(media_url).status_code == 200
    assert len(stats_data.judgments_frame(session, project)) == 3 and stats_data.consent_excluded(session, project) == 0
    assert session.scalar(select(AuditEvent).where(AuditEvent.action == "asset.consent_restored")) is not None


def test_a_revoked_item_is_routed_again_once_restored(consented, session, api):
    world = consented
    set_consent(world, "revoked", "withdrawn")
    newcomer_client, newcomer = api("rater")
    project = session.get(Project, world["project"].id)
    set_members(session, project, [m.id for m in project.members] + [newcomer.id], session.get(User, project.owner_id))
    session.commit()
    first = newcomer_client.post(f"/api/v1/projects/{project.id}/assignments/next").json
    assert session.get(Assignment, first["id"]).item.external_id == "spare"
    newcomer_client.post(f"/api/v1/assignments/{first['id']}/skip", json={"reason": "testing"})
    assert newcomer_client.post(f"/api/v1/projects/{project.id}/assignments/next").status_code == 204
    set_consent(world, "not_required", "synthetic after all")
    again = newcomer_client.post(f"/api/v1/projects/{project.id}/assignments/next")
    assert again.status_code == 201 and session.get(Assignment, again.json["id"]).item.external_id == "kept"


def test_the_rater_page_for_withdrawn_media_is_a_clear_page(consented, session, login_as):
    world = consented
    set_consent(world, "revoked", "withdrawn")
    client, rater = login_as("rater")
    project = session.get(Project, world["project"].id)
    set_members(session, project, [m.id for m in project.members] + [rater.id], session.get(User, project.owner_id))
    session.commit()
    page = client.get(f"/media/{world['asset'].public_id}")
    assert page.status_code == 451 and "The consent for this media was withdrawn" in page.get_data(as_text=True)


def test_the_asset_page_lists_what_the_revocation_touches(consented, session, login_as):
    world = consented
    set_consent(world, "revoked", "withdrawn")
    client, _ = login_as("manager")
    page = client.get(f"/assets/{world['asset'].id}").get_data(as_text=True)
    assert world["project"].name in page and "<code>kept</code>" in page
    assert page.count("excluded: consent") >= 3 and "excluded from statistics" in page


def test_a_revoked_asset_cannot_be_imported_into_another_project(consented, session, app):
    world = consented
    set_consent(world, "revoked", "the rights holder withdrew")
    other = rating_project(session, session.scalar(select(User.id).where(User.role == "manager")))
    session.commit()
    session.expire_all()
    with pytest.raises(importing.ImportRejected) as rejected:
        import_rows(session, app, other, video_row("again"))
    assert any("has its consent revoked" in e and "the rights holder withdrew" in e for e in rejected.value.errors)


def test_statistics_page_shows_the_excluded_consent_figure(consented, session, login_as):
    world = consented
    set_consent(world, "revoked", "withdrawn")
    client, _ = login_as("researcher")
    page = client.get(f"/projects/{world['project'].id}/statistics").get_data(as_text=True)
    assert "excluded: consent" in page


def test_a_split_item_whose_consent_is_withdrawn_leaves_the_adjudication_queue(consented, session):
    world = consented
    project = session.get(Project, world["project"].id)
    kept = session.scalar(select(Item).where(Item.external_id == "kept"))
    panel = session.get(ItemPanel, kept.id)  # the imported panel, pretended split at max_overlap
    panel.state, panel.n_judgments, panel.target = "split", 5, 5
    session.commit()
    queue = f"/api/v1/projects/{project.id}/adjudications/queue"
    assert [q["external_id"] for q in world["manager"].get(queue).json["items"]] == ["kept"]
    set_consent(world, "revoked", "withdrawn")
    assert world["manager"].get(queue).json["total"] == 0
    set_consent(world, "granted", "restored")
    assert world["manager"].get(queue).json["total"] == 1
