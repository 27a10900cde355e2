"""Configuration from the environment: one class, read once by ``create_app``."""
from __future__ import annotations

import json
import os
import secrets
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _secret_key(instance: Path) -> str:
    """``SECRET_KEY`` from the environment, else one generated once into ``instance/``."""
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    path = instance / "secret_key"
    if not path.exists():
        instance.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def load(instance_path: str) -> dict:
    """The settings as a dict, from environment variables with safe defaults."""
    instance = Path(instance_path)
    return {
        "SECRET_KEY": _secret_key(instance),
        "DATABASE_URL": os.environ.get("DATABASE_URL", f"sqlite:///{instance / 'dailies.sqlite3'}"),
        # Where import rows' ``{"path": …}`` assets are looked up.
        "MEDIA_ROOT": os.environ.get("MEDIA_ROOT", str(instance / "media")),
        # Content-addressed store for every asset's bytes (uploaded or imported): a path (or
        # file:///path) on this machine, or s3://bucket/prefix for an S3-compatible bucket that
        # app workers on several machines share (tasks.catalogue.store).
        "ASSET_STORE": os.environ.get("ASSET_STORE", str(instance / "assets")),
        # The bucket's API (unset: AWS S3 itself), the address browsers reach it at when that
        # differs (presigned URLs are signed for it), region and credentials (unset: boto3's own
        # chain — AWS_* variables, ~/.aws, an instance role). Addressing: "path" or "virtual".
        "S3_ENDPOINT_URL": os.environ.get("S3_ENDPOINT_URL"),
        "S3_PUBLIC_ENDPOINT_URL": os.environ.get("S3_PUBLIC_ENDPOINT_URL"),
        "S3_REGION": os.environ.get("S3_REGION", "us-east-1"),
        "S3_ACCESS_KEY_ID": os.environ.get("S3_ACCESS_KEY_ID"),
        "S3_SECRET_ACCESS_KEY": os.environ.get("S3_SECRET_ACCESS_KEY"),
        "S3_ADDRESSING_STYLE": os.environ.get("S3_ADDRESSING_STYLE"),
        # Connections a worker process keeps to the bucket (at least its threads: each streams one clip).
        "S3_MAX_CONNECTIONS": int(os.environ.get("S3_MAX_CONNECTIONS", "20")),
        # Staff fetching media from a bucket are redirected to a presigned URL valid this long.
        "MEDIA_URL_TTL_S": int(os.environ.get("MEDIA_URL_TTL_S", "60")),
        # Where built exports (their folders and .tar archives) are kept.
        "EXPORT_ROOT": os.environ.get("EXPORT_ROOT", str(instance / "exports")),
        "MAX_UPLOAD_MB": int(os.environ.get("MAX_UPLOAD_MB", "200")),
        "MAX_IMPORT_MB": int(os.environ.get("MAX_IMPORT_MB", "200")),
        "JOBS_URL": os.environ.get("JOBS_URL", f"sqlite:///{instance / 'jobs.sqlite3'}"),
        # Failed logins inside the window before a wait: one account from one client, one client
        # over all accounts, one account over all clients (see raters.services.LoginLimits).
        "LOGIN_MAX_FAILURES": int(os.environ.get("LOGIN_MAX_FAILURES", "5")),
        "LOGIN_CLIENT_MAX_FAILURES": int(os.environ.get("LOGIN_CLIENT_MAX_FAILURES", "20")),
        "LOGIN_ACCOUNT_MAX_FAILURES": int(os.environ.get("LOGIN_ACCOUNT_MAX_FAILURES", "50")),
        "LOGIN_WINDOW_S": int(os.environ.get("LOGIN_WINDOW_S", "900")),
        # Proxies in front of the app that append to X-Forwarded-For (and set -Proto, -Host):
        # the client address is taken that many hops back. 0 = the headers are ignored.
        "TRUSTED_PROXY_HOPS": int(os.environ.get("TRUSTED_PROXY_HOPS", "0")),
        "DEMO": _env_bool("DAILIES_DEMO", False),
        # Shown on the login page in demo mode only (the seed creates these accounts).
        "DEMO_LOGINS": json.loads((ROOT / "demo" / "accounts.json").read_text())
        if _env_bool("DAILIES_DEMO", False) else None,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": _env_bool("SESSION_COOKIE_SECURE", False),
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": _env_bool("SESSION_COOKIE_SECURE", False),
        # "Keep me signed in": how long the remember-me cookie lasts (Flask-Login's default is a year).
        "REMEMBER_COOKIE_DURATION": timedelta(days=int(os.environ.get("REMEMBER_COOKIE_DAYS", "14"))),
        # A form's CSRF token expires after this long (a working day: a rating page left open
        # over lunch still submits; one left overnight asks for a reload).
        "WTF_CSRF_TIME_LIMIT": int(os.environ.get("CSRF_TIME_LIMIT_S", str(8 * 3600))),
        # An open assignment is held this long after serving (or after its last draft save),
        # then expires and its item returns to the pool.
        "ASSIGNMENT_TTL_MIN": int(os.environ.get("ASSIGNMENT_TTL_MIN", "30")),
        # Sent as ``Retry-After`` with the 503 answered while the database cannot be reached.
        "UNAVAILABLE_RETRY_AFTER_S": int(os.environ.get("UNAVAILABLE_RETRY_AFTER_S", "5")),
        # The app's JSON log lines (stderr) from this level up; one ``dailies.access`` line a request.
        "LOG_LEVEL": os.environ.get("LOG_LEVEL", "INFO"),
        "API_PAGE_SIZE": 50,
        "API_MAX_PAGE_SIZE": 500,
        # Statistics: projects with at most this many current judgments are computed in the
        # request; larger ones by the job queue. Bootstrap resamples per interval.
        "STATS_INLINE_MAX_JUDGMENTS": int(os.environ.get("STATS_INLINE_MAX_JUDGMENTS", "20000")),
        "STATS_RESAMPLES": int(os.environ.get("STATS_RESAMPLES", "1000")),
        # A queued computation not finished after this long is queued again.
        "STATS_JOB_TIMEOUT_S": int(os.environ.get("STATS_JOB_TIMEOUT_S", "1800")),
        # An export build whose worker sent no heartbeat (one per chunk of items) for this long
        # is taken for dead: failed with that error, retryable.
        "EXPORT_HEARTBEAT_TIMEOUT_S": int(os.environ.get("EXPORT_HEARTBEAT_TIMEOUT_S", "600")),
    }
