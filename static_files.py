"""Static files: versioned URLs cached for a year, compressed text.

``url_for('static', filename=…)`` adds ``?v=<first 12 hex of the file's sha256>``; a request whose
``v`` matches the file as it is now is answered ``Cache-Control: public, max-age=31536000,
immutable`` (a new file gets a new URL, so nothing stale is ever kept), any other request
``no-cache`` (revalidated by ETag). Text files (JS, CSS, SVG, JSON) go out gzip-compressed to
clients that accept it.

JavaScript modules import each other by relative URL (``import { x } from './players.js'``); those
URLs are versioned too: a module is served with each relative import rewritten to
``'./players.js?v=<version>'``, and its own version is the digest of what is served, so a change
anywhere below a module changes the module's URL as well. Moving to the next item then asks the
server for no static file at all.

Served bytes and digests are cached per file state (path, mtime and the states of its imports) in
each process: derived from the files, so any worker computes the same.
"""
from __future__ import annotations

import base64
import gzip
import hashlib
import re
from functools import lru_cache
from pathlib import Path

from flask import Flask, Response, abort, request, send_from_directory
from werkzeug.security import safe_join

COMPRESSIBLE = {".js": "text/javascript", ".mjs": "text/javascript", ".css": "text/css",
                ".svg": "image/svg+xml", ".json": "application/json", ".txt": "text/plain"}
MODULES = {".js", ".mjs"}
IMPORT = re.compile(rb"""(\b(?:from|import)\s*)(['"])(\.\.?/[^'"?#\s]+\.m?js)\2""")
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
MIN_GZIP_BYTES = 512
MAX_IMPORT_DEPTH = 16


@lru_cache(maxsize=1024)
def _raw(path: str, mtime_ns: int) -> bytes:
    return Path(path).read_bytes()


@lru_cache(maxsize=1024)
def _imports(path: str, mtime_ns: int) -> tuple[str, ...]:
    """The files a module imports by relative URL (that exist), in order."""
    base = Path(path).parent
    found = []
    for match in IMPORT.finditer(_raw(path, mtime_ns)):
        target = (base / match.group(3).decode()).resolve()
        if target.is_file():
            found.append(str(target))
    return tuple(dict.fromkeys(found))


def _state(path: str, depth: int = 0) -> tuple:
    """What a served file depends on: its mtime and, for a module, its imports' states."""
    mtime_ns = Path(path).stat().st_mtime_ns
    if Path(path).suffix.lower() not in MODULES or depth >= MAX_IMPORT_DEPTH:
        return (path, mtime_ns, ())
    return (path, mtime_ns, tuple(_state(dep, depth + 1) for dep in _imports(path, mtime_ns)))


@lru_cache(maxsize=1024)
def _served(state: tuple) -> bytes:
    path, mtime_ns, deps = state
    raw = _raw(path, mtime_ns)
    if not deps:
        return raw
    versions = {dep[0]: _digest(dep) for dep in deps}
    base = Path(path).parent

    def versioned(match: re.Match) -> bytes:
        target = str((base / match.group(3).decode()).resolve())
        if target not in versions:
            return match.group(0)
        quote = match.group(2)
        return match.group(1) + quote + match.group(3) + b"?v=" + versions[target].encode() + quote
    return IMPORT.sub(versioned, raw)


@lru_cache(maxsize=1024)
def _digest(state: tuple) -> str:
    return hashlib.sha256(_served(state)).hexdigest()[:12]


@lru_cache(maxsize=256)
def _gzipped(state: tuple) -> bytes:
    return gzip.compress(_served(state), compresslevel=9, mtime=0)


def _file(folder: str, filename: str) -> Path | None:
    joined = safe_join(folder, filename)
    path = Path(joined) if joined else None
    return path if path is not None and path.is_file() else None


def version_of(folder: str, filename: str) -> str | None:
    path = _file(folder, filename)
    return _digest(_state(str(path.resolve()))) if path else None


@lru_cache(maxsize=32)
def _data_uri(state: tuple, kind: str) -> str:
    return f"data:{kind};base64,{base64.b64encode(_served(state)).decode()}"


def data_uri(folder: str, filename: str) -> str:
    """A small static file inlined as a data: URI (the favicon: browsers revalidate favicons on
    every page whatever their caching headers say; inlined, moving to the next page fetches none)."""
    path = _file(folder, filename)
    if path is None:
        raise FileNotFoundError(filename)
    return _data_uri(_state(str(path.resolve())), COMPRESSIBLE.get(path.suffix.lower(), "application/octet-stream"))


def module_imports(folder: str, filename: str) -> list[str]:
    """Every module ``filename`` imports, directly or not, as file names under ``folder`` (for
    ``<link rel=modulepreload>``: the browser then asks for the whole graph at once instead of
    discovering it one level of imports at a time)."""
    path = _file(folder, filename)
    if path is None:
        return []
    root, found = Path(folder).resolve(), []

    def walk(state: tuple) -> None:
        for dep in state[2]:
            if not Path(dep[0]).is_relative_to(root):  # an import reaching outside the folder is not served
                continue
            name = Path(dep[0]).relative_to(root).as_posix()
            if name not in found:
                found.append(name)
                walk(dep)
    walk(_state(str(path.resolve())))
    return found


def init_app(app: Flask) -> None:
    folder = app.static_folder
    app.jinja_env.globals["static_data_uri"] = lambda filename: data_uri(folder, filename)
    app.jinja_env.globals["module_imports"] = lambda filename: module_imports(folder, filename)

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
        state = _state(str(path.resolve()))
        digest = _digest(state)
        kind = COMPRESSIBLE.get(path.suffix.lower())
        wants_gzip = "gzip" in request.headers.get("Accept-Encoding", "")
        if kind and wants_gzip and len(_served(state)) >= MIN_GZIP_BYTES:
            response = Response(_gzipped(state), mimetype=kind)
            response.headers["Content-Encoding"] = "gzip"
            response.set_etag(f"{digest}-gz")
            response = response.make_conditional(request)
        elif state[2]:  # a module with rewritten imports
            response = Response(_served(state), mimetype=kind)
            response.set_etag(digest)
            response = response.make_conditional(request)
        else:
            response = send_from_directory(folder, filename, etag=digest, max_age=None)
        if kind:
            response.vary.add("Accept-Encoding")
        response.headers["Cache-Control"] = IMMUTABLE if request.args.get("v") == digest else REVALIDATE
        return response

    app.view_functions["static"] = static
