"""The editor's review desk in Chromium (issue 10): every key of the `?` overlay does what its row
says (the rows are read from the page, so a new key without a check here fails), notes pinned with
the keyboard appear as markers and jump both players, the longer take plays to its end, dialogs
take and give back focus one at a time, drafts never go backwards, and the page fits 1440×900,
1024×768 and 390×844 (screenshots of every modality at the three sizes)."""
from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path

from flask import request, request_finished, request_started

from sqlalchemy import select

from database import db
from tasks.catalogue.models import Project
from tests.e2e.conftest import SHOTS, screenshot, sign_in, wait_until
from tests.helpers import import_rows, install_demo_media, video_row
from tests.e2e.test_rating import RATIONALE, answer_criteria, rule_ok, score_script, start_rating

ARTIFACTS = SHOTS.parent
MEDIA_READY = ("[...document.querySelectorAll('video[data-side], audio[data-side]')]"
               ".every(m => m.readyState >= 2 && Number.isFinite(m.duration))")
SIZES = {"1440": (1440, 900), "1024": (1024, 768), "390": (390, 844)}


def js(page, expression):
    return page.evaluate(expression)


def times(page):
    return js(page, "[...document.querySelectorAll('video[data-side], audio[data-side]')].map(m => m.currentTime)")


def seek_all(page, t):
    js(page, f"document.querySelectorAll('video[data-side], audio[data-side]').forEach(m => m.currentTime = {t})")
    wait_until(page, f"[...document.querySelectorAll('video[data-side], audio[data-side]')].every(m => !m.seeking && Math.abs(m.currentTime - {t}) < 0.01)")


def paused(page):
    return js(page, "[...document.querySelectorAll('video[data-side], audio[data-side]')].map(m => m.paused)")


def overlay_actions(page):
    page.keyboard.press("?")
    assert js(page, "document.getElementById('shortcuts').open")
    actions = page.locator("#shortcuts tr[data-action]").evaluate_all("rows => rows.map(r => r.dataset.action)")
    page.keyboard.press("Escape")
    assert not js(page, "document.getElementById('shortcuts').open")
    return list(dict.fromkeys(actions))


def focus_body(page):
    js(page, "document.activeElement && document.activeElement.blur()")


# -- checks, one per overlay action ------------------------------------------------------------

def check_transport(page):
    """Space, L (1×, 2×, 4×), K, J (stepped reverse), Shift+L / Shift+J, arrows, Home — on a video pair."""
    focus_body(page)
    page.keyboard.press("Space")
    wait_until(page, "[...document.querySelectorAll('video')].every(v => !v.paused)")
    page.keyboard.press("Space")  # straight after play: its late 'play' events must not restart the sides
    wait_until(page, "[...document.querySelectorAll('video')].every(v => v.paused)")
    held = times(page)
    page.wait_for_timeout(600)
    assert all(paused(page)) and times(page) == held, (paused(page), held, times(page))
    seek_all(page, 0.5)
    page.keyboard.press("l")
    wait_until(page, "[...document.querySelectorAll('video')].every(v => !v.paused && v.playbackRate === 1)")
    page.keyboard.press("l")
    assert js(page, "[...document.querySelectorAll('video')].every(v => v.playbackRate === 2)")
    page.keyboard.press("l")
    assert js(page, "[...document.querySelectorAll('video')].every(v => v.playbackRate === 4)")
    page.keyboard.press("k")
    wait_until(page, "[...document.querySelectorAll('video')].every(v => v.paused)")
    page.keyboard.press("Shift+L")
    wait_until(page, "[...document.querySelectorAll('video')].every(v => !v.paused && v.playbackRate === 0.5)")
    page.keyboard.press("Shift+L")
    assert js(page, "[...document.querySelectorAll('video')].every(v => v.playbackRate === 0.25)")
    page.keyboard.press("k")
    seek_all(page, 2.0)
    page.keyboard.press("j")  # stepped reverse: the time goes down while the players stay paused
    page.wait_for_timeout(400)
    assert all(p for p in paused(page))
    assert all(t < 1.95 for t in times(page)), times(page)
    wait_until(page, "document.querySelector('.transport[data-side=left] .tp-rate').textContent.trim() === '◀ 1×'")
    page.keyboard.press("j")
    wait_until(page, "document.querySelector('.transport[data-side=left] .tp-rate').textContent.trim() === '◀ 2×'")
    page.keyboard.press("k")
    seek_all(page, 2.0)
    page.keyboard.press("Shift+J")
    wait_until(page, "document.querySelector('.transport[data-side=left] .tp-rate').textContent.trim() === '◀ .5×'")
    page.wait_for_timeout(300)
    page.keyboard.press("k")
    assert all(1.0 < t < 2.0 for t in times(page)), times(page)  # backwards, slowly (the machine may be loaded)
    fps = js(page, "JSON.parse(document.getElementById('judgment-form').dataset.frameRates).left || 24")
    seek_all(page, 1.0)
    frame = int(1.0 * fps + 1e-6)
    page.keyboard.press("ArrowRight")
    wait_until(page, f"[...document.querySelectorAll('video')].every(v => Math.floor(v.currentTime * {fps} + 1e-6) === {frame + 1})")
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("ArrowLeft")
    wait_until(page, f"[...document.querySelectorAll('video')].every(v => Math.floor(v.currentTime * {fps} + 1e-6) === {frame - 1})")
    before = times(page)
    page.keyboard.press("Shift+ArrowRight")
    wait_until(page, f"[...document.querySelectorAll('video')].every((v, i) => Math.abs(v.currentTime - ({before[0]} + 1)) < 0.02)")
    page.keyboard.press("Shift+ArrowLeft")
    wait_until(page, f"[...document.querySelectorAll('video')].every(v => Math.abs(v.currentTime - {before[0]}) < 0.02)")
    page.keyboard.press("Home")
    wait_until(page, "[...document.querySelectorAll('video')].every(v => v.currentTime === 0)")
    # the transport repaints on the next animation frame: wait for it rather than race it
    wait_until(page, "document.querySelector('.transport[data-side=left] .tp-time').textContent.startsWith('00:00:00')")


