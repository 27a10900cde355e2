"""Uploads (sniffed, capped, de-duplicated), durations, media serving with Range, consent audit."""
import io

import pytest
from sqlalchemy import func, select

from raters.models import User
from tasks.catalogue import formats
from tasks.catalogue.models import Asset, ConsentChange
from tasks.catalogue.store import asset_store
from tests.conftest import DEMO_MEDIA
from tests.helpers import import_rows, install_demo_media, make_project, video_row

CLIP = DEMO_MEDIA / "video" / "alley-001-a.mp4"


def _upload(client, data: bytes, name: str, **fields):
    return client.post("/api/v1/assets", data={"file": (io.BytesIO(data), name), **fields},
                       content_type="multipart/form-data")


@pytest.mark.parametrize("path,fmt,kind", [
    ("video/alley-001-a.mp4", "mp4", "video"), ("audio/narr-01-a.ogg", "ogg", "audio"),
    ("audio/narr-02-a.mp3", "mp3", "audio"), ("audio/narr-04-b.wav", "wav", "audio"),
    ("audio/narr-07-a.flac", "flac", "audio"),
])
def test_sniffing_recognises_real_media(path, fmt, kind):
    head = (DEMO_MEDIA / path).read_bytes()[:4096]
    assert formats.sniff(head) == fmt and formats.FORMATS[fmt][0] == kind


