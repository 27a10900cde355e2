"""Time-coded notes and per-criterion choices through the API and the page: stored in item labels
with server-computed frames, read back in the author's screen terms, revised with the judgment,
kept in drafts, shown to adjudicators with the author's presentation; every malformed note is a
clear 422 that writes no judgment (the same on SQLite and PostgreSQL)."""
from __future__ import annotations

import re

import json
import math

import pytest
from sqlalchemy import func, select

from tasks.catalogue.models import Asset
from tasks.rating.models import Assignment, Judgment
from tests.tasks.rating_factories import make_item, rating_project, rationale
from tests.tasks.test_rating_api import backdate

CRITERIA = [{"key": "motion", "name": "Motion coherence", "description": "movement reads as continuous"},
            {"key": "fidelity", "name": "Prompt fidelity", "description": "does what the brief asks"}]


@pytest.fixture
def world(app, api, session):
    """A pairwise video project with two criteria that requires a note; 24 fps clips of 10 s."""
    rater_client, rater = api("rater", expertise=["editing"])
    other_client, other = api("rater", expertise=["editing"])
    staff_client, manager = api("manager")
    project = rating_project(session, manager.id, members=[rater, other], overlap=2, max_overlap=2,
                             pairwise_criteria=CRITERIA, require_note=True)
    items = [make_item(session, project, confidence=0.1 * i) for i in range(3)]
    for asset in session.scalars(select(Asset)):
        asset.frame_rate, asset.frame_rate_source = 24.0, "ffprobe"
    session.commit()
    return {"rater": rater_client, "other": other_client, "staff": staff_client, "project": project, "items": items}


def serve(world, session, who="rater") -> dict:
    payload = world[who].post(f"/api/v1/projects/{world['project'].id}/assignments/next").json
    backdate(session, payload["id"])
    return payload


def good_answer(seed=1, **extra) -> dict:
    data = {"choice": "left", "strength": 2, "confidence": 4, "rationale": rationale(seed),
            "playback": {"left": 10.0, "right": 10.0},
            "notes": [{"side": "left", "t_in": 1.5, "t_out": 2.0, "text": "the railing melts into the hand"},
                      {"side": "right", "t_in": 7.25, "text": "a flash frame on the cut"}],
            "criteria": {"motion": {"choice": "left", "strength": 3}, "fidelity": {"choice": "tie"}}}
    return {**data, **extra}


def submit(world, assignment_id, body, key="k-1", who="rater"):
    return world[who].post(f"/api/v1/assignments/{assignment_id}/judgment", json=body,
                           headers={"Idempotency-Key": key})


def judgments(session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(Judgment))


def test_the_assignment_tells_the_client_the_criteria_frame_rates_and_note_rules(world, session):
    payload = serve(world, session)
    assert payload["criteria"] == CRITERIA
    assert payload["item"]["left"]["frame_rate"] == 24.0 and payload["item"]["right"]["frame_rate"] == 24.0
    assert payload["rules"]["require_note"] is True and payload["rules"]["max_notes"] == 50


def test_notes_and_criteria_are_stored_in_labels_and_read_back_in_screen_terms(world, session):
    payload = serve(world, session)
    created = submit(world, payload["id"], good_answer())
    assert created.status_code == 201, created.json
    assignment = session.get(Assignment, payload["id"])
    left, right = assignment.left_label, assignment.right_label
    stored = session.scalar(select(Judgment))
    assert stored.notes == [
        {"label": left, "t_in": 1.5, "t_out": 2.0, "frame_in": 36, "frame_out": 48, "text": "the railing melts into the hand"},
        {"label": right, "t_in": 7.25, "t_out": None, "frame_in": 174, "frame_out": None, "text": "a flash frame on the cut"}]
    assert stored.criteria == {"motion": {"choice": left, "strength": 3}, "fidelity": {"choice": "tie", "strength": None}}
    body = created.json
    assert body["notes"][0] | {} == {"side": "left", "label": left, "t_in": 1.5, "t_out": 2.0, "frame_in": 36,
                                     "frame_out": 48, "timecode_in": "00:00:01:12", "timecode_out": "00:00:02:00",
                                     "text": "the railing melts into the hand"}
    assert body["notes"][1]["side"] == "right" and body["notes"][1]["timecode_out"] is None
    assert body["criteria"] == {"motion": {"choice": "left", "strength": 3}, "fidelity": {"choice": "tie", "strength": None}}
    again = world["rater"].get(f"/api/v1/assignments/{payload['id']}").json
    assert again["judgment"]["notes"] == body["notes"]