def check_marks(page):
    seek_all(page, 0.5)
    page.keyboard.press("i")
    seek_all(page, 1.5)
    page.keyboard.press("o")
    rng = page.locator(".timeline-host[data-side=left] .tl-range")
    wait_until(page, "!document.querySelector('.timeline-host[data-side=left] .tl-range').hidden")
    assert rng.is_visible()
    assert "In 00:00:00" in rng.get_attribute("title")


def check_link(page):
    page.keyboard.press("u")
    assert page.locator("#link-state").inner_text() == "Unlinked"
    assert page.locator("#link-toggle").get_attribute("aria-pressed") == "false"
    page.keyboard.press("Space")  # only the active (left) side plays
    wait_until(page, "!document.querySelector('video[data-side=left]').paused")
    assert js(page, "document.querySelector('video[data-side=right]').paused")
    page.keyboard.press("k")
    page.keyboard.press("u")
    assert page.locator("#link-state").inner_text() == "Linked"


def check_note(page):
    seek_all(page, 1.25)
    page.keyboard.press("n")
    assert js(page, "document.getElementById('note-dialog').open")
    assert js(page, "document.activeElement.id") == "note-text"
    page.keyboard.type("The rail melts into the wall here")
    page.keyboard.press("Enter")
    assert not js(page, "document.getElementById('note-dialog').open")
    assert page.locator("#notes-list .note").count() >= 1
    assert page.locator(".timeline-host .tl-marker").count() >= 1


def answer_pair(page, choice, strength, confidence, rationale):
    """Criteria, overall choice, confidence and rationale by keyboard, then wait for the playback
    and time rules."""
    answer_criteria(page)
    for key in (choice, strength, "v", confidence, "r"):
        page.keyboard.press(key)
    page.keyboard.type(rationale)
    page.keyboard.press("Escape")
    for rule in ("playback-left", "playback-right", "timing"):
        rule_ok(page, rule).wait_for(timeout=20000)


def start_with_a_note(page, base, email, project, text):
    """Open the project's next item, play a moment, pin a point note on the active side."""
    sign_in(page, base, email, "demo-rater-pass")
    start_rating(page, base, project)
    wait_until(page, MEDIA_READY)
    page.keyboard.press("Space")
    page.wait_for_timeout(700)
    page.keyboard.press("n")  # a point note: playback pauses while it is typed
    assert all(paused(page))
    page.keyboard.type(text)
    page.keyboard.press("Enter")


def active_group(page):
    return js(page, "(() => { const g = document.querySelector('[data-group].active');"
                    " return {key: g.dataset.group, choice: g.dataset.choice, strength: g.dataset.strength}; })()")


def checked(page, name):
    return js(page, f"(document.querySelector('input[name=\"{name}\"]:checked') || {{}}).value || null")


def go_to(page, key):
    for _ in range(10):
        if active_group(page)["key"] == key:
            return
        page.keyboard.press("[")
    raise AssertionError(f"[ never reached group {key}")


