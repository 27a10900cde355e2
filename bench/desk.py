"""The manager's desk at scale: a generated pairwise project of 200 raters x 50,000 judgments
(live, with the sides shown and time on task; a few rubber-stampers, left-leaners and raters
failing gold among careful ones), and the panel overview timed against merely loading the
project's judgments from the database in the same run (goal: at most 2x).

``python bench/desk.py [--quick] [--database URL]`` writes ``bench/desk_results.json`` (wall and
CPU seconds, their ratios, the load average); ``bench/run.py`` runs it too. Without
``--database`` it builds the project in a temporary SQLite file.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import secrets
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import migrate  # noqa: E402
from app import create_app  # noqa: E402
from database import db  # noqa: E402
from raters.models import User  # noqa: E402
from scoring.quality import desk  # noqa: E402
from tasks.catalogue.models import Asset, Item, ItemOutput, Project  # noqa: E402
from tasks.rating import overlap  # noqa: E402
from tasks.rating.answers import rationale_features  # noqa: E402
from tasks.rating.models import Assignment, Judgment  # noqa: E402

MODELS = np.array(["gen-a", "gen-b", "gen-c", "gen-d", "gen-e", "gen-f"])
STRENGTH = np.array([1.2, 0.7, 0.3, -0.2, -0.7, -1.3])
WORDS = np.array(("grain light neon sway push frame edit pace cut rhythm colour contrast focus motion blur "
                  "shadow flicker seam texture depth horizon crowd alley rain glow camera track pan tilt "
                  "ghosting stutter timing beat mood brief continuity staging blocking exposure noise hum "
                  "reflection puddle signage runner doorway skyline vignette palette banding warp").split())
BAD = {"stamper": 4, "left": 4, "goldfail": 4}  # how many raters of each kind
START = datetime(2026, 9, 1, 9, 0, tzinfo=timezone.utc)
REPEATS = 5  # the best of these, for each of the two, interleaved


def build(session, *, n_raters=200, n_judgments=50_000, per_item=5, gold_share=0.03, seed=7) -> Project:
    """Write the generated project with bulk inserts; returns it."""
    rng = np.random.default_rng(seed)
    owner = User(email=f"owner-{secrets.token_hex(4)}@bench.example", name="Bench owner", role="manager",
                 password_hash=None, active=True, senior=False, session_version=1)
    session.add(owner)
    session.flush()
    project = Project(name=f"Generated panel {n_raters} x {n_judgments} {secrets.token_hex(3)}", kind="pairwise",
                      modality="video", owner_id=owner.id, confidence_threshold=0.9, audit_rate=0.2, overlap=3,
                      max_overlap=per_item)
    session.add(project)
    session.flush()
    kinds = (["stamper"] * BAD["stamper"] + ["left"] * BAD["left"] + ["goldfail"] * BAD["goldfail"])
    kinds += ["careful"] * (n_raters - len(kinds))
    session.execute(User.__table__.insert(), [
        {"email": f"rater{i:03d}-{project.id}@bench.example", "name": f"Rater {i:03d}" + ("" if k == "careful" else f" ({k})"),
         "role": "rater", "password_hash": None, "active": False, "senior": False, "session_version": 1,
         "created_at": START} for i, k in enumerate(kinds)])
    rater_ids = np.array(session.scalars(User.__table__.select().with_only_columns(User.id)
                                         .where(User.email.like(f"%-{project.id}@bench.example")).order_by(User.id)).all())
    assets = []
    for duration in (4.0, 6.0, 9.0, 12.0):
        asset = Asset(sha256=secrets.token_hex(32), public_id=secrets.token_urlsafe(18), media_kind="video",
                      mime_type="video/mp4", size_bytes=1, duration_s=duration, original_name="bench", consent="granted")
        session.add(asset)
        assets.append(asset)
    session.flush()
    n_items = n_judgments // per_item
    gold = rng.random(n_items) < gold_share
    pair = np.array([rng.choice(len(MODELS), 2, replace=False) for _ in range(n_items)])
    confidence = np.round(rng.uniform(0.2, 0.89, n_items), 2)
    truth = np.where(rng.random(n_items) < 1 / (1 + np.exp(STRENGTH[pair[:, 1]] - STRENGTH[pair[:, 0]])), "a", "b")
    truth = np.where(rng.random(n_items) < 0.08, "tie", truth)
    truth[gold & (truth == "tie")] = "a"
    session.execute(Item.__table__.insert(), [
        {"project_id": project.id, "external_id": f"gen-{i:06d}", "prompt": f"Generated brief {i}: a chase at night",
         "model_confidence": None if gold[i] else float(confidence[i]),
         "gold": {"choice": str(truth[i])} if gold[i] else None, "created_at": START} for i in range(n_items)])
    item_ids = np.array(session.scalars(Item.__table__.select().with_only_columns(Item.id)
                                        .where(Item.project_id == project.id).order_by(Item.id)).all())
    asset_of = rng.integers(0, len(assets), n_items)
    session.execute(ItemOutput.__table__.insert(), [
        {"item_id": int(item_ids[i]), "label": label, "model": str(MODELS[pair[i, k]]), "asset_id": assets[asset_of[i]].id}
        for i in range(n_items) for k, label in enumerate("ab")])
    rows_a, rows_j = _judgments(rng, project, item_ids, rater_ids, kinds, truth, gold,
                                np.array([a.duration_s for a in assets])[asset_of], per_item)
    session.execute(Assignment.__table__.insert(), rows_a)
    ids = session.scalars(Assignment.__table__.select().with_only_columns(Assignment.id)
                          .where(Assignment.project_id == project.id).order_by(Assignment.id)).all()
    for row, assignment_id in zip(rows_j, ids):
        row["assignment_id"] = assignment_id
    session.execute(Judgment.__table__.insert(), rows_j)
    overlap.refresh_project(session, project)
    session.flush()
    return project


def _judgments(rng, project, item_ids, rater_ids, kinds, truth, gold, media, per_item):
    n_raters = len(rater_ids)
    accuracy = rng.uniform(0.72, 0.92, n_raters)
    rows_a, rows_j = [], []
    for i, item_id in enumerate(item_ids):
        for r in rng.choice(n_raters, per_item, replace=False):
            kind = kinds[r]
            left = "a" if rng.random() < 0.5 else "b"
            if kind == "stamper" or (kind == "left" and rng.random() < 0.7):
                choice = left
            elif kind == "goldfail" and gold[i]:
                choice = "b" if truth[i] == "a" else "a"
            elif rng.random() < accuracy[r]:
                choice = truth[i]
            else:
                choice = rng.choice(["a", "b", "tie"])
            seconds = media[i] * (rng.uniform(0.8, 0.98) if kind == "stamper" else rng.lognormal(0.6, 0.35))
            when = START + timedelta(minutes=int(rng.integers(0, 60 * 24 * 70)))
            text = ("looks good to me overall, left is better" if kind == "stamper"
                    else " ".join(rng.choice(WORDS, int(rng.integers(14, 30)))))
            rows_a.append({"project_id": project.id, "item_id": int(item_id), "rater_id": int(rater_ids[r]),
                           "served_at": when - timedelta(seconds=seconds), "expires_at": when + timedelta(minutes=30),
                           "left_label": left, "status": "submitted", "is_audit": False, "submitted_at": when,
                           "closed_at": when})
            rows_j.append({"project_id": project.id, "item_id": int(item_id), "rater_id": int(rater_ids[r]),
                           "choice": choice, "strength": None if choice == "tie" else 2, "rationale": text,
                           "confidence": 4, "time_on_task_ms": int(seconds * 1000), "paste_count": 0,
                           "source": "live", "created_at": when,
                           "rationale_features": rationale_features(text)})  # as every write path stores it
    return rows_a, rows_j


def load_judgments(session, project) -> pd.DataFrame:
    """The reference: the project's current judgments, every column, as a DataFrame."""
    table = Judgment.__table__
    rows = session.execute(select(table).where(table.c.project_id == project.id, table.c.superseded_at.is_(None))).all()
    return pd.DataFrame.from_records(rows, columns=list(table.c.keys()))


