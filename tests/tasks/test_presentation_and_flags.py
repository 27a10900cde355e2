"""One vocabulary from screen to dataset: a judgment carries what was presented on each side;
a media report names the output (label and model) and the manager acts on it (return, drop,
replace), audited; the adjudication desk keeps a refused decision and shows each rationale with
its author's presentation and, to managers, its rater."""
from __future__ import annotations

from sqlalchemy import select

from raters.models import AuditEvent
from tasks.catalogue.models import Asset, Item, ItemOutput
from tasks.rating.models import Assignment, Flag
from tests.tasks.rating_factories import make_asset
from tests.tasks.test_rating_api import (  # noqa: F401 — fixtures and helpers of the API tests
    backdate, call, client_answer, next_for, submit, world,
)


def test_the_judgment_json_carries_what_was_presented(world, session):
    payload = next_for(world).json
    backdate(session, payload["id"])
    judged = submit(world, payload["id"], client_answer(payload, choice="right"))
    assert judged.status_code == 201
    assignment = session.get(Assignment, payload["id"])
    assert judged.json["presented"] == {"left": {"label": assignment.left_label},
                                        "right": {"label": assignment.right_label}}  # raters: no model names
    again = call(world, "member", "GET", f"/api/v1/assignments/{payload['id']}").json
    assert again["judgment"]["presented"] == judged.json["presented"]


def test_a_flag_names_the_output_and_its_model(world, session):
    payload = next_for(world).json
    flagged = call(world, "member", "POST", f"/api/v1/assignments/{payload['id']}/flag",
                   json={"kind": "broken", "reason": "silent after 0:02", "side": "right"})
    assert flagged.status_code == 201
    assignment = session.get(Assignment, payload["id"])
    listed = call(world, "manager", "GET", f"/api/v1/projects/{world['project'].id}/flags").json["items"][0]
    model = {"a": "gen-alpha", "b": "gen-beta"}[assignment.right_label]
    assert (listed["label"], listed["model"]) == (assignment.right_label, model)
    assert listed["media_url"].startswith("/media/")
    bad = call(world, "member", "POST", f"/api/v1/assignments/{payload['id']}/flag",
               json={"kind": "broken", "reason": "x", "side": "top"})
    assert bad.status_code == 422 and "side" in bad.json["error"]["details"]


def _flag(world, session, side="left"):
    payload = next_for(world).json
    call(world, "member", "POST", f"/api/v1/assignments/{payload['id']}/flag",
         json={"kind": "broken", "reason": "black frames", "side": side})
    flag = session.scalar(select(Flag).order_by(Flag.id.desc()))
    return flag, session.get(Assignment, payload["id"])


def test_dropping_a_reported_item_keeps_it_out_of_routing_and_is_audited(world, session):
    flag, assignment = _flag(world, session)
    dropped = call(world, "manager", "POST", f"/api/v1/flags/{flag.id}/resolve",
                   json={"action": "dropped", "resolution": "the pair is unusable"})
    assert dropped.status_code == 200 and dropped.json["action"] == "dropped"
    session.expire_all()
    assert session.get(Item, assignment.item_id).dropped_at is not None
    for role in ("senior_member",):
        served = next_for(world, role).json
        assert session.get(Assignment, served["id"]).item_id != assignment.item_id
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "flag.dropped"))
    assert event.subject == f"flag:{flag.id}" and "item dropped" in event.detail


