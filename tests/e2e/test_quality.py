"""The manager's desk in Chromium on the demo's rater-quality drill: the panel with its flagged
raters, sorting and filtering, one rater, progress, items and calibration, each drawn by the
static scripts under the strict CSP with no console errors; and a rater's own figures at home."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from database import db, utcnow
from demo import quality_drill
from raters.models import User
from tasks.catalogue.models import Item, Project
from tests.e2e.conftest import screenshot, sign_in


def _drill(live_server) -> int:
    return db.session.scalar(select(Project.id).where(Project.name == quality_drill.NAME))


def _plots(page, n: int) -> None:
    if n:
        page.locator(".plot.plot-ready").nth(n - 1).wait_for(timeout=20000)


def test_a_manager_finds_the_bad_raters_of_the_drill(app, live_server, page):
    with app.app_context():
        pid = _drill(live_server)
    sign_in(page, live_server, "manager@dailies.example", "demo-manager-pass")
    page.goto(f"{live_server}/projects/{pid}")
    page.click("text=Raters")
    _plots(page, 2)
    flagged = page.locator("#rater-table tbody tr.flagged td:first-child strong").all_inner_texts()
    assert sorted(flagged) == ["Gil Moss (drill panel)", "Lou Carver (drill panel)", "Rex Quinn (drill panel)"]
    screenshot(page, "quality-panel")
    page.click("th:has-text('Left')")
    page.click("th:has-text('Left')")  # descending: the most left-leaning first
    first = page.locator("#rater-table tbody tr").first.locator("strong").inner_text()
    assert first == "Rex Quinn (drill panel)"
    page.check(".table-flagged")
    assert page.locator("#rater-table tbody tr:not([hidden])").count() == 3
    page.fill(".table-filter", "lou")
    assert page.locator("#rater-table tbody tr:not([hidden])").count() == 1
    page.click("#rater-table tbody tr:not([hidden]) a")
    _plots(page, 1)
    assert "chose Left in" in page.locator(".flag-list").inner_text()
    assert page.locator(".judgments-table tbody tr").count() > 20
    screenshot(page, "quality-rater")
    page.click(".desk-nav >> text=Progress")
    _plots(page, 3)
    assert "still split: waiting for adjudication" in page.locator(".funnel-table").inner_text()
    screenshot(page, "quality-progress")
    page.click(".desk-nav >> text=Items")
    page.click(".filters >> text=split")
    assert page.locator(".items-table tbody tr").count() == page.locator(".items-table .state-split").count() > 0
    screenshot(page, "quality-items")
    page.click(".desk-nav >> text=Calibration")
    _plots(page, 1)
    screenshot(page, "quality-calibration")
    assert page.console_errors == []


def test_a_rater_sees_their_own_figures_at_home(app, live_server, page):
    with app.app_context():
        pid = _drill(live_server)
        project = db.session.get(Project, pid)
        editor = db.session.scalar(select(User).where(User.email == "editor@dailies.example"))
        judged = db.session.scalars(select(Item).where(Item.project_id == pid, Item.gold.isnot(None))).all()
        judged += db.session.scalars(select(Item).where(Item.project_id == pid).order_by(Item.id).limit(6)).all()
        now = utcnow()
        for k, item in enumerate(judged):
            gold = (item.gold or {}).get("choice")
            quality_drill._write(db.session, project, item, editor, choice=gold or "a", left="a", seconds=30,
                                 when=now - timedelta(hours=k), rationale=f"take A holds the light steady {k}",
                                 played={"a": 3.0, "b": 3.0}, strength=2)
        db.session.commit()
    sign_in(page, live_server, "editor@dailies.example", "demo-rater-pass")
    text = page.locator(".own-figures").inner_text()
    assert "accuracy on check items: 100% of 8" in text
    screenshot(page, "quality-rater-home")
    assert page.goto(f"{live_server}/projects/{pid}/raters").status == 403


def test_a_manager_acts_on_the_bad_raters_of_the_drill(app, live_server, page):
    with app.app_context():
        pid = _drill(live_server)
    sign_in(page, live_server, "manager@dailies.example", "demo-manager-pass")
    page.goto(f"{live_server}/projects/{pid}/raters")
    _plots(page, 2)

    def act(name: str, what: str, note: str) -> None:
        row = page.locator("#rater-table tbody tr", has_text=name)
        row.locator("details.act summary").click()
        row.locator("select[name=act]").select_option(what)
        row.locator("input[name=note]").fill(note)
        row.locator("button:has-text('Apply')").click()
        page.wait_for_load_state()

    act("Rex Quinn", "pause", "always Left, faster than the clips")
    act("Rex Quinn", "exclude", "rubber-stamped the drill")
    act("Lou Carver", "exclude", "chose Left three times in four")
    act("Gil Moss", "pause", "missed most check items")
    _plots(page, 2)
    rex = page.locator("#rater-table tbody tr", has_text="Rex Quinn")
    assert rex.locator(".status-paused").count() == 1 and rex.locator(".status-excluded").count() == 1
    assert page.locator("#rater-table .status-excluded").count() == 2
    screenshot(page, "quality-panel-acted")
    page.goto(f"{live_server}/projects/{pid}/progress")
    _plots(page, 3)
    counted = page.locator(".funnel-table tr", has_text="counted").inner_text()
    assert "by excluded raters" in counted and "0 by excluded raters" not in counted
    screenshot(page, "quality-progress-excluded")
    page.goto(f"{live_server}/projects/{pid}/raters")
    page.locator("#rater-table tbody tr", has_text="Rex Quinn").locator("a").first.click()
    assert "always Left, faster than the clips" in page.locator("#standing").inner_text()
    screenshot(page, "quality-rater-standing")
    page.locator(".judgments-table tbody tr td a").first.click()
    assert page.locator("figure.output.chosen").count() == 1
    assert page.locator("figure.output").first.get_attribute("data-side") == "left"
    screenshot(page, "quality-judgment-as-shown")
    page.goto(f"{live_server}/projects/{pid}/statistics")
    assert "excluded: rater" in page.locator("#rater-excluded").inner_text().lower()
    screenshot(page, "statistics-rater-excluded")
    page.goto(f"{live_server}/projects/{pid}/quality/settings")
    page.fill("input[name=speed_streak]", "4")
    page.click("text=Save thresholds")
    assert "overridden" in page.locator("#thresholds").inner_text()
    screenshot(page, "quality-settings")
    assert page.console_errors == []


def test_a_judgment_opened_as_shown_lists_its_notes_as_the_rater_placed_them(app, live_server, page):
    from tasks.rating.models import Assignment, Judgment

    with app.app_context():
        pid = _drill(live_server)
        judgment = db.session.scalar(select(Judgment).join(Assignment, Assignment.id == Judgment.assignment_id)
                                     .where(Judgment.project_id == pid, Assignment.left_label == "b")
                                     .order_by(Judgment.id).limit(1))
        for output in judgment.item.outputs:
            output.asset.frame_rate = 24.0
        judgment.notes = [  # label a was on this rater's Right
            {"label": "a", "t_in": 1.5, "t_out": 2.25, "frame_in": 36, "frame_out": 54, "text": "the horizon tilts"},
            {"label": "b", "t_in": 0.5, "t_out": None, "frame_in": 12, "frame_out": None, "text": "pop on the cut"}]
        rater_id, judgment_id = judgment.rater_id, judgment.id
        db.session.commit()
    sign_in(page, live_server, "manager@dailies.example", "demo-manager-pass")
    page.goto(f"{live_server}/projects/{pid}/raters/{rater_id}")
    row = page.locator(".judgments-table tbody tr", has=page.locator(f"a[href$='/judgments/{judgment_id}']"))
    row.locator("details.notes-shown summary").click()
    assert "Right 00:00:01:12–00:00:02:06 — the horizon tilts" in row.locator("details.notes-shown").inner_text()
    row.locator(f"a[href$='/judgments/{judgment_id}']").click()
    notes = page.locator("#notes li").all_inner_texts()
    assert notes == ["Right 00:00:01:12–00:00:02:06 — the horizon tilts", "Left 00:00:00:12 — pop on the cut"]
    assert page.locator("figure.output").first.get_attribute("data-label") == "b"  # their Left
    screenshot(page, "quality-judgment-notes")
    assert page.console_errors == []
