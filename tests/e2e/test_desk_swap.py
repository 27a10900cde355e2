"""Moving to the next item without leaving the page (desk.js): the form posted with fetch, the
next item's page shown in place with its media preloaded from the lookahead; keyboard-only rating
through the swap, refusals and the last item falling back to what the server shows, a reload after
a swap, axe on the swapped page."""
from __future__ import annotations

import re
import time
from datetime import timedelta

from sqlalchemy import select

from database import db, utcnow
from raters.models import User
from tasks.catalogue.models import Item, Project
from tasks.rating import routing
from tasks.rating.models import Assignment
from tests.e2e.conftest import sign_in, wait_until
from tests.e2e.test_accessibility import AXE_TAGS, RUN_AXE
from tests.e2e.test_rating import start_rating
from tests.e2e.test_review_desk import MEDIA_READY, TAKES, answer_pair, js

PLAYERS = "[...document.querySelectorAll('video[data-side], audio[data-side]')]"
PRELOADED = ("(() => { const box = document.getElementById('preload'); "
             "return box ? [...box.shadowRoot.querySelectorAll('video, audio')] : []; })()")
FILLER = " ".join(["fine"] * 14)
PRELOAD_READY = f"{PRELOADED}.length === 2 && {PRELOADED}.every(m => m.readyState >= 3)"


def assignment_id(page) -> str:
    return js(page, "document.getElementById('judgment-form').dataset.assignmentId")


def mark_document(page) -> None:
    """A marker that survives only while the document does (no navigation), and the preloaded
    players tagged so the swapped page can be checked to use them."""
    js(page, f"window.__sameDocument = true; {PRELOADED}.forEach(m => {{ m.__preloaded = true; }})")


def posts(requests, path) -> int:
    return sum(1 for method, url in requests if method == "POST" and url.endswith(path))


def rate_first_item_and_move_on(page, live_server, email, project, answer, before_submit=None) -> tuple[str, list[str]]:
    """Sign in, open the project's first item, wait for its media and the lookahead's preloaded
    players, answer by keyboard (``answer``: answer_pair's choice, strength, confidence,
    rationale), submit with Ctrl+Enter and wait for the next item's form. Returns the first
    assignment's id and the paths the lookahead preloaded."""
    sign_in(page, live_server, email, "demo-rater-pass")
    start_rating(page, live_server, project)
    first = assignment_id(page)
    wait_until(page, MEDIA_READY)
    page.keyboard.press("Space")
    answer_pair(page, *answer)
    wait_until(page, PRELOAD_READY, timeout_s=20)  # started once the players had played a moment
    upcoming = sorted(js(page, f"{PRELOADED}.map(m => new URL(m.src).pathname)"))
    mark_document(page)
    if before_submit:
        before_submit()
    page.keyboard.press("Control+Enter")
    wait_until(page, "document.getElementById('judgment-form') && "
                     f"document.getElementById('judgment-form').dataset.assignmentId !== '{first}'")
    return first, upcoming


def test_keyboard_only_rating_through_the_swap(page, live_server):
    """Two items in a row by keyboard alone: the second is shown in place (same document) with
    the preloaded players; Space plays them, the old item's handlers stay silent, drafts go to
    the new assignment, Ctrl+Enter posts the new item once; a reload shows the new item."""
    requests, beats = [], []
    t0 = time.monotonic()
    page.on("request", lambda r: requests.append((r.method, r.url)))
    page.on("request", lambda r: "/progress" in r.url and beats.append((round(time.monotonic() - t0, 2), r.url.split("/")[-2], r.post_data)))
    first, upcoming = rate_first_item_and_move_on(
        page, live_server, "editor@dailies.example", "Neon alley chase", ("z", "2", "4", TAKES[0]),
        before_submit=lambda: js(page, "window.__oldForm = document.getElementById('judgment-form')"))
    second = assignment_id(page)
    assert js(page, "window.__sameDocument === true"), "the next item came with a navigation"
    assert page.url.endswith(f"/assignments/{second}")
    assert posts(requests, f"/assignments/{first}") == 1
    assert page.locator(".flash-success").first.inner_text().startswith("Judgment saved")
    assert js(page, "document.activeElement.tagName") == "H1"
    assert js(page, f"{PLAYERS}.length === 2 && {PLAYERS}.every(m => m.__preloaded)"), "players not the preloaded ones"
    assert sorted(js(page, f"{PLAYERS}.map(m => new URL(m.src).pathname)")) == upcoming
    assert js(page, f"{PLAYERS}.every(m => !m.muted && m.getAttribute('aria-label') && m.dataset.side)")
    assert js(page, "document.querySelectorAll('#judgment-form').length") == 1

    # Space plays the new item's players (the old deck is gone with its listeners)
    wait_until(page, MEDIA_READY)
    page.keyboard.press("Space")
    wait_until(page, f"{PLAYERS}.every(m => !m.paused)")
    # a choice key acts once, on the new item: the old form (detached) keeps its answer
    group = js(page, "document.querySelector('#judgment-form [data-group].active').dataset.choice")
    old_choice = js(page, f"window.__oldForm.querySelector('input[name=\"{group}\"]:checked').value")
    assert old_choice != "tie"
    page.keyboard.press("x")
    assert js(page, f"document.querySelector('#judgment-form input[name=\"{group}\"][value=tie]').checked")
    assert js(page, f"window.__oldForm.querySelector('input[name=\"{group}\"]:checked').value") == old_choice
    # drafts of the new item go to the new assignment
    requests.clear()
    page.keyboard.press("r")
    page.keyboard.type("A first thought on the second item")
    page.keyboard.press("Escape")
    wait_until(page, "document.getElementById('draft-status').textContent.startsWith('Draft saved')")
    assert posts(requests, f"/assignments/{second}/draft") >= 1
    assert posts(requests, f"/assignments/{first}/draft") == 0
    assert posts(requests, f"/assignments/{first}/progress") == 0
    # the second item submitted by Ctrl+Enter: one post, and a third item shown in place
    js(page, "document.getElementById('rationale').value = ''")
    answer_pair(page, "c", "1", "3", TAKES[1])
    requests.clear()
    page.keyboard.press("Control+Enter")
    wait_until(page, f"document.getElementById('judgment-form').dataset.assignmentId !== '{second}' || "
                     "Boolean(document.getElementById('refusal'))")
    assert page.locator("#refusal").count() == 0, (page.locator("#refusal, .field-error").all_inner_texts(), beats)
    assert posts(requests, f"/assignments/{second}") == 1
    assert js(page, "window.__sameDocument === true")
    third = assignment_id(page)
    # a reload shows the item the URL names
    page.reload()
    assert not js(page, "window.__sameDocument === true")
    assert assignment_id(page) == third and page.url.endswith(f"/assignments/{third}")
    assert page.console_errors == []


