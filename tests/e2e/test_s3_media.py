"""Chromium with the demo's media in a bucket (moto's S3 server): a rater's players load and play
through the app (Range, heartbeats credited); a manager's players follow the redirect to the
presigned URL under the page's Content-Security-Policy (media-src and connect-src name the
bucket). moto answers cross-origin requests whatever the bucket's CORS rules, so the rule set
here is the one the README asks for, not something this test proves a real bucket needs."""
from __future__ import annotations

from sqlalchemy import select

from tasks.catalogue.models import Asset
from tests.e2e.conftest import screenshot, sign_in, wait_until
from tests.e2e.test_rating import RATIONALE, rule_ok, start_rating
from tests.store.conftest import app, s3, s3_client, s3_endpoint, s3_settings  # noqa: F401 - the app on a bucket


def test_a_raters_clips_stream_through_the_app_and_playback_is_credited(page, live_server):
    bucket_requests = []
    page.on("request", lambda request: "/media/" not in request.url and "X-Amz" in request.url
            and bucket_requests.append(request.url))
    sign_in(page, live_server, "editor@dailies.example", "demo-rater-pass")
    start_rating(page, live_server, "Neon alley chase")
    wait_until(page, "[...document.querySelectorAll('video[data-side]')].length === 2 && "
                     "[...document.querySelectorAll('video')].every(v => v.readyState >= 2)")
    page.keyboard.press("Space")  # play both (the review desk's keys: static/js/keys.js)
    wait_until(page, "[...document.querySelectorAll('video')].every(v => !v.paused)")
    page.keyboard.press("z")  # Left
    page.keyboard.press("r")
    page.keyboard.type(RATIONALE)
    rule_ok(page, "playback-left").wait_for(timeout=15000)
    rule_ok(page, "playback-right").wait_for(timeout=15000)
    screenshot(page, "s3-rate-video")
    assert bucket_requests == []  # never sent to the bucket: every byte passed the app's checks
    assert page.console_errors == []


def test_a_managers_players_and_waveform_fetch_follow_the_redirect_to_the_bucket(page, live_server, app,  # noqa: F811
                                                                                  session, s3):
    client, bucket = s3
    client.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [
        {"AllowedOrigins": [live_server], "AllowedMethods": ["GET"], "AllowedHeaders": ["Range"],
         "ExposeHeaders": ["Content-Range", "Content-Length"], "MaxAgeSeconds": 600}]})
    video = session.scalar(select(Asset).where(Asset.media_kind == "video").order_by(Asset.id).limit(1))
    audio = session.scalar(select(Asset).where(Asset.media_kind == "audio").order_by(Asset.id).limit(1))
    from_bucket = []
    page.on("response", lambda response: response.url.startswith(app.config["S3_ENDPOINT_URL"])
            and from_bucket.append(response.status))
    sign_in(page, live_server, "manager@dailies.example", "demo-manager-pass")
    page.goto(f"{live_server}/assets/{video.id}")
    wait_until(page, "document.querySelector('video.preview').readyState >= 1")
    assert page.evaluate("document.querySelector('video.preview').duration") > 1
    screenshot(page, "s3-asset-video-manager")
    size = page.evaluate(f"fetch('/media/{audio.public_id}').then(r => r.arrayBuffer()).then(b => b.byteLength)")
    assert size == audio.size_bytes  # what wavesurfer does to draw a waveform: a cross-origin fetch
    assert from_bucket and all(status in (200, 206) for status in from_bucket)
    assert page.console_errors == []
