"""What one request of ``next`` and ``submit`` costs in this process: CPU, wall and statements.

    python bench/cpu_per_request.py --database postgresql+psycopg://postgres@127.0.0.1:5432/mydb  # schema replaced
    python bench/cpu_per_request.py --database ... --profile submit --top 40   # cProfile of submit

In-process (the Flask test client, an API token, one rater looping next → submit with
``bench/load.py``'s payload and project): the per-request CPU time of this thread
(``time.thread_time``) and the wall time, p50 over ``--rounds`` judgments, and the statements
each request sends, beside ``/healthz`` and ``/readyz`` measured the same way in the same run.
No server, no HTTP: what is left is the app's own Python work and its database round trips —
the figure that caps judgments/s when the workers' CPU is the bottleneck. Prints one JSON line.
"""
from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import random
import statistics
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import event  # noqa: E402

import migrate  # noqa: E402
from app import create_app  # noqa: E402
from bench.load import rationale, seed  # noqa: E402


def measure(args) -> dict:
    migrate.reset(args.database)
    app = create_app({"DATABASE_URL": args.database, "SECRET_KEY": "bench-secret", "JOBS_URL": "memory://",
                      "ASSET_STORE": "/tmp/cpu-per-request-assets", "LOG_LEVEL": "WARNING"})
    project_id, (token,) = seed(app, 1, args.rounds + args.warmup + 10, "cpu")
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    engine = app.extensions["database"].engine
    counted = [0]
    event.listen(engine, "before_cursor_execute", lambda *a: counted.__setitem__(0, counted[0] + 1))
    figures: dict[str, dict[str, list[float]]] = {k: {"cpu": [], "wall": [], "statements": []}
                                                  for k in ("next", "submit", "healthz", "readyz")}
    rng = random.Random(7)
    profiler = cProfile.Profile(time.thread_time) if args.profile else None  # CPU, not waits

    def call(kind, method, path, **kwargs):
        measured = n >= args.warmup
        profiling = profiler is not None and measured and kind == args.profile
        counted[0] = 0
        cpu, wall = time.thread_time(), time.perf_counter()
        if profiling:
            profiler.enable()
        response = client.open(path, method=method, headers={**headers, **kwargs.pop("headers", {})}, **kwargs)
        if profiling:
            profiler.disable()
        cpu, wall = time.thread_time() - cpu, time.perf_counter() - wall
        if measured:
            figures[kind]["cpu"].append(cpu * 1000)
            figures[kind]["wall"].append(wall * 1000)
            figures[kind]["statements"].append(counted[0])
        return response

    for n in range(args.warmup + args.rounds):
        call("healthz", "GET", "/healthz")
        call("readyz", "GET", "/readyz")
        got = call("next", "POST", f"/api/v1/projects/{project_id}/assignments/next")
        assert got.status_code in (200, 201), (got.status_code, got.get_data(as_text=True))
        answer = {"choice": rng.choice(["left", "right", "tie"]), "strength": rng.randint(1, 3),
                  "confidence": rng.randint(1, 5), "rationale": rationale(rng, n)}
        done = call("submit", "POST", f"/api/v1/assignments/{got.json['id']}/judgment", json=answer,
                    headers={"Idempotency-Key": uuid.uuid4().hex})
        assert done.status_code == 201, (done.status_code, done.get_data(as_text=True))
    engine.dispose()
    out = {"rounds": args.rounds, "loadavg": [round(x, 2) for x in os.getloadavg()],
           **{kind: {"cpu_p50_ms": round(statistics.median(v["cpu"]), 3),
                     "wall_p50_ms": round(statistics.median(v["wall"]), 3),
                     "statements": statistics.median(v["statements"])} for kind, v in figures.items()}}
    if profiler is not None:
        text = io.StringIO()
        pstats.Stats(profiler, stream=text).sort_stats(args.sort).print_stats(args.top)
        out["profile"] = text.getvalue()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database", default=os.environ.get("BENCH_DATABASE_URL", ""), required=False)
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--profile", choices=("next", "submit"), default=None)
    parser.add_argument("--sort", default="cumulative")
    parser.add_argument("--top", type=int, default=60)
    args = parser.parse_args()
    if not args.database:
        sys.exit("--database (a PostgreSQL URL whose schema is replaced) or $BENCH_DATABASE_URL")
    result = measure(args)
    profile = result.pop("profile", None)
    print(json.dumps(result), flush=True)
    if profile:
        print(profile)


if __name__ == "__main__":
    main()