def check_choice(page):
    """Z / X / C and 1 2 3 answer the active group; a complete answer moves to the next group; a
    strength key does nothing while Tie is chosen; [ and ] move between the groups."""
    focus_body(page)
    groups = page.locator("[data-group]").count()
    first = active_group(page)
    page.keyboard.press("z")
    assert checked(page, first["choice"]) == "left"
    page.keyboard.press("c")
    assert checked(page, first["choice"]) == "right"
    page.keyboard.press("1")
    assert checked(page, first["strength"]) == "1"
    if groups > 1:
        second = active_group(page)
        assert second["key"] != first["key"], "a complete answer moves to the next group"
        page.keyboard.press("x")
        assert checked(page, second["choice"]) == "tie"
        go_to(page, second["key"])
        page.keyboard.press("2")  # a strength key while Tie is chosen does nothing
        assert checked(page, second["strength"]) is None
        page.keyboard.press("]")
        assert active_group(page)["key"] != second["key"]
        go_to(page, first["key"])
    page.keyboard.press("2")
    assert checked(page, first["strength"]) == "2"
    go_to(page, first["key"])
    page.keyboard.press("3")
    assert checked(page, first["strength"]) == "3"
    if groups == 1:
        page.keyboard.press("x")
        page.keyboard.press("1")  # a strength key while Tie is chosen does nothing
        assert checked(page, first["choice"]) == "tie" and checked(page, first["strength"]) == "3"


def check_confidence(page):
    focus_body(page)
    page.keyboard.press("v")
    assert js(page, "document.activeElement.matches('fieldset.confidence')")
    page.keyboard.press("4")
    assert page.locator("input[name=confidence][value='4']").is_checked()
    page.keyboard.press("Escape")


def check_rationale(page):
    focus_body(page)
    page.keyboard.press("r")
    assert js(page, "document.activeElement.name") == "rationale"
    page.keyboard.type("zx")  # typing is text, not shortcuts
    assert page.locator("textarea[name=rationale]").input_value().endswith("zx")
    page.keyboard.press("Escape")
    assert js(page, "document.activeElement.name") != "rationale"
    page.fill("textarea[name=rationale]", "")


def check_submit(page):
    focus_body(page)
    url = page.url
    page.keyboard.press("Control+Enter")  # the rules are not met: the page stays, the checklist says why
    assert page.url == url
    assert js(page, "document.activeElement.classList.contains('rule-checklist')")


def check_dialog(page, key, dialog_id, focus_inside=True):
    opener = page.locator(".rate-tools button").first
    opener.focus()
    js(page, "document.activeElement.blur()")
    focus_body(page)
    page.keyboard.press(key)
    assert js(page, f"document.getElementById('{dialog_id}').open")
    if focus_inside:
        assert js(page, f"document.getElementById('{dialog_id}').contains(document.activeElement)")
    assert js(page, "document.querySelectorAll('dialog[open]').length") == 1
    page.keyboard.press("s")  # another dialog's key does nothing while one is open
    page.keyboard.press("g")
    assert js(page, "document.querySelectorAll('dialog[open]').length") == 1
    page.keyboard.press("Escape")
    assert not js(page, f"document.getElementById('{dialog_id}').open")


def check_scores(page):
    focus_body(page)
    groups = page.locator("[data-group]")
    first = groups.nth(0).get_attribute("data-criterion")
    second = groups.nth(1).get_attribute("data-criterion")
    page.keyboard.press("4")
    assert page.locator(f"input[name='score-{first}'][value='4']").is_checked()
    page.keyboard.press("]")
    page.keyboard.press("2")
    assert page.locator(f"input[name='score-{second}'][value='2']").is_checked()
    page.keyboard.press("[")
    page.keyboard.press("5")
    assert page.locator(f"input[name='score-{first}'][value='5']").is_checked()


def check_script_note(page):
    pre = page.locator("pre.script").first
    line = pre.locator(".line[data-line='3']")
    line.evaluate("""el => { const r = document.createRange(); r.selectNodeContents(el);
                             const s = getSelection(); s.removeAllRanges(); s.addRange(r); }""")
    focus_body(page)
    line.evaluate("""el => { const r = document.createRange(); r.selectNodeContents(el);
                             const s = getSelection(); s.removeAllRanges(); s.addRange(r); }""")
    page.keyboard.press("n")
    assert js(page, "document.getElementById('note-dialog').open")
    assert "line 3" in page.locator("#note-dialog .note-anchor").inner_text()
    page.keyboard.type("The stage direction gives away the ending")
    page.keyboard.press("Enter")
    assert line.get_attribute("class") == "line noted"
    notes = json.loads(page.locator("input[name=notes_json]").input_value())
    assert notes[-1]["line_in"] == 3 and notes[-1]["line_out"] == 3 and notes[-1]["char_in"] == 0
    assert notes[-1]["quote"] and notes[-1]["text"] == "The stage direction gives away the ending"


