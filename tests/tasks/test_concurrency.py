"""Many raters at once, through the real API (one test client per thread): no item is handed out
beyond its need, no rater gets an item twice, nothing answers 500, and a submission sent twice at
the same moment stores one judgment. Runs on SQLite and on PostgreSQL (TEST_DATABASE_URL)."""
from __future__ import annotations

import random
import threading
from collections import Counter

import pytest
from sqlalchemy import func, select

from database import utcnow
from tasks.catalogue.models import Item
from tasks.rating.models import Assignment, Judgment
from tests.tasks.rating_factories import make_item, rating_project, rationale

N_RATERS = 16
OVERLAP = 3
ROUNDS = 6


def run_threads(n: int, work) -> list:
    """Run ``work(i)`` in ``n`` threads; re-raise the first failure."""
    results, errors = [None] * n, []

    def target(i):
        try:
            results[i] = work(i)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=target, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a thread hung"
    if errors:
        raise errors[0]
    return results


def held_per_item(session, project_id: int) -> dict[int, int]:
    """Current judgments + open unexpired assignments per item."""
    now = utcnow()
    judged = dict(session.execute(select(Judgment.item_id, func.count()).where(
        Judgment.project_id == project_id, Judgment.superseded_at.is_(None)).group_by(Judgment.item_id)).all())
    held = dict(session.execute(select(Assignment.item_id, func.count()).where(
        Assignment.project_id == project_id, Assignment.status == "open", Assignment.expires_at > now)
        .group_by(Assignment.item_id)).all())
    return {i: judged.get(i, 0) + held.get(i, 0) for i in set(judged) | set(held)}


@pytest.fixture
def race(app, api, make_user, session):
    raters = [api("rater") for _ in range(N_RATERS)]
    project = rating_project(session, make_user("manager").id, members=[u for _c, u in raters],
                             overlap=OVERLAP, max_overlap=OVERLAP, min_rationale_words=0, min_media_fraction=0)
    items = [make_item(session, project, confidence=random.random()) for _ in range(12)]
    return {"clients": [c for c, _u in raters], "project": project, "items": items}


def test_sixteen_raters_racing_for_next_never_over_assign(app, race, session):
    project_id = race["project"].id
    checker = app.extensions["database"].sessionmaker
    peaks, statuses = [], Counter()

    def check_invariant():
        with checker() as own:
            held = held_per_item(own, project_id)
        peaks.append(max(held.values(), default=0))

    barrier = threading.Barrier(N_RATERS, action=check_invariant, timeout=60)
    url = f"/api/v1/projects/{project_id}/assignments/next"

    def rater(i):
        client, rng, served = race["clients"][i], random.Random(i), []
        for round_ in range(ROUNDS):
            barrier.wait()
            response = client.post(url)  # all sixteen at once
            statuses[("next", response.status_code)] += 1
            barrier.wait()
            if response.status_code not in (200, 201):
                continue
            payload = response.json
            served.append(payload["id"])
            if rng.random() < 0.75:
                answer = {"choice": rng.choice(["left", "right", "tie"]), "strength": 2, "confidence": 3,
                          "rationale": rationale(i * 100 + round_)}
                done = client.post(f"/api/v1/assignments/{payload['id']}/judgment", json=answer,
                                   headers={"Idempotency-Key": f"{i}-{round_}"})
                statuses[("judge", done.status_code)] += 1
            else:
                done = client.post(f"/api/v1/assignments/{payload['id']}/skip", json={"reason": "pass"})
                statuses[("skip", done.status_code)] += 1
        return served

    run_threads(N_RATERS, rater)
    unexpected = {k: v for k, v in statuses.items() if k[1] not in (200, 201, 204)}
    assert unexpected == {}, statuses
    assert statuses[("next", 201)] > 0 and statuses[("judge", 201)] > 0
    assert max(peaks) <= OVERLAP  # at every barrier, no item held or judged beyond its need
    session.expire_all()
    assert max(held_per_item(session, project_id).values()) <= OVERLAP
    pairs = session.execute(select(Assignment.item_id, Assignment.rater_id)).all()
    assert len(pairs) == len(set(pairs))  # no rater got an item twice
    full = session.scalar(select(func.count()).select_from(Item).where(Item.project_id == project_id))
    assert session.scalar(select(func.count()).select_from(Judgment)) <= full * OVERLAP


def test_one_rater_asking_from_several_tabs_at_once_gets_one_assignment(race, session):
    client, url = race["clients"][0], f"/api/v1/projects/{race['project'].id}/assignments/next"
    barrier = threading.Barrier(6, timeout=60)

    def tab(_i):
        barrier.wait()
        response = client.post(url)
        return response.status_code, response.json["id"]

    results = run_threads(6, tab)
    assert {status for status, _ in results} <= {200, 201} and len({i for _, i in results}) == 1
    assert sorted(status for status, _ in results).count(201) == 1
    assert session.scalar(select(func.count()).select_from(Assignment)) == 1


def test_the_same_submission_sent_twice_at_once_stores_one_judgment(race, session):
    client = race["clients"][0]
    payload = client.post(f"/api/v1/projects/{race['project'].id}/assignments/next").json
    answer = {"choice": "left", "strength": 3, "confidence": 5, "rationale": rationale(7)}
    barrier = threading.Barrier(8, timeout=60)

    def send(_i):
        barrier.wait()
        response = client.post(f"/api/v1/assignments/{payload['id']}/judgment", json=answer,
                               headers={"Idempotency-Key": "double-click"})
        return response.status_code, response.json.get("id"), response.headers.get("Idempotent-Replayed")

    results = run_threads(8, send)
    assert {status for status, _, _ in results} == {201}
    assert len({judgment_id for _, judgment_id, _ in results}) == 1
    assert [replayed for _, _, replayed in results].count(None) == 1  # one created, seven replays
    assert session.scalar(select(func.count()).select_from(Judgment)) == 1
