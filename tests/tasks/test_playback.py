"""Playback the server observed: the pure crediting rule, the cheating rater (API and page) whose
claims are refused, the API rater who fetched the media with a token and the page rater whose
players sent heartbeats, who pass; what the heartbeat answers the page (the playback rule as a
submission would meet it); and the media route (bearer token, no-store, keyed ETag)."""
from __future__ import annotations

import html
import json
import re
import threading
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from raters.models import User
from tasks.catalogue.models import Asset
from tasks.rating import judging, playback, views
from tasks.rating.models import Assignment, Judgment, PlaybackObservation
from tests.helpers import import_rows, install_demo_media, make_project, video_row
from tests.tasks.rating_factories import rationale

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=timezone.utc)


# -- the pure rule --------------------------------------------------------------------------

def test_credit_is_bounded_by_the_server_clock_and_ignores_seeks_forward():
    at = T0 + timedelta(seconds=2)
    assert playback.credit(0.0, True, T0, 2.0, True, at) == pytest.approx(2.0)
    assert playback.credit(0.0, True, T0, 60.0, True, at) == pytest.approx(2.0 * playback.RATE_SLACK)  # a seek
    assert playback.credit(3.0, True, T0, 1.5, True, at) == pytest.approx(1.5)  # looped / sought back
    assert playback.credit(0.0, False, T0, 0.0, False, at) == 0.0  # paused throughout
    assert playback.credit(None, False, None, 2.0, True, at) == 0.0  # the first heartbeat
    assert playback.credit(0.0, True, T0, 40.0, True, T0 + timedelta(seconds=40)) == 0.0  # a gap: nothing


def test_byte_ranges_merge():
    assert playback.merge_ranges([], 0, 10) == [[0, 10]]
    assert playback.merge_ranges([[0, 10], [20, 30]], 5, 25) == [[0, 30]]
    assert playback.merge_ranges([[0, 10]], 10, 12) == [[0, 12]]
    assert playback.merge_ranges([[20, 30]], 0, 5) == [[0, 5], [20, 30]]


# -- through the API ------------------------------------------------------------------------

@pytest.fixture
def clips(app, session, api):
    """A pairwise video project with one real item (two ~3.5 s demo clips) and an API rater."""
    install_demo_media(app)
    client, rater = api("rater", expertise=[])
    manager_client, manager = api("manager")
    project = make_project(session, session.get(User, manager.id), members=[session.get(User, rater.id)],
                           min_rationale_words=12, min_media_fraction=0.8, gold_rate=0.0, audit_rate=0.0)
    import_rows(session, app, project, video_row("clip-1"))
    return {"client": client, "rater": rater, "manager": manager_client, "project": project}


def serve(clips, session, seconds_ago: float = 0.0) -> dict:
    payload = clips["client"].post(f"/api/v1/projects/{clips['project'].id}/assignments/next").json
    if seconds_ago:
        row = session.get(Assignment, payload["id"])
        row.served_at -= timedelta(seconds=seconds_ago)
        row.expires_at -= timedelta(seconds=seconds_ago)
        session.commit()
    return payload


def fetched_earlier(session, seconds: float = 10) -> None:
    """Pretend the media bytes were served ``seconds`` ago (they count for no more than that)."""
    session.expire_all()
    for row in session.scalars(select(PlaybackObservation)):
        row.first_fetch_at -= timedelta(seconds=seconds)
    session.commit()


def judge(clips, payload, playback_claim=None, key="k-1"):
    body = {"choice": "left", "strength": 2, "confidence": 4, "rationale": rationale(7)}
    if playback_claim is not None:
        body["playback"] = playback_claim
    return clips["client"].post(f"/api/v1/assignments/{payload['id']}/judgment", json=body,
                                headers={"Idempotency-Key": key})


def test_an_api_client_that_never_fetched_the_media_cannot_claim_playback(clips, session):
    payload = serve(clips, session, seconds_ago=120)
    refused = judge(clips, payload, {"left": 60.0, "right": 60.0})
    assert refused.status_code == 422
    assert re.search(r"(Left|Right): 60.0 s played was claimed, but the clip is 3\.\d s long", refused.json["error"]["details"]["playback"])
    plausible = judge(clips, payload, {"left": 3.0, "right": 3.0}, key="k-2")
    assert "the server observed 0.0 s" in plausible.json["error"]["details"]["playback"]
    silent = judge(clips, payload, None, key="k-3")  # no claim: still nothing observed
    assert re.search(r"observed by the server: (Left|Right) 0.0 s", silent.json["error"]["details"]["playback"])
    assert session.scalar(select(Judgment.id)) is None