VIDEO_CHECKS = {
    "playPause": check_transport, "shuttleForward": check_transport, "shuttleBack": check_transport,
    "stop": check_transport, "slowForward": check_transport, "slowBack": check_transport,
    "frameBack": check_transport, "frameForward": check_transport, "secondBack": check_transport,
    "secondForward": check_transport, "toStart": check_transport,
    "markIn": check_marks, "markOut": check_marks, "toggleLink": check_link,
    "newNote": check_note, "saveNote": check_note,
    "chooseLeft": check_choice, "chooseTie": check_choice, "chooseRight": check_choice,
    "strength1": check_choice, "strength2": check_choice, "strength3": check_choice,
    "prevGroup": check_choice, "nextGroup": check_choice,
    "confidence": check_confidence, "rationale": check_rationale, "submit": check_submit,
    "skip": lambda page: check_dialog(page, "s", "skip-dialog"),
    "instructions": lambda page: check_dialog(page, "g", "instructions"),
    "overlay": lambda page: check_dialog(page, "?", "shortcuts"),
    "escape": lambda page: check_dialog(page, "?", "shortcuts"),
}
SCRIPT_RUBRIC_CHECKS = {
    "score": check_scores, "prevGroup": check_scores, "nextGroup": check_scores,
    "newNote": check_script_note, "saveNote": check_script_note,
    "confidence": check_confidence, "rationale": check_rationale, "submit": check_submit,
    "skip": VIDEO_CHECKS["skip"], "instructions": VIDEO_CHECKS["instructions"],
    "overlay": VIDEO_CHECKS["overlay"], "escape": VIDEO_CHECKS["escape"],
}


def drive(page, checks):
    actions = overlay_actions(page)
    missing = [a for a in actions if a not in checks]
    assert not missing, f"overlay rows without a browser check: {missing}"
    done = set()
    for action in actions:
        check = checks[action]
        if check in done:
            continue
        check(page)
        done.add(check)
    assert page.console_errors == []
    return actions


def test_every_key_in_the_overlay_does_what_it_says_on_a_video_pair(page, live_server):
    sign_in(page, live_server, "editor@dailies.example", "demo-rater-pass")
    start_rating(page, live_server, "Neon alley chase")
    wait_until(page, MEDIA_READY)
    actions = drive(page, VIDEO_CHECKS)
    assert {"playPause", "shuttleBack", "frameForward", "markIn", "newNote", "chooseTie", "strength3"} <= set(actions)
    page.keyboard.press("?")
    screenshot(page, "rate-video-overlay")


def test_every_key_in_the_overlay_does_what_it_says_on_a_rubric_script(page, live_server):
    sign_in(page, live_server, "writer@dailies.example", "demo-rater-pass")
    start_rating(page, live_server, "Short scene scripts")
    actions = drive(page, SCRIPT_RUBRIC_CHECKS)
    assert "playPause" not in actions and "score" in actions


def test_space_and_enter_on_a_focused_button_press_it_and_dialogs_return_focus(page, live_server):
    sign_in(page, live_server, "editor@dailies.example", "demo-rater-pass")
    start_rating(page, live_server, "Neon alley chase")
    wait_until(page, MEDIA_READY)
    keys = page.locator(".rate-tools button", has_text="Keys")
    keys.focus()
    page.keyboard.press("Space")  # the button, not play/pause
    assert js(page, "document.getElementById('shortcuts').open")
    assert all(paused(page))
    page.keyboard.press("Escape")
    assert js(page, "document.activeElement.textContent").startswith("Keys")
    page.keyboard.press("Enter")
    assert js(page, "document.getElementById('shortcuts').open")
    page.keyboard.press("Escape")
    # closed and reopened within one task: the late 'close' event of the first must not shut the second
    assert js(page, """(async () => {
      const d = document.getElementById('shortcuts'), keys = [...document.querySelectorAll('.rate-tools button')].find(b => b.textContent.startsWith('Keys'));
      keys.click(); d.dispatchEvent(new Event('cancel', {cancelable: true})); keys.click();  // Esc, then Enter
      await new Promise(r => setTimeout(r, 100));
      return d.open; })()""")
    page.keyboard.press("Escape")
    page.locator("button[data-open='#skip-dialog']").focus()
    page.keyboard.press("Enter")
    assert js(page, "document.activeElement.name") == "reason"
    page.keyboard.press("Escape")
    assert js(page, "document.activeElement.dataset.open") == "#skip-dialog"
    page.locator(".transport[data-side=right] .tp-play").focus()
    page.keyboard.press("Space")  # the right side's Play button (linked: both play)
    wait_until(page, "[...document.querySelectorAll('video')].every(v => !v.paused)")
    # the transport repaints on the next animation frame, which may come after both play events
    wait_until(page, "document.querySelector('figure[data-side=right]').classList.contains('active-side')"
                     " && !document.querySelector('figure[data-side=left]').classList.contains('active-side')")
    assert page.console_errors == []


