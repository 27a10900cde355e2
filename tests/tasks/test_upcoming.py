"""The rating page's lookahead (``GET /assignments/<id>/upcoming``, ``routing.upcoming_item``):
read-only, the same choice as the next pick, media URLs only; and a rater who preloads the next
item's media gains nothing — fetched media is not playback, and the next assignment's clock starts
when it is served."""
from __future__ import annotations

import re
import uuid
import pytest
from sqlalchemy import func, select

from database import db, utcnow
from raters.models import User
from tasks.catalogue.projects import set_members
from tasks.catalogue.models import Item, Project, ProjectMember
from tasks.rating import judging, routing
from tasks.rating.models import Assignment, Draft, Judgment, PlaybackObservation
from tests.conftest import Client
from tests.helpers import import_rows, install_demo_media, make_project, video_row
from tests.tasks.rating_factories import T0, after, answer, make_item, rating_project, wsession  # noqa: F401

TABLES = (Assignment, Judgment, Draft, PlaybackObservation)


def counts(session) -> dict:
    return {t.__tablename__: session.scalar(select(func.count()).select_from(t)) for t in TABLES}


def counters(session, project_id) -> dict:
    rows = session.execute(select(Item.id, *(getattr(Item, c) for c in routing.COUNTERS))
                           .where(Item.project_id == project_id)).all()
    return {row[0]: tuple(row[1:]) for row in rows}


def test_upcoming_is_the_item_the_next_pick_serves_and_writes_nothing(make_user, wsession):
    """Across regular and gold items (a gold draw), confidence order and a skip: before each
    close, the lookahead names exactly the item the following pick serves, never the current one,
    and leaves every row and counter as it was (equal to a recount)."""
    manager, rater = make_user("manager"), make_user("rater")
    project = rating_project(wsession, manager.id, members=[rater], gold_rate=0.3)
    for confidence in (0.5, None, 0.2, 0.8, 0.1, None, 0.3):
        make_item(wsession, project, confidence=confidence)
    for _ in range(3):
        make_item(wsession, project, gold={"choice": "a"})
    user = wsession.get(User, rater.id)
    assignment = routing.next_assignment(wsession, project, user, T0)
    wsession.commit()
    served = [assignment.item_id]
    while assignment is not None:
        before, stored = counts(wsession), counters(wsession, project.id)
        guess = routing.upcoming_item(wsession, project, user, assignment.served_at)
        wsession.rollback()  # nothing to roll back: the read left nothing pending
        assert counts(wsession) == before and counters(wsession, project.id) == stored
        assert stored == routing.recount(wsession, stored.keys())
        assert guess is None or guess.id != assignment.item_id
        if len(served) % 3 == 0:
            judging.skip_assignment(wsession, assignment, "the clip will not load", now=after(assignment, 1))
        else:
            judging.submit_judgment(wsession, assignment, answer(assignment), idempotency_key=f"k-{assignment.id}",
                                    now=after(assignment))
        wsession.commit()
        assignment = routing.next_assignment(wsession, project, user, after(assignment, 700))
        wsession.commit()
        assert (assignment.item_id if assignment else None) == (guess.id if guess else None)
        if assignment is not None:
            served.append(assignment.item_id)
    assert len(served) == 10  # every item, gold included, was foretold before it was served


def test_upcoming_names_nothing_for_a_paused_rater_or_when_nothing_is_left(make_user, wsession):
    manager, rater = make_user("manager"), make_user("rater")
    project = rating_project(wsession, manager.id, members=[rater])
    make_item(wsession, project)
    user = wsession.get(User, rater.id)
    assignment = routing.next_assignment(wsession, project, user, T0)
    wsession.commit()
    assert routing.upcoming_item(wsession, project, user, T0) is None  # the only item is the current one
    make_item(wsession, project)
    assert routing.upcoming_item(wsession, project, user, T0) is not None
    member = wsession.scalar(select(ProjectMember).where(ProjectMember.project_id == project.id,
                                                         ProjectMember.user_id == rater.id))
    member.status = "paused"
    wsession.commit()
    assert routing.upcoming_item(wsession, project, user, T0) is None
    assert assignment.status == "open"


# -- over HTTP, as the page calls it -------------------------------------------------------------

def _media_urls(session, item_id) -> list[str]:
    item = session.get(Item, item_id)
    return sorted(f"/media/{o.asset.public_id}" for o in item.outputs)


@pytest.fixture
def desk(app, session, make_user):
    """A video project with three items of the demo clips, and a member rater signed in."""
    install_demo_media(app)
    manager = make_user("manager")
    rater = make_user("rater")
    project = make_project(session, session.get(User, manager.id), members=[session.get(User, rater.id)],
                           min_rationale_words=5, min_media_fraction=0.8)
    import_rows(session, app, project, video_row("d-1"), video_row("d-2", "alley-002-a.mp4", "alley-002-b.mp4"),
                video_row("d-3", "alley-003-a.mp4", "alley-003-b.mp4"))
    return {"project": project.id, "rater": rater, "manager": manager}


def _start(client, project_id) -> int:
    response = client.post(f"/projects/{project_id}/next")
    assert response.status_code == 302, response.status_code
    return int(re.search(r"/assignments/(\d+)$", response.headers["Location"]).group(1))


