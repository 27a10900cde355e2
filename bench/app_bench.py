"""Benchmarks of the app on PostgreSQL: routing (``next``) at 1,000 and 100,000 items against a
trivial authenticated call, judgments/s at 50 raters through gunicorn, and judgment import of
1M rows against a plain ``COPY`` of the same rows.

Run from the repository root: ``python bench/app_bench.py [--quick] [--explain DIR]``; needs
``BENCH_DATABASE_URL`` (a PostgreSQL database it may wipe); without it, it says so and skips.
"""
from __future__ import annotations

import argparse
import json
import os
import secrets
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import select, text  # noqa: E402

import migrate  # noqa: E402
from app import create_app  # noqa: E402
from database import db  # noqa: E402
from raters import services  # noqa: E402
from raters.models import CONSENT_VERSION, User  # noqa: E402
from tasks.catalogue.models import Project  # noqa: E402
from tasks.rating import routing  # noqa: E402

PANEL = 3  # raters of the earlier panel that judged the finished share of the items


def make_app(url: str, tmp: Path):
    return create_app({"SECRET_KEY": "bench", "DATABASE_URL": url, "ASSET_STORE": str(tmp / "assets"),
                       "MEDIA_ROOT": str(tmp / "media"), "JOBS_URL": "memory://"})


def add_raters(conn, n: int, prefix: str) -> list[int]:
    """``n`` raters with consent (no password: they use tokens), as one statement."""
    rows = conn.execute(text(
        "INSERT INTO users (email, name, role, active, senior, consent_version, consent_at, created_at, "
        "session_version) SELECT :p || g || '@bench.example', 'Bench rater ' || g, 'rater', true, false, "
        ":v, now(), now(), 1 FROM generate_series(1, :n) g RETURNING id"),
        {"p": prefix, "n": n, "v": CONSENT_VERSION})
    return [r[0] for r in rows]


def seed_project(app, n_items: int, *, done_share: float = 0.5, name: str | None = None) -> int:
    """A pairwise project of ``n_items`` items (random confidences), the first ``done_share`` of
    them already judged by a panel of three (imported judgments): the shape of a running project."""
    with app.app_context():
        session = db.session
        conn = session.connection()
        owner = services.create_user(session, email=f"owner-{secrets.token_hex(4)}@bench.example", name="Owner",
                                     role="manager", password="bench-owner-password")
        project = Project(name=name or f"bench-{n_items}-{secrets.token_hex(3)}", kind="pairwise",
                          modality="video", owner_id=owner.id, overlap=PANEL, max_overlap=PANEL,
                          min_rationale_words=0, min_media_fraction=0, gold_rate=0.05, audit_rate=0.05)
        session.add(project)
        session.flush()
        asset_ids = [r[0] for r in conn.execute(text(
            "INSERT INTO assets (sha256, public_id, media_kind, mime_type, size_bytes, duration_s, original_name, "
            "consent, created_at) SELECT md5(random()::text) || md5(random()::text), md5(random()::text), 'video', "
            "'video/mp4', 1, 3.0, 'x', 'granted', now() FROM generate_series(1, 2) RETURNING id"))]
        conn.execute(text(
            "INSERT INTO items (project_id, external_id, prompt, model_confidence, created_at) "
            "SELECT :p, 'it-' || g, 'Brief ' || g, CASE WHEN g % 10 = 0 THEN NULL ELSE random() END, now() "
            "FROM generate_series(1, :n) g"), {"p": project.id, "n": n_items})
        conn.execute(text(
            "UPDATE items SET gold = '{\"choice\": \"a\"}' WHERE project_id = :p AND id % 50 = 0"), {"p": project.id})
        conn.execute(text(
            "INSERT INTO item_outputs (item_id, label, model, asset_id) SELECT id, l.label, 'gen-' || l.label, "
            "CASE l.label WHEN 'a' THEN :a ELSE :b END FROM items, (VALUES ('a'), ('b')) l(label) "
            "WHERE project_id = :p"), {"p": project.id, "a": asset_ids[0], "b": asset_ids[1]})
        panel = add_raters(conn, PANEL, f"panel-{project.id}-")
        n_done = int(n_items * done_share)
        for rater_id in panel:
            conn.execute(text(
                "INSERT INTO judgments (project_id, item_id, rater_id, choice, rationale, confidence, paste_count, "
                "source, created_at) SELECT :p, id, :r, 'a', 'earlier panel', 3, 0, 'imported', now() FROM items "
                "WHERE project_id = :p AND gold IS NULL ORDER BY id LIMIT :k"),
                {"p": project.id, "r": rater_id, "k": n_done})
        conn.execute(text(
            "INSERT INTO item_panels (item_id, project_id, n_judgments, target, state, agreement, updated_at) "
            "SELECT item_id, :p, count(*), :o, 'agreed', 1.0, now() FROM judgments WHERE project_id = :p "
            "GROUP BY item_id"), {"p": project.id, "o": PANEL})
        refresh = getattr(routing, "refresh_project_items", None)
        if refresh is not None:
            refresh(session, project)
        session.commit()
        conn = db.session.connection()
        conn.execute(text("ANALYZE"))
        db.session.commit()
        return project.id


