"""An asset's frame rate is read when it is stored (upload, import) and, for assets stored before
frame rates were kept, by ``probe_missing_frame_rates`` (run by ``flask db upgrade``)."""
from __future__ import annotations

import io
import shutil
from pathlib import Path

from sqlalchemy import select

from tasks.catalogue import assets as asset_ops
from tasks.catalogue.models import Asset
from tasks.catalogue.store import asset_store

DEMO = Path(__file__).resolve().parents[2] / "demo" / "media"
CLIP = DEMO / "video" / "alley-001-a.mp4"
VOICE = DEMO / "audio" / "narr-01-a.ogg"
PROBE = "ffprobe" if shutil.which("ffprobe") else "mp4"  # ffprobe first; the sample table without it


def upload(client, data: bytes, name: str):
    return client.post("/api/v1/assets", data={"file": (io.BytesIO(data), name)}, content_type="multipart/form-data")


def test_an_uploaded_video_gets_its_frame_rate_and_audio_none(api):
    client, _ = api("manager")
    video = upload(client, CLIP.read_bytes(), "alley.mp4")
    assert video.status_code == 201 and video.json["frame_rate"] == 24.0
    audio = upload(client, VOICE.read_bytes(), "voice.ogg")
    assert audio.status_code == 201 and audio.json["frame_rate"] is None


def test_assets_stored_before_frame_rates_were_kept_are_probed_once(app, session):
    store = asset_store(app)
    stored = store.put(io.BytesIO(CLIP.read_bytes()), "alley.mp4", 10 * 1024 * 1024)
    with app.app_context():
        asset, _ = asset_ops.register(session, store, stored, original_name="alley.mp4", actor=None)
        asset.frame_rate, asset.frame_rate_source = None, None  # as the migration leaves a video
        gone = Asset(sha256="f" * 64, public_id="gone-file", media_kind="video", mime_type="video/mp4",
                     size_bytes=1, original_name="gone", consent="granted")
        session.add(gone)
        session.flush()
        assert asset_ops.probe_missing_frame_rates(session, store) == 2
        assert (asset.frame_rate, asset.frame_rate_source) == (24.0, PROBE)
        assert (gone.frame_rate, gone.frame_rate_source) == (None, "none")  # its file is missing: not retried
        assert asset_ops.probe_missing_frame_rates(session, store) == 0
        session.rollback()
    assert session.scalar(select(Asset.id).where(Asset.sha256 == "f" * 64)) is None
