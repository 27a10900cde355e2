"""Load and faults against a real gunicorn server: N raters loop next → submit over the API.

    python bench/load.py                      # SQLite; sizes 1, 10, 50, 200; then the fault run
    python bench/load.py --database postgresql+psycopg://postgres@127.0.0.1:5432/mydb   # its schema is replaced
    python bench/load.py --sizes 1,10 --per-rater 20 --no-faults

For each size: ``/healthz`` alone with as many client threads as raters (requests/s and
latency), then ``/readyz`` alone the same way (it runs ``SELECT 1``: the cost of one database
round trip through the app), then the raters, each with its own keep-alive connection, looping
next → submit with a realistic pairwise payload and no think time; latencies of next and submit
are reported as ratios to /healthz's and to /readyz's. The machine's load averages before and
after each size are recorded beside the figures. The count check then compares what the server
acknowledged with what is stored: every acknowledged judgment present exactly once.

The fault run adds, while raters work: responses dropped after the server answered (the client
retries with the same Idempotency-Key), ``kill -9`` of a gunicorn worker, and on PostgreSQL the
termination of every connection to the database (``pg_terminate_backend``; the server itself
keeps running). Clients retry 503s after ``Retry-After`` (capped at 1 s) and connection errors.

Only the standard library on the client side (``http.client``, threads). The client shares the
machine's cores with the server: figures are for comparing runs on one machine, not absolutes.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, select, text  # noqa: E402

import migrate  # noqa: E402
from app import create_app  # noqa: E402
from database import db, utcnow  # noqa: E402
from raters import services  # noqa: E402
from raters.models import CONSENT_VERSION, User  # noqa: E402
from tasks.catalogue.models import Asset, Item, ItemOutput  # noqa: E402
from tasks.catalogue.projects import create_project, set_members  # noqa: E402
from tasks.rating import routing  # noqa: E402
from tasks.rating.models import Judgment  # noqa: E402

VOCAB = ("grading pacing framing rhythm contrast continuity motion blocking texture lighting tempo clarity "
         "staging silhouettes reflections highlights shadows cadence transitions edits sound mix dialogue "
         "ambience horizon camera lens focus depth colour palette grain").split()
RETRYABLE = {None, 502, 503, 504}  # None: the connection failed or was reset
MAX_ATTEMPTS = 60


# -- the server ------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """``gunicorn -c gunicorn.conf.py 'app:create_app()'`` on a free loopback port."""

    def __init__(self, database_url: str, workdir: Path, *, workers: int = 4, threads: int = 4):
        self.port = free_port()
        self.log = workdir / "gunicorn.log"
        env = {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": "bench-secret",
               "ASSET_STORE": str(workdir / "assets"), "JOBS_URL": f"sqlite:///{workdir / 'jobs.sqlite3'}",
               "LOG_LEVEL": "WARNING", "WEB_CONCURRENCY": str(workers), "GUNICORN_THREADS": str(threads),
               "GUNICORN_BIND": f"127.0.0.1:{self.port}", "GUNICORN_MAX_REQUESTS": "0"}
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"), "app:create_app()"],
                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        self.workers = workers

    def wait_ready(self, timeout_s: float = 60) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited: {self.log.read_text()[-2000:]}")
            try:
                if Http(self.port).call("GET", "/healthz")[0] == 200 and len(self.worker_pids()) == self.workers:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError("gunicorn did not become ready")

    def worker_pids(self) -> list[int]:
        """The master's children (read from /proc: only processes this run started)."""
        pids = []
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    stat = Path(f"/proc/{entry}/stat").read_text()
                except OSError:
                    continue
                if int(stat.rsplit(")", 1)[1].split()[1]) == self.proc.pid:
                    pids.append(int(entry))
        return sorted(pids)

    def kill_worker(self) -> int:
        pid = self.worker_pids()[0]
        os.kill(pid, signal.SIGKILL)
        return pid

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


