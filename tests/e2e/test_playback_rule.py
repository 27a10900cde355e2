"""The rating page's playback rule turns green only when the server would accept the submit: a
rater who submits the very moment it does (by Ctrl+Enter or the Submit button, in place, item after
item) is never refused by the playback rule — also when the server was slow to take the first
heartbeat of a play (it credits by its own clock between heartbeats' arrivals, so a late first
heartbeat costs counted seconds). A clip shorter than the heartbeat interval can still meet the rule:
the heartbeat its end sends is counted, and when that falls short the page says to play again."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from flask import request, request_started
from sqlalchemy import select

from database import db
from raters.models import User
from tasks.rating import judging
from tasks.rating.models import Assignment, Judgment
from tests.e2e.conftest import SHOTS, screenshot, sign_in, wait_until
from tests.e2e.test_rating import answer_criteria, rule_ok, start_rating
from tests.e2e.test_review_desk import MEDIA_READY, MORE_TAKES, js
from tests.helpers import import_rows, make_project

PLAYBACK_RULES = "[...document.querySelectorAll('#judgment-form [data-rule^=\"playback-\"]')]"
# Submit the moment every playback rule shows green: a MutationObserver on the checklist, so no
# polling delay lies between the rule turning green and the submission. `how`: 'key' (Ctrl+Enter,
# the keyboard map's submit) or 'click' (the Submit button). What the page showed at that moment
# is kept in window.__moment.
SUBMIT_WHEN_GREEN = """(how) => {
  const form = document.getElementById('judgment-form');
  const button = form.querySelector('button[type=submit]');
  const rules = [...form.querySelectorAll('[data-rule^="playback-"]')];
  const played = (m) => { let t = 0; for (let i = 0; i < m.played.length; i += 1) t += m.played.end(i) - m.played.start(i); return t; };
  window.__moment = null;
  const observer = new MutationObserver(() => {
    if (window.__moment || !rules.every((li) => li.classList.contains('ok'))) return;
    observer.disconnect();
    window.__moment = {
      assignment: form.dataset.assignmentId, enabled: !button.disabled, at: performance.now(),
      pending: [...form.querySelectorAll('[data-rule]:not(.ok)')].map((li) => li.dataset.rule),
      texts: rules.map((li) => `${li.querySelector('.rule-state').textContent} (${li.querySelector('.rule-note').textContent})`),
      played: [...document.querySelectorAll('video[data-side], audio[data-side]')].map(played),
    };
    if (how === 'click') button.click();
    else document.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', code: 'Enter', ctrlKey: true, bubbles: true, cancelable: true }));
  });
  rules.forEach((li) => observer.observe(li, { attributes: true, attributeFilter: ['class'] }));
}"""


@pytest.fixture
def slow_first_beat(app):
    """The server busy when a play's first heartbeat arrives: the first heartbeat of each
    assignment is held up ``delays[assignment_id]`` seconds (default: none) before it is stamped."""
    delays, seen = {}, set()

    def hold(sender, **extra):
        if request.method == "POST" and request.path.endswith("/progress"):
            assignment_id = int(request.path.split("/")[-2])
            if assignment_id not in seen:
                seen.add(assignment_id)
                time.sleep(delays.get(assignment_id, 0.0))
    request_started.connect(hold, app)
    yield delays
    request_started.disconnect(hold, app)


def assignment_id(page) -> int:
    return int(js(page, "document.getElementById('judgment-form').dataset.assignmentId"))


def answer_all_but_playback(page, rationale: str) -> None:
    """Choose (every criterion, then overall), set confidence and write the rationale by keyboard;
    wait until every rule but playback is met, so the playback rules are the last to turn green."""
    answer_criteria(page)
    for key in ("z", "2", "v", "4", "r"):
        page.keyboard.press(key)
    page.keyboard.type(rationale)
    page.keyboard.press("Escape")
    for rule in ("choice", "confidence", "words", "timing"):
        rule_ok(page, rule).wait_for(timeout=20000)
    assert js(page, f"{PLAYBACK_RULES}.every(li => !li.classList.contains('ok'))")


class BeatsInFlight:
    """Heartbeats the page sent whose answers have not come back yet."""

    def __init__(self, page):
        self.count = 0
        page.on("request", lambda r: self._move(r, 1))
        page.on("requestfinished", lambda r: self._move(r, -1))
        page.on("requestfailed", lambda r: self._move(r, -1))

    def _move(self, req, step: int) -> None:
        if req.method == "POST" and req.url.endswith("/progress"):
            self.count += step


ENDED_SHORT = (f"[...document.querySelectorAll('video[data-side]')].every(v => v.ended) && "
               f"{PLAYBACK_RULES}.some(li => li.textContent.includes('· play '))")


def submit_the_moment_it_turns_green(page, how: str, in_flight: BeatsInFlight, plays: int = 3) -> dict:
    """Play, submit the moment the playback rules turn green, and wait for what the server
    answers (the next item shown in place, or a refusal page). A play the server counted short
    (the clips ended, every heartbeat answered, the rule says to play again) is played again, as
    the page asks. Returns the moment's record, with how many plays it took."""
    before = assignment_id(page)
    page.evaluate(SUBMIT_WHEN_GREEN, how)
    for play in range(1, plays + 1):
        page.keyboard.press("Space")
        deadline = time.monotonic() + 30
        while not js(page, "Boolean(window.__moment)"):
            if in_flight.count == 0 and js(page, ENDED_SHORT):
                break  # counted short: play again
            assert time.monotonic() < deadline, "the playback rule neither turned green nor asked to play again"
            page.wait_for_timeout(50)
        else:
            break
    else:
        raise AssertionError(f"the playback rule did not turn green in {plays} plays")
    moment = js(page, "window.__moment")
    moment["plays"] = play
    wait_until(page, "Boolean(document.getElementById('refusal')) || !document.getElementById('judgment-form') || "
                     f"document.getElementById('judgment-form').dataset.assignmentId !== '{before}'", timeout_s=30)
    errors = page.locator("#refusal, .field-error").all_inner_texts()
    assert page.locator("#refusal").count() == 0, (how, moment, errors)
    return moment


