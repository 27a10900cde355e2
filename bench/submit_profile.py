"""The rating page's submit POST in-process: server time of ``POST /assignments/<id>`` (judgment +
routing of the next item + commit, answered with a 303) and of the next item's ``GET``, for the
demo's video project, with the Flask test client (no network, no browser).

``python bench/submit_profile.py [--database URL] [--rounds N] [--profile] [--show-sql]`` prints
per-request milliseconds and SQL statements (best and median over every submission of N fresh
demo databases), with ``--profile`` the top of a cProfile of the POSTs, with ``--show-sql`` the
statements themselves. Timings on a shared machine are noisy: compare runs made together; the
statement counts are exact. The playback and timing rules are met by
backdating the assignment and writing the observation the heartbeats would have written, so the
rules run in full and pass.
"""
from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import random
import re
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import migrate  # noqa: E402
from app import create_app  # noqa: E402
from database import db, utcnow  # noqa: E402
from demo import seed  # noqa: E402
from sqlalchemy import event, select  # noqa: E402
from tasks.catalogue.models import Project  # noqa: E402
from tasks.rating.models import Assignment, PlaybackObservation  # noqa: E402

WORDS = ("grain light neon sway push frame edit pace cut rhythm colour contrast focus motion blur shadow flicker "
         "seam texture depth horizon crowd alley rain glow camera track pan tilt ghosting stutter timing beat mood "
         "continuity staging blocking exposure noise hum reflection puddle signage runner doorway skyline").split()


def rationale(rng: random.Random) -> str:
    return " ".join(rng.sample(WORDS, 18)) + "."


def meet_rules(app, assignment_id: int) -> None:
    """What a rater who watched both takes leaves behind: served long enough ago, both played."""
    with app.app_context():
        assignment = db.session.get(Assignment, assignment_id)
        assignment.served_at = utcnow() - timedelta(minutes=5)
        for output in assignment.item.outputs:
            db.session.add(PlaybackObservation(assignment_id=assignment.id, label=output.label, playing=False,
                                               heard_s=output.asset.duration_s or 0.0, bytes_seen=0,
                                               position_s=output.asset.duration_s, heartbeat_at=utcnow()))
        db.session.commit()


def show(title: str, statements: list[str], enabled: bool) -> None:
    if enabled:
        print(f"-- {title}\n" + "\n".join(statements))


def one_round(url: str, workdir: Path, rng: random.Random, profiler: cProfile.Profile | None,
              show_sql: bool) -> dict:
    migrate.reset(url)
    (workdir / "media").mkdir(exist_ok=True)
    app = create_app({"TESTING": True, "SECRET_KEY": "bench", "DATABASE_URL": url, "WTF_CSRF_ENABLED": False,
                      "ASSET_STORE": str(workdir / "assets"), "MEDIA_ROOT": str(workdir / "media"),
                      "EXPORT_ROOT": str(workdir / "exports"), "JOBS_URL": "memory://"})
    with app.app_context():
        seed.run(lambda _line: None)
        db.session.commit()
        project_id = db.session.scalar(select(Project.id).where(Project.name.like("Neon alley%")))
    statements = []
    event.listen(app.extensions["database"].engine, "before_cursor_execute",
                 lambda *args: statements.append(" ".join(args[2].split())[:150]))
    client = app.test_client()
    client.post("/login", data={"email": "editor@dailies.example", "password": "demo-rater-pass"})
    location = client.post(f"/projects/{project_id}/next").headers["Location"]
    out = {"post_ms": [], "get_ms": [], "post_statements": [], "get_statements": []}
    while re.search(r"/assignments/\d+$", location):
        statements.clear()
        t0 = time.perf_counter()
        client.get(location)
        out["get_ms"].append((time.perf_counter() - t0) * 1000)
        out["get_statements"].append(len(statements))
        show("GET " + location, statements, show_sql)
        meet_rules(app, int(location.rsplit("/", 1)[1]))
        form = {"choice": "left", "strength": "2", "confidence": "4", "rationale": rationale(rng),
                "idempotency_key": f"k{rng.random()}", "playback": "{}",
                "crit-motion-choice": "left", "crit-motion-strength": "2", "crit-fidelity-choice": "tie",
                "crit-continuity-choice": "right", "crit-continuity-strength": "1",
                "progress": json.dumps({"left": {"t": 4.0, "playing": False}, "right": {"t": 4.0, "playing": False}})}
        if profiler:
            profiler.enable()
        statements.clear()
        t0 = time.perf_counter()
        response = client.post(location, data=form)
        out["post_ms"].append((time.perf_counter() - t0) * 1000)
        out["post_statements"].append(len(statements))
        show("POST " + location, statements, show_sql)
        if profiler:
            profiler.disable()
        refusal = re.findall(r"(?:field-error|flash-error)[^>]*>([^<]*)", response.get_data(as_text=True))
        assert response.status_code in (302, 303), (response.status_code, refusal)
        location = response.headers["Location"]
    app.extensions["database"].engine.dispose()
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--show-sql", action="store_true")
    args = parser.parse_args()
    rng = random.Random(7)
    profiler = cProfile.Profile() if args.profile else None
    times = {"post_ms": [], "get_ms": [], "post_statements": [], "get_statements": []}
    with tempfile.TemporaryDirectory() as tmp:
        for n in range(args.rounds):
            url = args.database or f"sqlite:///{tmp}/bench{n}.sqlite3"
            for key, values in one_round(url, Path(tmp), rng, profiler, args.show_sql).items():
                times[key] += values
    summary = {k: {"n": len(v), "best": round(min(v), 1), "median": round(statistics.median(v), 1)}
               for k, v in times.items()}
    summary["load_average"] = os.getloadavg()[0]
    print(json.dumps(summary))
    if profiler:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(45)


if __name__ == "__main__":
    main()