# -- the client ------------------------------------------------------------------------------

class Http:
    """One keep-alive connection, as one browser tab holds; reconnects after an error."""

    def __init__(self, port: int, token: str | None = None, timeout_s: float = 60):
        self.port, self.timeout_s = port, timeout_s
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.conn: http.client.HTTPConnection | None = None

    def call(self, method: str, path: str, body: dict | None = None, headers: dict | None = None):
        """(status or None on a connection error, response headers, parsed body, seconds)."""
        if self.conn is None:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout_s)
        data = json.dumps(body).encode() if body is not None else None
        sent = {**self.headers, **(headers or {}), **({"Content-Type": "application/json"} if data else {})}
        start = time.perf_counter()
        try:
            self.conn.request(method, path, body=data, headers=sent)
            response = self.conn.getresponse()
            raw = response.read()
        except (OSError, http.client.HTTPException):
            self.conn.close()
            self.conn = None
            return None, {}, None, time.perf_counter() - start
        seconds = time.perf_counter() - start
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = raw.decode(errors="replace")
        return response.status, dict(response.getheaders()), parsed, seconds

    def send_and_drop(self, method: str, path: str, body: dict, headers: dict) -> None:
        """Send a request, wait until the server starts answering, and hang up without reading:
        the server did the work; the client never learns the outcome."""
        data = json.dumps(body).encode()
        head = "".join(f"{k}: {v}\r\n" for k, v in {**self.headers, **headers, "Content-Type": "application/json",
                                                      "Content-Length": len(data), "Host": "127.0.0.1",
                                                      "Connection": "close"}.items())
        with socket.create_connection(("127.0.0.1", self.port), timeout=self.timeout_s) as sock:
            sock.sendall(f"{method} {path} HTTP/1.1\r\n{head}\r\n".encode() + data)
            try:
                sock.recv(1)
            except OSError:
                pass


def rationale(rng: random.Random, n: int) -> str:
    """16 different words (a word repeated three times in a row is refused as filler)."""
    return " ".join(rng.sample(VOCAB, min(16, len(VOCAB)))) + f" note {n}"


@dataclass
class Record:
    """What the clients saw: latencies by kind, statuses, acknowledgements."""
    latencies: dict[str, list[float]] = field(default_factory=lambda: {"next": [], "submit": [], "healthz": []})
    statuses: Counter = field(default_factory=Counter)
    acked: dict[str, int] = field(default_factory=dict)  # idempotency key → judgment id
    replayed: int = 0
    dropped: int = 0
    locked_messages: int = 0
    successes: list[float] = field(default_factory=list)  # monotonic times of acknowledged submits
    failures: list[float] = field(default_factory=list)  # monotonic times of 5xx / connection errors
    lock: threading.Lock = field(default_factory=threading.Lock)

    def note(self, kind: str, status, body, seconds: float) -> None:
        with self.lock:
            self.statuses[f"{kind} {status if status is not None else 'connection error'}"] += 1
            if status is not None and status < 500:
                self.latencies[kind].append(seconds)
            if status is None or status >= 500:
                self.failures.append(time.monotonic())
            if "database is locked" in json.dumps(body):
                self.locked_messages += 1


def _retry_pause(headers: dict) -> None:
    try:
        wait = float(headers.get("Retry-After", 0.2))
    except ValueError:
        wait = 0.2
    time.sleep(min(max(wait, 0.05), 1.0))


