"""The rating API: every new route against every role, the assignment payload (no model, label
or gold leaks), judgments with Idempotency-Key, refusals that keep the draft, flags, adjudication."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from tasks.rating import overlap
from tasks.rating.models import Assignment, Draft, Flag, Judgment
from tests.tasks.rating_factories import make_item, observe, rating_project, rationale, store_for

ROLES = ("anonymous", "admin", "manager", "researcher", "member", "outsider", "senior_member", "senior_outsider")


def backdate(session, assignment_id: int, seconds: float = 600, *, watched: bool = True) -> None:
    """Pretend the assignment was served ``seconds`` ago (the server clock decides dwell) and,
    with ``watched``, that the server observed both outputs played through."""
    row = session.get(Assignment, assignment_id)
    session.execute(update(Assignment).where(Assignment.id == assignment_id).values(
        served_at=row.served_at - timedelta(seconds=seconds), expires_at=row.expires_at - timedelta(seconds=seconds)))
    session.expire_all()
    if watched:
        row = session.get(Assignment, assignment_id)
        sides = ("left", "right") if row.project.kind == "pairwise" else ("output",)
        observe(session, row, {side: row.item.outputs[0].asset.duration_s or 0 for side in sides})
    session.commit()
    session.expire_all()


def client_answer(payload: dict, *, choice="left", seed=1, **extra) -> dict:
    item = payload["item"]
    data = {"choice": choice, "strength": 2, "confidence": 4, "rationale": rationale(seed),
            "playback": {"left": item["left"]["duration_s"], "right": item["right"]["duration_s"]}}
    return {**data, **extra}


@pytest.fixture
def world(app, api, session):
    """A pairwise video project (members: a rater and a senior rater), five items, a client per role."""
    clients = {"anonymous": (app.test_client(), None)}
    for role in ROLES[1:]:
        base = "rater" if "member" in role or "outsider" in role else role
        clients[role] = api(base, expertise=["editing"], senior=role.startswith("senior"))
    users = {role: user for role, (_client, user) in clients.items()}
    project = rating_project(session, users["manager"].id, members=[users["member"], users["senior_member"]],
                             overlap=2, max_overlap=2)
    items = [make_item(session, project, confidence=0.1 * i) for i in range(5)]
    return {"clients": {r: c for r, (c, _u) in clients.items()}, "users": users, "project": project,
            "items": items}


def call(world, role, method, path, **kwargs):
    return getattr(world["clients"][role], method.lower())(path, **kwargs)


def next_for(world, role="member"):
    return call(world, role, "POST", f"/api/v1/projects/{world['project'].id}/assignments/next")


# -- who may do what ------------------------------------------------------------------------

def expected_statuses(world, session):
    """(method, path, body, {role: expected status}) for every rating route, in a state where each
    route can answer: the member holds an open assignment, a flag is open, an item is split."""
    p = world["project"].id
    member_assignment = next_for(world).json["id"]
    # An item split between two outsiders' worth of judgments: written directly.
    split_item = world["items"][-1]
    senior_out = world["users"]["senior_outsider"]
    for rater, choice in ((world["users"]["outsider"], "a"), (senior_out, "b")):
        session.add(Judgment(project_id=p, item_id=split_item.id, rater_id=rater.id, choice=choice, strength=1,
                             rationale="imported", confidence=3, source="imported"))
    session.flush()
    overlap.refresh_panel(session, split_item)
    flag = Flag(project_id=p, item_id=world["items"][0].id, reported_by_id=senior_out.id, kind="broken",
                reason="black frames")
    session.add(flag)
    session.commit()
    staff = {"admin", "manager"}
    rater_roles = {"member", "outsider", "senior_member", "senior_outsider"}

    def rater_route(member_status):
        # Raters only; the assignment belongs to "member": other raters get 404 (not revealed).
        return {r: (401 if r == "anonymous" else member_status if r == "member" else
                    404 if r in rater_roles else 403) for r in ROLES}

    def staff_route(status):
        return {r: 401 if r == "anonymous" else status if r in staff else 403 for r in ROLES}

    adjudicators = staff | {"senior_member"}
    return [
        ("POST", f"/api/v1/projects/{p}/assignments/next", None,
         {r: 401 if r == "anonymous" else 200 if r == "member" else 201 if r == "senior_member" else 403
          for r in ROLES}),
        ("GET", f"/api/v1/assignments/{member_assignment}", None, rater_route(200)),
        ("PUT", f"/api/v1/assignments/{member_assignment}/draft", {"choice": "left"}, rater_route(200)),
        ("POST", f"/api/v1/assignments/{member_assignment}/judgment", {}, rater_route(422)),
        ("PUT", f"/api/v1/assignments/{member_assignment}/judgment", {}, rater_route(409)),
        ("POST", f"/api/v1/assignments/{member_assignment}/skip", {}, rater_route(422)),
        ("POST", f"/api/v1/assignments/{member_assignment}/flag", {}, rater_route(422)),
        ("GET", f"/api/v1/projects/{p}/flags", None, staff_route(200)),
        ("POST", f"/api/v1/flags/{flag.id}/resolve", {}, staff_route(422)),
        ("GET", f"/api/v1/projects/{p}/adjudications/queue", None,
         {r: 401 if r == "anonymous" else 200 if r in adjudicators else 403 for r in ROLES}),
        ("POST", f"/api/v1/items/{split_item.id}/adjudication", {},
         {r: 401 if r == "anonymous" else 422 if r in adjudicators else 403 for r in ROLES}),
    ]


def test_every_rating_route_against_every_role(world, session):
    wrong = []
    for method, path, body, expected in expected_statuses(world, session):
        for role in ROLES:
            headers = {"Idempotency-Key": f"{role}-1"} if path.endswith("/judgment") else {}
            response = call(world, role, method, path, json=body, headers=headers)
            if response.status_code != expected[role]:
                wrong.append(f"{method} {path} as {role}: {response.status_code}, expected {expected[role]}"
                             f" {response.get_data(as_text=True)[:120]}")
    assert wrong == [], "\n".join(wrong)


def test_a_rater_without_consent_is_sent_to_sign_it(api, make_user, session):
    client, rater = api("rater", consent=False)
    project = rating_project(session, make_user("manager").id, members=[rater])
    make_item(session, project)
    response = client.post(f"/api/v1/projects/{project.id}/assignments/next")
    assert response.status_code == 403 and response.json["error"]["code"] == "consent_required"


def test_openapi_documents_the_rating_routes(world):
    doc = call(world, "anonymous", "GET", "/api/v1/openapi.json").json
    judgment = doc["paths"]["/assignments/{assignment_id}/judgment"]
    assert judgment["post"]["x-access"] == "rating.work" and "Idempotency-Key" in judgment["post"]["summary"]
    assert set(judgment) == {"post", "put"}
    assert doc["paths"]["/items/{item_id}/adjudication"]["post"]["x-access"] == "adjudication.decide"
    assert "/projects/{project_id}/assignments/next" in doc["paths"]


# -- the assignment -------------------------------------------------------------------------

def test_next_serves_then_resumes_then_answers_204_when_nothing_is_left(world, session):
    first = next_for(world)
    assert first.status_code == 201
    resumed = next_for(world)
    assert resumed.status_code == 200 and resumed.json["id"] == first.json["id"]
    for _ in range(5):
        current = next_for(world).json
        skipped = call(world, "member", "POST", f"/api/v1/assignments/{current['id']}/skip",
                       json={"reason": "not my field"})
        assert skipped.status_code == 200 and skipped.json["status"] == "skipped"
    nothing = next_for(world)
    assert nothing.status_code == 204 and nothing.get_data() == b""


def test_the_payload_never_names_the_model_the_label_or_gold(world, session):
    world["project"].gold_rate = 1.0  # the first assignment is the gold item
    gold = make_item(session, world["project"], confidence=0.0, gold={"choice": "a"})
    seen = []
    for _ in range(6):
        response = next_for(world)
        if response.status_code == 204:
            break
        payload = response.json
        seen.append(payload)
        text = json.dumps(payload).lower()
        for leak in ("gen-alpha", "gen-beta", "secret-model-x", "gold", "left_label", "external_id",
                     "model_confidence", "is_audit"):
            assert leak not in text, leak
        assert set(payload["item"]) == {"prompt", "left", "right"}
        assert set(payload["rules"]) >= {"min_rationale_words", "min_media_fraction", "earliest_submit_s",
                                         "min_playback_s", "near_copy_threshold"}
        assert payload["served_at"] and payload["draft"] is None
        call(world, "member", "POST", f"/api/v1/assignments/{payload['id']}/skip", json={"reason": "next"})
    assert len(seen) == 6  # five regular items and the gold one
    # The sides follow the assignment's left label: the left URL is that output's asset.
    assignment = session.get(Assignment, seen[1]["id"])
    left_asset = next(o.asset for o in assignment.item.outputs if o.label == assignment.left_label)
    assert seen[1]["item"]["left"]["media_url"] == f"/media/{left_asset.public_id}"
    assert session.get(Assignment, seen[0]["id"]).item_id == gold.id


def test_script_outputs_carry_their_text_and_fetchable_media(app, api, client, make_user, session):
    api_client, rater = api("rater")
    manager = make_user("manager")
    project = rating_project(session, manager.id, kind="rubric", modality="script", members=[rater])
    make_item(session, project, durations=(12.0,), texts=["INT. KITCHEN — NIGHT\nShe waits."], store=store_for(app))
    payload = api_client.post(f"/api/v1/projects/{project.id}/assignments/next").json
    assert payload["item"]["output"]["text"].startswith("INT. KITCHEN")
    client.login(rater.email)  # the page fetches media with the rater's browser session
    media = client.get(payload["item"]["output"]["media_url"])
    assert media.status_code == 200 and media.get_data(as_text=True).startswith("INT. KITCHEN")
    assert payload["rules"]["min_playback_s"] == {} and payload["rules"]["earliest_submit_s"] == pytest.approx(9.6)
    assert payload["rubric"][0]["key"] == "coherence"


# -- judging --------------------------------------------------------------------------------

def submit(world, assignment_id, body, key="k-1", role="member"):
    return call(world, role, "POST", f"/api/v1/assignments/{assignment_id}/judgment", json=body,
                headers={"Idempotency-Key": key} if key else {})


def test_submit_is_idempotent_and_answers_in_screen_terms(world, session):
    payload = next_for(world).json
    backdate(session, payload["id"])
    body = client_answer(payload, choice="right")
    first = submit(world, payload["id"], body)
    assert first.status_code == 201, first.json
    assert first.json["choice"] == "right" and "Idempotent-Replayed" not in first.headers
    for _ in range(3):
        again = submit(world, payload["id"], body)
        assert again.status_code == 201 and again.json == first.json
        assert again.headers["Idempotent-Replayed"] == "true"
    assert session.scalar(select(func.count()).select_from(Judgment)) == 1
    stored = session.scalar(select(Judgment))
    assignment = session.get(Assignment, payload["id"])
    assert stored.choice == assignment.right_label  # item label, never the screen side
    conflict = submit(world, payload["id"], {**body, "confidence": 2})
    assert conflict.status_code == 409 and conflict.json["error"]["code"] == "idempotency_key_reused"
    missing = submit(world, payload["id"], body, key=None)
    assert missing.status_code == 400 and missing.json["error"]["code"] == "idempotency_key_required"
    state = call(world, "member", "GET", f"/api/v1/assignments/{payload['id']}").json
    assert state["status"] == "submitted" and state["judgment"]["choice"] == "right"
    assert state["revisable_until"] is not None


def test_a_refusal_is_field_keyed_and_keeps_the_draft(world, session):
    payload = next_for(world).json
    body = client_answer(payload, rationale="Left wins.", playback={"left": 1.0, "right": 1.0})
    refused = submit(world, payload["id"], body)
    assert refused.status_code == 422
    error = refused.json["error"]
    assert error["code"] == "judgment_refused"
    assert set(error["details"]) == {"rationale", "timing", "playback"}
    assert "12 words" in error["details"]["rationale"]
    session.expire_all()
    assert session.get(Draft, payload["id"]).answer == body  # committed despite the 422
    assert call(world, "member", "GET", f"/api/v1/assignments/{payload['id']}").json["draft"] == body
    assert session.scalar(select(func.count()).select_from(Judgment)) == 0
    backdate(session, payload["id"])  # the rater watched, then fixed the rationale: same key is fine
    fixed = submit(world, payload["id"], client_answer(payload))
    assert fixed.status_code == 201


def test_malformed_bodies_are_4xx_not_500(world):
    payload = next_for(world).json
    url = f"/api/v1/assignments/{payload['id']}/judgment"
    bad_json = call(world, "member", "POST", url, data="{nope", content_type="application/json",
                    headers={"Idempotency-Key": "x"})
    assert bad_json.status_code == 400
    not_object = call(world, "member", "POST", url, json=[1, 2], headers={"Idempotency-Key": "y"})
    assert not_object.status_code == 400
    invalid = submit(world, payload["id"], {"choice": "up"})
    assert invalid.status_code == 422 and invalid.json["error"]["code"] == "validation_failed"
    assert {"choice", "strength", "confidence"} <= set(invalid.json["error"]["details"])


def test_a_rater_cannot_touch_another_raters_assignment(world, session):
    payload = next_for(world).json
    backdate(session, payload["id"])
    for role in ("outsider", "senior_member"):
        assert call(world, role, "GET", f"/api/v1/assignments/{payload['id']}").status_code == 404
        response = submit(world, payload["id"], client_answer(payload), role=role)
        assert response.status_code == 404 and response.json["error"]["code"] == "not_found"
    assert session.scalar(select(func.count()).select_from(Judgment)) == 0


def test_an_expired_assignment_takes_no_judgment(world, session):
    payload = next_for(world).json
    backdate(session, payload["id"], seconds=3600)
    assert call(world, "member", "GET", f"/api/v1/assignments/{payload['id']}").json["status"] == "expired"
    response = submit(world, payload["id"], client_answer(payload))
    assert response.status_code == 409 and response.json["error"]["code"] == "assignment_expired"
    draft = call(world, "member", "PUT", f"/api/v1/assignments/{payload['id']}/draft", json={"x": 1})
    assert draft.status_code == 409
    fresh = next_for(world)
    assert fresh.status_code == 201 and fresh.json["id"] != payload["id"]


def test_revision_through_the_api(world, session):
    payload = next_for(world).json
    backdate(session, payload["id"])
    submit(world, payload["id"], client_answer(payload, choice="left"))
    revision = {k: v for k, v in client_answer(payload, choice="tie", seed=99).items() if k != "playback"}
    revised = call(world, "member", "PUT", f"/api/v1/assignments/{payload['id']}/judgment", json=revision,
                   headers={"Idempotency-Key": "rev-1"})
    assert revised.status_code == 201 and revised.json["choice"] == "tie" and revised.json["supersedes_id"]
    current = session.scalars(select(Judgment).where(Judgment.superseded_at.is_(None))).all()
    assert [j.choice for j in current] == ["tie"]


def test_draft_autosave_and_resume(world):
    payload = next_for(world).json
    saved = call(world, "member", "PUT", f"/api/v1/assignments/{payload['id']}/draft",
                 json={"choice": "right", "rationale": "The pacing of the right"})
    assert saved.status_code == 200 and saved.json["expires_at"] >= payload["expires_at"]
    resumed = next_for(world).json
    assert resumed["id"] == payload["id"] and resumed["draft"]["choice"] == "right"


def test_flag_then_manager_resolves(world, session):
    payload = next_for(world).json
    flagged = call(world, "member", "POST", f"/api/v1/assignments/{payload['id']}/flag",
                   json={"kind": "broken", "reason": "audio cuts out at 0:03"})
    assert flagged.status_code == 201 and flagged.json["assignment"]["status"] == "skipped"
    listed = call(world, "manager", "GET", f"/api/v1/projects/{world['project'].id}/flags").json
    assert [f["reason"] for f in listed["items"]] == ["audio cuts out at 0:03"]
    flag_id = listed["items"][0]["id"]
    resolved = call(world, "manager", "POST", f"/api/v1/flags/{flag_id}/resolve", json={"resolution": "replaced"})
    assert resolved.status_code == 200 and resolved.json["resolved_at"]
    assert call(world, "manager", "GET", f"/api/v1/projects/{world['project'].id}/flags").json["total"] == 0
    assert call(world, "manager", "GET",
                f"/api/v1/projects/{world['project'].id}/flags?state=resolved").json["total"] == 1
    again = call(world, "manager", "POST", f"/api/v1/flags/{flag_id}/resolve", json={"resolution": "twice"})
    assert again.status_code == 409


def test_split_item_is_adjudicated_through_the_api(world, session):
    p, project = world["project"].id, world["project"]
    project.agreement_target, project.overlap, project.max_overlap = 0.9, 2, 2
    session.commit()
    ids = {}
    for role in ("member", "senior_member"):
        payload = next_for(world, role).json
        ids[role] = payload
        backdate(session, payload["id"])
    # Both raters got the least confident item; one prefers each output.
    first_item = session.get(Assignment, ids["member"]["id"]).item_id
    assert session.get(Assignment, ids["senior_member"]["id"]).item_id == first_item
    for role, payload in ids.items():
        a = session.get(Assignment, payload["id"])
        side = "left" if a.left_label == ("a" if role == "member" else "b") else "right"
        assert submit(world, payload["id"], client_answer(payload, choice=side, seed=len(role)),
                      role=role).status_code == 201
    queue = call(world, "manager", "GET", f"/api/v1/projects/{p}/adjudications/queue").json
    assert [q["item_id"] for q in queue["items"]] == [first_item]
    assert sorted(j["choice"] for j in queue["items"][0]["judgments"]) == ["a", "b"]
    # Each rationale carries the presentation its rater saw (staff also see models and raters).
    for payload, j in zip(ids.values(), queue["items"][0]["judgments"]):
        a = session.get(Assignment, payload["id"])
        assert j["presented"]["left"]["label"] == a.left_label
        assert j["presented"]["left"]["model"] == {"a": "gen-alpha", "b": "gen-beta"}[a.left_label]
        assert j["presented_note"].startswith(f"saw {j['presented']['left']['model']}") and j["rater"]["email"]
    # A senior rater adjudicates blind: no model names, no raters.
    senior_view = call(world, "senior_member", "GET", f"/api/v1/projects/{p}/adjudications/queue").json
    assert "gen-alpha" not in json.dumps(senior_view) and "rater" not in senior_view["items"][0]["judgments"][0]
    assert senior_view["items"][0]["judgments"][0]["presented"]["left"]["label"] in ("a", "b")
    own = call(world, "senior_member", "POST", f"/api/v1/items/{first_item}/adjudication",
               json={"choice": "a", "rationale": rationale(5)})
    assert own.status_code == 409 and own.json["error"]["code"] == "own_panel"
    decided = call(world, "manager", "POST", f"/api/v1/items/{first_item}/adjudication",
                   json={"choice": "a", "strength": 2, "rationale": rationale(6)})
    assert decided.status_code == 201 and decided.json["choice"] == "a"
    assert call(world, "manager", "GET", f"/api/v1/projects/{p}/adjudications/queue").json["total"] == 0
    assert session.scalar(select(func.count()).select_from(Judgment)) == 2  # untouched


def test_an_archived_project_serves_no_assignments(world, session):
    world["project"].archived = True
    session.commit()
    response = next_for(world)
    assert response.status_code == 409 and response.json["error"]["code"] == "project_archived"


def test_a_constraint_hit_by_a_race_answers_409_not_500(world, monkeypatch):
    from sqlalchemy.exc import IntegrityError

    from tasks.rating import routing

    def racing(*_args, **_kwargs):
        raise IntegrityError("INSERT INTO assignments …", {}, Exception("uq_assignments_one_open"))

    monkeypatch.setattr(routing, "next_assignment", racing)
    response = next_for(world)
    assert response.status_code == 409 and response.json["error"]["code"] == "conflict"