def rater_tokens(app, project_id: int, n: int) -> list[str]:
    """``n`` new member raters of the project, each with an API token."""
    with app.app_context():
        session = db.session
        ids = add_raters(session.connection(), n, f"r-{project_id}-{secrets.token_hex(3)}-")
        session.execute(text("INSERT INTO project_members (project_id, user_id, added_at) "
                             "SELECT :p, unnest(CAST(:ids AS integer[])), now()"), {"p": project_id, "ids": ids})
        secrets_ = [services.create_token(session, session.get(User, i), "bench")[1] for i in ids]
        session.commit()
        return secrets_


def p50_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def time_calls(client, calls) -> list[float]:
    out = []
    for method, url, token, expect in calls:
        start = time.perf_counter()
        response = getattr(client, method)(url, headers={"Authorization": f"Bearer {token}"})
        out.append(time.perf_counter() - start)
        assert response.status_code in expect, (url, response.status_code, response.get_data(as_text=True)[:300])
    return out


def bench_next(app, sizes, n_calls: int) -> dict:
    """p50 of ``next`` (a new assignment each call: a fresh rater each time) per project size,
    and of ``GET /api/v1/me`` (the trivial authenticated call) with the same tokens."""
    client = app.test_client()
    out = {}
    for n_items in sizes:
        project_id = seed_project(app, n_items)
        tokens = rater_tokens(app, project_id, n_calls + 10)
        url = f"/api/v1/projects/{project_id}/assignments/next"
        # A token's first use records it (one write per token per 5 minutes): not part of either call.
        time_calls(client, [("get", "/api/v1/me", t, (200,)) for t in tokens])
        time_calls(client, [("post", url, t, (201,)) for t in tokens[:10]])  # warm up
        nxt = time_calls(client, [("post", url, t, (201,)) for t in tokens[10:]])
        me = time_calls(client, [("get", "/api/v1/me", t, (200,)) for t in tokens[10:]])
        out[n_items] = {"project_id": project_id, "next_p50_ms": p50_ms(nxt), "me_p50_ms": p50_ms(me)}
        print(f"  next at {n_items:,} items: p50 {p50_ms(nxt):.2f} ms; /me p50 {p50_ms(me):.2f} ms", file=sys.stderr)
    return out


def explain_next(app, project_id: int, label: str, directory: Path | None) -> str:
    """``EXPLAIN ANALYZE`` of routing's hot query for a new rater of the project."""
    token_user = rater_tokens(app, project_id, 1)
    with app.app_context():
        session = db.session
        rater = session.scalar(select(User).where(User.email.like(f"r-{project_id}-%")).order_by(User.id.desc()))
        project = session.get(Project, project_id)
        now = datetime.now(timezone.utc)
        query = routing.explain_query(project, rater, now)
        compiled = query.compile(dialect=session.bind.dialect if session.bind else db.engine.dialect,
                                 compile_kwargs={"literal_binds": True})
        sql = str(compiled).replace("%%", "%")
        cursor = session.connection().connection.driver_connection.cursor()
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}".encode())
        plan = "\n".join(r[0] for r in cursor.fetchall())
        session.rollback()
    del token_user
    if directory is not None:
        directory.mkdir(parents=True, exist_ok=True)
        (directory / f"{label}.txt").write_text(f"{compiled}\n\n{plan}\n")
    return plan