def test_replacing_the_reported_asset_puts_the_item_back_with_the_new_media(world, session):
    flag, assignment = _flag(world, session, side="right")
    wrong_kind = make_asset(session, "audio", 3.0)
    revoked = make_asset(session, "video", 3.0)
    revoked.consent = "revoked"
    fresh = make_asset(session, "video", 3.0)
    session.commit()
    for asset, message in ((None, "the id of an uploaded asset"), (wrong_kind, "is audio"),
                           (revoked, "consent revoked")):
        body = {"action": "replaced", "resolution": "new take"} | ({"asset_id": asset.id} if asset else {})
        refused = call(world, "manager", "POST", f"/api/v1/flags/{flag.id}/resolve", json=body)
        assert refused.status_code == 422 and message in refused.json["error"]["details"]["asset_id"]
    done = call(world, "manager", "POST", f"/api/v1/flags/{flag.id}/resolve",
                json={"action": "replaced", "asset_id": fresh.id, "resolution": "re-rendered"})
    assert done.status_code == 200 and done.json["action"] == "replaced"
    session.expire_all()
    output = next(o for o in session.get(Item, assignment.item_id).outputs if o.label == flag.label)
    assert output.asset_id == fresh.id
    assert session.scalar(select(AuditEvent).where(AuditEvent.action == "flag.replaced")) is not None


def test_returning_an_item_to_routing_is_audited(world, session):
    flag, _ = _flag(world, session)
    done = call(world, "manager", "POST", f"/api/v1/flags/{flag.id}/resolve", json={"resolution": "plays fine"})
    assert done.status_code == 200 and done.json["action"] == "returned"
    assert session.scalar(select(AuditEvent).where(AuditEvent.action == "flag.returned")) is not None


def test_the_flags_page_names_the_output_links_its_media_and_offers_the_actions(world, session, login_as):
    flag, _ = _flag(world, session, side="right")
    client, _ = login_as("manager")
    page = client.get(f"/projects/{world['project'].id}/flags").get_data(as_text=True)
    asset = session.scalar(select(Asset).join(ItemOutput, ItemOutput.asset_id == Asset.id)
                           .where(ItemOutput.item_id == flag.item_id, ItemOutput.label == flag.label))
    assert f"output {flag.label} <span class=\"model\">{flag.model}</span>" in page
    assert f"/media/{asset.public_id}" in page
    for action in ("Return to routing", "Drop the item", "Replace the asset"):
        assert action in page
    refused = client.post(f"/flags/{flag.id}/resolve", data={"action": "replaced", "resolution": "x"})
    assert refused.status_code == 422 and "the id of an uploaded asset" in refused.get_data(as_text=True)
    dropped = client.post(f"/flags/{flag.id}/resolve", data={"action": "dropped", "resolution": "unusable"})
    assert dropped.status_code == 302


def _split(world, session):
    project = world["project"]
    project.agreement_target, project.overlap, project.max_overlap = 0.9, 2, 2
    session.commit()
    ids = {}
    for role in ("member", "senior_member"):
        ids[role] = next_for(world, role).json
        backdate(session, ids[role]["id"])
    for n, (role, payload) in enumerate(ids.items()):
        a = session.get(Assignment, payload["id"])
        side = "left" if a.left_label == ("a" if role == "member" else "b") else "right"
        assert submit(world, payload["id"], client_answer(payload, choice=side, seed=40 + n), role=role).status_code == 201
    return session.get(Assignment, ids["member"]["id"]).item_id, ids


def test_the_adjudication_desk_keeps_a_refused_decision_and_shows_who_saw_what(world, session, login_as):
    item_id, ids = _split(world, session)
    client, _ = login_as("manager")
    page = client.get(f"/projects/{world['project'].id}/adjudication").get_data(as_text=True)
    assert "Left better" in page and "Right better" in page and "A better" not in page
    assert "saw gen-alpha (Left here) on the left" in page or "saw gen-beta (Right here) on the left" in page
    assert "Test Rater" in page  # managers see which rater wrote which judgment
    refused = client.post(f"/items/{item_id}/adjudication",
                          data={"choice": "b", "strength": "2", "rationale": "too short"})
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert 'value="b" checked' in html and 'value="2" checked' in html and ">too short</textarea>" in html
    assert 'class="field-error">explain the decision in at least 12 words' in html
    no_choice = client.post(f"/items/{item_id}/adjudication", data={"rationale": "x " * 20})
    assert "choose Left, Right or Tie" in no_choice.get_data(as_text=True)