def test_webm_and_text_are_sniffed():
    assert formats.sniff(b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x84webm") == "webm"
    assert formats.sniff("INT. LIFT — NIGHT\nANA: Going down?".encode()) == "text"
    assert formats.sniff(b"\x00\x01\x02binary") is None


def test_a_text_file_named_mp4_is_refused(api, session):
    client, _ = api("manager")
    response = _upload(client, b"this is not a video at all\n", "clip.mp4")
    assert response.status_code == 422
    assert response.json["error"] == {"code": "invalid_media", "details": None,
                                      "message": "clip.mp4: the name says mp4 but the content is text"}
    assert session.scalar(select(func.count()).select_from(Asset)) == 0


def test_an_mp4_named_wav_is_refused(api):
    client, _ = api("manager")
    response = _upload(client, CLIP.read_bytes(), "take.wav")
    assert "the name says wav but the content is mp4" in response.json["error"]["message"]


def test_upload_stores_once_by_sha256_with_provenance_and_duration(api, session, app):
    client, _ = api("manager")
    first = _upload(client, CLIP.read_bytes(), "alley.mp4", source_model="gen-a", consent="granted",
                    license="CC0-1.0")
    assert first.status_code == 201
    body = first.json
    assert (body["media_kind"], body["mime_type"], body["source_model"], body["consent"]) == \
        ("video", "video/mp4", "gen-a", "granted")
    assert 3.0 <= body["duration_s"] <= 4.1
    again = _upload(client, CLIP.read_bytes(), "copy-of-alley.mp4")
    assert again.status_code == 200 and again.json["id"] == body["id"]
    assert session.scalar(select(func.count()).select_from(Asset)) == 1
    assert asset_store(app).read_bytes(body["sha256"]) == CLIP.read_bytes()


def test_upload_size_is_capped(api, app, session):
    client, _ = api("manager")
    too_big = b"RIFF\x00\x00\x00\x00WAVE" + b"\x00" * (app.config["MAX_UPLOAD_MB"] * 1024 * 1024)
    response = _upload(client, too_big, "long.wav")
    assert response.status_code == 422 and "larger than the 2 MB limit" in response.json["error"]["message"]
    way_too_big = b"\x00" * (app.config["MAX_CONTENT_LENGTH"] + 1)
    response = _upload(client, way_too_big, "huge.wav")
    assert response.status_code == 413 and response.json["error"]["code"] == "too_large"
    assert session.scalar(select(func.count()).select_from(Asset)) == 0


def test_empty_and_unknown_files_are_refused(api):
    client, _ = api("manager")
    assert "empty" in _upload(client, b"", "x.mp4").json["error"]["message"]
    assert "not a supported" in _upload(client, b"\x00\x00\x00binary", "x.bin").json["error"]["message"]


def test_page_upload_refuses_the_whole_batch_when_one_file_is_bad(login_as, session):
    client, _ = login_as("manager")
    response = client.post("/assets", data={"file": [(io.BytesIO(CLIP.read_bytes()), "ok.mp4"),
                                                     (io.BytesIO(b"text"), "bad.mp4")]},
                           content_type="multipart/form-data", follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "bad.mp4: the name says mp4 but the content is text" in page and "Nothing was uploaded" in page
    assert session.scalar(select(func.count()).select_from(Asset)) == 0


@pytest.fixture
def served(app, session, make_user):
    """A project with one item; returns (project, member rater, outsider rater, asset)."""
    install_demo_media(app)
    manager = session.get(User, make_user("manager").id)
    member, outsider = make_user("rater"), make_user("rater")
    project = make_project(session, manager, members=[session.get(User, member.id)])
    import_rows(session, app, project, video_row("served-1"))
    asset = session.scalar(select(Asset).where(Asset.original_name == "video/alley-001-a.mp4"))
    return project, member, outsider, asset


def test_range_request_returns_206_with_exactly_those_bytes(client, served):
    _, member, _, asset = served
    client.login(member.email)
    response = client.get(f"/media/{asset.public_id}", headers={"Range": "bytes=100-299"})
    assert response.status_code == 206
    assert response.data == CLIP.read_bytes()[100:300]
    assert response.headers["Content-Range"] == f"bytes 100-299/{CLIP.stat().st_size}"
    assert response.headers["Accept-Ranges"] == "bytes" and response.mimetype == "video/mp4"
    tail = client.get(f"/media/{asset.public_id}", headers={"Range": "bytes=-10"})
    assert tail.status_code == 206 and tail.data == CLIP.read_bytes()[-10:]
    whole = client.get(f"/media/{asset.public_id}")
    assert whole.status_code == 200 and whole.data == CLIP.read_bytes()


def test_unsatisfiable_range_is_416(client, served):
    _, member, _, asset = served
    client.login(member.email)
    response = client.get(f"/media/{asset.public_id}", headers={"Range": f"bytes={10**9}-"})
    assert response.status_code == 416


def test_a_rater_cannot_fetch_media_of_a_project_they_are_not_on(client, served):
    _, _, outsider, asset = served
    client.login(outsider.email)
    assert client.get(f"/media/{asset.public_id}").status_code == 404


def test_media_url_reveals_neither_model_nor_hash(client, served, api):
    _, _, _, asset = served
    reader, _ = api("researcher")
    url = reader.get(f"/api/v1/assets/{asset.id}").json["media_url"]
    assert url == f"/media/{asset.public_id}"
    assert "gen-a" not in url and asset.sha256[:8] not in url and "alley" not in url


def test_consent_change_needs_a_note_and_is_audited(api, served, session):
    _, _, _, asset = served
    client, manager = api("manager")
    refused = client.patch(f"/api/v1/assets/{asset.id}", json={"consent": "revoked"})
    assert refused.status_code == 422 and refused.json["error"]["details"]["errors"] == ["note: say why the consent changes"]
    ok = client.patch(f"/api/v1/assets/{asset.id}", json={"consent": "revoked", "consent_ref": "email-2026-11-20",
                                                         "note": "rights holder withdrew"})
    assert ok.status_code == 200 and ok.json["consent"] == "revoked"
    trail = session.scalars(select(ConsentChange).where(ConsentChange.asset_id == asset.id)
                            .order_by(ConsentChange.id)).all()
    assert [(c.old_consent, c.new_consent) for c in trail] == [(None, "granted"), ("granted", "revoked")]
    assert (trail[-1].note, trail[-1].changed_by_id, trail[-1].consent_ref) == \
        ("rights holder withdrew", manager.id, "email-2026-11-20")


def test_consent_edit_on_the_page(login_as, served, session):
    _, _, _, asset = served
    client, _ = login_as("manager")
    page = client.post(f"/assets/{asset.id}", data={"consent": "pending"})
    assert page.status_code == 400 and "say why the consent changes" in page.get_data(as_text=True)
    ok = client.post(f"/assets/{asset.id}", data={"consent": "pending", "note": "contract under review",
                                                  "license": "CC0-1.0", "generation_params": '{"seed": 3}'})
    assert ok.status_code == 302
    session.expire_all()
    fresh = session.get(Asset, asset.id)
    assert (fresh.consent, fresh.generation_params) == ("pending", {"seed": 3})
    assert "contract under review" in client.get(f"/assets/{asset.id}").get_data(as_text=True)
