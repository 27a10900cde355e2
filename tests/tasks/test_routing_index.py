"""Routing through its index: the stored counters equal a recount after every write path (a
property test over random sequences of writes), holds for consent and settings, the pick reads
the partial index, and on PostgreSQL a pick waits for locked candidates instead of answering
"nothing left" — a burst of raters at a handful of free slots gets every slot."""
from __future__ import annotations

import itertools
import json
import threading
import time
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from raters.models import User
from tasks.catalogue import assets as asset_ops
from tasks.catalogue.models import Asset, Item, ItemOutput
from tasks.catalogue.projects import update_project
from tasks.rating import consent, flags, judging, judgment_import, overlap, routing
from tasks.rating.models import Assignment, Flag, ItemPanel, RatingError
from tests.tasks.rating_factories import T0, answer, make_item, rating_project, wsession  # noqa: F401
from tests.tasks.test_concurrency import run_threads


def on_postgresql(app) -> bool:
    return app.extensions["database"].engine.dialect.name == "postgresql"


def stored(session, item_ids) -> dict[int, tuple]:
    rows = session.execute(select(Item.id, Item.n_judged, Item.n_held, Item.target, Item.hold)
                           .where(Item.id.in_(list(item_ids)))).all()
    return {r[0]: tuple(r[1:]) for r in rows}


def assert_counters_true(session, item_ids, after_what=""):
    session.expire_all()
    assert stored(session, item_ids) == routing.recount(session, item_ids), after_what


# -- the property: every write path keeps the counters equal to a recount ----------------------

KEYS = itertools.count()  # idempotency keys and outside raters, unique across examples
# Weighted toward the writes that fill panels, so splits reach adjudication.
OPS = ("next", "submit", "submit", "submit", "revise", "skip", "expire", "flag", "resolve", "adjudicate",
       "adjudicate", "import", "import", "consent", "settings")


@pytest.fixture
def crew(make_user):
    """A manager and five raters (one senior), made once and reused by every example."""
    return {"manager": make_user("manager"), "raters": [make_user("rater") for _ in range(4)]
            + [make_user("rater", senior=True)]}


class World:
    """One example's project and clock, and the write operations the property test draws."""

    def __init__(self, session, app, crew):
        self.session, self.crew, self.now = session, crew, T0
        self.manager = session.get(User, crew["manager"].id)
        self.project = rating_project(session, crew["manager"].id, members=crew["raters"], overlap=2,
                                      max_overlap=3, min_rationale_words=0, min_media_fraction=0,
                                      confidence_threshold=0.8, audit_rate=0.3, gold_rate=0.2)
        self.items = [make_item(session, self.project, confidence=c) for c in (0.1, 0.5, 0.85, 0.95, None)]
        self.items.append(make_item(session, self.project, gold={"choice": "a"}))
        self.ids = [i.id for i in self.items]

    def rater(self, k):
        return self.session.get(User, self.crew["raters"][k % len(self.crew["raters"])].id)

    def assignments(self, status):
        return self.session.scalars(select(Assignment).where(Assignment.project_id == self.project.id,
                                                             Assignment.status == status).order_by(Assignment.id)).all()

    def pick_one(self, status, k):
        found = self.assignments(status)
        return found[k % len(found)] if found else None

    def apply(self, op, k) -> bool:
        """Run one write; False when there was nothing to do it to."""
        s, now = self.session, self.now
        if op in ("submit", "skip", "flag"):
            a = self.pick_one("open", k) or routing.next_assignment(s, self.project, self.rater(k), now)
            if a is None:
                return False
            if op == "submit":
                judging.submit_judgment(s, a, answer(a, choice=("left", "right", "tie")[k % 3], seed=next(KEYS)),
                                        idempotency_key=f"s{next(KEYS)}", now=now)
            elif op == "skip":
                judging.skip_assignment(s, a, "not for me", now=now)
            else:
                flags.flag_assignment(s, a, "broken", "the clip is black", now=now)
            return True
        if op == "revise":
            a = self.pick_one("submitted", k)
            if a is not None:
                revised = answer(a, choice=("right", "left", "tie")[k % 3], seed=next(KEYS))
                judging.revise_judgment(s, a, revised, idempotency_key=f"r{next(KEYS)}", now=now)
            return a is not None
        if op == "resolve":
            flag = s.scalar(select(Flag).where(Flag.project_id == self.project.id, Flag.resolved_at.is_(None)))
            if flag is not None:
                flags.resolve_flag(s, flag, self.manager, "re-encoded", now=now,
                                   action=("returned", "dropped")[k % 2])
            return flag is not None
        if op == "adjudicate":
            item = s.scalar(overlap.queue_query(self.project).limit(1))
            if item is not None:
                overlap.adjudicate(s, item, self.manager,
                                   {"choice": "a", "rationale": "the left framing holds the action better"}, now=now)
            return item is not None
        if op == "next":
            routing.next_assignment(s, self.project, self.rater(k), now)
        elif op == "expire":
            self.now = now + timedelta(minutes=31)
            routing.next_assignment(s, self.project, self.rater(k), self.now)
        elif op == "import":
            item = self.items[k % len(self.items)]
            row = {"external_id": item.external_id, "rater": f"outside-{next(KEYS)}", "choice": ("a", "b", "tie")[k // 6 % 3],
                   "rationale": "judged elsewhere", "confidence": 3}
            judgment_import.import_judgments(s, self.project, json.dumps(row).encode(), "j.jsonl",
                                             actor=self.manager, now=now)
        elif op == "consent":
            asset = s.get(Asset, s.scalar(select(ItemOutput.asset_id).where(
                ItemOutput.item_id == self.ids[k % len(self.ids)], ItemOutput.label == "a")))
            old = asset.consent
            asset_ops.set_provenance(s, asset, {"consent": "revoked" if old == "granted" else "granted"},
                                     self.manager)
            consent.consent_changed(s, asset, old, self.manager, note="", now=now)
        elif op == "settings":
            update_project(s, self.project, {"overlap": 1 + k % 3, "max_overlap": 3,
                                             "confidence_threshold": (0.8, 0.9, 0.99)[k % 3]}, self.manager)
        return True


@example(ops=[("import", 0), ("import", 6), ("import", 12), ("adjudicate", 0), ("next", 1), ("submit", 2)])
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=st.lists(st.tuples(st.sampled_from(OPS), st.integers(0, 17)), min_size=4, max_size=50))
def test_counters_equal_a_recount_after_every_write_path(app, crew, ops):
    with app.extensions["database"].writer_sessionmaker() as session:
        world = World(session, app, crew)
        assert_counters_true(session, world.ids, "after creating the items")
        for op, k in ops:
            try:
                world.apply(op, k)
                session.commit()
            except (RatingError, judgment_import.ImportRejected, IntegrityError):
                session.rollback()
            assert_counters_true(session, world.ids, f"after {op} {k}")


