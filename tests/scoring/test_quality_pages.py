"""The manager's desk on a real database: the loader, the API (raters, one rater, items by
state, progress, calibration), the pages, and a rater's own figures on their home page."""
from __future__ import annotations

import html
import itertools
import secrets
from datetime import timedelta

import pytest

from database import utcnow
from raters.models import User
from tasks.catalogue.models import Asset, Item, ItemOutput, ProjectMember
from tasks.rating import overlap
from tasks.rating.models import Assignment, Flag, Judgment
from tests.scoring.stats_factories import stats_project
from tests.tasks.rating_factories import rationale

N_ITEMS = 24
_n = itertools.count(1)


def _item(session, project, *, confidence=None, gold=None, model_choice=None, consent="granted", duration=8.0):
    n = next(_n)
    row = Item(project_id=project.id, external_id=f"shot-{n:03d}", prompt=f"Brief {n}: a harbour at dawn",
               model_confidence=confidence, gold=gold, extra={"model_choice": model_choice} if model_choice else None)
    for label, model in (("a", "gen-a"), ("b", "gen-b")):
        asset = Asset(sha256=secrets.token_hex(32), public_id=secrets.token_urlsafe(18), media_kind="video",
                      mime_type="video/mp4", size_bytes=1, duration_s=duration, original_name="x",
                      consent=consent if label == "b" else "granted")
        row.outputs.append(ItemOutput(label=label, model=model, asset=asset))
    session.add(row)
    session.flush()
    return row


def _live(session, item, who, *, choice, left, seconds, rationale, when):
    assignment = Assignment(project_id=item.project_id, item_id=item.id, rater_id=who.id,
                            served_at=when - timedelta(seconds=seconds), expires_at=when + timedelta(minutes=25),
                            left_label=left, status="submitted", submitted_at=when, closed_at=when)
    session.add(assignment)
    session.flush()
    session.add(Judgment(project_id=item.project_id, item_id=item.id, rater_id=who.id, assignment_id=assignment.id,
                         choice=choice, strength=None if choice == "tie" else 2, rationale=rationale, confidence=4,
                         time_on_task_ms=int(seconds * 1000), source="live", created_at=when))


@pytest.fixture
def desk(app, session, make_user):
    """Three careful raters and a rubber-stamper (always Left, faster than the clips, one
    sentence) on 24 items, a gold item, a confident item, a flagged item and one without consent."""
    manager = make_user("manager")
    project = stats_project(session, manager.id, confidence_threshold=0.9, audit_rate=0.0)
    raters = [session.get(User, make_user("rater").id) for _ in range(4)]
    for who, name in zip(raters, ("Careful 0", "Careful 1", "Careful 2", "Stamper")):
        who.name = name
    now = utcnow()
    items = [_item(session, project, model_choice="a", confidence=0.5) for _ in range(N_ITEMS)]
    gold = _item(session, project, gold={"choice": "a"})
    confident = _item(session, project, confidence=0.95, model_choice="a")
    flagged = _item(session, project)
    session.add(Flag(project_id=project.id, item_id=flagged.id, kind="broken", reason="black frames"))
    no_consent = _item(session, project, consent="revoked")
    for k, it in enumerate(items + [gold, no_consent]):
        for r, who in enumerate(raters):
            left = "ab"[(k + r) % 2]
            when = now - timedelta(days=k % 10, hours=r)
            if who.name == "Stamper":
                _live(session, it, who, choice=left, left=left, seconds=6.0, rationale="looks fine to me overall good",
                      when=when)
            else:
                truth = "a" if k % 3 else "b"
                choice = truth if (k + r) % 7 else {"a": "b", "b": "a"}[truth]
                words = rationale(k * 10 + r) + f" at 0:{k:02d}"
                _live(session, it, who, choice=choice, left=left, seconds=20.0 + k, rationale=words, when=when)
    session.flush()
    overlap.refresh_project(session, project)
    session.commit()
    return {"project": project, "raters": {r.name: r.id for r in raters}, "confident": confident.id,
            "flagged": flagged.id, "gold": gold.id}