def test_a_claim_beyond_the_time_since_serving_is_refused(clips, session):
    # Served "a minute from now": however slow the machine, no real time has passed since serving.
    payload = serve(clips, session, seconds_ago=-60)
    refused = judge(clips, payload, {"left": 3.0, "right": 3.0})
    assert "but the task was served only" in refused.json["error"]["details"]["playback"]


def test_an_api_client_that_fetched_the_media_ranges_passes(clips, session):
    payload = serve(clips, session, seconds_ago=60)
    for side in ("left", "right"):
        url = payload["item"][side]["media_url"]
        first = clips["client"].get(url, headers={"Range": "bytes=0-9999"})
        assert first.status_code == 206
        size = int(first.headers["Content-Range"].split("/")[1])
        rest = clips["client"].get(url, headers={"Range": f"bytes=10000-{size - 1}"})
        assert rest.status_code == 206
    rows = session.scalars(select(PlaybackObservation)).all()
    assert len(rows) == 2 and all(r.byte_ranges == [[0, r.bytes_seen]] for r in rows)
    fetched_earlier(session)  # served bytes count for no more than the server time since the first byte
    done = judge(clips, payload, {"left": 3.0, "right": 3.0})
    assert done.status_code == 201, done.json
    stored = session.scalar(select(Judgment))
    durations = {a.id: a.duration_s for a in session.scalars(select(Asset))}
    assert sorted(stored.playback.values()) == pytest.approx(sorted(durations.values()))


def test_half_the_bytes_are_half_the_playback(clips, session):
    payload = serve(clips, session, seconds_ago=60)
    for side in ("left", "right"):
        url = payload["item"][side]["media_url"]
        size = int(clips["client"].get(url, headers={"Range": "bytes=0-0"}).headers["Content-Range"].split("/")[1])
        clips["client"].get(url, headers={"Range": f"bytes=0-{size // 3}"})
    fetched_earlier(session)
    short = judge(clips, payload)
    assert short.status_code == 422 and "observed by the server" in short.json["error"]["details"]["playback"]


# -- the media route ------------------------------------------------------------------------

def test_media_accepts_a_bearer_token_and_is_never_stored_by_the_browser(clips, session):
    payload = serve(clips, session)
    response = clips["client"].get(payload["item"]["left"]["media_url"])
    assert response.status_code == 200 and response.mimetype == "video/mp4"
    assert response.headers["Cache-Control"] == "private, no-store"
    sha = session.scalar(select(Asset.sha256).where(Asset.public_id == payload["item"]["left"]["media_url"].rsplit("/", 1)[1]))
    etag = response.headers["ETag"].strip('"')
    assert etag and etag != sha and sha[:16] not in etag
    bad = clips["client"].get(payload["item"]["left"]["media_url"], headers={"Authorization": "Bearer nope"})
    assert bad.status_code == 401 and bad.json["error"]["code"] == "unauthorized"  # JSON, not a login redirect


# -- the page -------------------------------------------------------------------------------

class Clock:
    def __init__(self):
        self.now = T0

    def __call__(self):
        return self.now


@pytest.fixture
def page_rater(clips, client, session, monkeypatch):
    """The same project with a rater using the page, on a clock the test moves."""
    clock = Clock()
    monkeypatch.setattr(views, "utcnow", clock)  # the page's clock
    rater = session.scalar(select(User).where(User.id == clips["rater"].id))
    rater.password_hash = session.scalar(select(User.password_hash).where(User.role == "manager"))
    session.commit()
    assert client.login(rater.email).status_code == 302
    start = client.post(f"/projects/{clips['project'].id}/next")
    assignment_id = int(start.headers["Location"].rsplit("/", 1)[1])
    return client, clock, assignment_id