def rater_loop(port: int, token: str, project_id: int, quota: int, record: Record, *, drop_rate: float = 0.0,
               seed: int = 0) -> None:
    http_ = Http(port, token)
    rng = random.Random(seed)
    done = 0
    while done < quota:
        for _attempt in range(MAX_ATTEMPTS):
            status, headers, payload, seconds = http_.call("POST", f"/api/v1/projects/{project_id}/assignments/next")
            record.note("next", status, payload, seconds)
            if status not in RETRYABLE:
                break
            _retry_pause(headers)
        if status == 204 or status not in (200, 201):
            return  # nothing left, or a refusal (counted in the statuses)
        answer = {"choice": rng.choice(["left", "right", "tie"]), "strength": rng.randint(1, 3),
                  "confidence": rng.randint(1, 5), "rationale": rationale(rng, seed * 100_000 + done)}
        # No playback claim: the project asks for none (min_media_fraction 0), and a claim the
        # server did not observe (these clients fetch no media) is refused.
        key = uuid.uuid4().hex
        path = f"/api/v1/assignments/{payload['id']}/judgment"
        if drop_rate and rng.random() < drop_rate:
            http_.send_and_drop("POST", path, answer, {"Idempotency-Key": key})
            with record.lock:
                record.dropped += 1
        for _attempt in range(MAX_ATTEMPTS):
            status, headers, body, seconds = http_.call("POST", path, answer, {"Idempotency-Key": key})
            record.note("submit", status, body, seconds)
            if status not in RETRYABLE:
                break
            _retry_pause(headers)
        if status == 201:
            with record.lock:
                record.acked[key] = body["id"]
                record.replayed += headers.get("Idempotent-Replayed") == "true"
                record.successes.append(time.monotonic())
        done += 1


def hammer_alone(port: int, path: str, threads: int, seconds: float) -> dict:
    """``path`` alone (``/healthz``; ``/readyz``, which touches the database): ``threads``
    clients for ``seconds``; requests/s and latencies."""
    record = Record()
    deadline = time.monotonic() + seconds

    def loop():
        client = Http(port)
        while time.monotonic() < deadline:
            status, _h, body, took = client.call("GET", path)
            record.note("healthz", status, body, took)

    start = time.monotonic()
    run_threads([loop] * threads)
    elapsed = time.monotonic() - start
    return {"requests": len(record.latencies["healthz"]), "rps": round(len(record.latencies["healthz"]) / elapsed, 1),
            **percentiles(record.latencies["healthz"]), "errors": sum(
                n for k, n in record.statuses.items() if not k.endswith(" 200"))}


def hammer_healthz(port: int, threads: int, seconds: float) -> dict:
    return hammer_alone(port, "/healthz", threads, seconds)


def load_average() -> list[float]:
    """The machine's 1, 5 and 15 minute load averages (the client shares the cores)."""
    return [round(x, 2) for x in os.getloadavg()]