def test_the_raters_api_flags_the_rubber_stamper_and_no_careful_rater(api, desk):
    client, _ = api("manager")
    body = client.get(f"/api/v1/projects/{desk['project'].id}/raters").json
    rows = {r["name"]: r for r in body["raters"]}
    stamper = rows["Stamper"]
    assert {f["figure"] for f in stamper["flags"]} >= {"time", "position"}
    assert stamper["position"]["share"] == 1.0 and stamper["position"]["n"] == N_ITEMS + 1  # regular items only
    assert stamper["time"]["too_fast"]["share"] == 1.0
    assert stamper["rationale"]["near_duplicate"]["share"] == 1.0
    for name in ("Careful 0", "Careful 1", "Careful 2"):
        assert rows[name]["flags"] == [], rows[name]["flags"]
        assert rows[name]["gold"]["n"] == 1 and rows[name]["gold"]["ci"][0] is not None
    assert body["thresholds"]["gold_accuracy"] == 0.7


def test_one_raters_judgments_come_with_the_sides_they_saw(api, desk):
    client, _ = api("researcher")
    rater_id = desk["raters"]["Stamper"]
    body = client.get(f"/api/v1/projects/{desk['project'].id}/raters/{rater_id}").json
    assert body["name"] == "Stamper" and len(body["judgments"]) == body["n"]
    for j in body["judgments"]:
        assert j["side"] == "left" and j["presented"]["left"]["label"] == j["choice"]
        assert j["presented"]["left"]["model"] == {"a": "gen-a", "b": "gen-b"}[j["choice"]]
    assert [g["item_id"] for g in body["gold_results"]] == [desk["gold"]]
    assert sum(w["n"] for w in body["weekly"]) == body["n"]
    missing = client.get(f"/api/v1/projects/{desk['project'].id}/raters/999999")
    assert missing.status_code == 404 and missing.json["error"]["code"] == "not_found"


def test_items_are_filtered_by_state_and_searched(api, desk):
    client, _ = api("manager")
    base = f"/api/v1/projects/{desk['project'].id}/items"
    auto = client.get(f"{base}?state=auto_accepted").json
    assert [i["id"] for i in auto["items"]] == [desk["confident"]] and auto["items"][0]["state"] == "auto_accepted"
    assert [i["id"] for i in client.get(f"{base}?state=flagged").json["items"]] == [desk["flagged"]]
    assert client.get(f"{base}?state=gold").json["total"] == 1
    assert client.get(f"{base}?q=SHOT-").json["total"] == N_ITEMS + 4
    bad = client.get(f"{base}?state=nonsense")
    assert bad.status_code == 400 and bad.json["error"]["code"] == "invalid_parameter"


def test_progress_shows_the_funnel_with_what_each_step_lost(api, desk):
    client, _ = api("manager")
    body = client.get(f"/api/v1/projects/{desk['project'].id}/progress").json
    steps = {s["step"]: s for s in body["funnel"]}
    assert steps["imported"]["n"] == N_ITEMS + 3  # regular items: the gold one is a check
    assert steps["routed"]["n"] == N_ITEMS + 2 and steps["routed"]["lost"][0]["n"] == 1
    lost = {entry["reason"]: entry["n"] for entry in steps["judged"]["lost"]}
    assert lost["flagged media held out of routing"] == 1
    assert steps["exportable"]["n"] == steps["agreed"]["n"] - 1  # the item without consent
    assert sum(d["judgments"] for d in body["per_day"]) == 4 * (N_ITEMS + 2)
    assert body["active_raters_7d"] == 4 and body["states"]["auto_accepted"] == 1


def test_calibration_compares_the_panel_with_the_models_choice(api, desk):
    client, _ = api("manager")
    body = client.get(f"/api/v1/projects/{desk['project'].id}/calibration").json
    assert body["supported"] and body["auto_accepted"] == 1 and body["judgments_saved"] == 3
    filled = [b for b in body["bins"] if b["n"]]
    assert len(filled) == 1 and filled[0]["low"] == 0.5 and filled[0]["share"] > 0.5
    assert body["audit"]["n"] == 0 and body["estimated_errors"] is None


