"""Acting on the desk over the API and the pages: pause, resume, exclude and re-include a rater
(audited, with notes), the statistics' "excluded: rater" figure, the exports' rule and filters
for excluded, paused and flagged raters, and a project's threshold overrides."""
from __future__ import annotations

import io
import re
import tarfile

import pytest
from sqlalchemy import func, select

from raters.models import AuditEvent
from tasks.catalogue.models import ProjectMember
from database import utcnow
from raters.models import User
from scoring.reports.data import counted_judgments
from tasks.rating import overlap
from tasks.rating.models import Judgment
from tests.scoring.test_quality_pages import N_ITEMS, _item, _live, desk  # noqa: F401


@pytest.fixture
def members(session, desk):  # noqa: F811
    for rater_id in desk["raters"].values():
        session.add(ProjectMember(project_id=desk["project"].id, user_id=rater_id))
    session.commit()
    return desk


def _export(client, project_id, **options):
    response = client.post(f"/api/v1/projects/{project_id}/exports",
                           json={"kind": "ratings", "format": "jsonl", "media": "references", **options})
    assert response.status_code in (200, 202), response.get_data(as_text=True)
    return client.get(f"/api/v1/exports/{response.json['id']}").json


def test_pause_exclude_include_resume_over_the_api(api, members, session):
    client, manager = api("manager")
    project_id, stamper = members["project"].id, members["raters"]["Stamper"]
    base = f"/api/v1/projects/{project_id}/raters/{stamper}"
    assert client.post(f"{base}/pause", json={}).status_code == 422  # a note is required
    paused = client.post(f"{base}/pause", json={"note": "always Left, faster than the clips"})
    assert paused.status_code == 200 and paused.json["standing"]["status"] == "paused"
    assert client.post(f"{base}/pause", json={"note": "again"}).status_code == 409
    assert client.post(f"{base}/pause", json={"note": "x", "extra": 1}).status_code == 400
    assert client.post(f"/api/v1/projects/{project_id}/raters/999999/pause", json={"note": "x"}).status_code == 404

    stats = f"/api/v1/projects/{project_id}/agreement"
    assert client.get(stats).json["excluded"]["rater"] == 0
    excluded = client.post(f"{base}/exclude", json={"note": "rubber-stamper"})
    assert excluded.json["standing"]["excluded"] is True
    assert client.get(stats).json["excluded"]["rater"] == N_ITEMS + 2  # every current judgment of theirs
    row = {r["name"]: r for r in client.get(f"/api/v1/projects/{project_id}/raters").json["raters"]}["Stamper"]
    assert row["standing"]["status"] == "paused" and row["standing"]["exclusion_note"] == "rubber-stamper"

    assert client.post(f"{base}/include", json={"note": "second look: keep them"}).status_code == 200
    assert client.get(stats).json["excluded"]["rater"] == 0
    assert client.post(f"{base}/resume", json={"note": "talked it through"}).json["standing"]["status"] == "active"
    actions = session.scalars(select(AuditEvent.action).where(AuditEvent.subject == f"user:{stamper}")
                              .order_by(AuditEvent.id)).all()
    assert actions == ["rater.pause", "rater.exclude", "rater.include", "rater.resume", "rater.resume.note"]


def test_the_funnel_counts_an_excluded_raters_judgments_as_the_statistics_do(api, login_as, members, session):
    client, _ = api("manager")
    project, stamper = members["project"], members["raters"]["Stamper"]
    only_theirs = _item(session, project, model_choice="a", confidence=0.5)  # judged by the stamper alone
    _live(session, only_theirs, session.get(User, stamper), choice="a", left="a", seconds=6.0,
          rationale="looks fine to me overall good", when=utcnow())
    session.flush()
    overlap.refresh_project(session, project)
    session.commit()
    progress = f"/api/v1/projects/{project.id}/progress"

    def counted_step() -> dict:
        steps = {s["step"]: s for s in client.get(progress).json["funnel"]}
        assert [s for s in steps] == ["imported", "routed", "judged", "counted", "agreed", "exportable"]
        assert steps["counted"]["n"] <= steps["judged"]["n"] and steps["agreed"]["n"] <= steps["counted"]["n"]
        return steps["counted"] | {"judged": steps["judged"]["n"]}

    counted_n = lambda: session.scalar(select(func.count()).select_from(Judgment).where(*counted_judgments(project)))  # noqa: E731
    current = 4 * (N_ITEMS + 2) + 1
    before = counted_step()
    assert before["n"] == before["judged"] and before["lost"][0]["n"] == 0
    assert before["judgments"] == {"current": current, "counted": counted_n(), "excluded_rater": 0, "consent": 4}
    assert before["judgments"]["counted"] == current - 4

    client.post(f"/api/v1/projects/{project.id}/raters/{stamper}/exclude", json={"note": "rubber-stamper"})
    after = counted_step()
    assert after["lost"][0] == {"reason": "judged only by raters a manager excluded from statistics", "n": 1}
    assert after["n"] == before["n"] - 1
    excluded = client.get(f"/api/v1/projects/{project.id}/agreement").json["excluded"]["rater"]
    assert after["judgments"]["excluded_rater"] == excluded == N_ITEMS + 3  # every current judgment of theirs
    assert after["judgments"]["consent"] == 3  # the careful raters' on the item without consent
    assert after["judgments"]["counted"] == counted_n() == current - (N_ITEMS + 3) - 3
    page = login_as("manager")[0].get(f"/projects/{project.id}/progress").get_data(as_text=True)
    assert "judged only by raters a manager excluded from statistics" in page
    assert f"<span class=\"num\">{N_ITEMS + 3}</span> by excluded raters" in page

    client.post(f"/api/v1/projects/{project.id}/raters/{stamper}/include", json={"note": "second look"})
    assert counted_step() == before  # reversible