# -- holds kept by the write paths ----------------------------------------------------------

def test_items_whose_media_lost_consent_are_not_routed_until_it_is_restored(make_user, wsession):
    manager, rater = make_user("manager"), make_user("rater")
    project = rating_project(wsession, manager.id, members=[rater])
    item = make_item(wsession, project)
    asset = item.outputs[1].asset
    actor = wsession.get(User, manager.id)
    asset_ops.set_provenance(wsession, asset, {"consent": "revoked"}, actor)
    assert wsession.get(Item, item.id).hold & routing.HOLD_CONSENT
    assert routing.next_assignment(wsession, project, wsession.get(User, rater.id), T0) is None
    asset_ops.set_provenance(wsession, asset, {"consent": "pending"}, actor)
    assert routing.next_assignment(wsession, project, wsession.get(User, rater.id), T0) is None
    asset_ops.set_provenance(wsession, asset, {"consent": "not_required"}, actor)
    assert routing.next_assignment(wsession, project, wsession.get(User, rater.id), T0).item_id == item.id


def test_refresh_items_is_what_consent_code_calls(make_user, wsession):
    """The contract for code that changes consent by other means: change, then refresh_items."""
    manager = make_user("manager")
    project = rating_project(wsession, manager.id)
    item = make_item(wsession, project)
    item.outputs[0].asset.consent = "revoked"
    wsession.flush()
    assert wsession.get(Item, item.id).hold == 0  # nothing maintains it behind your back…
    assert routing.refresh_items(wsession, [item.id]) == 1
    assert wsession.get(Item, item.id).hold == routing.HOLD_CONSENT  # …refresh_items does


def test_a_settings_change_regates_and_retargets_the_items(make_user, wsession):
    manager, rater = make_user("manager"), make_user("rater")
    project = rating_project(wsession, manager.id, members=[rater], confidence_threshold=0.9, audit_rate=0.0)
    confident = make_item(wsession, project, confidence=0.85)
    assert wsession.get(Item, confident.id).hold == 0
    update_project(wsession, project, {"confidence_threshold": 0.8}, wsession.get(User, manager.id))
    assert wsession.get(Item, confident.id).hold == routing.HOLD_GATED
    assert routing.next_assignment(wsession, project, wsession.get(User, rater.id), T0) is None
    update_project(wsession, project, {"overlap": 4, "max_overlap": 5, "confidence_threshold": 0.9},
                   wsession.get(User, manager.id))
    assert (wsession.get(Item, confident.id).hold, wsession.get(Item, confident.id).target) == (0, 4)


def test_an_item_made_without_a_refresh_is_never_routed(make_user, wsession):
    """Fail closed: a new item's target is 0 until refresh_items has counted it."""
    manager, rater = make_user("manager"), make_user("rater")
    project = rating_project(wsession, manager.id, members=[rater])
    item = Item(project_id=project.id, external_id="raw", prompt="Brief")
    wsession.add(item)
    wsession.flush()
    assert routing.next_assignment(wsession, project, wsession.get(User, rater.id), T0) is None


