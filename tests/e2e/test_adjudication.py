"""A manager settles a split item from the adjudication queue and resolves a media report."""
import json

from sqlalchemy import select

from database import db, utcnow
from tasks.rating import judgment_import
from tasks.catalogue.models import Item, Project
from tasks.rating.models import Adjudication, Flag
from tests.e2e.conftest import screenshot, sign_in


def test_manager_adjudicates_a_split_item_and_resolves_a_report(page, live_server, app):
    with app.app_context():
        project = db.session.scalar(select(Project).where(Project.name.like("Neon alley chase%")))
        rows = [{"external_id": "alley-008", "rater": f"split-{i}", "choice": "a" if i < 3 else "b", "strength": 2,
                 "confidence": 3, "rationale": f"reason number {i} about the market stalls"} for i in range(5)]
        judgment_import.import_judgments(db.session, project, "\n".join(map(json.dumps, rows)).encode(),
                                         "split.jsonl", actor=None, now=utcnow())
        item = db.session.scalar(select(Item).where(Item.external_id == "alley-010"))
        db.session.add(Flag(project_id=project.id, item_id=item.id, kind="broken", reason="the clip is black after 0:01",
                            label="b", model="gen-b"))
        db.session.commit()
        project_id = project.id
    sign_in(page, live_server, "manager@dailies.example", "demo-manager-pass")
    page.goto(f"{live_server}/projects/{project_id}")
    page.click("text=Adjudication")
    section = page.locator("section.adjudication")
    assert section.count() == 1 and "alley-008" in section.inner_text()
    assert section.locator("tbody tr").count() == 5  # the panel's judgments with their rationales
    assert section.locator("video").count() == 2
    assert "Left better" in section.inner_text() and "saw" in section.locator(".presented").first.inner_text() \
        or "imported" in section.locator(".presented").first.inner_text()
    screenshot(page, "adjudication")
    section.click(position={"x": 5, "y": 5})
    page.keyboard.press("z")  # the rating page's keys
    page.keyboard.press("1")
    page.keyboard.press("r")
    page.keyboard.type("Too short.")
    page.keyboard.press("Control+Enter")
    page.wait_for_selector("section.adjudication .field-error")
    section = page.locator("section.adjudication")
    assert "at least 12 words" in section.locator(".field-error").inner_text()
    assert section.locator("input[name=choice][value=a]").is_checked()  # the decision is kept
    assert section.locator("input[name=strength][value='1']").is_checked()
    assert section.locator("textarea[name=rationale]").input_value() == "Too short."
    screenshot(page, "adjudication-refused")
    section.locator("textarea[name=rationale]").fill(
        "Three of five saw the stutter on the right; I see it at frame 40 too, so the left take stands.")
    section.locator("button[type=submit]").click()
    assert "recorded beside the panel's judgments" in page.locator(".flash-success").inner_text()
    assert page.locator("section.adjudication").count() == 0
    page.goto(f"{live_server}/projects/{project_id}/flags")
    assert "output b" in page.locator("section.flag").inner_text() and "gen-b" in page.locator("section.flag").inner_text()
    screenshot(page, "flag")
    page.fill("input[name=resolution]", "Re-encoded the clip")
    page.click("button:has-text('Resolve')")
    assert "Report resolved" in page.locator(".flash-success").inner_text()
    with app.app_context():
        decision = db.session.scalar(select(Adjudication))
        assert (decision.choice, decision.strength) == ("a", 1)
        assert db.session.scalar(select(Flag)).resolution == "Re-encoded the clip"
    assert [e for e in page.console_errors if "status of 422" not in e] == []  # the refusal is a 422 page