def run_threads(targets) -> None:
    threads = [threading.Thread(target=t, daemon=True) for t in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def percentiles(values: list[float]) -> dict:
    if not values:
        return {"p50_ms": None, "p95_ms": None, "p99_ms": None}
    cuts = statistics.quantiles(values, n=100, method="inclusive") if len(values) > 1 else [values[0]] * 99
    return {"p50_ms": round(cuts[49] * 1000, 2), "p95_ms": round(cuts[94] * 1000, 2), "p99_ms": round(cuts[98] * 1000, 2)}


# -- the data --------------------------------------------------------------------------------

def prepare_database(url: str, workdir: Path) -> str:
    """A migrated, empty database: a new SQLite file, or the PostgreSQL database's schema replaced."""
    if url == "sqlite":
        url = f"sqlite:///{workdir / 'bench.sqlite3'}"
    migrate.reset(url)
    return url


def seed(app, n_raters: int, n_items: int, tag: str) -> tuple[int, list[str]]:
    """A pairwise video project (overlap 3, no dwell wait), ``n_raters`` consenting raters with
    API tokens, ``n_items`` items over a small pool of synthetic assets. (project id, tokens)."""
    with app.app_context():
        session = db.session
        now = utcnow()
        manager = User(email=f"manager-{tag}@bench.example", name="Bench manager", role="manager",
                       password_hash=None, active=True, session_version=1)
        raters = [User(email=f"rater-{tag}-{i}@bench.example", name=f"Rater {i}", role="rater", password_hash=None,
                       active=True, session_version=1, consent_version=CONSENT_VERSION, consent_at=now)
                  for i in range(n_raters)]
        session.add_all([manager, *raters])
        session.flush()
        project = create_project(session, {
            "name": f"Load {tag}", "kind": "pairwise", "modality": "video", "rubric": [], "overlap": 3,
            "max_overlap": 3, "min_rationale_words": 12, "min_media_fraction": 0.0, "gold_rate": 0.0,
            "audit_rate": 0.0, "confidence_threshold": 0.9}, manager)
        # The simulated raters answer as fast as the server lets them: the speed and burst pause
        # rules (tasks.rating.standing) are off here, so the run measures the server, not them.
        project.quality_thresholds = {"speed_streak": 10**6, "burst_count": 10**6}
        set_members(session, project, [r.id for r in raters], manager)
        assets = [Asset(sha256=secrets.token_hex(32), public_id=secrets.token_urlsafe(18), media_kind="video",
                        mime_type="video/mp4", size_bytes=1, duration_s=8.0 + i, duration_source="declared",
                        original_name=f"clip-{i}.mp4", source_model=f"gen-{'ab'[i % 2]}", consent="granted")
                  for i in range(16)]
        session.add_all(assets)
        session.flush()
        rng = random.Random(tag)
        for n in range(n_items):
            a, b = rng.sample(assets, 2)
            item = Item(project_id=project.id, external_id=f"{tag}-{n}", model_confidence=round(rng.random() * 0.8, 3),
                        prompt=f"Brief {n}: a harbour at dawn, boats drifting through thin mist, gulls overhead")
            item.outputs = [ItemOutput(label="a", model="gen-a", asset=a), ItemOutput(label="b", model="gen-b", asset=b)]
            session.add(item)
        session.flush()
        routing.refresh_project_items(session, project)  # count them in for routing
        tokens = [services.create_token(session, rater, "load")[1] for rater in raters]
        session.commit()
        return project.id, tokens


def _items_for(n_raters: int, per_rater: int) -> int:
    """Enough items that no rater runs out: each takes an item once, each item takes 3 raters."""
    return max(per_rater + 5, (n_raters * per_rater) // 3 + n_raters + 10)


def count_check(app, project_id: int, record: Record) -> dict:
    """Acknowledged judgments against stored ones: each acknowledged key stored exactly once,
    with the id the server acknowledged."""
    with app.app_context():
        rows = db.session.execute(select(Judgment.idempotency_key, Judgment.id)
                                  .where(Judgment.project_id == project_id)).all()
        db.session.rollback()
    stored = Counter(key for key, _id in rows)
    ids = {key: judgment_id for key, judgment_id in rows}
    missing = [k for k in record.acked if k not in stored]
    doubled = [k for k, n in stored.items() if n > 1]
    wrong_id = [k for k, i in record.acked.items() if k in ids and ids[k] != i]
    return {"acknowledged": len(record.acked), "stored": len(rows), "missing": len(missing),
            "duplicates": len(doubled), "acknowledged_with_another_id": len(wrong_id),
            "stored_never_acknowledged": len(set(stored) - set(record.acked)),
            "ok": not missing and not doubled and not wrong_id}


# -- runs ------------------------------------------------------------------------------------

def client_errors(record: Record) -> dict:
    """What a user would have seen go wrong (retries that later succeeded included)."""
    out = {k: n for k, n in record.statuses.items()
           if k.endswith("connection error") or k.split()[-1].startswith("5")}
    out["database_is_locked_messages"] = record.locked_messages
    return out


def load_run(app, server: Server, n_raters: int, per_rater: int, *, healthz_s: float, tag: str) -> dict:
    project_id, tokens = seed(app, n_raters, n_items=_items_for(n_raters, per_rater), tag=tag)
    load_before = load_average()
    health = hammer_healthz(server.port, n_raters, healthz_s)
    ready = hammer_alone(server.port, "/readyz", n_raters, healthz_s)  # a second reference: one database round trip
    record = Record()
    start = time.monotonic()
    run_threads([lambda t=t, i=i: rater_loop(server.port, t, project_id, per_rater, record, seed=i)
                 for i, t in enumerate(tokens)])
    elapsed = time.monotonic() - start
    result = {"raters": n_raters, "per_rater": per_rater, "elapsed_s": round(elapsed, 2),
              "load_average": {"before": load_before, "after": load_average()},
              "judgments_per_s": round(len(record.acked) / elapsed, 2), "healthz": health, "readyz": ready}
    for kind in ("next", "submit"):
        result[kind] = percentiles(record.latencies[kind])
        for name, reference in (("healthz", health), ("readyz", ready)):
            result[kind][f"ratio_to_{name}"] = {
                q: (round(result[kind][f"{q}_ms"] / reference[f"{q}_ms"], 2)
                    if result[kind][f"{q}_ms"] and reference[f"{q}_ms"] else None)
                for q in ("p50", "p95", "p99")}
    result["judgments_per_s_over_healthz_rps"] = round(result["judgments_per_s"] / health["rps"], 3) if health["rps"] else None
    result["statuses"] = dict(record.statuses)
    result["client_errors"] = client_errors(record)
    result["count_check"] = count_check(app, project_id, record)
    return result


def terminate_backends(url: str) -> int:
    engine = create_engine(url)
    with engine.begin() as conn:
        killed = conn.execute(text("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                   "WHERE datname = current_database() AND pid <> pg_backend_pid()")).scalar()
    engine.dispose()
    return killed


def fault_run(app, server: Server, database_url: str, n_raters: int, per_rater: int, *, drop_rate: float,
              tag: str) -> dict:
    """Raters at work while responses are dropped, a worker is killed -9 at a third of the run,
    and (PostgreSQL) every database connection is terminated at two thirds."""
    project_id, tokens = seed(app, n_raters, n_items=_items_for(n_raters, per_rater), tag=tag)
    record = Record()
    events: list[dict] = []
    expected = n_raters * per_rater

    def saboteur():
        def wait_for(share):
            while len(record.acked) < expected * share and any(t.is_alive() for t in workers):
                time.sleep(0.05)
        wait_for(1 / 3)
        pid = server.kill_worker()
        events.append({"at": time.monotonic(), "fault": "kill -9 worker", "pid": pid})
        if database_url.startswith("postgresql"):
            wait_for(2 / 3)
            events.append({"at": time.monotonic(), "fault": "pg_terminate_backend (all)",
                           "connections": terminate_backends(database_url)})

    workers = [threading.Thread(target=rater_loop, args=(server.port, t, project_id, per_rater, record),
                                kwargs={"drop_rate": drop_rate, "seed": i}, daemon=True) for i, t in enumerate(tokens)]
    start = time.monotonic()
    for thread in workers:
        thread.start()
    sabotage = threading.Thread(target=saboteur, daemon=True)
    sabotage.start()
    for thread in workers:
        thread.join()
    sabotage.join(timeout=5)
    elapsed = time.monotonic() - start
    ends = [e["at"] for e in events[1:]] + [time.monotonic()]
    for event, end in zip(events, ends):  # recovery: fault → first acknowledgment after the last failure it caused
        window = [t for t in record.failures if event["at"] <= t < min(end, event["at"] + 30)]
        last_failure = max(window) if window else event["at"]
        after = [t for t in record.successes if t > last_failure]
        event["client_failures"] = len(window)
        event["recovery_s"] = round(min(after) - event["at"], 3) if after else None
        event["at_s"] = round(event.pop("at") - start, 2)
    return {"raters": n_raters, "per_rater": per_rater, "elapsed_s": round(elapsed, 2), "drop_rate": drop_rate,
            "dropped_responses": record.dropped, "replayed_on_retry": record.replayed, "faults": events,
            "workers_after": len(server.worker_pids()), "statuses": dict(record.statuses),
            "client_errors": client_errors(record), "count_check": count_check(app, project_id, record)}


def bench(database: str, sizes: list[tuple[int, int]], *, workers: int, healthz_s: float, faults: bool,
          fault_size: tuple[int, int] = (10, 40), drop_rate: float = 0.05) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        url = prepare_database(database, workdir)
        app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench-secret", "ASSET_STORE": str(workdir / "assets"),
                          "JOBS_URL": "memory://", "LOG_LEVEL": "WARNING"})
        server = Server(url, workdir, workers=workers)
        try:
            server.wait_ready()
            out = {"database": url.split(":", 1)[0], "workers": workers, "threads_per_worker": 4,
                   "cpus": os.cpu_count(), "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                   "load_average_at_start": load_average(), "runs": []}
            for n_raters, per_rater in sizes:
                run = load_run(app, server, n_raters, per_rater, healthz_s=healthz_s, tag=f"{n_raters}r")
                out["runs"].append(run)
                print(summary_line(run), flush=True)
            if faults:
                out["faults"] = fault_run(app, server, url, *fault_size, drop_rate=drop_rate, tag="faults")
                print("faults:", json.dumps(out["faults"]), flush=True)
        finally:
            server.stop()
            app.extensions["database"].engine.dispose()
        return out


def summary_line(run: dict) -> str:
    h, n, s = run["healthz"], run["next"], run["submit"]
    return (f"{run['raters']:>4} raters: {run['judgments_per_s']:7.1f} judgments/s "
            f"(healthz alone {h['rps']:.0f}/s, ratio {run['judgments_per_s_over_healthz_rps']}) | "
            f"p50/p95/p99 ms healthz {h['p50_ms']}/{h['p95_ms']}/{h['p99_ms']} "
            f"next {n['p50_ms']}/{n['p95_ms']}/{n['p99_ms']} ({n['ratio_to_healthz']['p50']}x) "
            f"submit {s['p50_ms']}/{s['p95_ms']}/{s['p99_ms']} ({s['ratio_to_healthz']['p50']}x; "
            f"readyz p50 {run['readyz']['p50_ms']}, submit {s['ratio_to_readyz']['p50']}x) | "
            f"load {run['load_average']['after'][0]} | "
            f"count {run['count_check']['acknowledged']}/{run['count_check']['stored']} ok={run['count_check']['ok']} "
            f"errors {run['client_errors']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database", action="append",
                        help="'sqlite' (a new file) or a PostgreSQL URL whose schema is replaced; repeatable "
                             "(default: sqlite, and $BENCH_DATABASE_URL when set)")
    parser.add_argument("--sizes", default="1,10,50,200")
    parser.add_argument("--per-rater", type=int, default=0, help="judgments per rater (default: by size)")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--healthz-seconds", type=float, default=5.0)
    parser.add_argument("--no-faults", action="store_true")
    parser.add_argument("--out", default=str(ROOT / "bench" / "load_results.json"))
    args = parser.parse_args()
    databases = args.database or ["sqlite"] + ([os.environ["BENCH_DATABASE_URL"]] if os.environ.get("BENCH_DATABASE_URL") else [])
    default_quota = {1: 60, 10: 30, 50: 12, 200: 5}
    sizes = [(n, args.per_rater or default_quota.get(n, max(4, 600 // n))) for n in map(int, args.sizes.split(","))]
    results = []
    for database in databases:
        print(f"== {database.split(':', 1)[0]} ==", flush=True)
        results.append(bench(database, sizes, workers=args.workers, healthz_s=args.healthz_seconds,
                             faults=not args.no_faults))
    Path(args.out).write_text(json.dumps(results, indent=2) + "\n")
    print(f"written to {args.out}")
    if not all(r["count_check"]["ok"] for res in results for r in res["runs"] + ([res["faults"]] if "faults" in res else [])):
        sys.exit("count check failed: an acknowledged judgment is missing or doubled")


if __name__ == "__main__":
    main()