# -- PostgreSQL: the index, and locks that are not an empty queue -----------------------------

def test_the_pick_can_read_the_partial_index(app, make_user, session):
    if not on_postgresql(app):
        pytest.skip("PostgreSQL's planner")
    manager, rater = make_user("manager"), make_user("rater")
    project = rating_project(session, manager.id, members=[rater])
    for _ in range(3):
        make_item(session, project)
    query = routing.explain_query(project, session.get(User, rater.id))
    sql = str(query.compile(session.bind, compile_kwargs={"literal_binds": True})).replace("%%", "%")
    session.execute(text("SET LOCAL enable_seqscan = off"))
    plan = "\n".join(session.execute(text("EXPLAIN " + sql.replace(":", r"\:"))).scalars())
    assert "ix_items_routing" in plan, plan
    session.rollback()


def test_a_pick_waits_for_a_locked_candidate_instead_of_answering_nothing(app, make_user):
    if not on_postgresql(app):
        pytest.skip("SQLite serialises whole transactions")
    manager, first, second = make_user("manager"), make_user("rater"), make_user("rater")
    maker = app.extensions["database"].writer_sessionmaker
    with maker() as setup:
        project = rating_project(setup, manager.id, members=[first, second], overlap=2, max_overlap=2)
        item = make_item(setup, project)
        project_id = project.id
    holder = maker()
    held = routing.next_assignment(holder, holder.get(type(project), project_id), holder.get(User, first.id), T0)
    assert held.item_id == item.id  # holder keeps the item's row lock: not committed yet
    result = {}

    def other():
        with maker() as own:
            got = routing.next_assignment(own, own.get(type(project), project_id), own.get(User, second.id), T0)
            result["item"] = got.item_id if got else None
            own.commit()

    thread = threading.Thread(target=other)
    thread.start()
    time.sleep(0.4)
    assert thread.is_alive()  # waiting, not answering "nothing left"
    holder.commit()
    holder.close()
    thread.join(10)
    assert result == {"item": item.id}


def test_a_pick_that_waits_too_long_is_busy_not_empty(app, make_user, monkeypatch):
    if not on_postgresql(app):
        pytest.skip("SQLite serialises whole transactions")
    monkeypatch.setattr(routing, "LOCK_WAIT_S", 0.2)
    manager, first, second = make_user("manager"), make_user("rater"), make_user("rater")
    maker = app.extensions["database"].writer_sessionmaker
    with maker() as setup:
        project = rating_project(setup, manager.id, members=[first, second], overlap=2, max_overlap=2)
        make_item(setup, project)
        project_id = project.id
    with maker() as holder, maker() as waiter:
        assert routing.next_assignment(holder, holder.get(type(project), project_id), holder.get(User, first.id), T0)
        with pytest.raises(routing.RoutingBusy):
            routing.next_assignment(waiter, waiter.get(type(project), project_id), waiter.get(User, second.id), T0)
        holder.rollback()
        waiter.rollback()


BURST_RATERS = 16
BURST_TRIALS = 12


@pytest.fixture
def burst_raters(api):
    return [api("rater") for _ in range(BURST_RATERS)]


@pytest.mark.parametrize("n_items, overlap_, n_raters", [(1, 3, 3), (2, 3, BURST_RATERS), (5, 2, BURST_RATERS)])
def test_a_burst_of_raters_at_a_few_free_slots_gets_every_slot(app, make_user, session, burst_raters,
                                                                n_items, overlap_, n_raters):
    """Many trials: raters call ``next`` at the same moment; every free slot is handed out and
    only the raters beyond the slots hear "nothing left" (204)."""
    if not on_postgresql(app):
        pytest.skip("the race is PostgreSQL's (SQLite serialises every pick)")
    manager = make_user("manager")
    clients = [c for c, _u in burst_raters[:n_raters]]
    slots = n_items * overlap_
    for trial in range(BURST_TRIALS):
        project = rating_project(session, manager.id, members=[u for _c, u in burst_raters[:n_raters]],
                                 overlap=overlap_, max_overlap=overlap_)
        for _ in range(n_items):
            make_item(session, project)
        url = f"/api/v1/projects/{project.id}/assignments/next"
        barrier = threading.Barrier(n_raters, timeout=60)

        def ask(i, url=url, barrier=barrier):
            barrier.wait()
            return clients[i].post(url).status_code

        statuses = run_threads(n_raters, ask)
        assert sorted(statuses).count(201) == min(slots, n_raters), (trial, statuses)
        assert set(statuses) <= {201, 204}, (trial, statuses)
        session.expire_all()
        held = session.scalars(select(Item.n_held).where(Item.project_id == project.id)).all()
        assert sum(held) == min(slots, n_raters) and max(held) <= overlap_