def test_notes_by_keyboard_show_as_markers_and_jump_both_players(page, live_server):
    start_with_a_note(page, live_server, "editor@dailies.example", "Neon alley chase",
                      "Left: the runner's arm smears into the wall")
    page.keyboard.press("Home")
    seek_all(page, 2.0)
    page.locator(".transport[data-side=right] .tp-play").focus()  # the right side becomes active
    js(page, "document.activeElement.blur()")
    page.keyboard.press("i")
    page.keyboard.press("Shift+ArrowRight")
    page.keyboard.press("o")
    page.keyboard.press("n")
    assert "Right 00:00:02" in page.locator("#note-dialog .note-anchor").inner_text()
    page.keyboard.type("Right: the puddle highlights flicker across the whole range")
    page.keyboard.press("Enter")
    notes = json.loads(page.locator("input[name=notes_json]").input_value())
    assert [n["side"] for n in notes] == ["left", "right"]
    assert notes[0]["t_out"] is None and 0.3 < notes[0]["t_in"] < 3.5
    assert abs(notes[1]["t_in"] - 2.0) < 0.05 and abs(notes[1]["t_out"] - 3.0) < 0.05
    assert page.locator(".timeline-host[data-side=left] .tl-marker").count() == 1
    assert page.locator(".timeline-host[data-side=right] .tl-marker.ranged").count() == 1
    page.keyboard.press("Home")
    page.locator(".timeline-host[data-side=right] .tl-marker").click()  # a marker seeks both players
    wait_until(page, "[...document.querySelectorAll('video')].every(v => Math.abs(v.currentTime - 2.0) < 0.05)")
    page.keyboard.press("Home")
    page.locator("#notes-list .note-seek").first.click()  # so does the list
    t0 = notes[0]["t_in"]
    wait_until(page, f"[...document.querySelectorAll('video')].every(v => Math.abs(v.currentTime - {t0}) < 0.05)")
    assert page.locator("#notes-list .note").first.get_attribute("class") == "note selected"
    screenshot(page, "rate-video-notes-1440")
    # rate the rest by keyboard and submit with the notes
    focus_body(page)  # Space on the focused note button would press it
    page.keyboard.press("Home")
    page.keyboard.press("Space")
    answer_pair(page, "z", "2", "4", RATIONALE)
    page.keyboard.press("Control+Enter")
    page.wait_for_selector(".flash-success")
    # the server kept the notes and the per-criterion choices: the way back shows them again
    page.locator(".previous-link").click()
    kept = page.locator("#notes-list .note-where").all_inner_texts()
    assert len(kept) == 2 and re.match(r"1\. Left 00:00:0\d:\d\d$", kept[0]), kept
    assert kept[1] == "2. Right 00:00:02:00–00:00:03:00", kept
    assert page.locator("[data-group][data-criterion] input[type=radio][value=left]:checked").count() >= 1
    screenshot(page, "rate-video-revise-notes")
    assert page.console_errors == []


def test_the_longer_take_plays_on_to_its_end(page, live_server):
    sign_in(page, live_server, "sound@dailies.example", "demo-rater-pass")
    start_rating(page, live_server, "Narration takes")
    wait_until(page, MEDIA_READY)
    durations = js(page, "[...document.querySelectorAll('audio[data-side]')].map(a => a.duration)")
    assert abs(durations[0] - durations[1]) > 0.1, durations  # the demo's takes differ in length
    page.keyboard.press("Space")
    wait_until(page, "[...document.querySelectorAll('audio[data-side]')].every(a => a.ended)", timeout_s=20)
    ends = js(page, "[...document.querySelectorAll('audio[data-side]')].map(a => a.currentTime)")
    assert all(abs(e - d) < 0.05 for e, d in zip(ends, durations)), (ends, durations)
    # the solo toggle mutes the other side; volume is per side
    page.locator(".transport[data-side=left] .tp-solo").click()
    assert js(page, "[...document.querySelectorAll('audio[data-side]')].map(a => a.muted)") == [False, True]
    page.locator(".transport[data-side=left] .tp-volume").fill("0.5")
    assert js(page, "document.querySelector('audio[data-side=left]').volume") == 0.5
    assert js(page, "[...document.querySelectorAll('audio')].every(a => a.tabIndex === -1 && a.getAttribute('aria-hidden') === 'true')")
    assert page.console_errors == []


def test_rating_audio_keyboard_only_with_notes(page, live_server):
    start_with_a_note(page, live_server, "sound@dailies.example", "Narration takes",
                      "The breath before the last word is cut short")
    assert page.locator(".timeline-host[data-side=left] .tl-marker").count() == 1
    page.keyboard.press("Home")
    page.keyboard.press("Space")
    answer_pair(page, "c", "2", "3", "The right take gives the last word its air and keeps the room tone under the voice")
    screenshot(page, "rate-audio-notes-1440")
    page.keyboard.press("Control+Enter")
    page.wait_for_selector(".flash-success")
    assert page.console_errors == []


