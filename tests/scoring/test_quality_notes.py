"""The rater-quality figures count each judgment's real time-coded notes (issue 10)."""
from __future__ import annotations

from scoring.quality import data as quality_data
from tests.scoring.stats_factories import item, judge, rater, stats_project

NOTE = {"label": "a", "t_in": 0.5, "t_out": None, "frame_in": 12, "frame_out": None, "text": "pop on the cut"}


def test_notes_per_judgment_are_counted_from_the_judgments(api, session, make_user):
    manager = make_user("manager")
    project = stats_project(session, manager.id)
    it, other = item(session, project), item(session, project)
    careful, quick = rater(session, "careful"), rater(session, "quick")
    judge(session, it, careful, "a", source="live").notes = [NOTE, {**NOTE, "t_in": 0.75}]
    judge(session, other, careful, "b", source="live").notes = [NOTE]
    judge(session, it, quick, "a", source="live")
    session.commit()
    frame = quality_data.judgments_frame(session, project)
    assert dict(zip(frame["judgment"], frame["notes"])) == dict(zip(sorted(frame["judgment"]), [2, 1, 0]))
    client, _ = api("manager")
    rows = {r["name"]: r for r in client.get(f"/api/v1/projects/{project.id}/raters").json["raters"]}
    assert rows[careful.name]["rationale"]["notes_per_judgment"] == 1.5
    assert rows[quick.name]["rationale"]["notes_per_judgment"] == 0


def test_notes_show_with_the_side_the_rater_saw_and_timecodes_on_the_desk(api, login_as, session, make_user):
    from datetime import timedelta

    from database import utcnow
    from raters.models import User
    from tasks.rating.models import Judgment
    from tests.scoring.test_quality_pages import _item, _live

    manager = make_user("manager")
    project = stats_project(session, manager.id)
    it = _item(session, project)
    for output in it.outputs:
        output.asset.frame_rate = 25.0
    who = session.get(User, rater(session, "noted").id)
    _live(session, it, who, choice="a", left="b", seconds=20.0, rationale="the right one pops on the cut",
          when=utcnow() - timedelta(minutes=5))  # label a was on their Right
    session.flush()
    judgment = session.query(Judgment).filter_by(item_id=it.id, rater_id=who.id).one()
    judgment.notes = [{**NOTE, "t_out": 1.0, "frame_out": 25},
                      {"label": "b", "t_in": 2.0, "t_out": None, "frame_in": 50, "frame_out": None, "text": "steady"}]
    session.commit()
    client, _ = api("manager")
    body = client.get(f"/api/v1/projects/{project.id}/raters/{who.id}").json
    shown = body["judgments"][0]["notes_shown"]
    assert [(n["side"], n["timecode_in"], n["timecode_out"]) for n in shown] == [
        ("right", "00:00:00:12", "00:00:01:00"), ("left", "00:00:02:00", None)]
    assert [n["anchor"] for n in shown] == ["Right 00:00:00:12–00:00:01:00", "Left 00:00:02:00"]
    page, _ = login_as("manager")
    detail = page.get(f"/projects/{project.id}/raters/{who.id}").get_data(as_text=True)
    assert "2 notes</summary>" in detail and "Right 00:00:00:12–00:00:01:00</span> — pop on the cut" in detail
    as_shown = page.get(f"/projects/{project.id}/raters/{who.id}/judgments/{judgment.id}").get_data(as_text=True)
    assert '<li data-side="right"><span class="note-anchor">Right 00:00:00:12–00:00:01:00</span> — pop on the cut' in as_shown
    assert '<li data-side="left"><span class="note-anchor">Left 00:00:02:00</span> — steady' in as_shown
    # the panes in their screen order: label b on the Left, as the notes say
    assert as_shown.index('data-side="left" data-label="b"') < as_shown.index('data-side="right" data-label="a"')


def test_an_imported_judgments_notes_name_the_item_label(api, session, make_user):
    manager = make_user("manager")
    project = stats_project(session, manager.id)
    it = item(session, project)
    who = rater(session, "imported")
    judge(session, it, who, "a", source="imported").notes = [NOTE]
    session.commit()
    client, _ = api("manager")
    shown = client.get(f"/api/v1/projects/{project.id}/raters/{who.id}").json["judgments"][0]["notes_shown"]
    assert shown[0]["side"] is None and shown[0]["anchor"].startswith("label a 00:00:00")
