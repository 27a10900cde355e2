"""Screenshots of every page of the manager's desk on a generated project of 200 raters x 50,000
judgments (``bench/desk.py`` builds it), for a person to look at: panel, one flagged rater, one
judgment as it was shown, progress, items, calibration, thresholds and the statistics page.

``python bench/desk_screens.py [--quick]`` (a temporary SQLite database; Debian's Chromium).
Screenshots land in ``test-artifacts/screenshots/generated-*.png``; each page's time is printed.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from playwright.sync_api import sync_playwright  # noqa: E402
from sqlalchemy import select  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402

import desk as desk_bench  # noqa: E402
import migrate  # noqa: E402
from app import create_app  # noqa: E402
from database import db  # noqa: E402
from raters import services  # noqa: E402
from raters.models import User  # noqa: E402
from tasks.rating.models import Judgment  # noqa: E402

SHOTS = ROOT / "test-artifacts" / "screenshots"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run"]
PASSWORD = "bench-manager-pass"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="20 raters x 5,000 judgments")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/screens.sqlite3"
        migrate.upgrade(url)
        app = create_app({"DATABASE_URL": url, "SECRET_KEY": "screens", "TESTING": True, "WTF_CSRF_ENABLED": True})
        with app.app_context():
            project = desk_bench.build(db.session, n_raters=20 if args.quick else 200,
                                       n_judgments=5_000 if args.quick else 50_000)
            manager = services.create_user(db.session, email="screens@bench.example", name="Screens Manager",
                                           role="manager", password=PASSWORD)
            project.owner_id = manager.id
            stamper = db.session.scalar(select(User.id).where(User.name.like("%(stamper)"),
                                                              User.email.like(f"%-{project.id}@bench.example")))
            judgment = db.session.scalar(select(Judgment.id).where(Judgment.rater_id == stamper).limit(1))
            db.session.commit()
            pid = project.id
        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        base = f"http://127.0.0.1:{server.server_port}"
        pages = {"panel": f"/projects/{pid}/raters", "rater": f"/projects/{pid}/raters/{stamper}",
                 "judgment": f"/projects/{pid}/raters/{stamper}/judgments/{judgment}",
                 "progress": f"/projects/{pid}/progress", "items": f"/projects/{pid}/items",
                 "calibration": f"/projects/{pid}/calibration", "settings": f"/projects/{pid}/quality/settings",
                 "statistics": f"/projects/{pid}/statistics"}
        SHOTS.mkdir(parents=True, exist_ok=True)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=FLAGS, headless=True)
            page = browser.new_context(viewport={"width": 1440, "height": 900}).new_page()
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(f"{base}/login")
            page.fill("input[name=email]", "screens@bench.example")
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            for name, path in pages.items():
                start = time.perf_counter()
                page.goto(base + path, timeout=300_000)
                page.wait_for_timeout(2000)  # plots draw
                page.screenshot(path=str(SHOTS / f"generated-{name}.png"), full_page=name not in ("items",))
                print(f"{name}: {time.perf_counter() - start:.1f} s", file=sys.stderr)
            browser.close()
            print("page errors:", errors or "none", file=sys.stderr)
        server.shutdown()


if __name__ == "__main__":
    main()
