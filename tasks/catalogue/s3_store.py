"""The asset store in an S3-compatible bucket (AWS S3, MinIO, Ceph, R2…) through boto3.

Objects are ``<prefix>/<sha[:2]>/<sha>``, uploaded once with their MIME type and an SHA-256
checksum the server verifies. Reads are ranged GETs; browsers of staff are sent presigned GET
URLs that expire after ``MEDIA_URL_TTL_S``.
"""
from __future__ import annotations

import contextlib
import io
import os
import tempfile
from pathlib import Path
from typing import Iterator
from urllib.parse import urlsplit

import boto3
from boto3.exceptions import S3UploadFailedError
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from tasks.catalogue.formats import FORMATS
from tasks.catalogue.store import SHA256, AssetStore, MissingBytes, StoredBytes, StoreUnavailable, key_for

MISSING_CODES = {"404", "NoSuchKey", "NotFound"}
TRANSFER = TransferConfig(multipart_threshold=64 * 1024 * 1024, multipart_chunksize=16 * 1024 * 1024,
                          max_concurrency=4)


@contextlib.contextmanager
def _translated(sha256: str | None = None):
    """botocore's errors as the store's: absent bytes, or an unavailable store."""
    try:
        yield
    except ClientError as exc:
        code = str(exc.response.get("Error", {}).get("Code", ""))
        if sha256 is not None and code in MISSING_CODES:
            raise MissingBytes(sha256) from None
        raise StoreUnavailable(f"the asset store refused the request ({code or 'error'})") from exc
    except (BotoCoreError, S3UploadFailedError) as exc:
        raise StoreUnavailable(f"the asset store cannot be reached: {exc}") from exc


# One boto3 session per process: the service models it loads are shared by every client made
# from it (clients are made when an app starts, in one thread; the clients are thread-safe).
_BOTO = boto3.session.Session()


def _client(endpoint_url: str | None, settings: dict):
    style = settings.get("S3_ADDRESSING_STYLE") or ("path" if endpoint_url else "virtual")
    return _BOTO.client(
        "s3", endpoint_url=endpoint_url or None, region_name=settings.get("S3_REGION") or "us-east-1",
        aws_access_key_id=settings.get("S3_ACCESS_KEY_ID") or None,
        aws_secret_access_key=settings.get("S3_SECRET_ACCESS_KEY") or None,
        config=Config(signature_version="s3v4", s3={"addressing_style": style}, connect_timeout=5,
                      read_timeout=30, retries={"max_attempts": 3, "mode": "standard"},
                      max_pool_connections=int(settings.get("S3_MAX_CONNECTIONS") or 20)))