def test_exports_always_leave_out_excluded_raters_and_filter_paused_and_flagged_ones(api, members):
    client, _ = api("admin")
    project_id, raters = members["project"].id, members["raters"]
    everyone = _export(client, project_id)
    assert "excluded_rater" not in everyone["manifest"]["excluded"]["judgments"]
    n_all = everyone["row_counts"]["ratings"]

    flagged = _export(client, project_id, exclude_flagged_raters=True)
    assert flagged["manifest"]["excluded"]["raters"] == {"flagged_rater": 1}  # the stamper only
    assert flagged["manifest"]["excluded"]["judgments"]["flagged_rater"] == N_ITEMS  # on the items that enter (not gold, not withheld)
    assert flagged["manifest"]["options"]["exclude_flagged_raters"] is True

    client.post(f"/api/v1/projects/{project_id}/raters/{raters['Careful 1']}/pause", json={"note": "on leave"})
    paused = _export(client, project_id, exclude_paused_raters=True)
    assert paused["manifest"]["excluded"]["raters"] == {"paused_rater": 1}
    assert _export(client, project_id)["row_counts"]["ratings"] == n_all  # a filter, off by default

    client.post(f"/api/v1/projects/{project_id}/raters/{raters['Stamper']}/exclude", json={"note": "stamper"})
    ruled = _export(client, project_id)  # the data changed: a new version, without the stamper
    assert ruled["version"] > everyone["version"]
    assert ruled["manifest"]["excluded"]["raters"] == {"excluded_rater": 1}
    assert ruled["row_counts"]["ratings"] == n_all - N_ITEMS
    data = client.get(f"/api/v1/exports/{ruled['id']}/download").data
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        card = next(tar.extractfile(m).read().decode() for m in tar.getmembers() if m.name.endswith("README.md"))
    assert "| raters | excluded_rater | 1 |" in card
    without = client.get(f"/api/v1/projects/{project_id}/judgments?per_page=500").json["total"]
    client.post(f"/api/v1/projects/{project_id}/raters/{raters['Stamper']}/include", json={"note": "back"})
    with_them = client.get(f"/api/v1/projects/{project_id}/judgments?per_page=500").json["total"]
    assert with_them - without == N_ITEMS + 1  # the judgments API leaves them out too (gold rows included there)


def test_threshold_overrides_change_the_flags_and_bad_values_write_nothing(api, members, session):
    client, _ = api("manager")
    project_id = members["project"].id
    url = f"/api/v1/projects/{project_id}/quality/thresholds"
    bad = client.put(url, json={"too_fast_share": "lots", "speed_streak": 2.5})
    assert bad.status_code == 422
    assert set(bad.json["error"]["details"]) == {"quality_thresholds.too_fast_share", "quality_thresholds.speed_streak"}
    assert members["project"].quality_thresholds is None
    ok = client.put(url, json={"too_fast_share": 1.0, "speed_streak": 7})
    assert ok.status_code == 200
    by_name = {t["name"]: t for t in ok.json["thresholds"]}
    assert by_name["too_fast_share"]["overridden"] and by_name["too_fast_share"]["default"] == 0.5
    assert by_name["speed_streak"]["value"] == 7 and "in a row" in by_name["speed_streak"]["meaning"]
    stamper = {r["name"]: r for r in client.get(f"/api/v1/projects/{project_id}/raters").json["raters"]}["Stamper"]
    assert "time" not in {f["figure"] for f in stamper["flags"]}  # nobody is more than 100% too fast
    reset = client.put(url, json={"too_fast_share": None, "speed_streak": 5})  # null or the default: no override
    assert not any(t["overridden"] for t in reset.json["thresholds"])
    researcher, _ = api("researcher")
    assert researcher.get(url).status_code == 200 and researcher.put(url, json={}).status_code == 403


