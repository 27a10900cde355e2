"""Raters at work in Chromium: the three kinds of task done with the keyboard alone, refusals
shown beside their fields with the draft kept, and a reload resuming the draft."""
import re

import pytest

from tests.e2e.conftest import screenshot, sign_in, wait_until

RATIONALE = ("The left take holds the neon reflections steady through the whole push while the right "
             "one smears the puddle highlights and loses the runner at frame forty")


def start_rating(page, base, project_name):
    page.goto(f"{base}/")
    card = page.locator(".rater-card", has_text=project_name)
    card.locator("button[type=submit]").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/assignments/\d+$"))


def answer_criteria(page, picks=(("z", "2"), ("c", "1"), ("x",))):
    """Answer each per-criterion group by keyboard (a complete answer moves to the next group),
    leaving the Overall group active."""
    for n in range(page.locator("[data-group][data-criterion]").count()):
        for key in picks[n % len(picks)]:
            page.keyboard.press(key)


SCRIPT_RATIONALE = ("The scene keeps its geography clear but the dialogue states every feeling outright "
                    "and the final beat lands only because the lift doors close on cue")


def score_script(page):
    """Score the three criteria of the demo's script rubric, set confidence and write the rationale."""
    for key in ("4", "]", "3", "]", "5", "v", "3", "r"):  # score, next criterion, score, …
        page.keyboard.press(key)
    page.keyboard.type(SCRIPT_RATIONALE)


def rule_ok(page, rule):
    return page.locator(f'[data-rule="{rule}"].ok')


def test_pairwise_video_with_the_keyboard_alone(page, live_server):
    sign_in(page, live_server, "editor@dailies.example", "demo-rater-pass")
    start_rating(page, live_server, "Neon alley chase")
    wait_until(page, "document.querySelectorAll('video[data-side]').length === 2 && "
                           "[...document.querySelectorAll('video')].every(v => v.readyState >= 2)")
    assert page.locator("#judgment-form button[type=submit]").is_disabled()
    page.keyboard.press("Space")  # both players start together
    wait_until(page, "[...document.querySelectorAll('video')].every(v => !v.paused)")
    answer_criteria(page)
    page.keyboard.press("z")
    page.keyboard.press("2")
    page.keyboard.press("v")
    page.keyboard.press("4")
    page.keyboard.press("r")
    page.keyboard.type(RATIONALE)
    screenshot(page, "rate-video-1440")
    rule_ok(page, "playback-left").wait_for(timeout=15000)
    rule_ok(page, "playback-right").wait_for(timeout=15000)
    rule_ok(page, "timing").wait_for(timeout=15000)
    assert page.locator("input[name=choice][value=left]").is_checked()
    assert page.locator("input[name=strength][value='2']").is_checked()
    page.keyboard.press("Control+Enter")
    page.wait_for_selector(".flash-success")
    assert "Judgment saved." in page.locator(".flash-success").inner_text()
    assert page.console_errors == []


def test_rubric_script_with_the_keyboard_alone(page, live_server):
    sign_in(page, live_server, "writer@dailies.example", "demo-rater-pass")
    start_rating(page, live_server, "Short scene scripts")
    assert page.locator("pre.script").count() == 1
    score_script(page)
    screenshot(page, "rate-script-1440")
    page.set_viewport_size({"width": 1024, "height": 768})
    screenshot(page, "rate-script-1024")
    rule_ok(page, "scores").wait_for()
    rule_ok(page, "timing").wait_for(timeout=45000)  # reading time: 0.8 × words at 4 words a second
    page.keyboard.press("Escape")
    page.keyboard.press("Control+Enter")
    page.wait_for_selector(".flash-success")
    assert page.console_errors == []


