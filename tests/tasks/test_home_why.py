"""The rater's home says why a project has nothing waiting for them."""
from __future__ import annotations

import re

from raters.models import User
from tasks.catalogue import assets as asset_ops
from tasks.rating import flags, judging, routing
from tests.tasks.rating_factories import T0, after, answer, make_item, rating_project, wsession  # noqa: F401


def why(session, project, rater):
    got = routing.progress(session, project, session.get(User, rater.id), T0 + routing.DEFAULT_TTL / 2)
    assert got["available"] == 0 and got["open_assignment_id"] is None
    return [r["code"] for r in got["why"]]


def pick(session, project, rater):
    return routing.next_assignment(session, project, session.get(User, rater.id), T0)


def judge(session, assignment):
    judging.submit_judgment(session, assignment, answer(assignment), idempotency_key=f"k{assignment.id}",
                            now=after(assignment))


def test_all_done_by_you(make_user, wsession):
    manager, rater = make_user("manager"), make_user("rater")
    project = rating_project(wsession, manager.id, members=[rater], overlap=2, max_overlap=2)
    make_item(wsession, project)
    judge(wsession, pick(wsession, project, rater))
    assert why(wsession, project, rater) == ["done_by_you"]


def test_none_matching_your_expertise_names_the_tags(make_user, wsession):
    manager, rater = make_user("manager"), make_user("rater", expertise=["editing"])
    project = rating_project(wsession, manager.id, members=[rater])
    make_item(wsession, project, expertise=["vfx"])
    got = routing.progress(wsession, project, wsession.get(User, rater.id), T0)
    assert [r["code"] for r in got["why"]] == ["expertise"] and "vfx" in got["why"][0]["text"]


def test_waiting_for_other_raters(make_user, wsession):
    manager, rater, other = make_user("manager"), make_user("rater"), make_user("rater")
    project = rating_project(wsession, manager.id, members=[rater, other], overlap=1, max_overlap=1)
    make_item(wsession, project)
    pick(wsession, project, other)
    assert why(wsession, project, rater) == ["waiting"]


def test_held_back_by_consent_and_by_a_media_report(make_user, wsession):
    manager, rater, other = make_user("manager"), make_user("rater"), make_user("rater")
    project = rating_project(wsession, manager.id, members=[rater, other])
    revoked = make_item(wsession, project)
    make_item(wsession, project)
    asset_ops.set_provenance(wsession, revoked.outputs[0].asset, {"consent": "revoked"}, wsession.get(User, manager.id))
    flags.flag_assignment(wsession, pick(wsession, project, other), "broken", "black frames", now=T0)
    assert why(wsession, project, rater) == ["consent", "reported"]


def test_complete_and_archived(make_user, wsession):
    manager, rater, other = make_user("manager"), make_user("rater"), make_user("rater")
    project = rating_project(wsession, manager.id, members=[rater, other], overlap=1, max_overlap=1)
    make_item(wsession, project)
    judge(wsession, pick(wsession, project, other))
    assert why(wsession, project, rater) == ["complete"]
    project.archived = True
    assert why(wsession, project, rater) == ["archived"]


def test_the_home_page_shows_the_reason(app, client, make_user):
    manager, rater = make_user("manager"), make_user("rater", expertise=["editing"])
    with app.extensions["database"].writer_sessionmaker() as session:
        project = rating_project(session, manager.id, members=[rater], name="Harbour at dawn")
        make_item(session, project, expertise=["sound"])
        session.commit()
    client.login(rater.email)
    page = client.get("/").get_data(as_text=True)
    assert "Nothing waiting" in page
    reason = re.search(r'<li data-reason="expertise">([^<]+)</li>', page)
    assert reason and "sound" in reason.group(1)
