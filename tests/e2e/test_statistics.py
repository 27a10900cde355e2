"""The statistics page in Chromium: a pairwise project of four models and the demo's rubric
project, both seeded with imported judgments; the plotly charts drawn by the static script under
the strict CSP, no console errors; an upload through the form; and a large project's page
polling until the background computation is done."""
from __future__ import annotations

import json
import math
import random
import threading

from sqlalchemy import select

import jobs
from database import db, utcnow
from raters.models import User
from scoring.reports import snapshots
from tasks.rating import judgment_import
from tasks.catalogue.models import Project
from tests.e2e.conftest import screenshot, sign_in
from tests.scoring.stats_factories import item, stats_project

MODELS = {"gen-a": 1.1, "gen-b": 0.55, "gen-c": 0.0, "gen-d": -0.6}  # true strengths
PAIRS = [("gen-a", "gen-b"), ("gen-c", "gen-d"), ("gen-a", "gen-c"), ("gen-b", "gen-d"),
         ("gen-a", "gen-d"), ("gen-b", "gen-c")]
WORDS = "pacing framing continuity motion grain flicker reflections horizon staging light".split()


def _rationale(rng: random.Random) -> str:
    return "The chosen take " + " ".join(rng.choice(WORDS) for _ in range(10)) + "."


def section_shot(page, section: str, name: str) -> None:
    """A screenshot of one section of the page, to read its numbers at full size."""
    path = screenshot(page, f"{name}-{section}")  # makes the folder; replaced by the section's picture
    page.locator(f"#{section}").screenshot(path=str(path))


def seed_pairwise(n_items: int = 48) -> int:
    """A pairwise project of four models, with five panel raters' judgments imported."""
    rng = random.Random(7)
    manager = db.session.scalar(select(User).where(User.email == "manager@dailies.example"))
    project = stats_project(db.session, manager.id, name="Harbour at dawn — four models")
    rows = []
    for i in range(n_items):
        model_a, model_b = PAIRS[i % len(PAIRS)]
        external_id = f"harbour-{i + 1:03d}"
        item(db.session, project, (model_a, model_b), external_id=external_id)
        p_a = 1 / (1 + math.exp(MODELS[model_b] - MODELS[model_a]))
        truth = "a" if rng.random() < p_a else "b"
        for panelist in rng.sample(range(1, 6), rng.choice((3, 3, 4, 5))):
            draw = rng.random()  # panelists see the better take 80% of the time
            choice = truth if draw < 0.8 else ("tie" if draw < 0.88 else {"a": "b", "b": "a"}[truth])
            row = {"external_id": external_id, "rater": f"panel-{panelist}", "choice": choice,
                   "rationale": _rationale(rng), "confidence": rng.randint(2, 5),
                   "created_at": f"2026-06-{rng.randint(10, 28)}T{rng.randint(8, 18):02d}:00:00Z"}
            if choice != "tie":
                row["strength"] = rng.randint(1, 3)
            rows.append(row)
    data = "\n".join(json.dumps(r) for r in rows).encode()
    judgment_import.import_judgments(db.session, project, data, "panel.jsonl", actor=manager, now=utcnow())
    db.session.commit()
    return project.id


def rubric_rows(n_raters: int = 4) -> bytes:
    rng = random.Random(3)
    rows = []
    for i in range(1, 11):
        quality = rng.randint(2, 5)
        for r in range(1, n_raters + 1):
            scores = {k: max(1, min(5, quality + rng.choice((-1, 0, 0, 0, 1)))) for k in
                      ("coherence", "dialogue", "structure")}
            rows.append({"external_id": f"script-{i:02d}", "rater": f"reader-{r}@writers.example",
                         "scores": scores, "rationale": _rationale(rng), "confidence": 4})
    return "\n".join(json.dumps(r) for r in rows).encode()


def charts_drawn(page, expected: int) -> None:
    """Wait for ``expected`` charts drawn by Plotly (locator waits: the CSP forbids eval)."""
    page.locator(".plot.plot-ready").nth(expected - 1).wait_for(timeout=20000)
    assert page.locator(".plot:has(.main-svg)").count() == page.locator(".plot").count() == expected
    assert page.locator(".plot.plot-failed").count() == 0