def best_of(fn, repeats: int):
    """The best wall-clock and the best CPU seconds (this process) of ``repeats`` runs, and the
    last result: on a shared machine the CPU figure is the steadier of the two."""
    best, best_cpu, result = float("inf"), float("inf"), None
    for _ in range(repeats):
        start, cpu = time.perf_counter(), time.process_time()
        result = fn()
        best, best_cpu = min(best, time.perf_counter() - start), min(best_cpu, time.process_time() - cpu)
    return best, best_cpu, result


def bench_desk(url: str | None, quick: bool, rows: list) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = url or f"sqlite:///{tmp}/bench.sqlite3"
        migrate.upgrade(url)
        app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "TESTING": True})
        with app.app_context():
            n_judgments = 5_000 if quick else 50_000
            n_raters = 20 if quick else 200
            start = time.perf_counter()
            project = build(db.session, n_raters=n_raters, n_judgments=n_judgments)
            db.session.commit()
            print(f"  built {n_raters} raters x {n_judgments:,} judgments in {time.perf_counter() - start:.1f} s",
                  file=sys.stderr)
            # Interleaved, so that both see the same load on a shared machine.
            load_t, load_cpu, panel_t, panel_cpu = (float("inf"),) * 4
            for _ in range(REPEATS):
                t, cpu, frame = best_of(lambda: load_judgments(db.session, project), 1)
                load_t, load_cpu = min(load_t, t), min(load_cpu, cpu)
                t, cpu, overview = best_of(lambda: desk.panel_overview(db.session, project), 1)
                panel_t, panel_cpu = min(panel_t, t), min(panel_cpu, cpu)
            flagged = sum(1 for r in overview["raters"] if r["flags"])
            fit = overview["panel"]["mace"]
            dialect = db.engine.dialect.name
            rows.append({
                "benchmark": f"rater panel overview, {n_raters} raters x {len(frame):,} judgments ({dialect})",
                "ours_s": panel_t, "reference": "loading its current judgments (every column) into a DataFrame",
                "reference_s": load_t, "ratio": panel_t / load_t, "target": "<= 2.0",
                "ours_cpu_s": panel_cpu, "reference_cpu_s": load_cpu, "cpu_ratio": panel_cpu / load_cpu,
                "load_average": os.getloadavg()[0],
                "check": f"{flagged} raters flagged of {len(overview['raters'])}; MACE converged "
                         f"{fit['converged']} in {fit['iterations']} iterations",
            })


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--database", help="a database URL to build the project in (default: a temporary SQLite file)")
    args = parser.parse_args()
    rows: list = []
    bench_desk(args.database, args.quick, rows)
    for r in rows:
        print(f"{r['benchmark']}: {r['ours_s'] * 1e3:.0f} ms vs {r['reference_s'] * 1e3:.0f} ms loading = "
              f"{r['ratio']:.2f}x (CPU {r['cpu_ratio']:.2f}x; target {r['target']}; load average "
              f"{r['load_average']:.1f}); {r['check']}")
    path = Path(__file__).resolve().parent / "desk_results.json"
    path.write_text(json.dumps({"quick": args.quick, "python": platform.python_version(), "results": rows},
                               indent=2) + "\n")
    print(f"wrote {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