def judgment_file(app, project_id: int, n_rows: int, per_item: int = 5, n_raters: int = 1000) -> bytes:
    """``n_rows`` judgments in the import format: ``per_item`` distinct raters on each item."""
    with app.app_context():
        external = db.session.scalars(select(text("external_id")).select_from(text("items")).where(
            text("project_id = :p")).order_by(text("id")).params(p=project_id)).all()
    lines = []
    for n in range(n_rows):
        item, j = divmod(n, per_item)
        lines.append(json.dumps({
            "external_id": external[item], "rater": f"outside-{(item + j * (n_raters // per_item)) % n_raters}",
            "choice": "ab"[(item + j) % 2] if j % 3 else "tie", "strength": None if not j % 3 else 1 + j % 3,
            "rationale": f"the pacing of take {n % 97} lands the beat", "confidence": 1 + n % 5,
            "created_at": "2026-06-30T10:00:00Z"}))
    return ("\n".join(lines) + "\n").encode()


def bench_import(app, n_rows: int) -> dict:
    """Our judgment import of ``n_rows`` rows against a plain COPY of the same rows into a scratch
    table, in the same run; and against a plain COPY of the same judgments into ``judgments``
    itself (``copy_into_judgments``: what the table alone costs)."""
    from tasks.rating.judgment_import import import_judgments, parse_rows

    project_id = seed_project(app, n_rows // 5, done_share=0.0, name=f"import-{n_rows}")
    twin_id = seed_project(app, n_rows // 5, done_share=0.0, name=f"import-twin-{n_rows}")
    data = judgment_file(app, project_id, n_rows)
    rows = [row for _line, row in parse_rows(data, "judgments.jsonl")[0]]
    columns = ("external_id", "rater", "choice", "strength", "rationale", "confidence", "created_at")
    with app.app_context():
        connection = db.session.connection()
        connection.execute(text("CREATE TABLE bench_scratch (external_id text, rater text, choice text, "
                                "strength integer, rationale text, confidence integer, created_at timestamptz)"))
        db.session.commit()
        cursor = db.session.connection().connection.driver_connection.cursor()
        start = time.perf_counter()
        with cursor.copy(f"COPY bench_scratch ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row([row.get(c) for c in columns])
        db.session.commit()
        copy_s = time.perf_counter() - start
    del rows
    table_s = copy_into_judgments(app, twin_id)
    with app.app_context():
        db.session.connection().execute(text("DROP TABLE bench_scratch"))
        db.session.commit()
    with app.app_context():
        project = db.session.get(Project, project_id)
        actor = db.session.get(User, project.owner_id)
        start = time.perf_counter()
        result = import_judgments(db.session, project, data, "judgments.jsonl", actor=actor,
                                  now=datetime.now(timezone.utc))
        db.session.commit()
        import_s = time.perf_counter() - start
    assert result.n_judgments == n_rows
    print(f"  judgment import of {n_rows:,} rows: {import_s:.1f} s ({n_rows / import_s:,.0f} rows/s); "
          f"COPY of the same rows {copy_s:.1f} s; ratio {import_s / copy_s:.1f}x; the same judgments "
          f"COPYed into judgments itself {table_s:.1f} s (ratio {import_s / table_s:.1f}x)", file=sys.stderr)
    return {"rows": n_rows, "import_s": import_s, "copy_s": copy_s, "ratio": import_s / copy_s,
            "copy_into_judgments_s": table_s, "ratio_to_judgments_copy": import_s / table_s,
            "file_mb": len(data) / 2**20}


def copy_into_judgments(app, twin_id: int) -> float:
    """What the table alone costs: the scratch table's rows as the judgments the import stores
    (with their rationale features, made beforehand), written by a plain ``COPY`` into
    ``judgments`` — its indexes, checks and foreign keys — onto the items of a twin project, by
    raters of its own. Timed like the scratch COPY, then rolled back and vacuumed away, so the
    import that follows meets the table as this COPY did."""
    from tasks.rating.answers import rationale_features

    with app.app_context():
        session = db.session
        session.execute(text(
            "INSERT INTO users (email, name, role, active, senior, created_at, session_version) "
            "SELECT DISTINCT 'twin-' || rater || '@bench.example', rater, 'rater', false, false, now(), 1 "
            "FROM bench_scratch"))
        found = session.execute(text(
            "SELECT i.id, u.id, s.choice, s.strength, s.rationale, s.confidence, s.created_at FROM bench_scratch s "
            "JOIN items i ON i.project_id = :p AND i.external_id = s.external_id "
            "JOIN users u ON u.email = 'twin-' || s.rater || '@bench.example'"), {"p": twin_id}).all()
        features: dict[str, str] = {}
        for *_, rationale, _c, _t in found:
            if rationale not in features:
                features[rationale] = json.dumps(rationale_features(rationale))
        rows = [[twin_id, item_id, rater_id, choice, strength, None, rationale, confidence, None, None, 0, "imported",
                 created_at, features[rationale]]
                for item_id, rater_id, choice, strength, rationale, confidence, created_at in found]
        assert len(rows) == session.execute(text("SELECT count(*) FROM bench_scratch")).scalar_one()
        del found
        columns = ("project_id, item_id, rater_id, choice, strength, scores, rationale, confidence, criteria, notes, "
                   "paste_count, source, created_at, rationale_features")
        cursor = session.connection().connection.driver_connection.cursor()
        start = time.perf_counter()
        with cursor.copy(f"COPY judgments ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        seconds = time.perf_counter() - start
        session.rollback()
    with db.engine.connect() as connection:
        connection.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM judgments"))
    return seconds


WORDS = ("pacing framing rhythm contrast continuity motion blocking texture lighting tempo clarity staging "
         "reflections highlights shadows cadence transitions sound dialogue ambience horizon lens focus depth "
         "colour palette grain").split()


def bench_load(app, url: str, tmp: Path, *, n_raters: int = 50, seconds: float = 30.0, workers: int = 2,
               threads: int = 8) -> dict:
    """Judgments per second with ``n_raters`` raters looping next → judge through gunicorn."""
    import random

    project_id = seed_project(app, 20_000, done_share=0.0, name="load")
    with app.app_context():
        # The simulated raters answer as fast as the server lets them: the speed and burst pause
        # rules (tasks.rating.standing) are off here, so the run measures the server, not them.
        db.session.get(Project, project_id).quality_thresholds = {"speed_streak": 10**6, "burst_count": 10**6}
        db.session.commit()
    tokens = rater_tokens(app, project_id, n_raters)
    port = 18000 + os.getpid() % 1000
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "bench", "JOBS_URL": "memory://",
           "ASSET_STORE": str(tmp / "assets"), "MEDIA_ROOT": str(tmp / "media")}
    server = subprocess.Popen([str(Path(sys.executable).parent / "gunicorn"), "-w", str(workers), "--threads",
                               str(threads), "-b", f"127.0.0.1:{port}", "--log-level", "warning", "app:create_app()"],
                              cwd=ROOT, env=env)
    base = f"http://127.0.0.1:{port}/api/v1"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{base}/openapi.json", timeout=1)
                break
            except OSError:
                time.sleep(0.2)
        done, errors, stop = [0] * n_raters, [], time.monotonic() + seconds

        def call(method, path, token, body=None, headers=None):
            request = urllib.request.Request(f"{base}{path}", method=method, data=body, headers={
                "Authorization": f"Bearer {token}", "Content-Type": "application/json", **(headers or {})})
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status, response.read()

        def rater(i):
            rng = random.Random(i)
            while time.monotonic() < stop:
                try:
                    status, body = call("POST", f"/projects/{project_id}/assignments/next", tokens[i])
                    if status == 204:
                        return
                    assignment = json.loads(body)["id"]
                    choice = rng.choice(["left", "right", "tie"])
                    answer = {"choice": choice, "strength": None if choice == "tie" else 2, "confidence": 3,
                              "rationale": " ".join(rng.choice(WORDS) for _ in range(14))}
                    status, _ = call("POST", f"/assignments/{assignment}/judgment", tokens[i],
                                     json.dumps(answer).encode(), {"Idempotency-Key": f"{i}-{assignment}"})
                    done[i] += status == 201
                except urllib.error.HTTPError as exc:
                    errors.append(exc.code)
                    if len(errors) == 1:
                        print(f"  first refusal: {exc.code} {exc.read()[:300]!r}", file=sys.stderr)
                    if exc.code == 403:  # paused or removed: asking again would only count refusals
                        return
        start = time.monotonic()
        pool = [threading.Thread(target=rater, args=(i,)) for i in range(n_raters)]
        for t in pool:
            t.start()
        for t in pool:
            t.join()
        elapsed = time.monotonic() - start
    finally:
        server.terminate()
        server.wait(10)
    rate = sum(done) / elapsed
    print(f"  {n_raters} raters through gunicorn ({workers} workers x {threads} threads): {rate:.1f} judgments/s "
          f"({sum(done)} in {elapsed:.0f} s; errors {dict((c, errors.count(c)) for c in set(errors))})",
          file=sys.stderr)
    return {"raters": n_raters, "judgments_per_s": rate, "judgments": sum(done), "seconds": elapsed,
            "errors": len(errors)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--explain", type=Path, help="write EXPLAIN ANALYZE plans into this folder")
    parser.add_argument("--only", default="next,load,import", help="comma-separated: next, load, import")
    parser.add_argument("--import-rows", type=int, metavar="N",
                        help="rows of the judgment import (default 1,000,000; 100,000 with --quick); "
                             "a run at another size is reported, not written into app_results.json")
    args = parser.parse_args()
    url = os.environ.get("BENCH_DATABASE_URL")
    if not url or not url.startswith("postgresql"):
        print("app_bench: skipped — set BENCH_DATABASE_URL to a PostgreSQL database it may wipe", file=sys.stderr)
        return
    tmp = Path(os.environ.get("BENCH_TMP", "/tmp/dailies-bench"))
    tmp.mkdir(parents=True, exist_ok=True)
    migrate.reset(url)
    app = make_app(url, tmp)
    results = {}
    only = set(args.only.split(","))
    if "next" in only:
        sizes = (1_000, 100_000)
        results["next"] = bench_next(app, sizes, 50 if args.quick else 200)
        for n_items in sizes:
            plan = explain_next(app, results["next"][n_items]["project_id"], f"next-{n_items}", args.explain)
            print(f"--- EXPLAIN ANALYZE at {n_items:,} items\n{plan}", file=sys.stderr)
    if "load" in only:
        results["load"] = bench_load(app, url, tmp, seconds=15 if args.quick else 30)
    if "import" in only:
        results["import"] = bench_import(app, args.import_rows or (100_000 if args.quick else 1_000_000))
    summary = {}
    if "next" in results:
        small, large = results["next"][1_000], results["next"][100_000]
        summary["next_100k_over_1k"] = large["next_p50_ms"] / small["next_p50_ms"]
        summary["next_over_trivial_call"] = large["next_p50_ms"] / large["me_p50_ms"]
        print(f"next p50: {small['next_p50_ms']:.1f} ms at 1,000 items, {large['next_p50_ms']:.1f} ms at 100,000 "
              f"(ratio {summary['next_100k_over_1k']:.2f}, goal <= 1.5); trivial authenticated call "
              f"{large['me_p50_ms']:.1f} ms (ratio {summary['next_over_trivial_call']:.1f}, goal <= 3)")
    if "load" in results:
        print(f"judgments/s at {results['load']['raters']} raters: {results['load']['judgments_per_s']:.1f}")
    if "import" in results:
        summary["import_over_copy"] = results["import"]["ratio"]
        summary["import_over_judgments_copy"] = results["import"]["ratio_to_judgments_copy"]
        print(f"judgment import of {results['import']['rows']:,} rows: {results['import']['import_s']:.1f} s, "
              f"COPY {results['import']['copy_s']:.1f} s (ratio {results['import']['ratio']:.1f}, goal <= 5); "
              f"COPY into judgments {results['import']['copy_into_judgments_s']:.1f} s "
              f"(ratio {results['import']['ratio_to_judgments_copy']:.1f})")
    load = os.getloadavg()
    if args.quick or args.import_rows not in (None, 1_000_000):
        print(f"not a full-size run: app_results.json left as it was (load average {load})")
        return
    # Each part keeps its own run: a run of some parts replaces those and leaves the others'
    # figures (with their own time and load average) as they were.
    path = Path(__file__).resolve().parent / "app_results.json"
    previous = json.loads(path.read_text()) if path.exists() else {}
    stamp = {"measured_at": datetime.now(timezone.utc).isoformat(timespec="seconds"), "load_average": load}
    runs = previous.get("runs", {})
    merged = dict(previous.get("results", {}))
    for part, figures in results.items():
        merged[part] = figures
        runs[part] = stamp
    out = {"quick": False, "runs": runs, "summary": {**previous.get("summary", {}), **summary}, "results": merged}
    path.write_text(json.dumps(out, indent=2, default=str) + "\n")
    print(f"wrote {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