def test_pairwise_audio_with_the_keyboard_alone(page, live_server):
    sign_in(page, live_server, "sound@dailies.example", "demo-rater-pass")
    start_rating(page, live_server, "Narration takes")
    page.wait_for_selector(".waveform[data-side=left] >> css=div", state="attached")
    wait_until(page, "[...document.querySelectorAll('audio[data-side]')].every(a => a.readyState >= 2)")
    page.keyboard.press("Space")
    page.keyboard.press("c")
    page.keyboard.press("1")
    page.keyboard.press("v")
    page.keyboard.press("5")
    page.keyboard.press("r")
    page.keyboard.type("On the right the narrator leaves real air before the last word and the hum stays under "
                       "the voice; the left one rushes and its reverb smears the ending")
    screenshot(page, "rate-audio-1440")
    rule_ok(page, "playback-left").wait_for(timeout=15000)
    rule_ok(page, "playback-right").wait_for(timeout=15000)
    rule_ok(page, "timing").wait_for(timeout=15000)
    page.keyboard.press("Control+Enter")
    page.wait_for_selector(".flash-success")
    assert page.console_errors == []


def test_refusals_are_shown_beside_the_fields_and_the_draft_is_kept(page, live_server):
    sign_in(page, live_server, "editor@dailies.example", "demo-rater-pass")
    start_rating(page, live_server, "Neon alley chase")
    answer_criteria(page)
    page.keyboard.press("z")
    page.keyboard.press("1")
    page.keyboard.press("v")
    page.keyboard.press("2")
    page.keyboard.press("r")
    page.keyboard.type("Too short to count")
    words = page.locator('[data-rule="words"] .rule-state')
    assert words.inner_text() == "4 of 12 words"
    page.keyboard.press("Control+Enter")  # the page refuses to send it
    assert "/assignments/" in page.url and page.locator("#refusal").count() == 0
    page.evaluate("document.getElementById('judgment-form').submit()")  # a client that ignores the rules
    page.wait_for_selector("#refusal")
    errors = page.locator(".field-error").all_inner_texts()
    assert any("words" in e for e in errors), errors
    assert any("after the task opened" in e for e in errors), errors  # too early: the media is 3.5 s
    assert page.locator("textarea[name=rationale]").input_value() == "Too short to count"
    assert page.locator("input[name=choice][value=left]").is_checked()
    screenshot(page, "rate-refused")
    page.reload()  # the refused answer is the draft: a reload resumes it
    assert page.locator("textarea[name=rationale]").input_value() == "Too short to count"
    assert page.locator("input[name=strength][value='1']").is_checked()


def test_a_page_claiming_playback_its_players_never_reported_is_refused(page, live_server):
    """The cheating rater in the browser: the answer is complete, the time has passed, the hidden
    playback field claims both clips were played — but the players never ran."""
    sign_in(page, live_server, "editor@dailies.example", "demo-rater-pass")
    start_rating(page, live_server, "Neon alley chase")
    answer_criteria(page)
    page.keyboard.press("c")
    page.keyboard.press("3")
    page.keyboard.press("v")
    page.keyboard.press("5")
    page.keyboard.press("r")
    page.keyboard.type(RATIONALE)
    rule_ok(page, "timing").wait_for(timeout=15000)
    page.evaluate("""() => {
      const form = document.getElementById('judgment-form');
      form.querySelector('input[name=playback]').value = JSON.stringify({left: 3.5, right: 3.5});
      form.submit();
    }""")
    page.wait_for_selector("#refusal")
    errors = " ".join(page.locator(".field-error").all_inner_texts())
    assert "the server observed 0.0 s" in errors, errors
    assert page.locator("textarea[name=rationale]").input_value() == RATIONALE
    assert page.locator("input[name=choice][value=right]").is_checked()
    assert "Left" in page.locator("figure[data-side=left] .side-label").inner_text()
    screenshot(page, "rate-playback-refused")


def test_a_reload_resumes_the_autosaved_draft(page, live_server):
    sign_in(page, live_server, "sound@dailies.example", "demo-rater-pass")
    start_rating(page, live_server, "Narration takes")
    url = page.url
    page.keyboard.press("x")
    page.keyboard.press("r")
    page.keyboard.type("Half a thought about the room tone")
    wait_until(page, "document.getElementById('draft-status').textContent.startsWith('Draft saved')")
    page.reload()
    assert page.url == url
    assert page.locator("textarea[name=rationale]").input_value() == "Half a thought about the room tone"
    assert page.locator("input[name=choice][value=tie]").is_checked()
    page.goto(f"{live_server}/")
    assert page.locator(".rater-card", has_text="Narration takes").locator("button", has_text="Resume").count() == 1
