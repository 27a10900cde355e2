"""Routing: expertise, no repeats, resume, the confidence gate and its audit share, gold mix,
lowest confidence first, overlap caps, expiry, flags."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from raters.models import User
from tasks.rating import flags, judging, routing
from tasks.catalogue.models import Item
from tasks.rating.models import Assignment, Flag
from tests.tasks.rating_factories import T0, after, answer, make_item, rating_project, wsession  # noqa: F401


def pick(session, project, rater, now=T0, **kw):
    return routing.next_assignment(session, project, session.get(User, rater.id), now, **kw)


def judge(session, assignment, **kw):
    judging.submit_judgment(session, assignment, answer(assignment, **kw),
                            idempotency_key=f"k-{assignment.id}", now=after(assignment))
    session.commit()


@pytest.fixture
def team(make_user):
    """A manager and four raters with editing expertise (made before any writer session)."""
    return {"manager": make_user("manager"),
            "raters": [make_user("rater", expertise=["editing"]) for _ in range(4)]}


def test_item_goes_only_to_raters_whose_expertise_covers_it(make_user, wsession):
    manager = make_user("manager")
    editor, both = make_user("rater", expertise=["editing"]), make_user("rater", expertise=["editing", "sound"])
    project = rating_project(wsession, manager.id, members=[editor, both])
    item = make_item(wsession, project, expertise=["editing", "sound"])
    assert pick(wsession, project, editor) is None
    got = pick(wsession, project, both)
    assert got is not None and got.item_id == item.id


def test_rater_without_tags_gets_only_items_needing_none(make_user, wsession):
    manager, novice = make_user("manager"), make_user("rater")
    project = rating_project(wsession, manager.id, members=[novice])
    make_item(wsession, project, expertise=["vfx"])
    plain = make_item(wsession, project)
    assert pick(wsession, project, novice).item_id == plain.id


def test_open_assignment_is_resumed_instead_of_a_new_one(team, wsession):
    rater = team["raters"][0]
    project = rating_project(wsession, team["manager"].id, members=[rater])
    for _ in range(3):
        make_item(wsession, project)
    first = pick(wsession, project, rater)
    wsession.commit()
    again = pick(wsession, project, rater, now=T0 + timedelta(minutes=5))
    assert again.id == first.id and again.served_at == T0
    assert wsession.scalar(select(func.count()).select_from(Assignment).where(Assignment.rater_id == rater.id)) == 1


def test_a_rater_never_gets_an_item_twice(team, wsession):
    rater = team["raters"][0]
    project = rating_project(wsession, team["manager"].id, members=[rater])
    items = [make_item(wsession, project) for _ in range(3)]
    seen = []
    for i in range(3):
        assignment = pick(wsession, project, rater)
        seen.append(assignment.item_id)
        if i == 1:
            judging.skip_assignment(wsession, assignment, "the clip will not load", now=T0)
            wsession.commit()
        else:
            judge(wsession, assignment)
    assert sorted(seen) == sorted(i.id for i in items)
    assert pick(wsession, project, rater, now=T0 + timedelta(hours=2)) is None


def test_lowest_confidence_first_unknown_counting_as_zero_then_oldest(team, wsession):
    rater = team["raters"][0]
    project = rating_project(wsession, team["manager"].id, members=[rater])
    mid = make_item(wsession, project, confidence=0.5)
    low_new = make_item(wsession, project, confidence=0.1)
    unknown = make_item(wsession, project, confidence=None)
    low_old_twin = make_item(wsession, project, confidence=0.1)
    zero = make_item(wsession, project, confidence=0.0)
    order = []
    for _ in range(5):
        assignment = pick(wsession, project, rater)
        order.append(assignment.item_id)
        judge(wsession, assignment)
    assert order == [unknown.id, zero.id, low_new.id, low_old_twin.id, mid.id]


def test_confident_items_are_auto_accepted_except_a_reproducible_audit_share(make_user, wsession):
    manager, rater = make_user("manager"), make_user("rater")
    project = rating_project(wsession, manager.id, members=[rater], confidence_threshold=0.8, audit_rate=0.25,
                             overlap=1, max_overlap=1, min_rationale_words=0, min_media_fraction=0)
    confident = [make_item(wsession, project, confidence=0.95, commit=False) for _ in range(120)]
    uncertain = make_item(wsession, project, confidence=0.3)
    audited = {i.id for i in confident if routing.is_audited(project.id, i.id, 0.25)}
    assert 0.15 < len(audited) / len(confident) < 0.35  # the share is about the audit rate
    served, flags = [], {}
    while (a := pick(wsession, project, rater)) is not None:
        served.append(a.item_id)
        flags[a.item_id] = a.is_audit
        judging.skip_assignment(wsession, a, "move on", now=T0)
    assert set(served) == audited | {uncertain.id}
    assert flags[uncertain.id] is False and all(flags[i] for i in audited)
    # The same draw in a fresh computation (no state kept anywhere): reproducible.
    assert audited == {i.id for i in confident if routing.audit_bucket(project.id, i.id)
                       < routing.audit_threshold(0.25)}


def test_audit_bucket_is_the_same_in_sql_and_python(make_user, wsession):
    manager = make_user("manager")
    project = rating_project(wsession, manager.id)
    items = [make_item(wsession, project, commit=False) for _ in range(30)]
    rows = dict(wsession.execute(select(Item.id, routing._audit_bucket_sql(project)).where(
        Item.project_id == project.id)).all())
    assert rows == {i.id: routing.audit_bucket(project.id, i.id) for i in items}


def test_audit_rate_zero_and_one(make_user, wsession):
    manager, rater = make_user("manager"), make_user("rater")
    never = rating_project(wsession, manager.id, members=[rater], audit_rate=0.0)
    make_item(wsession, never, confidence=0.99)
    assert pick(wsession, never, rater) is None
    always = rating_project(wsession, manager.id, members=[rater], audit_rate=1.0)
    item = make_item(wsession, always, confidence=0.99)
    assert pick(wsession, always, rater).item_id == item.id


def test_gold_is_mixed_in_at_the_gold_rate_by_a_reproducible_draw(make_user, wsession):
    manager, rater = make_user("manager"), make_user("rater")
    project = rating_project(wsession, manager.id, members=[rater], gold_rate=0.3,
                             min_rationale_words=0, min_media_fraction=0)
    for _ in range(60):
        make_item(wsession, project, commit=False)
    golds = {make_item(wsession, project, gold={"choice": "a"}, commit=False).id for _ in range(40)}
    wsession.commit()
    kinds = []
    for n in range(50):
        a = pick(wsession, project, rater)
        kinds.append(a.item_id in golds)
        assert a.is_audit is False
        judging.skip_assignment(wsession, a, "next", now=T0)
    expected = [routing.wants_gold(project, rater.id, n) for n in range(50)]
    assert kinds == expected
    assert 5 <= sum(kinds) <= 25  # about 30% of 50


def test_gold_is_not_served_once_regular_work_runs_out(make_user, wsession):
    manager, rater = make_user("manager"), make_user("rater")
    project = rating_project(wsession, manager.id, members=[rater], gold_rate=1.0)
    gold = make_item(wsession, project, gold={"choice": "b"})
    first = pick(wsession, project, rater)
    assert first.item_id == gold.id  # gold_rate 1: gold while there is some
    judging.skip_assignment(wsession, first, "next", now=T0)
    regular = make_item(wsession, project)
    assert pick(wsession, project, rater).item_id == regular.id


def test_gold_items_are_not_capped_by_overlap(make_user, wsession):
    manager = make_user("manager")
    raters = [make_user("rater") for _ in range(4)]
    project = rating_project(wsession, manager.id, members=raters, gold_rate=1.0, overlap=1, max_overlap=1)
    gold = make_item(wsession, project, gold={"choice": "a"})
    make_item(wsession, project)
    assert all(pick(wsession, project, r).item_id == gold.id for r in raters)


def test_item_is_handed_out_only_until_it_has_its_overlap(make_user, wsession):
    manager = make_user("manager")
    raters = [make_user("rater") for _ in range(3)]
    project = rating_project(wsession, manager.id, members=raters, overlap=2, max_overlap=3)
    item = make_item(wsession, project)
    first, second = pick(wsession, project, raters[0]), pick(wsession, project, raters[1])
    assert first.item_id == second.item_id == item.id
    assert pick(wsession, project, raters[2]) is None  # two open assignments hold both slots
    judge(wsession, first, choice="left")
    assert pick(wsession, project, raters[2], now=T0 + timedelta(minutes=1)) is None


def test_expired_assignment_returns_its_item_to_the_pool_for_others(make_user, wsession):
    manager, slow, other = make_user("manager"), make_user("rater"), make_user("rater")
    project = rating_project(wsession, manager.id, members=[slow, other], overlap=1, max_overlap=1)
    item = make_item(wsession, project)
    held = pick(wsession, project, slow, ttl=timedelta(minutes=30))
    assert pick(wsession, project, other, now=T0 + timedelta(minutes=29)) is None
    later = T0 + timedelta(minutes=31)
    taken = pick(wsession, project, other, now=later)
    assert taken.item_id == item.id
    wsession.refresh(held)
    assert held.status == "expired" and held.closed_at == later  # marked lazily by that pick
    # …and never back to the rater who let it expire.
    assert pick(wsession, project, slow, now=later) is None


def test_own_expired_assignment_is_closed_before_a_new_pick(make_user, wsession):
    manager, rater = make_user("manager"), make_user("rater")
    project = rating_project(wsession, manager.id, members=[rater])
    first_item, second_item = make_item(wsession, project), make_item(wsession, project)
    first = pick(wsession, project, rater)
    second = pick(wsession, project, rater, now=T0 + timedelta(hours=1))
    assert {first.item_id, second.item_id} == {first_item.id, second_item.id}
    assert first.status == "expired" and second.status == "open"


def test_flagged_item_leaves_routing_until_resolved(make_user, wsession):
    manager, reporter, other = make_user("manager"), make_user("rater"), make_user("rater")
    project = rating_project(wsession, manager.id, members=[reporter, other])
    item = make_item(wsession, project)
    flagged = flags.flag_assignment(wsession, pick(wsession, project, reporter), "broken",
                                      "the right clip is black", now=T0)
    assert pick(wsession, project, other) is None
    flags.resolve_flag(wsession, flagged, wsession.get(User, manager.id), "re-encoded the clip", now=T0)
    assert pick(wsession, project, other).item_id == item.id
    assert wsession.scalar(select(Flag.resolution)) == "re-encoded the clip"


def test_sides_are_randomised_per_assignment_and_rubric_is_always_a(make_user, wsession):
    manager = make_user("manager")
    raters = [make_user("rater") for _ in range(40)]
    pairwise = rating_project(wsession, manager.id, members=raters, overlap=40, max_overlap=40)
    make_item(wsession, pairwise)
    lefts = [pick(wsession, pairwise, r).left_label for r in raters]
    assert set(lefts) == {"a", "b"}
    rubric = rating_project(wsession, manager.id, kind="rubric", members=raters[:3])
    make_item(wsession, rubric, durations=(10.0,))
    assert {pick(wsession, rubric, r).left_label for r in raters[:3]} == {"a"}


def test_progress_counts_a_raters_work(make_user, wsession):
    manager, rater = make_user("manager"), make_user("rater")
    project = rating_project(wsession, manager.id, members=[rater])
    for _ in range(3):
        make_item(wsession, project)
    judge(wsession, pick(wsession, project, rater))
    current = pick(wsession, project, rater, now=T0 + timedelta(minutes=1))
    got = routing.progress(wsession, project, wsession.get(User, rater.id), T0 + timedelta(minutes=2))
    assert got == {"judged": 1, "skipped": 0, "expired": 0, "open_assignment_id": current.id, "available": 1,
                   "why": []}


def test_sqlite_pick_needs_a_writer_transaction(app, make_user, session):
    if app.extensions["database"].engine.dialect.name != "sqlite":
        pytest.skip("SQLite only: PostgreSQL serialises the pick with row locks")
    manager, rater = make_user("manager"), make_user("rater")
    project = rating_project(session, manager.id, members=[rater])
    with pytest.raises(RuntimeError, match="serialise_writes"):
        routing.next_assignment(session, project, session.get(User, rater.id), T0)
