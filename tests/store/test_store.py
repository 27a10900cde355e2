"""The asset-store interface, the same checks for both backends: a folder and a bucket."""
from __future__ import annotations

import hashlib
import io
import os

import pytest

from tasks.catalogue.formats import AssetError
from tasks.catalogue.store import LocalStore, MissingBytes, from_settings
from tests.conftest import DEMO_MEDIA
from tests.store.conftest import CREDENTIALS, keys

CLIP = DEMO_MEDIA / "video" / "alley-001-a.mp4"
DATA = CLIP.read_bytes()
SHA = hashlib.sha256(DATA).hexdigest()
LIMIT = 2 * 1024 * 1024


@pytest.fixture(params=["local", "s3"])
def store(request, tmp_path):
    if request.param == "local":
        return from_settings({"ASSET_STORE": f"file://{tmp_path / 'assets'}"})
    s3 = request.getfixturevalue("s3")
    return from_settings({"ASSET_STORE": f"s3://{s3[1]}/some/prefix",
                          "S3_ENDPOINT_URL": request.getfixturevalue("s3_endpoint"), **CREDENTIALS})


def test_put_is_content_addressed_and_idempotent(store):
    first = store.put(io.BytesIO(DATA), "alley.mp4", LIMIT)
    again = store.put(io.BytesIO(DATA), "copy.mp4", LIMIT)
    assert (first.sha256, first.size, first.fmt) == (again.sha256, again.size, again.fmt) == (SHA, len(DATA), "mp4")
    assert list(store.shas()) == [SHA]
    assert store.exists(SHA) and store.size(SHA) == len(DATA) and store.read_bytes(SHA) == DATA


@pytest.mark.parametrize("data,name,message", [
    (b"", "x.mp4", "the file is empty"),
    (b"plain words", "x.mp4", "the name says mp4 but the content is text"),
    (DATA, "x.mp4", "larger than the 0 MB limit"),
])
def test_a_refused_put_stores_nothing(store, data, name, message):
    with pytest.raises(AssetError, match=message):
        store.put(io.BytesIO(data), name, 1000 if data is DATA else LIMIT)
    assert list(store.shas()) == []


def test_open_reads_any_range_and_seeks(store):
    store.put(io.BytesIO(DATA), "alley.mp4", LIMIT)
    with store.open(SHA, 100, 300) as fh:
        fh.seek(100)
        assert fh.read(200) == DATA[100:300]
        assert fh.read(50) == DATA[300:350]  # past the announced range: the reader goes on
        fh.seek(-10, os.SEEK_END)
        assert fh.read() == DATA[-10:]
        fh.seek(0)
        assert fh.read() == DATA
    with store.open(SHA, 5000) as fh:  # announced a range, then read from the start after all
        assert fh.read(10) == DATA[:10]


def test_local_path_and_copy_to_give_the_bytes_on_this_machine(store, tmp_path):
    store.put(io.BytesIO(DATA), "alley.mp4", LIMIT)
    with store.local_path(SHA) as path:
        assert path.read_bytes() == DATA
    store.copy_to(SHA, tmp_path / "copy.mp4")
    assert (tmp_path / "copy.mp4").read_bytes() == DATA


def test_absent_bytes_are_missing_everywhere(store, tmp_path):
    absent = "0" * 64
    assert not store.exists(absent)
    for attempt in (lambda: store.size(absent), lambda: store.read_bytes(absent), lambda: store.open(absent),
                    lambda: store.copy_to(absent, tmp_path / "x")):
        with pytest.raises(MissingBytes):
            attempt()
    with pytest.raises(MissingBytes), store.local_path(absent):
        pass


def test_delete_removes_the_bytes(store):
    store.put(io.BytesIO(DATA), "alley.mp4", LIMIT)
    store.delete(SHA)
    assert not store.exists(SHA) and list(store.shas()) == []


def test_a_bucket_store_lists_only_its_own_prefix(s3, s3_endpoint):
    client, bucket = s3
    client.put_object(Bucket=bucket, Key=f"elsewhere/{SHA[:2]}/{SHA}", Body=b"x")
    client.put_object(Bucket=bucket, Key="some/prefix/notes.txt", Body=b"x")
    store = from_settings({"ASSET_STORE": f"s3://{bucket}/some/prefix", "S3_ENDPOINT_URL": s3_endpoint, **CREDENTIALS})
    assert list(store.shas()) == []
    store.put(io.BytesIO(DATA), "alley.mp4", LIMIT)
    assert list(store.shas()) == [SHA] and f"some/prefix/{SHA[:2]}/{SHA}" in keys(s3)
    assert store.url == f"s3://{bucket}/some/prefix" and store.browser_origin == s3_endpoint


def test_presigned_urls_are_signed_for_the_public_endpoint_when_one_is_set(s3, s3_endpoint):
    store = from_settings({"ASSET_STORE": f"s3://{s3[1]}", "S3_ENDPOINT_URL": s3_endpoint,
                           "S3_PUBLIC_ENDPOINT_URL": "https://media.studio.example", **CREDENTIALS})
    url = store.presigned_url(SHA, expires_s=60, mime_type="video/mp4", download_name="x.mp4")
    assert url.startswith(f"https://media.studio.example/{s3[1]}/{SHA[:2]}/{SHA}?")
    assert store.browser_origin == "https://media.studio.example"


@pytest.mark.parametrize("setting", ["/srv/assets", "file:///srv/assets", "relative/assets"])
def test_a_path_or_file_url_is_the_local_store(setting):
    store = from_settings({"ASSET_STORE": setting})
    assert isinstance(store, LocalStore) and store.browser_origin is None
    assert store.presigned_url(SHA, expires_s=60, mime_type="video/mp4", download_name="x") is None


@pytest.mark.parametrize("setting,message", [("s3://", "names no bucket"), ("gs://bucket/x", "unsupported store")])
def test_a_store_setting_we_cannot_use_is_refused_at_start(setting, message):
    with pytest.raises(ValueError, match=message):
        from_settings({"ASSET_STORE": setting})