def page_form(claim: dict, progress: dict | None = None) -> dict:
    form = {"choice": "left", "strength": "2", "confidence": "4", "rationale": rationale(9),
            "playback": json.dumps(claim), "idempotency_key": "page-1"}
    if progress is not None:
        form["progress"] = json.dumps(progress)
    return form


def test_the_page_cannot_claim_playback_its_players_never_reported(page_rater):
    client, clock, assignment_id = page_rater
    clock.now = T0 + timedelta(seconds=60)
    refused = client.post(f"/assignments/{assignment_id}", data=page_form({"left": 3.4, "right": 3.4}))
    assert refused.status_code == 422
    assert "the server observed 0.0 s" in refused.get_data(as_text=True)


def test_page_heartbeats_stamped_by_the_server_count_as_playback(page_rater, session):
    client, clock, assignment_id = page_rater
    csrf = {"X-CSRFToken": client.csrf_token()}
    for step in range(3):  # play from 0 s, a heartbeat every 1.5 s (server clock)
        clock.now = T0 + timedelta(seconds=1.5 * step)
        beat = {side: {"t": 1.5 * step, "playing": True} for side in ("left", "right")}
        answered = client.http.post(f"/assignments/{assignment_id}/progress", json=beat, headers=csrf)
        assert answered.status_code == 200
    assert answered.json["observed"]["left"] == pytest.approx(3.0)
    clock.now = T0 + timedelta(seconds=3.4)
    ended = {side: {"t": 3.4, "playing": False} for side in ("left", "right")}  # rides with the submission
    done = client.post(f"/assignments/{assignment_id}", data=page_form({"left": 3.4, "right": 3.4}, ended))
    assert done.status_code == 302, done.get_data(as_text=True)
    assert session.scalar(select(Judgment)).playback == {"a": pytest.approx(3.4), "b": pytest.approx(3.4)}
    late = client.http.post(f"/assignments/{assignment_id}/progress", json=ended, headers=csrf)
    assert late.status_code == 204  # a heartbeat that crossed the submission records nothing
    autosave = client.http.post(f"/assignments/{assignment_id}/draft", json={"rationale": "x"}, headers=csrf)
    assert autosave.status_code == 204  # so does an autosave


def test_a_heartbeat_that_jumps_ahead_is_credited_only_the_server_time(page_rater):
    client, clock, assignment_id = page_rater
    csrf = {"X-CSRFToken": client.csrf_token()}
    client.http.post(f"/assignments/{assignment_id}/progress", json={"left": {"t": 0, "playing": True}}, headers=csrf)
    clock.now = T0 + timedelta(seconds=1)
    jumped = client.http.post(f"/assignments/{assignment_id}/progress", json={"left": {"t": 3.4, "playing": True}},
                              headers=csrf)
    assert jumped.json["observed"]["left"] == pytest.approx(1.0 * playback.RATE_SLACK)
    malformed = client.http.post(f"/assignments/{assignment_id}/progress", json={"top": {"t": "x"}}, headers=csrf)
    assert malformed.status_code == 422


def test_concurrent_observations_of_one_assignment_neither_collide_nor_lose_credit(clips, app, session):
    """Two requests observing the same output at once (a heartbeat and a media fetch): the second
    waits for the first's row lock instead of inserting the same row again (a 500 on PostgreSQL)."""
    payload = serve(clips, session)
    assignment_id = payload["id"]
    maker = app.extensions["database"].writer_sessionmaker
    first, errors = maker(), []
    first_assignment = first.get(Assignment, assignment_id)
    playback.record_bytes(first, first_assignment, "a", 0, 1000, datetime.now(timezone.utc))  # holds the lock, row not committed

    def second():
        other = maker()
        try:
            playback.record_bytes(other, other.get(Assignment, assignment_id), "a", 1000, 3000, datetime.now(timezone.utc))
            other.commit()
        except Exception as exc:  # noqa: BLE001 — the test reports it
            errors.append(exc)
        finally:
            other.close()

    if session.get_bind().dialect.name == "sqlite":
        first.commit()  # SQLite has one writer at a time: the second simply follows
        second()
    else:
        thread = threading.Thread(target=second)
        thread.start()
        thread.join(timeout=1)
        assert thread.is_alive()  # waiting for the first's lock, not inserting beside it
        first.commit()
        thread.join(timeout=10)
    first.close()
    assert errors == []
    session.expire_all()
    row = session.get(PlaybackObservation, (assignment_id, "a"))
    assert row.byte_ranges == [[0, 3000]] and row.bytes_seen == 3000