@pytest.mark.parametrize("change, field, message", [
    ({"notes": [{"side": "left", "t_in": math.nan, "text": "x"}]}, "notes", "note 1: t_in must be a time"),
    ({"notes": [{"side": "left", "t_in": 1e309, "text": "x"}]}, "notes", "note 1: t_in must be a time"),
    ({"notes": [{"side": "left", "t_in": -1, "text": "x"}]}, "notes", "note 1: t_in must be a time"),
    ({"notes": [{"side": "left", "t_in": 3, "t_out": 2, "text": "x"}]}, "notes", "note 1: t_out (2 s) is before t_in (3 s)"),
    ({"notes": [{"side": "right", "t_in": 11, "text": "x"}]}, "notes", "note 1: 11 s is past the end of the media (10 s)"),
    ({"notes": [{"side": "left", "t_in": 1, "text": "bad\u0000text"}]}, "notes", "note 1: text contains control characters"),
    ({"notes": [{"side": "left", "t_in": 1, "text": "x" * 1001}]}, "notes", "note 1: text is longer than 1000 characters"),
    ({"notes": [{"side": "output", "t_in": 1, "text": "x"}]}, "notes", "note 1: side must be one of left, right"),
    ({"notes": [{"side": "left", "t_in": 1, "text": "x"}] * 51}, "notes", "at most 50 notes"),
    ({"notes": "left at 1 s"}, "notes", "must be a list"),  # the boundary's answer
    ({"notes": [7]}, "notes", "note 1: must be an object"),
    ({"criteria": {"motion": {"choice": "left", "strength": 3}}}, "criteria.fidelity", "Prompt fidelity: choose left"),
    ({"criteria": {"motion": {"choice": "left", "strength": 3}, "fidelity": {"choice": "tie"},
                   "colour": {"choice": "tie"}}}, "criteria", "unknown criterion: colour"),
    ({"criteria": [1, 2]}, "criteria", "must be an object"),  # the boundary's answer
])
def test_every_malformed_note_or_criterion_is_a_clear_422_and_writes_no_judgment(world, session, change, field, message):
    payload = serve(world, session)
    refused = submit(world, payload["id"], good_answer(**change))
    error = refused.json["error"]
    if error["code"] == "invalid_json":  # NaN / Infinity: the JSON reader refuses the whole body (400)
        assert refused.status_code == 400 and ("NaN" in error["message"] or "Infinity" in error["message"]), error
    else:  # the boundary (types, sizes: "notes.0.text") or the note rules (where a note points)
        assert refused.status_code == 422 and error["code"] == "validation_failed", error
        named = {k: v for k, v in error["details"].items() if _bracketed(k).startswith(field)}
        assert named, error
        if field in named:
            assert named[field].startswith(message) or message in named[field], error
    assert judgments(session) == 0
    session.expire_all()
    assert session.get(Assignment, payload["id"]).status == "open"


def test_a_project_that_requires_a_note_refuses_a_judgment_without_one(world, session):
    payload = serve(world, session)
    refused = submit(world, payload["id"], good_answer(notes=[]))
    assert refused.status_code == 422 and refused.json["error"]["code"] == "judgment_refused"
    assert refused.json["error"]["details"]["notes"] == "This project asks for at least one time-coded note with every judgment."
    assert judgments(session) == 0
    assert session.get(Assignment, payload["id"]).draft.answer["notes"] == []  # the refused answer is the draft


def test_two_precise_notes_and_a_short_summary_explain_enough(world, session):
    payload = serve(world, session)
    notes = [{"side": "left", "t_in": 2.0, "t_out": 3.5, "text": "Runner's arm smears into the wall for six frames."},
             {"side": "right", "t_in": 2.0, "text": "Same beat stays crisp, footfalls land on the puddle."}]
    short = {"rationale": "Right holds together.", "notes": notes}
    assert submit(world, payload["id"], good_answer(**short)).status_code == 201


def test_pasting_one_note_many_times_explains_nothing_more(world, session):
    payload = serve(world, session)
    pasted = [{"side": "left", "t_in": float(t), "text": "Bad motion here on the left side."} for t in range(5)]
    refused = submit(world, payload["id"], good_answer(rationale="Right is better.", notes=pasted))
    assert refused.status_code == 422
    assert refused.json["error"]["details"]["rationale"].startswith(
        "Too short: write at least 12 words explaining your judgment (10 so far, rationale and notes together")


def test_a_revision_carries_its_own_notes_and_the_old_judgment_keeps_its_own(world, session):
    payload = serve(world, session)
    assert submit(world, payload["id"], good_answer()).status_code == 201
    new_notes = [{"side": "right", "t_in": 4.0, "t_out": 5.0, "text": "on a second look the flare pulses"}]
    revision = {k: v for k, v in good_answer(seed=77, notes=new_notes, choice="right").items() if k != "playback"}
    revised = world["rater"].put(f"/api/v1/assignments/{payload['id']}/judgment", json=revision,
                                 headers={"Idempotency-Key": "rev-1"})
    assert revised.status_code == 201, revised.json
    assert [n["text"] for n in revised.json["notes"]] == ["on a second look the flare pulses"]
    session.expire_all()
    old, new = session.scalars(select(Judgment).order_by(Judgment.id)).all()
    assert len(old.notes) == 2 and old.superseded_at is not None and len(new.notes) == 1


