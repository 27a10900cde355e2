"""The asset store: every asset's bytes, content-addressed under ``<sha[:2]>/<sha>``, written once.

Two backends behind one interface, chosen by the ``ASSET_STORE`` setting:

* a path or ``file:///path`` → ``LocalStore``: files on this machine's disk (the default);
* ``s3://bucket/prefix`` → ``S3Store``: an S3-compatible bucket through boto3 (endpoint, region
  and credentials from the ``S3_*`` settings), so app workers on several machines share media
  without a shared disk.

Everything that reads or writes asset bytes goes through it: uploads and imports (``put``),
duration probing (``local_path``), the media route (``open`` with Range, ``presigned_url``),
script text (``read_bytes``), exports (``copy_to``), backups (``shas``, ``open``, ``put``).
"""
from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
from abc import ABC, abstractmethod
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, ContextManager, Iterator
from urllib.parse import unquote, urlsplit

from flask import Flask, current_app

from tasks.catalogue.formats import AssetError, check_format

CHUNK = 1024 * 1024
SHA256 = re.compile(r"[0-9a-f]{64}")


class MissingBytes(LookupError):
    """The store has no bytes under this hash."""


class StoreUnavailable(RuntimeError):
    """The store could not be reached or refused the request (not the caller's fault)."""


@dataclass(frozen=True)
class StoredBytes:
    sha256: str
    size: int
    fmt: str


def key_for(sha256: str) -> str:
    return f"{sha256[:2]}/{sha256}"


def _spool(stream: BinaryIO, target: BinaryIO, filename: str, max_bytes: int) -> StoredBytes:
    """Copy ``stream`` into ``target``, hashing and capping as it goes; sniff the first bytes."""
    digest, size, head = hashlib.sha256(), 0, b""
    while chunk := stream.read(CHUNK):
        if not head:
            head = chunk[:4096]
        size += len(chunk)
        if size > max_bytes:
            raise AssetError(f"{filename}: larger than the {max_bytes // (1024 * 1024)} MB limit")
        digest.update(chunk)
        target.write(chunk)
    if size == 0:
        raise AssetError(f"{filename}: the file is empty")
    return StoredBytes(digest.hexdigest(), size, check_format(head, filename))


class AssetStore(ABC):
    """What every backend offers. ``browser_origin`` is where ``presigned_url`` points (it goes
    into the page's Content-Security-Policy); None when the app serves every byte itself."""

    url: str
    browser_origin: str | None = None

    def put(self, stream: BinaryIO, filename: str, max_bytes: int) -> StoredBytes:
        """Store the stream's bytes under their sha256 (a no-op when already there); refused with
        ``AssetError`` when empty, over ``max_bytes`` or not a media format we take."""
        with tempfile.NamedTemporaryFile(dir=self._spool_dir(), prefix=".upload-", delete=False) as tmp:
            try:
                stored = _spool(stream, tmp, filename, max_bytes)
            except BaseException:
                tmp.close()
                os.unlink(tmp.name)
                raise
        try:
            self._keep(Path(tmp.name), stored)
        finally:
            if os.path.exists(tmp.name):
                os.unlink(tmp.name)
        return stored

    def read_bytes(self, sha256: str) -> bytes:
        with self.open(sha256) as fh:
            return fh.read()

    # -- what each backend implements ------------------------------------------------------------
    def _spool_dir(self) -> str | None:
        return None

    @abstractmethod
    def _keep(self, spooled: Path, stored: StoredBytes) -> None:
        """Move or upload the spooled file under its hash, unless the bytes are there already."""

    @abstractmethod
    def exists(self, sha256: str) -> bool: ...

    @abstractmethod
    def size(self, sha256: str) -> int: ...

    @abstractmethod
    def open(self, sha256: str, start: int = 0, stop: int | None = None) -> BinaryIO:
        """A seekable binary file of the bytes; ``start``/``stop`` say which bytes will be read
        first (a backend may fetch just those). ``MissingBytes`` when absent."""

    @abstractmethod
    def local_path(self, sha256: str) -> ContextManager[Path]:
        """A file on this machine holding the bytes, for tools that need one (ffprobe)."""

    @abstractmethod
    def copy_to(self, sha256: str, target: Path) -> None: ...

    @abstractmethod
    def delete(self, sha256: str) -> None: ...

    @abstractmethod
    def shas(self) -> Iterator[str]: ...

    def presigned_url(self, sha256: str, *, expires_s: int, mime_type: str, download_name: str) -> str | None:
        """A short-lived URL a browser may fetch the bytes from directly (None: no such URL)."""
        return None


class LocalStore(AssetStore):
    """Bytes on this machine's disk under ``root/<sha[:2]>/<sha>``."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)
        self.url = self.root.resolve().as_uri()

    def path_for(self, sha256: str) -> Path:
        return self.root / key_for(sha256)

    def _spool_dir(self) -> str:
        self.root.mkdir(parents=True, exist_ok=True)
        return str(self.root)  # the same file system: the final rename is atomic

    def _keep(self, spooled: Path, stored: StoredBytes) -> None:
        final = self.path_for(stored.sha256)
        if not final.exists():
            final.parent.mkdir(parents=True, exist_ok=True)
            os.replace(spooled, final)

    def exists(self, sha256: str) -> bool:
        return self.path_for(sha256).is_file()

    def size(self, sha256: str) -> int:
        try:
            return self.path_for(sha256).stat().st_size
        except FileNotFoundError:
            raise MissingBytes(sha256) from None

    def open(self, sha256: str, start: int = 0, stop: int | None = None) -> BinaryIO:
        try:
            return open(self.path_for(sha256), "rb")
        except FileNotFoundError:
            raise MissingBytes(sha256) from None

    @contextmanager
    def local_path(self, sha256: str) -> Iterator[Path]:
        path = self.path_for(sha256)
        if not path.is_file():
            raise MissingBytes(sha256)
        yield path

    def copy_to(self, sha256: str, target: Path) -> None:
        try:
            shutil.copyfile(self.path_for(sha256), target)
        except FileNotFoundError:
            raise MissingBytes(sha256) from None

    def delete(self, sha256: str) -> None:
        self.path_for(sha256).unlink(missing_ok=True)

    def shas(self) -> Iterator[str]:
        if self.root.is_dir():
            for path in sorted(self.root.glob("??/*")):
                if path.is_file() and SHA256.fullmatch(path.name):
                    yield path.name


def from_settings(settings: dict) -> AssetStore:
    """The store the ``ASSET_STORE`` setting names (a path, ``file:///path`` or ``s3://bucket/prefix``)."""
    url = str(settings["ASSET_STORE"])
    scheme = urlsplit(url).scheme if "://" in url else ""
    if scheme == "":
        return LocalStore(url)
    if scheme == "file":
        return LocalStore(unquote(urlsplit(url).path))
    if scheme == "s3":
        from tasks.catalogue.s3_store import S3Store  # boto3 loads only when a bucket is configured
        return S3Store.from_settings(url, settings)
    raise ValueError(f"ASSET_STORE: unsupported store {url!r} (use a path, file:///path or s3://bucket/prefix)")


def init_app(app: Flask) -> None:
    app.extensions["asset_store"] = from_settings(app.config)


def asset_store(app: Flask | None = None) -> AssetStore:
    return (app or current_app).extensions["asset_store"]