def test_rating_a_script_keyboard_only_with_a_line_note(page, live_server):
    sign_in(page, live_server, "writer@dailies.example", "demo-rater-pass")
    start_rating(page, live_server, "Short scene scripts")
    check_script_note(page)
    page.locator("#notes-list .note-seek").first.click()  # jumps to the line
    score_script(page)
    page.keyboard.press("Escape")
    rule_ok(page, "scores").wait_for()
    rule_ok(page, "timing").wait_for(timeout=45000)
    page.keyboard.press("Control+Enter")
    page.wait_for_selector(".flash-success")
    assert page.console_errors == []


def test_a_reload_right_after_typing_shows_the_newest_answer(page, live_server):
    sign_in(page, live_server, "sound@dailies.example", "demo-rater-pass")
    start_rating(page, live_server, "Narration takes")
    page.keyboard.press("x")
    page.keyboard.press("r")
    page.keyboard.type("First thought about the room tone")
    wait_until(page, "document.getElementById('draft-status').textContent.startsWith('Draft saved')")
    page.keyboard.type(" and then a second one")  # no pause for the autosave: reload at once
    page.reload()
    assert page.locator("textarea[name=rationale]").input_value() == "First thought about the room tone and then a second one"
    assert page.locator("input[name=choice][value=tie]").is_checked()
    # a local copy older than the server's loses
    key = js(page, "Object.keys(localStorage).find(k => k.startsWith('dailies:draft:'))")
    js(page, f"localStorage.setItem({json.dumps(key)}, JSON.stringify({{saved_at: 1, answer: {{rationale: 'stale'}}}}))")
    page.reload()
    assert page.locator("textarea[name=rationale]").input_value() == "First thought about the room tone and then a second one"


def test_the_queue_line_and_the_way_back_to_the_previous_judgment(page, live_server):
    sign_in(page, live_server, "writer@dailies.example", "demo-rater-pass")
    start_rating(page, live_server, "Short scene scripts")
    line = page.locator("#queue-line")
    today = int(line.locator("[data-count=today]").inner_text())
    left = int(line.locator("[data-count=left]").inner_text())
    assert page.locator(".previous-link").count() == 0
    score_script(page)
    page.keyboard.press("Escape")
    rule_ok(page, "timing").wait_for(timeout=45000)
    first = page.url
    page.keyboard.press("Control+Enter")
    page.wait_for_selector(".flash-success")
    assert int(line.locator("[data-count=today]").inner_text()) == today + 1
    assert int(line.locator("[data-count=left]").inner_text()) == left - 1
    page.locator(".previous-link").click()
    assert page.url == first
    assert "revising" in page.locator(".flash-info").first.inner_text()


def _fits(page):
    """Submit and the first player (or script) are inside the viewport, without scrolling."""
    return js(page, """(() => {
      const inView = (el) => { const r = el.getBoundingClientRect();
        return r.top >= 0 && r.left >= 0 && r.bottom <= innerHeight && r.right <= innerWidth && r.height > 0; };
      const player = document.querySelector('.output');
      const p = player.getBoundingClientRect();
      return { submit: inView(document.querySelector('#judgment-form button[type=submit]')),
               form: inView(document.querySelector('#judgment-form legend, #judgment-form .field')),
               player: p.top < innerHeight && p.height >= 120, scrollY: scrollY,
               wide: document.documentElement.scrollWidth <= innerWidth };
    })()""")


def test_the_page_fits_every_screen_for_every_modality(page, live_server):
    cases = [("editor@dailies.example", "Neon alley chase", "video"),
             ("sound@dailies.example", "Narration takes", "audio"),
             ("writer@dailies.example", "Short scene scripts", "script")]
    for email, project, modality in cases:
        page.set_viewport_size({"width": 1440, "height": 900})
        sign_in(page, live_server, email, "demo-rater-pass")
        start_rating(page, live_server, project)
        if modality != "script":
            wait_until(page, MEDIA_READY)
        for size, (w, h) in SIZES.items():
            page.set_viewport_size({"width": w, "height": h})
            page.wait_for_timeout(150)
            fit = _fits(page)
            assert fit["wide"], (modality, size, "scrolls sideways")
            if size != "390":
                assert fit["submit"] and fit["form"] and fit["player"], (modality, size, fit)
            page.screenshot(path=str(_shot(f"desk-{modality}-{size}")), full_page=False)
            if size == "390":
                screenshot(page, f"desk-{modality}-{size}-full")
        page.context.clear_cookies()
    assert page.console_errors == []


