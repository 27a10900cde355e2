"""The pages of issue 10's data side in Chromium: the statistics page's per-criterion section
for the demo's video project, the adjudication desk showing each judgment's notes and
per-criterion choices with its author's presentation, and the project form's criteria."""
from __future__ import annotations

import json

from sqlalchemy import select

from database import db, utcnow
from tasks.catalogue.models import Project
from tasks.rating import judgment_import
from tests.e2e.conftest import screenshot, sign_in
from tests.e2e.test_statistics import section_shot


def demo_video_project(app) -> int:
    with app.app_context():
        return db.session.scalar(select(Project.id).where(Project.name.like("Neon alley chase%")))


def test_statistics_show_each_criterion_beside_the_overall_numbers(page, live_server, app):
    project_id = demo_video_project(app)
    sign_in(page, live_server, "researcher@dailies.example", "demo-researcher-pass")
    page.goto(f"{live_server}/projects/{project_id}/statistics")
    section = page.locator("#per-criterion")
    assert section.count() == 1
    text = section.inner_text()
    for name in ("Motion coherence", "Prompt fidelity", "Light and colour continuity"):
        assert name in text
    assert "the winner lost at least one criterion" in page.locator("#winner-lost").inner_text()
    assert "Motion coherence" in page.locator("#agreement").inner_text()  # its α row beside the overall ones
    section_shot(page, "per-criterion", "statistics-criteria")
    assert page.console_errors == []


def test_the_adjudication_desk_shows_notes_and_criteria_with_the_authors_presentation(page, live_server, app):
    project_id = demo_video_project(app)
    with app.app_context():
        project = db.session.get(Project, project_id)
        rows = [{"external_id": "alley-008", "rater": f"split-{i}", "choice": "a" if i < 3 else "b", "strength": 2,
                 "confidence": 3, "rationale": f"reason number {i} about the market stalls",
                 "criteria": {"motion": {"choice": "a" if i % 2 else "b", "strength": 1}, "fidelity": {"choice": "tie"},
                              "continuity": {"choice": "b", "strength": 3}},
                 "notes": [{"label": "b", "t_in": 0.5 + i / 10, "t_out": 1.5, "text": f"stall lights pulse (panel {i})"}]}
                for i in range(5)]
        judgment_import.import_judgments(db.session, project, "\n".join(map(json.dumps, rows)).encode(),
                                         "split.jsonl", actor=None, now=utcnow())
        db.session.commit()
    sign_in(page, live_server, "manager@dailies.example", "demo-manager-pass")
    page.goto(f"{live_server}/projects/{project_id}/adjudication")
    section = page.locator("section.adjudication")
    notes = section.locator("ol.judgment-notes li")
    assert notes.count() == 5
    assert "Right" in notes.first.inner_text() and "00:00:00:12–00:00:01:12" in notes.first.inner_text()
    assert "Motion coherence" in section.locator("ul.criteria-choices").first.inner_text()
    screenshot(page, "adjudication-notes")
    assert page.console_errors == []


def test_the_project_form_edits_criteria_and_the_note_requirement(page, live_server, app):
    project_id = demo_video_project(app)
    sign_in(page, live_server, "manager@dailies.example", "demo-manager-pass")
    page.goto(f"{live_server}/projects/{project_id}/edit")
    box = page.locator("textarea[name=pairwise_criteria]")
    assert "motion | Motion coherence |" in box.input_value()
    box.fill(box.input_value() + "\nsync | Sound sync | picture and sound land together")
    page.check("input[name=require_note]")
    page.click("button:has-text('Save settings')")
    assert "Project saved." in page.locator(".flash-success").inner_text()
    with app.app_context():
        project = db.session.get(Project, project_id)
        assert [c["key"] for c in project.pairwise_criteria][-1] == "sync" and project.require_note is True
    page.goto(f"{live_server}/projects/{project_id}/edit")
    screenshot(page, "project-form-criteria")