def beat_at(client, clock, assignment_id, seconds: float, t: float, playing: bool = True):
    """One heartbeat of both players at player time ``t``, ``seconds`` after T0 by the server clock."""
    clock.now = T0 + timedelta(seconds=seconds)
    return client.http.post(f"/assignments/{assignment_id}/progress", headers={"X-CSRFToken": client.csrf_token()},
                            json={side: {"t": t, "playing": playing} for side in ("left", "right")})


def test_the_heartbeats_answer_counts_what_a_submission_would(page_rater, session):
    """The page's checklist shows the heartbeat's answer: its counted seconds are what the
    submission's rule counts, its required seconds the rule's, its ``met`` the rule's verdict.
    Short of the rule, a submission at that moment (no further heartbeat) is refused naming the
    same figures; once met, one passes and stores them."""
    client, clock, assignment_id = page_rater
    for seconds in (0.0, 1.5):
        beat_at(client, clock, assignment_id, seconds, seconds)
    short = beat_at(client, clock, assignment_id, 2.5, 2.5).json
    assignment = session.get(Assignment, assignment_id)
    required = judging.rules_for(assignment)["min_playback_s"]
    assert set(short["playback_rule"]) == {"left", "right"} and min(required.values()) > 2.5
    for side, rule in short["playback_rule"].items():
        assert rule == {"counted_s": pytest.approx(2.5), "required_s": required[side], "met": False}
        assert rule["counted_s"] == short["observed"][side]
    page = client.get(f"/assignments/{assignment_id}").get_data(as_text=True)  # a reload starts from the same count
    assert json.loads(html.unescape(re.search(r'data-playback-rule="([^"]*)"', page).group(1))) == short["playback_rule"]
    clock.now = T0 + timedelta(seconds=10)  # time enough for the timing rule; no heartbeat since
    refused = client.post(f"/assignments/{assignment_id}", data=page_form({}))
    assert refused.status_code == 422
    text = html.unescape(refused.get_data(as_text=True))
    for side, rule in short["playback_rule"].items():
        assert f"{side.capitalize()} {rule['counted_s']:.1f} s of {rule['required_s']:.1f} s" in text
    assert "after the task opened" not in text  # refused by the playback rule alone

    met = beat_at(client, clock, assignment_id, 10.7, 3.2).json["playback_rule"]  # 0.7 s more, by the player
    assert all(rule["met"] and rule["counted_s"] == pytest.approx(3.2) for rule in met.values()), met
    done = client.post(f"/assignments/{assignment_id}", data=page_form({}, {"left": {"t": 3.2, "playing": False},
                                                                              "right": {"t": 3.2, "playing": False}}))
    assert done.status_code == 302, done.get_data(as_text=True)
    stored = session.scalar(select(Judgment)).playback
    assert {assignment.side_of(label): s for label, s in stored.items()} == {side: r["counted_s"] for side, r in met.items()}


def test_a_heartbeat_cannot_tell_the_server_its_count(page_rater):
    """The answer's figures are the server's own: a page echoing them back (or inventing them)
    in a heartbeat is credited only what the server clock allows."""
    client, clock, assignment_id = page_rater
    forged = {side: {"t": 0.0, "playing": True, "counted_s": 3.5, "met": True} for side in ("left", "right")}
    first = client.http.post(f"/assignments/{assignment_id}/progress", json=forged,
                             headers={"X-CSRFToken": client.csrf_token()})
    assert all(rule["counted_s"] == 0.0 and not rule["met"] for rule in first.json["playback_rule"].values())
    clock.now = T0 + timedelta(seconds=0.5)
    forged = {side: {"t": 3.5, "playing": False, "counted_s": 3.5, "met": True} for side in ("left", "right")}
    second = client.http.post(f"/assignments/{assignment_id}/progress", json=forged,
                              headers={"X-CSRFToken": client.csrf_token()})
    assert all(rule["counted_s"] == pytest.approx(0.5 * playback.RATE_SLACK) and not rule["met"]
               for rule in second.json["playback_rule"].values())