def stored_playback(app, assignment: int) -> dict:
    """The judgment's observed seconds by screen side, and the rule's required seconds."""
    with app.app_context():
        row = db.session.get(Assignment, assignment)
        judgment = db.session.scalar(select(Judgment).where(Judgment.assignment_id == assignment))
        required = judging.rules_for(row)["min_playback_s"]
        return {row.side_of(label): (seconds, required[row.side_of(label)]) for label, seconds in judgment.playback.items()}


def test_submitting_the_moment_the_playback_rule_turns_green_is_never_refused(app, page, live_server, slow_first_beat):
    """Four items in a row, each submitted (in place) the moment its playback rules turn green —
    by Ctrl+Enter and by the Submit button, with the first heartbeat of a play held up by a busy
    server (0.4 s, 0.8 s) or not. (0.8 s late costs a 3.5 s clip's play more than its 0.7 s of
    slack: the page asks for another play rather than turning green.)"""
    in_flight = BeatsInFlight(page)
    sign_in(page, live_server, "editor@dailies.example", "demo-rater-pass")
    start_rating(page, live_server, "Neon alley chase")
    js(page, "window.__sameDocument = true")
    runs = []
    for n, (how, delay) in enumerate([("key", 0.4), ("click", 0.0), ("key", 0.8), ("click", 0.4)]):
        wait_until(page, MEDIA_READY)
        current = assignment_id(page)
        slow_first_beat[current] = delay
        answer_all_but_playback(page, MORE_TAKES[n])
        if n == 0:
            screenshot(page, "rate-playback-rule-pending")
        moment = submit_the_moment_it_turns_green(page, how, in_flight)
        assert moment["enabled"] and moment["pending"] == [] and moment["assignment"] == str(current), moment
        assert all(re.fullmatch(r"\d+\.\d of \d+\.\d s \(counted by the server\)", t) for t in moment["texts"]), moment
        page.wait_for_selector(".flash-success")
        assert js(page, "window.__sameDocument === true")  # moved on in place, not by the fallback post
        kept = stored_playback(app, current)
        assert all(seconds + 1e-6 >= required for seconds, required in kept.values()), kept
        runs.append({"how": how, "first_beat_delay_s": delay, "plays": moment["plays"], "texts": moment["texts"],
                     "browser_played_s": [round(p, 2) for p in moment["played"]],
                     "stored": {side: round(s, 3) for side, (s, _) in kept.items()},
                     "required": {side: r for side, (_, r) in kept.items()}})
    print("\nplayback rule at the moment of submit:", json.dumps({"runs": runs, "load_average": os.getloadavg()}))
    assert page.console_errors == []


