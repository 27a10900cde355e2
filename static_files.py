"""Static files: versioned URLs cached for a year, compressed text.

``url_for('static', filename=…)`` adds ``?v=<first 12 hex of the file's sha256>``; a request whose
``v`` matches the file as it is now is answered ``Cache-Control: public, max-age=31536000,
immutable`` (a new file gets a new URL, so nothing stale is ever kept), any other request
``no-cache`` (revalidated by ETag). Text files (JS, CSS, SVG, JSON) go out gzip-compressed to
clients that accept it. Digests and compressed bytes are cached per (path, mtime) in each
process: derived from the files, so any worker recomputes the same.
"""
from __future__ import annotations

import gzip
import hashlib
from functools import lru_cache
from pathlib import Path

from flask import Flask, Response, abort, request, send_from_directory
from werkzeug.security import safe_join

COMPRESSIBLE = {".js": "text/javascript", ".mjs": "text/javascript", ".css": "text/css",
                ".svg": "image/svg+xml", ".json": "application/json", ".txt": "text/plain"}
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
MIN_GZIP_BYTES = 512


@lru_cache(maxsize=1024)
def _digest(path: str, mtime_ns: int) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:12]


@lru_cache(maxsize=256)
def _gzipped(path: str, mtime_ns: int) -> bytes:
    return gzip.compress(Path(path).read_bytes(), compresslevel=9, mtime=0)


def _file(folder: str, filename: str) -> Path | None:
    joined = safe_join(folder, filename)
    path = Path(joined) if joined else None
    return path if path is not None and path.is_file() else None


def version_of(folder: str, filename: str) -> str | None:
    path = _file(folder, filename)
    return _digest(str(path), path.stat().st_mtime_ns) if path else None


def init_app(app: Flask) -> None:
    folder = app.static_folder

    @app.url_defaults
    def _versioned(endpoint, values):
        if endpoint == "static" and "filename" in values and "v" not in values:
            version = version_of(folder, values["filename"])
            if version:
                values["v"] = version

    def static(filename: str):
        path = _file(folder, filename)
        if path is None:
            abort(404)
        mtime_ns = path.stat().st_mtime_ns
        digest = _digest(str(path), mtime_ns)
        kind = COMPRESSIBLE.get(path.suffix.lower())
        wants_gzip = "gzip" in request.headers.get("Accept-Encoding", "")
        if kind and wants_gzip and path.stat().st_size >= MIN_GZIP_BYTES:
            response = Response(_gzipped(str(path), mtime_ns), mimetype=kind)
            response.headers["Content-Encoding"] = "gzip"
            response.set_etag(f"{digest}-gz")
            response = response.make_conditional(request)
        else:
            response = send_from_directory(folder, filename, etag=digest, max_age=None)
        if kind:
            response.vary.add("Accept-Encoding")
        response.headers["Cache-Control"] = IMMUTABLE if request.args.get("v") == digest else REVALIDATE
        return response

    app.view_functions["static"] = static
