"""The statistics report at scale (issue 8): a pairwise project of N judgments (4 models, 5 raters
per item, 50 raters) in a scratch database, the full report (load, every statistic, store the
snapshot and its consensus rows) timed against reading the same judgments with
``pandas.read_sql``, and one consensus page read from the stored rows.

Scratch database: SQLite in a temporary folder, or ``BENCH_DATABASE_URL`` (a PostgreSQL database
of your own: its tables are created by the migrations and dropped afterwards -- never point it
at a database in use).
"""
from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import create_engine, insert, select, text

import migrate
from app import create_app
from database import Base, utcnow
from raters.models import User
from scoring.reports import data, snapshots
from tasks.catalogue.models import Asset, Item, ItemOutput, Project
from tasks.rating.models import Judgment

MODELS = ("gen-a", "gen-b", "gen-c", "gen-d")
STRENGTH = np.array([0.6, 0.2, 0.0, -0.5])
PER_ITEM, N_RATERS, BATCH = 5, 50, 20_000


def _seed(session, n_judgments: int, rng) -> Project:
    owner = User(email="owner@bench.example", name="Owner", role="manager", password_hash=None, active=True,
                 senior=False, session_version=1)
    raters = [User(email=f"r{i}@bench.example", name=f"R{i}", role="rater", password_hash=None, active=True,
                   senior=False, session_version=1) for i in range(N_RATERS)]
    session.add_all([owner, *raters])
    session.flush()
    project = Project(name="bench", kind="pairwise", modality="video", owner_id=owner.id)
    session.add(project)
    session.flush()
    assets = [Asset(sha256=f"{i:064x}", public_id=f"bench-{i}", media_kind="video", mime_type="video/mp4",
                    size_bytes=1, duration_s=1.0, original_name="x", consent="granted") for i in range(len(MODELS))]
    session.add_all(assets)
    session.flush()
    n_items = n_judgments // PER_ITEM
    pair = rng.integers(0, 6, n_items)
    pairs = [(a, b) for a in range(4) for b in range(a + 1, 4)]
    first_id = (session.scalar(select(Item.id).order_by(Item.id.desc()).limit(1)) or 0) + 1
    for start in range(0, n_items, BATCH):
        stop = min(n_items, start + BATCH)
        session.execute(insert(Item), [{"id": first_id + i, "project_id": project.id, "external_id": f"it-{i}",
                                        "prompt": f"brief {i % 500}"} for i in range(start, stop)])
        session.execute(insert(ItemOutput), [
            {"item_id": first_id + i, "label": label, "model": MODELS[pairs[pair[i]][k]],
             "asset_id": assets[pairs[pair[i]][k]].id}
            for i in range(start, stop) for k, label in enumerate("ab")])
    rater_ids = np.array([r.id for r in raters])
    now = utcnow()
    for start in range(0, n_items, BATCH // PER_ITEM):
        stop = min(n_items, start + BATCH // PER_ITEM)
        rows = []
        for i in range(start, stop):
            a, b = pairs[pair[i]]
            p_a = 1.0 / (1.0 + np.exp(STRENGTH[b] - STRENGTH[a]))
            for who in rng.choice(rater_ids, PER_ITEM, replace=False):
                draw = rng.random()
                choice = "tie" if draw < 0.1 else ("a" if rng.random() < p_a else "b")
                rows.append({"project_id": project.id, "item_id": first_id + i, "rater_id": int(who),
                             "choice": choice, "strength": None if choice == "tie" else int(rng.integers(1, 4)),
                             "rationale": "bench", "confidence": 3, "source": "imported", "paste_count": 0,
                             "created_at": now})
        session.execute(insert(Judgment), rows)
    session.commit()
    return project


def measure(n_judgments: int, n_resamples: int = 1000) -> dict:
    url = os.environ.get("BENCH_DATABASE_URL")
    with tempfile.TemporaryDirectory() as folder:
        url = url or f"sqlite:///{Path(folder) / 'bench.sqlite3'}"
        _reset(url)
        migrate.upgrade(url)
        app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "TESTING": True, "JOBS_URL": "memory://",
                          "ASSET_STORE": folder, "MEDIA_ROOT": folder})
        try:
            with app.app_context():
                session = app.extensions["database"].sessionmaker()
                project = _seed(session, n_judgments, np.random.default_rng(1))
                engine = app.extensions["database"].engine
                query = (select(Judgment.id, Judgment.item_id, Judgment.rater_id, Judgment.source, Judgment.choice,
                                Judgment.strength, Judgment.scores)
                         .where(Judgment.project_id == project.id, Judgment.superseded_at.is_(None)))
                read_t = _best(lambda: pd.read_sql(query, engine), 3)
                cfg = snapshots.StatsConfig(inline_max=10**9, n_resamples=n_resamples)
                started = time.perf_counter()
                snapshot = snapshots.compute(session, project, cfg)
                session.commit()
                report_t = time.perf_counter() - started
                page_t = _best(lambda: data.consensus_page(session, snapshot, "all", 0.67, 0, 50), 5)
                ds = snapshot.report["dawid_skene"]["choice"]
                session.close()
        finally:
            _reset(url)
    return {"n_judgments": n_judgments, "read_s": read_t, "report_s": report_t, "ratio": report_t / read_t,
            "consensus_page_s": page_t, "ds_iterations": ds["n_iter"], "ds_converged": ds["converged"]}


def _best(fn, repeats):
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def _reset(url: str) -> None:
    if not url.startswith("postgresql"):
        return
    engine = create_engine(url)
    with engine.begin() as conn:
        names = ", ".join(t.name for t in Base.metadata.sorted_tables)
        conn.execute(text(f"DROP TABLE IF EXISTS {names}, alembic_version CASCADE"))
    engine.dispose()


def bench_report(sizes, rows) -> None:
    results = [measure(n) for n in sizes]
    for r in results:
        rows.append({
            "benchmark": f"statistics report, {r['n_judgments']:,} pairwise judgments (load, all statistics, store)",
            "ours_s": r["report_s"], "reference": "pandas.read_sql of the same judgments",
            "reference_s": r["read_s"], "ratio": r["ratio"], "target": "<= 3 (issue 8)",
            "check": (f"one consensus page {r['consensus_page_s'] * 1e3:.1f} ms; Dawid-Skene "
                      f"{r['ds_iterations']} iterations, converged={r['ds_converged']}")})
    if len(results) > 1:
        small, large = results[0], results[-1]
        rows.append({
            "benchmark": f"statistics report {large['n_judgments']:,} vs {small['n_judgments']:,} judgments",
            "ours_s": large["report_s"], "reference": f"report at {small['n_judgments']:,}",
            "reference_s": small["report_s"], "ratio": large["report_s"] / small["report_s"],
            "target": f"<= 3 for {large['n_judgments'] // small['n_judgments']}x (issue 8)",
            "check": "linear would be the judgments' ratio"})