def _shot(name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    return SHOTS / f"{name}.png"


TAKES = ["The left take keeps the neon reflections steady through the push while the right one smears the "
         "puddle highlights and loses the runner at frame forty",
         "Here the right camera move lands on the beat and the motion blur reads as speed; the left one judders "
         "on the pan and its grade crushes the shadows",
         "Left holds the rain streaks in focus across the cut and the runner's silhouette stays readable; right "
         "flickers at the alley mouth and its sodium glow bands"]
# Timing, in every document: Ctrl+Enter's keydown stamps the submit (on the clock shared by
# documents, timeOrigin + now, kept in sessionStorage across a navigation); the next item is
# playable when every player of a rating page for ANOTHER assignment (or of the static reference
# page) reaches readyState >= 3 — checked on media events and when desk.js shows a page in place.
PLAYABLE_PROBE = """
(() => {
  const clock = () => performance.timeOrigin + performance.now();
  const shownAssignment = () => { const f = document.getElementById('judgment-form'); return f ? f.dataset.assignmentId : null; };
  const check = () => {
    const media = [...document.querySelectorAll('video[data-side], audio[data-side]')];
    const from = sessionStorage.getItem('desk.from');
    if (from && shownAssignment() === from) return;
    if (media.length && !window.__playableAt && media.every(m => m.readyState >= 3)) {
      window.__playableAt = performance.now();
      window.__playableClock = clock();
    }
  };
  document.addEventListener('keydown', (e) => {
    if (e.key !== 'Enter' || !(e.ctrlKey || e.metaKey)) return;
    sessionStorage.setItem('desk.submitAt', String(clock()));
    sessionStorage.setItem('desk.from', shownAssignment() || '');
    window.__playableAt = 0;
    window.__playableClock = 0;
  }, true);
  document.addEventListener('canplay', check, true);
  document.addEventListener('canplaythrough', check, true);
  document.addEventListener('DOMContentLoaded', check);
  document.addEventListener('dailies:shown', check);
})();
"""


STATIC_REFERENCE = """<!doctype html><html><head><meta charset="utf-8"><title>reference</title></head><body>
{players}</body></html>"""


def static_reference_ms(page, live_server, sources: list[str], runs: int = 3) -> list[float]:
    """A static page holding the same players and media as the rating page, served by the browser
    harness itself (no server work for the page), timed from navigation to every player playable."""
    url = f"{live_server}/static-reference.html"
    players = "".join(f'<video data-side="s{i}" src="{src}" preload="auto" playsinline></video>\n'
                      for i, src in enumerate(sources))
    page.route(url, lambda route: route.fulfill(status=200, content_type="text/html",
                                                body=STATIC_REFERENCE.format(players=players)))
    out = []
    for _ in range(runs):
        page.goto(url)
        wait_until(page, "window.__playableAt > 0", timeout_s=20)
        out.append(js(page, "window.__playableAt"))
    page.unroute(url)
    return out


MORE_TAKES = TAKES + [
    "Colour drift on the left stays gentle across the whole shot whereas the right grade pulses and the magenta sign clips badly",
    "Right keeps the puddle reflections coherent when the camera pushes in; left warps the brick texture near the doorway edge",
    "The left version holds a locked frame as asked, but the right one wobbles slightly and adds an unwanted cut at two seconds",
    "Cyan spill looks natural in the right clip; the left clip blooms so much that the fire escape disappears into haze",
    "Motion on the left is smooth with believable rain timing while on the right droplets freeze mid air for several frames",
    "Right has crisper signage lettering and steadier exposure, the left frame breathes in brightness which distracts from the alley",
]


MODES = {
    "in_place": "form posted with fetch, the next item shown in place with its media preloaded by the lookahead",
    "in_place_no_lookahead": "the same, the lookahead answering nothing (as when it guesses wrong): media load after the swap",
    "plain_post": "the plain form post and navigation (window.DAILIES_PLAIN_SUBMIT set)",
}


def test_next_item_timing_and_static_revalidations(app, page, live_server):
    """Submit → the next item's media playable, three ways (in place with the lookahead, in place
    without it, the plain post), against a static page with the same media becoming playable in
    the same run; and how many static files the browser asks the server for (again) when it
    moves to the next item."""
    with app.app_context():  # nine items to move through: more pairs of the demo's clips for the editor
        install_demo_media(app)
        project = db.session.scalar(select(Project).where(Project.name.startswith("Neon alley chase")))
        clips = [n for n in range(1, 13) if n != 9]  # alley-009-b's consent is revoked in the demo
        import_rows(db.session, app, project, *[video_row(f"timing-{i}", f"alley-{clips[i]:03d}-a.mp4",
                                                          f"alley-{clips[(i + 4) % 11]:03d}-b.mp4") for i in range(9)])
    page.context.add_init_script(PLAYABLE_PROBE)
    static_hits = []
    server_ms = []

    def count(sender, **extra):
        request.environ["desk.t0"] = time.perf_counter()
        if request.path.startswith("/static/"):
            static_hits.append((request.full_path, request.headers.get("If-None-Match")))

    def finished(sender, response, **extra):
        if not request.path.startswith(("/static/", "/media/")):
            server_ms.append((request.method, request.path, round((time.perf_counter() - request.environ["desk.t0"]) * 1000)))
    request_started.connect(count, app)
    request_finished.connect(finished, app)
    sign_in(page, live_server, "editor@dailies.example", "demo-rater-pass")
    start_rating(page, live_server, "Neon alley chase")
    js(page, "window.__sameDocument = true")
    results = {mode: {"submit_to_next_playable_ms": [], "static_revalidations_per_item": [], "phases_ms": []}
               for mode in MODES}
    n = 0
    for mode in MODES:
        if mode == "in_place_no_lookahead":
            page.route("**/upcoming", lambda route: route.fulfill(status=200, content_type="application/json",
                                                                  body='{"media": []}'))
        if mode == "plain_post":
            page.unroute("**/upcoming")
            page.add_init_script("window.DAILIES_PLAIN_SUBMIT = true;")
            page.reload()
        for _ in range(3):
            out = results[mode]
            wait_until(page, MEDIA_READY)
            page.keyboard.press("Space")
            answer_pair(page, "z", "2", "4", MORE_TAKES[n])
            wait_until(page, "[...document.querySelectorAll('video[data-side]')].every(m => m.ended || m.paused)")
            if mode == "in_place":  # a rater spends seconds on an item: the lookahead has long finished
                wait_until(page, "(() => { const b = document.getElementById('preload'); return b && "
                                 "[...b.shadowRoot.children].length === 2 && [...b.shadowRoot.children].every(m => m.readyState >= 3); })()")
            n += 1
            before = js(page, "document.getElementById('judgment-form').dataset.assignmentId")
            static_hits.clear()
            server_ms.clear()
            if mode == "plain_post":
                with page.expect_navigation():
                    page.keyboard.press("Control+Enter")
            else:
                page.keyboard.press("Control+Enter")
            wait_until(page, "window.__playableAt > 0 || Boolean(document.getElementById('refusal'))", timeout_s=20)
            assert page.locator("#refusal").count() == 0, page.locator("#refusal, .field-error").all_inner_texts()
            page.wait_for_selector(".flash-success")
            assert js(page, "document.getElementById('judgment-form').dataset.assignmentId") != before
            same_document = js(page, "window.__sameDocument === true")
            assert same_document == (mode != "plain_post"), mode  # in place: no navigation happened
            out["submit_to_next_playable_ms"].append(
                round(js(page, "window.__playableClock - Number(sessionStorage.getItem('desk.submitAt'))"), 1))
            phase = {"server": [t for t in server_ms if t[1].startswith(("/assignments/", "/projects/"))]}
            if mode == "plain_post":
                phase.update(js(page, """(() => { const n = performance.getEntriesByType('navigation')[0];
                  return {submitted: Math.round(n.redirectEnd), document: Math.round(n.responseEnd),
                          dom_ready: Math.round(n.domContentLoadedEventEnd), playable: Math.round(window.__playableAt)}; })()"""))
            out["phases_ms"].append(phase)
            out["static_revalidations_per_item"].append(len(static_hits))
    request_started.disconnect(count, app)
    request_finished.disconnect(finished, app)
    sources = js(page, "[...document.querySelectorAll('video[data-side]')].map(v => v.currentSrc)")
    reference = static_reference_ms(page, live_server, sources)
    median = lambda xs: sorted(xs)[len(xs) // 2]  # noqa: E731
    for mode, out in results.items():
        out["how"] = MODES[mode]
        out["ratio_median"] = round(median(out["submit_to_next_playable_ms"]) / median(reference), 2)
    report = {"ratio_median": results["in_place"]["ratio_median"], "modes": results,
              "static_page_same_media_playable_ms": reference,
              "how": "Chromium, live test server (werkzeug, SQLite); submit→next item: from the Ctrl+Enter keydown "
                     "(timeOrigin + performance.now(), carried across a navigation in sessionStorage) to every "
                     "player of the next item at readyState ≥ 3, 3 items per mode in one run; reference: a static "
                     "HTML page with the same two players and media (served by the browser harness, media by the "
                     "app), timed from navigation to the same event (median of 3); static requests: requests for "
                     "/static/ that reached the server while moving to the next item (Flask request_started)",
              "load_average": os.getloadavg()}
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "desk_timing.json").write_text(json.dumps(report, indent=2))
    print("\ndesk timing:", json.dumps(report))
    for mode, out in results.items():
        assert out["static_revalidations_per_item"] == [0, 0, 0], (mode, out)
    assert len(sources) == 2 and all("/media/" in src for src in sources), sources
    assert all(t > 0 for t in reference) and all(t > 0 for out in results.values() for t in out["submit_to_next_playable_ms"])
    assert page.console_errors == []
