"""Export benchmark: a 1,000,000-row preference export (one row per judgment) to Parquet, against
writing the same rows with pyarrow directly, in the same run; peak memory of each.

Run from the repository root: ``python bench/exports.py [--rows N] [--repeat K]`` (``make bench``
runs it). The reference reads every column the export reads (``DIRECT_COLUMNS["same"]``); the
narrower reference of earlier runs is measured too and reported beside it. Ours and the reference
run alternately ``--repeat`` times at the full size; the best run of each is compared.
The database is a fresh SQLite file filled with a pairwise video project (10 raters judge every
item; media referenced by sha256). Each measurement runs in its own process; its peak resident
memory is the high-water mark (``VmHWM``, reset just before the work starts) minus the resident
size at that moment. The export
is measured at two sizes to show its peak does not grow with the row count.
Results go to ``bench/exports_results.json``.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
N_RATERS = 10
N_ASSETS = 2000


def _status_mb(field: str) -> float | None:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return None


def rss_mb() -> float:
    """Resident memory now, after resetting the peak (Linux: ``clear_refs`` 5 resets VmHWM), so
    that the peak read later is the measured work's, not the imports'."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass
    return _status_mb("VmRSS") or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def peak_rss_mb() -> float:
    return _status_mb("VmHWM") or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def make_app(db_url: str, work: Path):
    from app import create_app
    return create_app({"DATABASE_URL": db_url, "SECRET_KEY": "bench", "JOBS_URL": "memory://",
                       "EXPORT_ROOT": str(work / "exports"), "ASSET_STORE": str(work / "assets")})


def populate(db_path: Path, work: Path, sizes: list[int]) -> dict[int, int]:
    """One project per size (judgment rows); returns size -> project id."""
    import migrate
    from database import db
    from raters.models import User
    from tasks.catalogue.projects import create_project

    url = f"sqlite:///{db_path}"
    migrate.upgrade(url)
    app = make_app(url, work)
    with app.app_context():
        owner = User(email="owner@bench.example", name="Owner", role="manager", active=True, senior=False,
                     session_version=1)
        raters = [User(email=f"r{i}@bench.example", name=f"R{i}", role="rater", active=True, senior=False,
                       session_version=1) for i in range(N_RATERS)]
        db.session.add_all([owner, *raters])
        db.session.flush()
        projects = {n: create_project(db.session, {"name": f"bench {n}", "kind": "pairwise", "modality": "video"},
                                      owner).id for n in sizes}
        rater_ids = [r.id for r in raters]
        db.session.commit()
    con = sqlite3.connect(db_path)
    stamp = (datetime(2026, 6, 1, tzinfo=timezone.utc)).strftime("%Y-%m-%d %H:%M:%S.%f")
    later = (datetime(2026, 6, 1, tzinfo=timezone.utc) + timedelta(hours=1)).strftime("%Y-%m-%d %H:%M:%S.%f")
    con.executemany(
        "INSERT INTO assets (id, sha256, public_id, media_kind, mime_type, size_bytes, duration_s, original_name, "
        "consent, license, created_at) VALUES (?, ?, ?, 'video', 'video/mp4', 1000, 4.0, 'x', 'granted', 'CC0-1.0', ?)",
        [(i + 1, f"{i:064x}", f"p{i}", stamp) for i in range(N_ASSETS)])
    item_id = judgment_id = 0
    for n_rows, project_id in projects.items():
        n_items = n_rows // N_RATERS
        items, outputs, assignments, judgments = [], [], [], []
        for k in range(n_items):
            item_id += 1
            items.append((item_id, project_id, f"it-{k}", f"A chase through alley {k}, one take.", stamp))
            outputs += [(item_id, "a", "gen-a", (2 * k) % N_ASSETS + 1), (item_id, "b", "gen-b", (2 * k + 1) % N_ASSETS + 1)]
            for r, rater in enumerate(rater_ids):
                judgment_id += 1
                choice = "ab"[(k + r) % 3 == 0] if (k + r) % 7 else "tie"
                assignments.append((judgment_id, project_id, item_id, rater, stamp, later, "ab"[r % 2], "submitted"))
                judgments.append((judgment_id, judgment_id, project_id, item_id, rater, choice,
                                  None if choice == "tie" else 1 + (k + r) % 3, f"Because of shot {k} and pacing {r}.",
                                  4, 60000, '{"a": 4.0, "b": 3.5}', 0, "live", stamp))
        con.executemany("INSERT INTO items (id, project_id, external_id, prompt, created_at) VALUES (?, ?, ?, ?, ?)", items)
        con.executemany("INSERT INTO item_outputs (item_id, label, model, asset_id) VALUES (?, ?, ?, ?)", outputs)
        con.executemany("INSERT INTO assignments (id, project_id, item_id, rater_id, served_at, expires_at, left_label, "
                        "status, is_audit) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0)", assignments)
        con.executemany("INSERT INTO judgments (id, assignment_id, project_id, item_id, rater_id, choice, strength, "
                        "rationale, confidence, time_on_task_ms, playback, paste_count, source, created_at) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", judgments)
        con.commit()
    con.close()
    return projects