def test_a_draft_with_nan_or_infinity_is_a_clear_422(world, session):
    payload = serve(world, session)
    for raw in ('{"notes": [{"side": "left", "t_in": NaN, "text": "x"}]}', '{"confidence": Infinity}'):
        refused = world["rater"].put(f"/api/v1/assignments/{payload['id']}/draft", data=raw,
                                     content_type="application/json")
        # refused whole by the JSON reader (400) before anything is stored
        assert refused.status_code == 400 and refused.json["error"]["code"] == "invalid_json", refused.json
    session.expire_all()
    assert session.get(Assignment, payload["id"]).draft is None


def test_a_draft_keeps_notes_and_criteria_and_answers_the_server_time(world, session):
    payload = serve(world, session)
    draft = {"choice": "left", "notes": good_answer()["notes"], "criteria": {"motion": {"choice": "right", "strength": 1}},
             "client_saved_at": "2026-12-01T23:50:00.000Z"}
    saved = world["rater"].put(f"/api/v1/assignments/{payload['id']}/draft", json=draft)
    assert saved.status_code == 200 and saved.json["saved_at"]
    resumed = world["rater"].get(f"/api/v1/assignments/{payload['id']}").json
    assert resumed["draft"] == draft and resumed["draft_saved_at"] == saved.json["saved_at"]


def test_adjudicators_see_each_note_with_its_authors_presentation(world, session):
    item_id = None
    for who, label in (("rater", "a"), ("other", "b")):  # opposite labels: the panel of two splits
        payload = serve(world, session, who)
        assignment = session.get(Assignment, payload["id"])
        item_id = item_id or assignment.item_id
        assert assignment.item_id == item_id  # lowest confidence first: both get the same item
        choice = "left" if assignment.left_label == label else "right"
        notes = [{"side": "left", "t_in": 1.0, "text": f"{who}: the left take at one second"},
                 {"side": "right", "t_in": 2.0, "text": f"{who} also marks the right take at two seconds"}]
        body = good_answer(seed=11 if who == "rater" else 12, choice=choice, notes=notes,
                           criteria={"motion": {"choice": choice, "strength": 1}, "fidelity": {"choice": "tie"}})
        done = submit(world, payload["id"], body, who=who)
        assert done.status_code == 201, done.json
    queue = world["staff"].get(f"/api/v1/projects/{world['project'].id}/adjudications/queue")
    split = [i for i in queue.json["items"] if i["item_id"] == item_id]
    assert split, queue.json
    for j in split[0]["judgments"]:
        assignment = session.scalar(select(Assignment).where(Assignment.item_id == item_id,
                                                             Assignment.rater_id == j["rater"]["id"]))
        assert j["notes"][0]["label"] == assignment.left_label and j["notes"][0]["side"] == "left"
        assert j["notes"][1]["label"] == assignment.right_label and j["notes"][1]["side"] == "right"
        assert j["criteria"] == {"motion": {"choice": j["choice"], "strength": 1}, "fidelity": {"choice": "tie", "strength": None}}
        assert j["presented_note"].startswith("saw ")


def test_the_page_form_sends_notes_as_json_and_criteria_as_radios(app, client, session, make_user):
    manager, rater = make_user("manager"), make_user("rater", expertise=["editing"])
    project = rating_project(session, manager.id, members=[rater], pairwise_criteria=CRITERIA, min_media_fraction=0.0)
    make_item(session, project)
    assert client.login(rater.email).status_code == 302
    started = client.post(f"/projects/{project.id}/next")
    assignment_id = int(started.headers["Location"].rsplit("/", 1)[1])
    form = {"choice": "right", "strength": "1", "confidence": "3", "rationale": rationale(5), "idempotency_key": "p-1",
            "notes_json": json.dumps([{"side": "right", "t_in": 0.5, "text": "the gull freezes mid-flap"}]),
            "crit-motion-choice": "right", "crit-motion-strength": "2", "crit-fidelity-choice": "tie",
            "crit-fidelity-strength": "3"}
    bad = client.post(f"/assignments/{assignment_id}", data={**form, "notes_json": "[{"})
    assert bad.status_code == 422  # the page shows errors["notes"]; the refused answer is the draft
    session.expire_all()
    assert session.get(Assignment, assignment_id).draft.answer["notes"] == "[{"
    missing = client.post(f"/assignments/{assignment_id}", data={k: v for k, v in form.items() if "fidelity" not in k})
    assert missing.status_code == 422
    session.expire_all()
    assert session.get(Assignment, assignment_id).draft.answer["criteria"] == {"motion": {"choice": "right", "strength": 2}}
    assert judgments(session) == 0
    done = client.post(f"/assignments/{assignment_id}", data=form)
    assert done.status_code == 302, done.get_data(as_text=True)
    session.expire_all()
    stored = session.scalar(select(Judgment))
    right = session.get(Assignment, assignment_id).right_label
    assert stored.notes[0]["label"] == right and stored.criteria == {
        "motion": {"choice": right, "strength": 2}, "fidelity": {"choice": "tie", "strength": None}}