def test_researcher_reads_the_statistics_of_a_pairwise_project(page, live_server, app):
    with app.app_context():
        project_id = seed_pairwise()
    sign_in(page, live_server, "researcher@dailies.example", "demo-researcher-pass")
    page.goto(f"{live_server}/projects/{project_id}")
    page.click("a.button:has-text('Statistics')")
    page.wait_for_url(f"{live_server}/projects/{project_id}/statistics")
    charts_drawn(page, 3)
    assert page.locator("h1").inner_text() == "Statistics"
    assert "imported" in page.locator(".tiles").inner_text()
    assert page.locator(".leaderboard-table tbody tr").count() == 4
    assert page.locator(".leaderboard-table tbody tr").first.locator("td").nth(1).inner_text() == "gen-a"
    assert page.locator("#plot-win-rates .heatmaplayer, #plot-win-rates .hm").count() >= 1
    assert page.locator(".consensus-table tbody tr").count() == 48
    screenshot(page, "statistics-pairwise-1440")
    for section in ("agreement", "leaderboard", "method"):
        section_shot(page, section, "statistics-pairwise-1440")
    assert page.locator("#robustness").count() == 1
    page.set_viewport_size({"width": 1024, "height": 768})
    page.reload()
    charts_drawn(page, 3)
    screenshot(page, "statistics-pairwise-1024")
    page.click("nav.filters >> text=contested")
    assert page.locator(".consensus-table tbody tr").count() < 48
    assert page.console_errors == []


def test_manager_uploads_rubric_judgments_through_the_form(page, live_server, app, tmp_path):
    with app.app_context():
        project_id = db.session.scalar(select(Project.id).where(Project.name.like("Short scene scripts%")))
    upload = tmp_path / "readers.jsonl"
    upload.write_bytes(rubric_rows())
    sign_in(page, live_server, "manager@dailies.example", "demo-manager-pass")
    page.goto(f"{live_server}/projects/{project_id}/statistics")
    assert "15 IMPORTED" in page.locator(".tiles").inner_text().upper()  # the demo panel's judgments
    page.set_input_files("#import input[type=file]", str(upload))
    page.click("#import button[type=submit]")
    page.wait_for_selector(".flash-success")
    assert "Imported 40 judgments on 10 items" in page.locator(".flash-success").inner_text()
    charts_drawn(page, 2)  # agreement, and the models' means
    assert page.locator(".agreement-table tbody tr").count() == 3
    assert page.locator("#leaderboard").count() == 0
    assert page.locator(".models-table tbody tr").count() == 2  # scribe-1 and scribe-2 compared
    # script-04 is gold and script-07's consent was withdrawn: both left out
    assert page.locator(".consensus-table tbody tr").count() == 8
    assert "excluded: consent — 4" in page.locator("#consent-excluded-note").inner_text()
    tiles = page.locator(".tiles").inner_text().upper()
    assert "47 IMPORTED" in tiles and "4\nGOLD JUDGMENTS" in tiles and "4\nEXCLUDED: CONSENT" in tiles
    screenshot(page, "statistics-rubric-1440")
    section_shot(page, "models", "statistics-rubric-1440")
    assert page.console_errors == []
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"external_id": "script-99", "rater": "x", "scores": {}, "rationale": "r",
                               "confidence": 9}) + "\n")
    page.set_input_files("#import input[type=file]", str(bad))
    page.click("#import button[type=submit]")
    page.wait_for_selector("#import-errors")
    assert "line 1: no item “script-99” in this project" in page.locator("#import-errors").inner_text()
    screenshot(page, "statistics-import-errors")
    assert [e for e in page.console_errors if "422" not in e] == []  # the refused upload answers 422


def test_a_large_project_shows_stale_numbers_then_reloads_when_ready(page, live_server, app, monkeypatch):
    with app.app_context():
        project_id = seed_pairwise(n_items=12)
    sign_in(page, live_server, "researcher@dailies.example", "demo-researcher-pass")
    page.goto(f"{live_server}/projects/{project_id}/statistics")
    charts_drawn(page, 3)
    first = page.locator("#computed").get_attribute("data-snapshot-key")

    def worker(name, *args):  # a queue whose worker picks the job up two seconds later
        def run():
            with app.app_context():
                snapshots.compute_project_stats(*args)
        threading.Timer(2.0, run).start()

    monkeypatch.setattr(jobs, "enqueue", worker)
    app.config["STATS_INLINE_MAX_JUDGMENTS"] = 10  # the project is now "large"
    with app.app_context():
        project = db.session.get(Project, project_id)
        late = {"external_id": "harbour-001", "rater": "panel-9", "choice": "b", "rationale": "late",
                "confidence": 3}
        judgment_import.import_judgments(db.session, project, json.dumps(late).encode(), "late.jsonl",
                                         actor=None, now=utcnow())
        db.session.commit()
    page.reload()
    page.wait_for_selector("#stats-status")
    assert "before the latest judgments" in page.locator("#stats-status").inner_text()
    charts_drawn(page, 3)  # the earlier numbers are still shown
    assert page.locator("#computed").get_attribute("data-snapshot-key") == first
    screenshot(page, "statistics-computing")
    page.wait_for_selector("#stats-status", state="detached", timeout=15000)  # the poll reloaded the page
    charts_drawn(page, 3)
    assert page.locator("#computed").get_attribute("data-snapshot-key") != first
    assert "before the latest judgments" not in page.locator("main").inner_text()
    assert page.console_errors == []