def run_ours(db_url: str, work: Path, project_id: int) -> dict:
    """The product's export: the build job's code path, one row per judgment, media by reference."""
    from database import db
    from scoring.exports import options, services
    from tasks.catalogue.models import Project

    app = make_app(db_url, work)
    with app.app_context():
        project = db.session.get(Project, project_id)
        req = options.parse({"kind": "preferences", "mode": "judgments", "media": "references"},
                            project_kind="pairwise", criteria_keys=[])
        base = rss_mb()
        start, cpu = time.perf_counter(), time.process_time()
        export, _ = services.request_export(db.session, project, req, None, enqueue=False)
        services.build(db.session, export)
        db.session.commit()
        return {"seconds": time.perf_counter() - start, "cpu_s": time.process_time() - cpu,
                "peak_mb": peak_rss_mb() - base, "rows": export.row_counts["preferences"]}


# What the export reads from the database for each row, as flat columns. ``narrow`` is the
# reference measured before 2026-12 (no durations, playback, notes or per-criterion choices: less
# to read than the export reads); ``same`` reads everything the export reads.
DIRECT_COLUMNS = {
    "narrow": [("i.prompt", "prompt"), ("a.model", "model_a"), ("b.model", "model_b"), ("j.choice", "choice"),
               ("j.strength", "strength"), ("i.external_id", "item_id"), ("j.rationale", "rationale"),
               ("j.rater_id", "rater"), ("s.left_label", "left_label"), ("j.time_on_task_ms", "time_on_task_ms"),
               ("j.confidence", "confidence"), ("j.created_at", "created_at"), ("aa.sha256", "sha_a"),
               ("ba.sha256", "sha_b")],
}
DIRECT_COLUMNS["same"] = DIRECT_COLUMNS["narrow"] + [
    ("aa.duration_s", "duration_a"), ("ba.duration_s", "duration_b"),
    ("json_extract(j.playback, '$.a')", "playback_a"), ("json_extract(j.playback, '$.b')", "playback_b"),
    ("j.notes", "notes"), ("j.criteria", "criteria")]


def run_direct(db_path: Path, work: Path, project_id: int, columns: str = "same") -> dict:
    """Baseline: one query, the same rows as flat Arrow arrays, one ``pq.write_table``."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    selected = DIRECT_COLUMNS[columns]
    base = rss_mb()
    start, cpu = time.perf_counter(), time.process_time()
    con = sqlite3.connect(db_path)
    rows = con.execute(
        f"SELECT {', '.join(expr for expr, _ in selected)} "
        "FROM judgments j JOIN items i ON i.id = j.item_id "
        "JOIN item_outputs a ON a.item_id = i.id AND a.label = 'a' JOIN assets aa ON aa.id = a.asset_id "
        "JOIN item_outputs b ON b.item_id = i.id AND b.label = 'b' JOIN assets ba ON ba.id = b.asset_id "
        "LEFT JOIN assignments s ON s.id = j.assignment_id "
        "WHERE j.project_id = ? AND j.superseded_at IS NULL ORDER BY j.item_id, j.id", (project_id,)).fetchall()
    table = pa.table({name: pa.array(values) for (_, name), values in zip(selected, zip(*rows))})
    path = work / "direct.parquet"
    pq.write_table(table, path, compression="zstd")
    return {"seconds": time.perf_counter() - start, "cpu_s": time.process_time() - cpu,
            "peak_mb": peak_rss_mb() - base, "rows": table.num_rows, "columns": columns}


def forget_exports(db_path: Path, project_id: int) -> None:
    """Remove the project's exports, so that the next run builds again (same data, same key)."""
    con = sqlite3.connect(db_path)
    con.execute("DELETE FROM export_assets WHERE export_id IN (SELECT id FROM exports WHERE project_id = ?)",
                (project_id,))
    con.execute("DELETE FROM exports WHERE project_id = ?", (project_id,))
    con.commit()
    con.close()


