"""Media benchmark: what streaming a rater's clip through the app costs, against fetching the
same bytes from the bucket directly, in the same run.

Run from the repository root: ``python bench/media_store.py [--mb 16] [--repeat 15]`` (``make
bench`` runs it). moto's S3 server in a process of its own on a free port (the "bucket"); the
app served by werkzeug's threaded server (the same kind of server as moto's) in this process,
with the HTTP client; a fresh SQLite database; one clip of ``--mb`` MB in a project with one
rater. On a real deployment the bucket is across a network, which adds the same time to every
path that fetches from it. Measured, median of ``--repeat``
fetches each, with a plain HTTP client:

* ``direct``: the presigned URL's GET straight from the bucket (what a manager's browser does
  after the redirect, and the floor for any path through the app);
* ``rater via app (s3)``: the rater's token GET of ``/media/<id>``: the app checks access and
  consent, records the byte range, and streams the bytes it reads from the bucket;
* ``manager via redirect``: ``/media/<id>`` answered 307, then the presigned GET;
* ``rater via app (local folder)``: the same route with the default local store;
* the same three for a 1 MiB Range in the middle of the clip.

Ratios are to ``direct`` of the same size. Results go to ``bench/media_results.json``.
"""
from __future__ import annotations

import argparse
import io
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import boto3
from werkzeug.serving import make_server

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import migrate  # noqa: E402
from app import create_app  # noqa: E402
from database import db  # noqa: E402
from raters import services  # noqa: E402
from tasks.catalogue import assets, importing  # noqa: E402
from tasks.catalogue.projects import create_project, set_members  # noqa: E402
from tasks.catalogue.store import asset_store  # noqa: E402

KEYS = {"S3_ACCESS_KEY_ID": "bench", "S3_SECRET_ACCESS_KEY": "bench", "S3_REGION": "us-east-1"}


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


PLAIN = urllib.request.build_opener(NoRedirect)
FOLLOW = urllib.request.build_opener()


def timed_get(opener, url: str, headers: dict) -> tuple[float, int, object]:
    started = time.perf_counter()
    try:
        with opener.open(urllib.request.Request(url, headers=headers), timeout=60) as answer:
            size = len(answer.read())
            return time.perf_counter() - started, size, answer
    except urllib.error.HTTPError as answer:  # a 307 with redirects not followed
        return time.perf_counter() - started, 0, answer


def seed(app, clip: bytes) -> dict:
    """A manager and a rater (tokens), a project with the clip in one item; returns what to fetch."""
    with app.app_context():
        session = db.session
        manager = services.create_user(session, email="m@bench.example", name="M", role="manager",
                                       password="bench-password-1")
        rater = services.create_user(session, email="r@bench.example", name="R", role="rater",
                                     password="bench-password-2")
        services.record_consent(session, rater)
        project = create_project(session, {"name": "media bench", "kind": "rubric", "modality": "video",
                                           "rubric": [{"key": "q", "label": "Q", "min": 1, "max": 5,
                                                       "levels": {"1": "poor", "5": "fine"}}]}, manager)
        set_members(session, project, [rater.id], manager)
        store = asset_store()
        stored = store.put(io.BytesIO(clip), "clip.mp4", len(clip))
        asset, _ = assets.register(session, store, stored, original_name="clip.mp4", actor=manager,
                                   provenance={"consent": "granted"}, declared_duration=60.0)
        row = {"external_id": "clip", "prompt": "bench", "outputs": [{"model": "m", "asset": {"id": asset.id}}]}
        importing.import_items(session, project, json.dumps(row).encode(), "bench.jsonl", actor=manager,
                               store=store, media_root=str(ROOT), max_asset_bytes=len(clip))
        _t, manager_token = services.create_token(session, manager, "bench")
        _t, rater_token = services.create_token(session, rater, "bench")
        session.commit()
        url = store.presigned_url(asset.sha256, expires_s=600, mime_type="video/mp4", download_name="x.mp4")
        return {"path": f"/media/{asset.public_id}", "rater": rater_token, "manager": manager_token, "presigned": url}


def start_bucket_server() -> tuple[subprocess.Popen, str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=1).close()
            return process, endpoint
        except OSError:
            if time.monotonic() > deadline:
                process.kill()
                raise
            time.sleep(0.2)


def serve(app) -> tuple[str, object]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_port}", server


def median_ms(fetch, repeat: int, expect: int) -> float:
    times = []
    fetch()  # warm: connections, caches
    for _ in range(repeat):
        seconds, size, answer = fetch()
        assert size == expect or (expect == 0 and answer.status == 307), (size, expect)
        times.append(seconds * 1000)
    return round(statistics.median(times), 2)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mb", type=int, default=16)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    clip = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + os.urandom(args.mb * 1024 * 1024 - 24)
    size, middle = len(clip), len(clip) // 2
    window = {"Range": f"bytes={middle}-{middle + 1024 * 1024 - 1}"}
    moto, endpoint = start_bucket_server()
    boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="bench",
                 aws_secret_access_key="bench").create_bucket(Bucket="bench")
    results = {"clip_mb": args.mb, "repeat": args.repeat, "median_ms": {}, "ratio_to_direct": {}}
    with tempfile.TemporaryDirectory(prefix="dailies-media-bench-") as tmp:
        work = Path(tmp)
        for backend, store_settings in (("s3", {"ASSET_STORE": "s3://bench/assets", "S3_ENDPOINT_URL": endpoint, **KEYS}),
                                        ("local", {"ASSET_STORE": str(work / "assets")})):
            url = f"sqlite:///{work / backend}.sqlite3"
            migrate.reset(url)
            app = create_app({"SECRET_KEY": "bench", "DATABASE_URL": url, "JOBS_URL": "memory://",
                              "MEDIA_ROOT": str(work), "LOG_LEVEL": "WARNING", **store_settings})
            seeded = seed(app, clip)
            base, server = serve(app)
            rater = {"Authorization": f"Bearer {seeded['rater']}"}
            manager = {"Authorization": f"Bearer {seeded['manager']}"}
            found = results["median_ms"]
            for label, extra, expect in (("whole clip", {}, size), ("1 MiB range", window, 1024 * 1024)):
                found[f"rater via app ({'local folder' if backend == 'local' else 's3'}), {label}"] = median_ms(
                    lambda: timed_get(PLAIN, base + seeded["path"], {**rater, **extra}), args.repeat, expect)
                if backend == "s3":
                    found[f"direct, {label}"] = median_ms(
                        lambda: timed_get(PLAIN, seeded["presigned"], extra), args.repeat, expect)
                    found[f"manager via redirect, {label}"] = median_ms(
                        lambda: timed_get(FOLLOW, base + seeded["path"], {**manager, **extra}), args.repeat, expect)
            server.shutdown()
    moto.terminate()
    moto.wait(timeout=10)
    for name, value in results["median_ms"].items():
        if not name.startswith("direct"):
            reference = results["median_ms"][f"direct, {name.rsplit(', ', 1)[1]}"]
            results["ratio_to_direct"][name] = round(value / reference, 2)
    (ROOT / "bench" / "media_results.json").write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
