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