class S3Store(AssetStore):
    def __init__(self, bucket: str, prefix: str, client, presigner=None):
        self.bucket, self.prefix = bucket, prefix.strip("/")
        self.client, self.presigner = client, presigner or client
        self.url = f"s3://{bucket}/{self.prefix}" if self.prefix else f"s3://{bucket}"
        probe = urlsplit(self.presigner.generate_presigned_url(
            "get_object", Params={"Bucket": bucket, "Key": self._key("0" * 64)}, ExpiresIn=1))
        self.browser_origin = f"{probe.scheme}://{probe.netloc}"  # signing is local: no request

    @classmethod
    def from_settings(cls, url: str, settings: dict) -> S3Store:
        parts = urlsplit(url)
        if not parts.netloc:
            raise ValueError(f"ASSET_STORE: {url!r} names no bucket (s3://bucket/prefix)")
        endpoint = settings.get("S3_ENDPOINT_URL")
        public = settings.get("S3_PUBLIC_ENDPOINT_URL")
        client = _client(endpoint, settings)
        presigner = _client(public, settings) if public and public != endpoint else client
        return cls(parts.netloc, parts.path, client, presigner)

    def _key(self, sha256: str) -> str:
        return f"{self.prefix}/{key_for(sha256)}" if self.prefix else key_for(sha256)

    def _keep(self, spooled: Path, stored: StoredBytes) -> None:
        if self.exists(stored.sha256):
            return
        with _translated():
            self.client.upload_file(str(spooled), self.bucket, self._key(stored.sha256), Config=TRANSFER,
                                    ExtraArgs={"ContentType": FORMATS[stored.fmt][1], "ChecksumAlgorithm": "SHA256"})

    def exists(self, sha256: str) -> bool:
        try:
            self.size(sha256)
        except MissingBytes:
            return False
        return True

    def size(self, sha256: str) -> int:
        with _translated(sha256):
            return int(self.client.head_object(Bucket=self.bucket, Key=self._key(sha256))["ContentLength"])

    def open(self, sha256: str, start: int = 0, stop: int | None = None) -> RangeReader:
        return RangeReader(self, sha256, start, stop)

    def get(self, sha256: str, start: int, stop: int | None):
        """The streaming body of bytes ``[start, stop)`` (to the end when ``stop`` is None)."""
        wanted = f"bytes={start}-{'' if stop is None else stop - 1}"
        with _translated(sha256):
            return self.client.get_object(Bucket=self.bucket, Key=self._key(sha256), Range=wanted)

    def read_bytes(self, sha256: str) -> bytes:
        with _translated(sha256):
            return self.client.get_object(Bucket=self.bucket, Key=self._key(sha256))["Body"].read()

    @contextlib.contextmanager
    def local_path(self, sha256: str) -> Iterator[Path]:
        with tempfile.TemporaryDirectory(prefix="dailies-asset-") as folder:
            path = Path(folder) / sha256
            self.copy_to(sha256, path)
            yield path

    def copy_to(self, sha256: str, target: Path) -> None:
        with _translated(sha256):
            self.client.download_file(self.bucket, self._key(sha256), str(target), Config=TRANSFER)

    def delete(self, sha256: str) -> None:
        with _translated(sha256):
            self.client.delete_object(Bucket=self.bucket, Key=self._key(sha256))

    def shas(self) -> Iterator[str]:
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=f"{self.prefix}/" if self.prefix else "")
        with _translated():
            for page in pages:
                for entry in page.get("Contents", []):
                    name = entry["Key"].rsplit("/", 1)[-1]
                    if SHA256.fullmatch(name) and entry["Key"] == self._key(name):
                        yield name

    def presigned_url(self, sha256: str, *, expires_s: int, mime_type: str, download_name: str) -> str:
        return self.presigner.generate_presigned_url("get_object", ExpiresIn=expires_s, Params={
            "Bucket": self.bucket, "Key": self._key(sha256), "ResponseContentType": mime_type,
            "ResponseContentDisposition": f'inline; filename="{download_name}"',
            "ResponseCacheControl": "private, no-store"})


class RangeReader(io.RawIOBase):
    """A seekable file over one object, read by ranged GETs. The GET of ``[start, stop)`` (what a
    response will send) is made at once, so absent bytes are known before a response begins;
    reading from anywhere else (a seek, or the whole file after all) starts a GET there."""

    def __init__(self, store: S3Store, sha256: str, start: int = 0, stop: int | None = None):
        super().__init__()
        self.store, self.sha256 = store, sha256
        self._pos, self._body, self._body_pos, self._size = 0, None, 0, None
        self._open(start, stop)

    def _open(self, start: int, stop: int | None) -> None:
        self._close_body()
        answer = self.store.get(self.sha256, start, stop)
        self._body, self._body_pos = answer["Body"], start
        total = answer.get("ContentRange", "").rpartition("/")[2]
        self._size = int(total) if total.isdigit() else start + int(answer["ContentLength"])

    def _close_body(self) -> None:
        if self._body is not None:
            self._body.close()
            self._body = None

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        if whence == os.SEEK_CUR:
            offset += self._pos
        elif whence == os.SEEK_END:
            offset += self._size
        self._pos = max(0, offset)
        return self._pos

    def readinto(self, buffer) -> int:
        if self._pos >= self._size:
            return 0
        if self._body is None or self._body_pos != self._pos:
            self._open(self._pos, None)
        try:
            data = self._body.read(len(buffer))
        except BotoCoreError as exc:
            raise StoreUnavailable(f"the asset store stopped sending: {exc}") from exc
        if not data:  # this GET's range is done: the next read starts one for the rest
            self._close_body()
            return self.readinto(buffer)
        buffer[:len(data)] = data
        self._pos += len(data)
        self._body_pos += len(data)
        return len(data)

    def close(self) -> None:
        self._close_body()
        super().close()