def test_pages_show_standing_and_let_managers_act_and_set_thresholds(login_as, members):
    client, _ = login_as("manager")
    project_id, stamper = members["project"].id, members["raters"]["Stamper"]
    page = client.get(f"/projects/{project_id}/raters").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert 'class="act-form"' in page and 'details class="act"' in page
    done = client.post(f"/projects/{project_id}/raters/{stamper}/standing",
                       data={"csrf_token": csrf, "act": "exclude", "note": "copied rationales", "back": "rater"})
    assert done.status_code == 302 and done.headers["Location"].endswith(f"/raters/{stamper}")
    rater_page = client.get(f"/projects/{project_id}/raters/{stamper}").get_data(as_text=True)
    assert "excluded</strong> from statistics and exports — copied rationales" in rater_page
    stats = client.get(f"/projects/{project_id}/statistics").get_data(as_text=True)
    assert "excluded: rater" in stats and 'id="rater-excluded-note"' in stats
    settings = client.get(f"/projects/{project_id}/quality/settings").get_data(as_text=True)
    assert "pause_gold_min_n" in settings and "burst_window_s" in settings
    refused = client.post(f"/projects/{project_id}/quality/settings", data={"csrf_token": csrf, "kappa": "abc"})
    assert refused.status_code == 400 and "Nothing was saved" in refused.get_data(as_text=True)
    saved = client.post(f"/projects/{project_id}/quality/settings", data={"csrf_token": csrf, "kappa": "0.25"})
    assert saved.status_code == 302
    assert "overridden" in client.get(saved.headers["Location"]).get_data(as_text=True)


def test_a_rater_with_judgments_but_no_membership_can_be_excluded(api, desk):  # noqa: F811
    client, _ = api("manager")
    project_id, stamper = desk["project"].id, desk["raters"]["Stamper"]  # judgments, no membership row
    done = client.post(f"/api/v1/projects/{project_id}/raters/{stamper}/exclude", json={"note": "imported stamper"})
    assert done.status_code == 200 and done.json["standing"]["excluded"] is True
    assert client.get(f"/api/v1/projects/{project_id}/agreement").json["excluded"]["rater"] == N_ITEMS + 2


def test_a_judgment_opens_exactly_as_it_was_shown(api, login_as, desk):  # noqa: F811
    client, _ = api("manager")
    project_id, stamper = desk["project"].id, desk["raters"]["Stamper"]
    detail = client.get(f"/api/v1/projects/{project_id}/raters/{stamper}").json
    web, _ = login_as("researcher")
    for j in detail["judgments"][:4]:  # the stamper always picks the side on their left
        page = web.get(f"/projects/{project_id}/raters/{stamper}/judgments/{j['judgment_id']}").get_data(as_text=True)
        panes = re.findall(r'<figure class="output( chosen)?" data-side="(\w+)" data-label="(\w)"', page)
        assert [(side, label) for _, side, label in panes] == [
            ("left", j["presented"]["left"]["label"]), ("right", j["presented"]["right"]["label"])]
        assert panes[0][0] == " chosen" and panes[1][0] == ""
        assert "/media/" in page and j["rationale"] in page
    other = desk["raters"]["Careful 0"]
    wrong = web.get(f"/projects/{project_id}/raters/{other}/judgments/{detail['judgments'][0]['judgment_id']}")
    assert wrong.status_code == 404  # a judgment is opened under its own rater only


def test_next_answers_a_paused_rater_why_and_resume_restores_it(api, desk, session):  # noqa: F811
    rater_client, rater = api("rater")
    manager, _ = api("manager")
    project_id = desk["project"].id
    session.add(ProjectMember(project_id=project_id, user_id=rater.id))
    session.commit()
    manager.post(f"/api/v1/projects/{project_id}/raters/{rater.id}/pause", json={"note": "please reread the brief"})
    refused = rater_client.post(f"/api/v1/projects/{project_id}/assignments/next", json={})
    assert refused.status_code == 403 and refused.json["error"]["code"] == "rater_paused"
    assert "please reread the brief" in refused.json["error"]["message"]
    manager.post(f"/api/v1/projects/{project_id}/raters/{rater.id}/resume", json={"note": "done"})
    assert rater_client.post(f"/api/v1/projects/{project_id}/assignments/next", json={}).status_code in (201, 204)