def measure(kind: str, db_path: Path, work: Path, project_id: int) -> dict:
    out = subprocess.run([sys.executable, __file__, "--worker", kind, "--db", str(db_path), "--work", str(work),
                          "--project", str(project_id)], check=True, capture_output=True, text=True, cwd=ROOT)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--worker", choices=["ours", "direct", "direct_narrow"])
    parser.add_argument("--db")
    parser.add_argument("--work")
    parser.add_argument("--project", type=int)
    parser.add_argument("--repeat", type=int, default=2, help="alternating runs of ours and direct (best kept)")
    args = parser.parse_args()
    if args.worker:
        db_path, work = Path(args.db), Path(args.work)
        result = (run_ours(f"sqlite:///{db_path}", work, args.project) if args.worker == "ours"
                  else run_direct(db_path, work, args.project, "narrow" if args.worker == "direct_narrow" else "same"))
        print(json.dumps(result))
        return
    sizes = [args.rows // 4, args.rows]
    with tempfile.TemporaryDirectory(prefix="dailies-export-bench-") as tmp:
        work = Path(tmp)
        db_path = work / "bench.sqlite3"
        started = time.perf_counter()
        projects = populate(db_path, work, sizes)
        print(f"  filled {sum(sizes):,} judgments in {time.perf_counter() - started:.0f} s", file=sys.stderr)
        load_before = os.getloadavg()[0]
        results = {f"ours_{sizes[0]}": measure("ours", db_path, work, projects[sizes[0]])}
        print(f"  ours {sizes[0]:,}: {results[f'ours_{sizes[0]}']}", file=sys.stderr)
        runs: dict[str, list] = {"ours": [], "direct": []}
        for _ in range(args.repeat):  # alternating, so that both see the same load
            forget_exports(db_path, projects[args.rows])
            for kind in runs:
                runs[kind].append(measure(kind, db_path, work, projects[args.rows]))
                print(f"  {kind} {args.rows:,}: {runs[kind][-1]}", file=sys.stderr)
        results["direct_narrow"] = measure("direct_narrow", db_path, work, projects[args.rows])
        print(f"  direct_narrow {args.rows:,}: {results['direct_narrow']}", file=sys.stderr)
    ours, direct = (min(runs[kind], key=lambda r: r["seconds"]) for kind in ("ours", "direct"))
    small, narrow = results[f"ours_{sizes[0]}"], results["direct_narrow"]
    results.update({f"ours_{args.rows}_runs": runs["ours"], "direct_runs": runs["direct"]})
    assert ours["rows"] == direct["rows"] == narrow["rows"] == args.rows, (ours, direct, narrow)
    summary = {
        "benchmark": f"preference export, {args.rows:,} rows (one per judgment) to Parquet",
        "reference": "pyarrow direct: one SQL query of the same rows reading every column the export reads "
                     "(flat), one pq.write_table; best of the alternating runs for each side",
        "ours_s": ours["seconds"], "direct_pyarrow_s": direct["seconds"], "ratio": ours["seconds"] / direct["seconds"],
        "ours_cpu_s": ours["cpu_s"], "direct_cpu_s": direct["cpu_s"], "cpu_ratio": ours["cpu_s"] / direct["cpu_s"],
        "ratio_vs_narrow_reference": ours["seconds"] / narrow["seconds"],
        "cpu_ratio_vs_narrow_reference": ours["cpu_s"] / narrow["cpu_s"],
        "load_average": os.getloadavg()[0], "load_average_before": load_before, "target": "<= 2x",
        "ours_peak_mb": ours["peak_mb"], "ours_peak_mb_at_quarter_rows": small["peak_mb"],
        "direct_peak_mb": direct["peak_mb"], "results": results,
    }
    print(f"{summary['benchmark']}: ours {ours['seconds']:.1f} s, pyarrow direct {direct['seconds']:.1f} s, "
          f"ratio {summary['ratio']:.2f}x (target <= 2x); CPU time {ours['cpu_s']:.1f} s vs {direct['cpu_s']:.1f} s, "
          f"{summary['cpu_ratio']:.2f}x (load average {load_before:.1f} before, {summary['load_average']:.1f} after); "
          f"against the narrow reference {summary['ratio_vs_narrow_reference']:.2f}x "
          f"(CPU {summary['cpu_ratio_vs_narrow_reference']:.2f}x)\n"
          f"peak memory above start: ours {ours['peak_mb']:.0f} MB at {args.rows:,} rows, {small['peak_mb']:.0f} MB "
          f"at {sizes[0]:,} rows; pyarrow direct {direct['peak_mb']:.0f} MB")
    path = Path(__file__).resolve().parent / "exports_results.json"
    path.write_text(json.dumps(summary, indent=2) + "\n")


if __name__ == "__main__":
    main()