def test_the_pages_show_the_panel_a_rater_progress_items_and_calibration(login_as, desk):
    client, _ = login_as("manager")
    pid = desk["project"].id
    panel = client.get(f"/projects/{pid}/raters")
    page = html.unescape(panel.get_data(as_text=True))
    assert panel.status_code == 200 and 'id="plot-scatter"' in page and 'class="flagged"' in page
    assert "chose Left in 100%" in page
    detail = client.get(f"/projects/{pid}/raters/{desk['raters']['Stamper']}").get_data(as_text=True)
    assert "Left: <strong>" in detail and "looks fine to me overall good" in detail
    for path, marker in ((f"/projects/{pid}/progress", 'id="plot-funnel"'),
                         (f"/projects/{pid}/calibration", 'id="plot-reliability"')):
        response = client.get(path)
        assert response.status_code == 200 and marker in response.get_data(as_text=True), path
    items = client.get(f"/projects/{pid}/items?state=flagged").get_data(as_text=True)
    assert items.count('class="state-chip state-flagged"') == 1


def test_a_rater_sees_only_their_own_figures_on_their_home_page(client, app, desk, session):
    project = desk["project"]
    stamper = session.get(User, desk["raters"]["Stamper"])
    session.add(ProjectMember(project_id=project.id, user_id=stamper.id))
    session.commit()
    client.login(stamper.email)
    home = client.get("/").get_data(as_text=True)
    assert "Your agreement with the other raters" in home and "accuracy on check items" in home
    assert client.get(f"/projects/{project.id}/raters").status_code == 403


def test_a_project_without_judgments_has_empty_pages_and_answers(login_as, api, session, make_user):
    manager = make_user("manager")
    project = stats_project(session, manager.id)
    _item(session, project)
    session.commit()
    client, _ = login_as("researcher")
    for path in ("raters", "progress", "calibration", "items"):
        assert client.get(f"/projects/{project.id}/{path}").status_code == 200, path
    reader, _ = api("researcher")
    assert reader.get(f"/api/v1/projects/{project.id}/raters").json["raters"] == []
    assert reader.get(f"/api/v1/projects/{project.id}/progress").json["funnel"][0]["n"] == 1
    assert reader.get(f"/api/v1/projects/{project.id}/calibration").json["bins"][0]["n"] == 0
    rubric = stats_project(session, manager.id, kind="rubric")
    session.commit()
    assert reader.get(f"/api/v1/projects/{rubric.id}/calibration").json["supported"] is False
    assert client.get(f"/projects/{rubric.id}/raters").status_code == 200


def test_the_raters_page_says_when_an_em_fit_did_not_converge(login_as, api, desk, monkeypatch):
    """Dawid–Skene's and MACE's fits are reported (API) and, when one stopped at its guard
    before converging, the page says its column is the last estimate -- never a silent cap."""
    from scoring.quality import agreement
    pid = desk["project"].id
    body = api("manager")[0].get(f"/api/v1/projects/{pid}/raters").json["panel"]
    assert body["dawid_skene"]["converged"] is True and body["mace"]["converged"] is True
    page = login_as("manager")[0].get(f"/projects/{pid}/raters").get_data(as_text=True)
    assert "did not converge" not in page
    monkeypatch.setattr(agreement, "MACE_MAX_ITER", 2)  # the guard both fits share
    body = api("researcher")[0].get(f"/api/v1/projects/{pid}/raters").json["panel"]
    assert body["dawid_skene"] == {"iterations": 2, "converged": False} == body["mace"]
    page = html.unescape(login_as("manager")[0].get(f"/projects/{pid}/raters").get_data(as_text=True))
    assert "Dawid–Skene did not converge within 2 EM steps" in page and "MACE did not converge within 2 EM steps" in page