def test_the_route_answers_the_next_items_media_and_writes_nothing(app, client, desk, session):
    client.login(desk["rater"].email)
    current = _start(client, desk["project"])
    before = counts(session), counters(session, desk["project"])
    response = client.get(f"/assignments/{current}/upcoming")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    media = response.json["media"]
    session.expire_all()
    assert (counts(session), counters(session, desk["project"])) == before
    stored = counters(session, desk["project"])
    assert stored == routing.recount(session, stored.keys())
    current_item = session.get(Assignment, current).item_id
    assert len(media) == 2 and media != _media_urls(session, current_item)
    assert set(response.json) == {"media"}  # URLs only: nothing about the item itself
    # single rater: what the lookahead named is what the next request serves
    skipped = client.post(f"/assignments/{current}/skip", data={"reason": "testing the lookahead"})
    following = int(re.search(r"/assignments/(\d+)$", skipped.headers["Location"]).group(1))
    session.expire_all()
    assert _media_urls(session, session.get(Assignment, following).item_id) == media


def test_another_raters_assignment_is_not_found_and_other_roles_are_refused(app, client, desk, session, make_user):
    client.login(desk["rater"].email)
    current = _start(client, desk["project"])
    other = make_user("rater")
    with app.app_context():  # a member of the same project: still not their assignment
        project = db.session.get(Project, desk["project"])
        set_members(db.session, project, [desk["rater"].id, other.id], db.session.get(User, desk["manager"].id))
        db.session.commit()
        assert project.has_member(db.session.get(User, other.id))
    second = Client(app.test_client())
    second.login(other.email)
    assert second.get(f"/assignments/{current}/upcoming").status_code == 404
    manager = Client(app.test_client())
    manager.login(desk["manager"].email)
    assert manager.get(f"/assignments/{current}/upcoming").status_code == 403


@pytest.mark.parametrize("raw", [str(2**31), str(2**63), "abc", "-1", "١٢"])
def test_bad_ids_are_not_found(client, desk, raw):
    client.login(desk["rater"].email)
    assert client.get(f"/assignments/{raw}/upcoming").status_code == 404


def test_a_script_project_gets_no_lookahead(app, client, session, make_user):
    """Scripts are read, not played: their text is never sent ahead (reading time counts from serving)."""
    manager, rater = make_user("manager"), make_user("rater")
    project = rating_project(session, manager.id, modality="script", members=[rater])
    for _ in range(2):
        make_item(session, project, durations=(None, None))
    client.login(rater.email)
    current = _start(client, project.id)
    assert routing.upcoming_item(session, session.get(Project, project.id), session.get(User, rater.id), utcnow())
    assert client.get(f"/assignments/{current}/upcoming").json == {"media": []}


def test_preloaded_media_is_not_playback_and_the_next_clock_starts_when_served(app, client, desk, session):
    """A cheating rater fetches the next item's media through the lookahead (as the page preloads
    it), then submits the next item the moment it is served: refused by the timing and playback
    rules exactly as without a lookahead; nothing was credited and served_at is the serving time."""
    client.login(desk["rater"].email)
    current = _start(client, desk["project"])
    looked_at = utcnow()
    media = client.get(f"/assignments/{current}/upcoming").json["media"]
    for url in media:  # the whole files, as a browser preloading them would
        fetched = client.get(url)
        assert fetched.status_code == 200 and len(fetched.data) > 1000
    skipped_at = utcnow()
    response = client.post(f"/assignments/{current}/skip", data={"reason": "testing the lookahead"})
    following = int(re.search(r"/assignments/(\d+)$", response.headers["Location"]).group(1))
    session.expire_all()
    nxt = session.get(Assignment, following)
    assert _media_urls(session, nxt.item_id) == media
    served_at = nxt.served_at if nxt.served_at.tzinfo else nxt.served_at.replace(tzinfo=skipped_at.tzinfo)
    assert served_at >= skipped_at > looked_at
    assert session.scalar(select(func.count()).select_from(PlaybackObservation)
                          .where(PlaybackObservation.assignment_id == following)) == 0
    durations = {o.label: o.asset.duration_s for o in nxt.item.outputs}
    form = {"choice": "left", "strength": "2", "confidence": "4", "idempotency_key": str(uuid.uuid4()),
            "rationale": "the left take holds focus through the whole push in",
            "playback": '{"left": %s, "right": %s}' % (durations["a"], durations["b"]),
            "progress": '{"left": {"t": %s, "playing": false}, "right": {"t": %s, "playing": false}}'
                        % (durations["a"], durations["b"])}
    refused = client.post(f"/assignments/{following}", data=form)
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert "Not submitted" in page
    session.expire_all()
    assert session.get(Assignment, following).status == "open"
    assert session.scalar(select(func.count()).select_from(Judgment).where(Judgment.assignment_id == following)) == 0
    observed = session.scalars(select(PlaybackObservation.heard_s)
                               .where(PlaybackObservation.assignment_id == following)).all()
    assert all((s or 0) == 0 for s in observed)
    errors = re.findall(r'<p class="field-error">([^<]*)</p>', page)
    assert any("after the task opened" in e for e in errors), errors  # the timing rule, from serving
    assert any("played" in e or "play" in e for e in errors if "after the task opened" not in e), errors  # and the playback rule: nothing observed for the next item
