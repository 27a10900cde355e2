"""Uploads, imports and the media route with the asset store in a bucket (moto's S3 server):
raters' bytes pass through the app with Range (byte ranges observed, revocation immediate),
staff are redirected to a short-lived presigned URL."""
from __future__ import annotations

import io
import urllib.request
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from raters.models import User
from tasks.catalogue.models import Asset
from tasks.catalogue.store import from_settings
from tasks.rating.models import PlaybackObservation
from tests.conftest import DEMO_MEDIA
from tests.helpers import import_rows, install_demo_media, make_project, video_row
from tests.store.conftest import keys

CLIP = DEMO_MEDIA / "video" / "alley-001-a.mp4"


def fetch(url: str, headers: dict | None = None):
    """GET ``url`` outside the app (as a browser following the redirect would)."""
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=10) as answer:
        return answer.status, answer.headers, answer.read()


@pytest.fixture
def world(app, session, api, make_user):
    """A video project with one imported item; an API rater and a page rater on it, a manager."""
    install_demo_media(app)
    manager_api, manager = api("manager")
    rater_api, rater = api("rater")
    page_rater = make_user("rater")
    project = make_project(session, session.get(User, manager.id),
                           members=[session.get(User, rater.id), session.get(User, page_rater.id)],
                           gold_rate=0.0, audit_rate=0.0)
    import_rows(session, app, project, video_row("s3-1"))
    asset = session.scalar(select(Asset).where(Asset.original_name == "video/alley-001-a.mp4"))
    return {"manager": manager_api, "rater": rater_api, "page_rater": page_rater, "project": project,
            "asset": asset, "url": f"/media/{asset.public_id}"}


def test_upload_puts_the_bytes_in_the_bucket_once_under_their_hash(api, s3, session):
    client, _ = api("manager")
    first = client.post("/api/v1/assets", data={"file": (io.BytesIO(CLIP.read_bytes()), "alley.mp4"),
                                                "consent": "granted"}, content_type="multipart/form-data")
    assert first.status_code == 201, first.json
    sha = first.json["sha256"]
    assert 3.0 <= first.json["duration_s"] <= 4.1  # probed from a copy fetched from the bucket
    again = client.post("/api/v1/assets", data={"file": (io.BytesIO(CLIP.read_bytes()), "again.mp4")},
                        content_type="multipart/form-data")
    assert again.status_code == 200 and again.json["id"] == first.json["id"]
    assert keys(s3) == [f"assets/{sha[:2]}/{sha}"]
    client_s3, bucket = s3
    stored = client_s3.get_object(Bucket=bucket, Key=f"assets/{sha[:2]}/{sha}")
    assert stored["Body"].read() == CLIP.read_bytes() and stored["ContentType"] == "video/mp4"


def test_a_refused_upload_leaves_nothing_in_the_bucket(api, s3):
    client, _ = api("manager")
    refused = client.post("/api/v1/assets", data={"file": (io.BytesIO(b"plain words"), "clip.mp4")},
                          content_type="multipart/form-data")
    assert refused.status_code == 422
    assert keys(s3) == []


def test_import_stores_each_clip_in_the_bucket(world, s3, session):
    shas = sorted(session.scalars(select(Asset.sha256)))
    assert len(shas) == 2 and keys(s3) == sorted(f"assets/{sha[:2]}/{sha}" for sha in shas)


def test_a_rater_is_served_ranges_through_the_app_never_redirected(world, client):
    client.login(world["page_rater"].email)
    part = client.get(world["url"], headers={"Range": "bytes=100-299"})
    assert part.status_code == 206 and part.data == CLIP.read_bytes()[100:300]
    assert part.headers["Content-Range"] == f"bytes 100-299/{CLIP.stat().st_size}"
    assert part.headers["Accept-Ranges"] == "bytes" and part.mimetype == "video/mp4"
    assert part.headers["Cache-Control"] == "private, no-store"
    tail = client.get(world["url"], headers={"Range": "bytes=-10"})
    assert tail.status_code == 206 and tail.data == CLIP.read_bytes()[-10:]
    whole = client.get(world["url"])
    assert whole.status_code == 200 and whole.data == CLIP.read_bytes()
    assert client.get(world["url"], headers={"Range": f"bytes={10**9}-"}).status_code == 416