def make_clip(path: Path, source: str, seconds: float) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-y", "-f", "lavfi",
                    "-i", f"{source}=size=320x180:rate=24:duration={seconds}", "-c:v", "libx264",
                    "-pix_fmt", "yuv420p", "-movflags", "+faststart", str(path)], check=True)


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="needs ffmpeg to make a short clip")
def test_a_clip_shorter_than_the_heartbeat_interval_can_meet_the_rule(app, page, live_server, slow_first_beat):
    """1.5 s clips (heartbeats go every 2 s while playing): the heartbeat the clip's end sends is
    counted, so one play turns the rule green. When the server took the play's first heartbeat
    late, that play counts short: the rule stays pending and says to play again; playing again
    turns it green, and a submit that moment passes."""
    in_flight = BeatsInFlight(page)
    root = Path(app.config["MEDIA_ROOT"])
    for name, source in (("short-a.mp4", "testsrc"), ("short-b.mp4", "testsrc2"), ("short-c.mp4", "smptebars"),
                         ("short-d.mp4", "rgbtestsrc")):
        make_clip(root / "short" / name, source, 1.5)
    with app.app_context():
        owner = db.session.scalar(select(User).where(User.email == "manager@dailies.example"))
        editor = db.session.scalar(select(User).where(User.email == "editor@dailies.example"))
        project = make_project(db.session, owner, name="Short takes", members=[editor], min_media_fraction=0.8,
                               gold_rate=0.0, audit_rate=0.0)
        prov = {"consent": "granted", "license": "CC0-1.0"}
        import_rows(db.session, app, project, *[
            {"external_id": f"short-{n}", "prompt": f"Two short takes, pair {n}", "model_confidence": n / 10,
             "outputs": [{"model": "gen-a", "asset": {"path": f"short/{a}"}, "provenance": prov},
                         {"model": "gen-b", "asset": {"path": f"short/{b}"}, "provenance": prov}]}
            for n, (a, b) in enumerate([("short-a.mp4", "short-b.mp4"), ("short-c.mp4", "short-d.mp4")])])
    sign_in(page, live_server, "editor@dailies.example", "demo-rater-pass")
    start_rating(page, live_server, "Short takes")
    # one play: the clip's end is counted
    wait_until(page, MEDIA_READY)
    assert js(page, "[...document.querySelectorAll('video[data-side]')].every(v => v.duration < 2)")
    first = assignment_id(page)
    answer_all_but_playback(page, MORE_TAKES[0])
    submit_the_moment_it_turns_green(page, "key", in_flight)
    page.wait_for_selector(".flash-success")
    assert all(s + 1e-6 >= r for s, r in stored_playback(app, first).values())
    # the server took the first heartbeat a second late: one play counts about half a second
    wait_until(page, MEDIA_READY)
    second = assignment_id(page)
    slow_first_beat[second] = 1.0
    answer_all_but_playback(page, MORE_TAKES[1])
    page.keyboard.press("Space")
    wait_until(page, ENDED_SHORT)
    wait_until(page, f"{PLAYBACK_RULES}.every(li => li.textContent.includes('· play '))")
    deadline = time.monotonic() + 10
    while in_flight.count:  # every heartbeat answered: the server's count is final for this play
        assert time.monotonic() < deadline
        page.wait_for_timeout(50)
    assert js(page, f"{PLAYBACK_RULES}.every(li => !li.classList.contains('ok') && li.textContent.includes('· play '))")
    assert js(page, "document.querySelector('#judgment-form button[type=submit]').disabled")
    screenshot(page, "rate-playback-rule-short-play-on")
    moment = submit_the_moment_it_turns_green(page, "click", in_flight)  # Space plays both again from the start
    assert moment["enabled"], moment
    page.wait_for_selector(".flash-success")
    assert all(s + 1e-6 >= r for s, r in stored_playback(app, second).values())
    assert page.console_errors == []


def test_the_rule_shows_the_servers_count_beside_the_players(page, live_server):
    """What the checklist says, pending and passed (screenshots of both)."""
    sign_in(page, live_server, "editor@dailies.example", "demo-rater-pass")
    start_rating(page, live_server, "Neon alley chase")
    wait_until(page, MEDIA_READY)
    answer_all_but_playback(page, MORE_TAKES[2])
    states = js(page, f"{PLAYBACK_RULES}.map(li => li.textContent)")
    assert all(re.fullmatch(r"Played (Left|Right) 0\.0 of \d\.\d snot played yet", s) for s in states), states
    page.keyboard.press("Space")
    wait_until(page, "[...document.querySelectorAll('video[data-side]')].every(v => v.currentTime > 1.2)")
    page.keyboard.press("k")  # paused part way: the server's count, and what to do
    wait_until(page, f"{PLAYBACK_RULES}.every(li => li.textContent.includes('· play '))")
    page.locator(".form-foot").scroll_into_view_if_needed()
    screenshot(page, "rate-playback-rule-paused")
    page.keyboard.press("Space")
    rule_ok(page, "playback-left").wait_for(timeout=20000)
    rule_ok(page, "playback-right").wait_for(timeout=20000)
    assert js(page, f"{PLAYBACK_RULES}.map(li => li.querySelector('.rule-note').textContent)") == ["counted by the server"] * 2
    assert not js(page, "document.querySelector('#judgment-form button[type=submit]').disabled")
    screenshot(page, "rate-playback-rule-passed")
    assert (SHOTS / "rate-playback-rule-passed.png").exists()
    assert page.console_errors == []