def test_a_refusal_falls_back_to_the_servers_page_with_its_messages(page, live_server):
    """A rationale the client's word count lets through and the server refuses (filler: one word
    repeated): the page falls back to the plain post, which shows the refusal beside the field."""
    sign_in(page, live_server, "editor@dailies.example", "demo-rater-pass")
    start_rating(page, live_server, "Neon alley chase")
    first = assignment_id(page)
    wait_until(page, MEDIA_READY)
    page.keyboard.press("Space")
    answer_pair(page, "z", "2", "4", FILLER)
    mark_document(page)
    with page.expect_navigation():
        page.keyboard.press("Control+Enter")
    assert not js(page, "window.__sameDocument === true")  # the server's refusal page, navigated to
    assert assignment_id(page) == first
    assert page.locator("#refusal").is_visible()
    assert "Filler" in page.locator("#rationale-error").inner_text()
    assert js(page, "document.getElementById('rationale').value") == FILLER


def _leave_two_items(app, email: str, project_prefix: str) -> None:
    """Every item of the project but the rater's first two candidates marked skipped by them, so
    the second submission finds nothing left."""
    with app.app_context():
        session = db.session
        rater = session.scalar(select(User).where(User.email == email))
        project = session.scalar(select(Project).where(Project.name.startswith(project_prefix)))
        keep = session.scalars(routing.candidates_query(project.id, rater.id).with_only_columns(Item.id).limit(2)).all()
        assert len(keep) == 2
        now = utcnow()
        for item_id in session.scalars(select(Item.id).where(Item.project_id == project.id, Item.id.not_in(keep))):
            session.add(Assignment(project_id=project.id, item_id=item_id, rater_id=rater.id, served_at=now,
                                   expires_at=now + timedelta(minutes=30), closed_at=now, left_label="a",
                                   status="skipped", skip_reason="set aside by the test"))
        session.commit()


def test_the_last_item_leads_to_the_queue_page_in_place_and_axe_passes_the_swapped_page(app, page, live_server):
    _leave_two_items(app, "editor@dailies.example", "Neon alley chase")
    rate_first_item_and_move_on(page, live_server, "editor@dailies.example", "Neon alley chase",
                                ("z", "2", "4", TAKES[0]))
    wait_until(page, MEDIA_READY)
    page.add_script_tag(url=f"{live_server}/static/vendor/axe/axe.min.js")
    found = page.evaluate(RUN_AXE, AXE_TAGS)
    assert found == [], found
    # nothing comes after this one: the lookahead names nothing, the queue page is shown in place
    second = assignment_id(page)
    assert js(page, f"fetch('/assignments/{second}/upcoming').then(r => r.json())") == {"media": []}
    page.keyboard.press("Space")
    answer_pair(page, "c", "1", "3", TAKES[1])
    page.keyboard.press("Control+Enter")
    wait_until(page, "!document.getElementById('judgment-form')")
    assert js(page, "window.__sameDocument === true")
    assert re.search(r"/$", page.url)
    flashes = page.locator(".flash").all_inner_texts()
    assert any("Judgment saved" in f for f in flashes) and any("Nothing more to rate" in f for f in flashes), flashes
    assert js(page, "document.activeElement.tagName") == "H1"
    assert js(page, "document.getElementById('preload') ? document.getElementById('preload').shadowRoot.children.length : 0") == 0
    found = page.evaluate(RUN_AXE, AXE_TAGS)
    assert found == [], found
    assert page.console_errors == []


def test_an_audio_pair_moves_on_in_place_with_its_waveforms(page, live_server):
    """Audio: the preloaded (hidden) audio elements become the next item's players, each drawn
    again as a waveform, and Space plays them."""
    rate_first_item_and_move_on(page, live_server, "sound@dailies.example", "Narration takes",
                                ("c", "2", "3", "The right take gives the last word its air and keeps the room tone under the voice"))
    assert js(page, "window.__sameDocument === true")
    assert js(page, f"{PLAYERS}.length === 2 && {PLAYERS}.every(m => m.__preloaded && m.tagName === 'AUDIO')")
    assert js(page, f"{PLAYERS}.every(m => m.classList.contains('visually-hidden') && m.tabIndex === -1 && m.getAttribute('aria-hidden') === 'true')")
    wait_until(page, "[...document.querySelectorAll('.waveform[data-side]')].every(b => b.wavesurfer && b.wavesurfer.getDuration() > 0)")
    wait_until(page, MEDIA_READY)
    page.keyboard.press("Space")
    wait_until(page, f"{PLAYERS}.every(m => !m.paused)")
    assert page.console_errors == []