def test_the_etag_is_keyed_not_the_hash_and_a_match_is_304(world, client):
    client.login(world["page_rater"].email)
    first = client.get(world["url"])
    etag = first.headers["ETag"].strip('"')
    sha = world["asset"].sha256
    assert etag and etag != sha and sha[:16] not in etag
    again = client.get(world["url"], headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""
    stale = client.get(world["url"], headers={"Range": "bytes=10-19", "If-Range": '"not-this-one"'})
    assert stale.status_code == 200 and stale.data == CLIP.read_bytes()  # If-Range mismatch: the whole file


def test_an_api_raters_fetched_ranges_are_observed(world, session):
    rater = world["rater"]
    payload = rater.post(f"/api/v1/projects/{world['project'].id}/assignments/next").json
    url = payload["item"]["left"]["media_url"]
    assert rater.get(url, headers={"Range": "bytes=0-9999"}).status_code == 206
    size = int(rater.get(url, headers={"Range": "bytes=10000-"}).headers["Content-Range"].split("/")[1])
    rows = session.scalars(select(PlaybackObservation)).all()
    assert [(row.byte_ranges, row.bytes_seen) for row in rows] == [([[0, size]], size)]


def test_staff_are_redirected_to_a_short_lived_presigned_url(world, app):
    response = world["manager"].get(world["url"])
    assert response.status_code == 307
    assert response.headers["Cache-Control"] == "private, no-store"
    location = response.headers["Location"]
    parts, query = urlsplit(location), parse_qs(urlsplit(location).query)
    assert f"{parts.scheme}://{parts.netloc}" == app.config["S3_ENDPOINT_URL"]
    assert query["X-Amz-Expires"] == [str(app.config["MEDIA_URL_TTL_S"])] == ["60"]
    sha = world["asset"].sha256
    assert parts.path.endswith(f"/assets/{sha[:2]}/{sha}")  # staff see hashes anyway; raters never get this URL
    status, headers, body = fetch(location)
    assert status == 200 and body == CLIP.read_bytes()
    assert headers["Content-Type"] == "video/mp4" and headers["Cache-Control"] == "private, no-store"
    status, _headers, body = fetch(location, {"Range": "bytes=5-14"})
    assert status == 206 and body == CLIP.read_bytes()[5:15]


def test_revoked_consent_is_451_to_raters_at_once_while_staff_still_review(world, client):
    client.login(world["page_rater"].email)
    assert client.get(world["url"], headers={"Range": "bytes=0-99"}).status_code == 206
    revoked = world["manager"].patch(f"/api/v1/assets/{world['asset'].id}",
                                     json={"consent": "revoked", "note": "withdrawn by the rights holder"})
    assert revoked.status_code == 200
    refused = client.get(world["url"], headers={"Range": "bytes=100-199"})  # the very next range
    assert refused.status_code == 451
    assert world["rater"].get(world["url"]).json["error"]["code"] == "consent_withdrawn"
    assert world["manager"].get(world["url"]).status_code == 307


def test_a_rater_off_the_project_gets_404_not_a_url(world, api):
    outsider, _ = api("rater")
    response = outsider.get(world["url"])
    assert response.status_code == 404 and "Location" not in response.headers


def test_bytes_missing_from_the_bucket_are_404_not_500(world, client, s3):
    client_s3, bucket = s3
    sha = world["asset"].sha256
    client_s3.delete_object(Bucket=bucket, Key=f"assets/{sha[:2]}/{sha}")
    client.login(world["page_rater"].email)
    assert client.get(world["url"]).status_code == 404


def test_an_unreachable_bucket_is_503_not_500(world, client, app, monkeypatch):
    unreachable = from_settings({**app.config, "S3_ENDPOINT_URL": "http://127.0.0.1:9"})  # nothing listens
    monkeypatch.setitem(app.extensions, "asset_store", unreachable)
    client.login(world["page_rater"].email)
    response = client.get(world["url"])
    assert response.status_code == 503 and "media store cannot be reached" in response.get_data(as_text=True)
    upload = world["manager"].post("/api/v1/assets", data={"file": (io.BytesIO(CLIP.read_bytes()), "a.mp4")},
                                   content_type="multipart/form-data")
    assert upload.status_code == 503 and upload.json["error"]["code"] == "service_unavailable"


def test_the_pages_policy_lets_players_load_from_the_bucket(world, client, app):
    client.login(world["page_rater"].email)
    policy = client.get("/").headers["Content-Security-Policy"]
    media = next(d for d in policy.split("; ") if d.startswith("media-src"))
    connect = next(d for d in policy.split("; ") if d.startswith("connect-src"))
    assert app.config["S3_ENDPOINT_URL"] in media and app.config["S3_ENDPOINT_URL"] in connect
    assert "script-src 'self'" in policy  # scripts stay same-origin only