def test_a_project_without_criteria_refuses_per_criterion_choices(app, api, session):
    client, rater = api("rater")
    _staff, manager = api("manager")
    project = rating_project(session, manager.id, members=[rater])
    make_item(session, project)
    payload = client.post(f"/api/v1/projects/{project.id}/assignments/next").json
    backdate(session, payload["id"])
    body = good_answer(criteria={"motion": {"choice": "left", "strength": 1}})
    refused = client.post(f"/api/v1/assignments/{payload['id']}/judgment", json=body, headers={"Idempotency-Key": "x"})
    assert refused.status_code == 422 and refused.json["error"]["details"]["criteria"] == \
        "this project has no per-criterion choices"
    accepted = client.post(f"/api/v1/assignments/{payload['id']}/judgment", json=good_answer(criteria=None),
                           headers={"Idempotency-Key": "y"})
    assert accepted.status_code == 201 and accepted.json["criteria"] is None


def test_project_settings_validate_criteria_and_the_note_requirement(api):
    client, _manager = api("manager")
    base = {"name": "Crit", "kind": "pairwise", "modality": "video"}
    ok = client.post("/api/v1/projects", json={**base, "pairwise_criteria": CRITERIA, "require_note": True})
    assert ok.status_code == 201 and ok.json["pairwise_criteria"] == CRITERIA and ok.json["require_note"] is True
    for bad, field in (({"pairwise_criteria": [{"key": "Motion", "name": "x"}]}, "pairwise_criteria[0].key"),
                       ({"pairwise_criteria": [{"key": "m", "name": ""}]}, "pairwise_criteria[0].name"),
                       ({"pairwise_criteria": [{"key": "m", "name": "M"}, {"key": "m", "name": "N"}]}, "pairwise_criteria[1].key"),
                       ({"pairwise_criteria": [{"key": "m", "name": "M", "extra": 1}]}, "pairwise_criteria[0]"),
                       ({"pairwise_criteria": [{"key": f"k{i}", "name": "K"} for i in range(9)]}, "pairwise_criteria"),
                       ({"pairwise_criteria": "motion"}, "pairwise_criteria"),
                       ({"pairwise_criteria": [{"key": "m", "name": "M\u0000"}]}, "pairwise_criteria"),
                       ({"kind": "rubric", "rubric": [{"key": "c", "label": "C", "min": 1, "max": 5,
                                                       "levels": {"1": "a", "5": "b"}}],
                         "pairwise_criteria": CRITERIA}, "pairwise_criteria"),
                       ({"require_note": "yes"}, "require_note")):
        refused = client.post("/api/v1/projects", json={**base, "name": f"Crit {field}", **bad})
        details = refused.json["error"]["details"]
        assert refused.status_code in (400, 422) and any(_bracketed(k).startswith(field) for k in details), (bad, refused.json)


def test_the_project_form_takes_criteria_one_a_line(login_as, session):
    web, _ = login_as("manager")
    form = {"name": "Form crit", "kind": "pairwise", "modality": "video", "instructions": "", "rubric_rows": "0",
            "overlap": "3", "max_overlap": "5", "agreement_target": "0.67", "confidence_threshold": "0.9",
            "audit_rate": "0.05", "gold_rate": "0.05", "min_rationale_words": "12", "min_media_fraction": "0.8",
            "revision_window_h": "24", "require_note": "on",
            "pairwise_criteria": "motion | Motion coherence | continuous movement\n\nsync | Sound sync |"}
    created = web.post("/projects/new", data=form)
    assert created.status_code == 302, created.get_data(as_text=True)
    edit = web.get(created.headers["Location"] + "/edit").get_data(as_text=True)
    assert "motion | Motion coherence | continuous movement" in edit and 'name="require_note" value="on" checked' in edit


def _bracketed(key: str) -> str:
    """A field path as the rules name it (``notes[0].text``) from the boundary's (``notes.0.text``)."""
    return re.sub(r"\.(\d+)", r"[\1]", key)
