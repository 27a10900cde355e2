"""What the hot API paths cost in statements, counted (not timed): a new pick, a resumed one and
a submit read a fixed handful of rows whatever the project's size and membership, and no
permission check loads a project's member list. Both databases; PostgreSQL's pick is one CTE."""
from __future__ import annotations

import json
import re
from contextlib import contextmanager

import pytest
from sqlalchemy import event, select

from tasks.rating.models import Judgment, PlaybackObservation
from tests.tasks.rating_factories import make_item, rating_project, rationale

# Upper bounds per request (the app's own statements; BEGIN/COMMIT and the pool's ping aside).
# A new pick: token+user, project+membership, membership lock (+gold count, +overdue), own open
# assignment, serve (PostgreSQL: one CTE; SQLite: pick, insert, count), the item's outputs.
NEXT_NEW = {"postgresql": 6, "sqlite": 8}
NEXT_RESUMED = 4
# A submit: token+user; the assignment under its lock with its project, draft and the rater's
# membership row (the standing rules reuse it); the item under its lock with its outputs and the
# id of a judgment already stored under the Idempotency-Key; observed playback; the rationales
# compared, with the other raters' current answers (the panel is those and the new one) and when
# the rater's own recent judgments were made (the burst rule's window); the judgment; the
# assignment's status; the panel's upsert; the item's counters; the member's counters
# (tasks.rating.standing).
SUBMIT = 10


@contextmanager
def statements(app):
    seen: list[str] = []

    def record(_conn, _cursor, statement, _params, _context, _many):
        if not statement.startswith("BEGIN"):
            seen.append(" ".join(statement.split()))

    engine = app.extensions["database"].engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


@pytest.fixture
def setup(app, api, make_user, session):
    def build(n_items: int, n_members: int):
        client, rater = api("rater")
        others = [make_user("rater") for _ in range(n_members - 1)]
        project = rating_project(session, make_user("manager").id, members=[rater, *others], min_rationale_words=0,
                                 min_media_fraction=0, gold_rate=0.0)
        for n in range(n_items):
            make_item(session, project, confidence=(n % 10) / 10, commit=n == n_items - 1)
        session.commit()
        client.get("/api/v1/me")  # the token's first use is recorded once; not part of what is counted
        return client, project
    return build


def member_list_reads(seen: list[str]) -> list[str]:
    """Reads of project_members not narrowed to one user (a member list)."""
    return [s for s in seen if re.search(r"\bFROM project_members\b", s) and "project_members.user_id =" not in s]


@pytest.mark.parametrize("n_items,n_members", [(5, 1), (60, 40)])
def test_next_and_submit_read_a_fixed_handful_of_rows(app, setup, n_items, n_members):
    client, project = setup(n_items, n_members)
    url = f"/api/v1/projects/{project.id}/assignments/next"
    with statements(app) as seen:
        served = client.post(url)
    assert served.status_code == 201, served.json
    assert len(seen) <= NEXT_NEW[app.extensions["database"].engine.dialect.name], "\n".join(seen)
    assert member_list_reads(seen) == []
    with statements(app) as seen:
        assert client.post(url).status_code == 200  # resumed
    assert len(seen) <= NEXT_RESUMED, "\n".join(seen)
    answer = {"choice": "left", "strength": 2, "confidence": 3, "rationale": rationale(7)}
    with statements(app) as seen:
        done = client.post(f"/api/v1/assignments/{served.json['id']}/judgment", json=answer,
                           headers={"Idempotency-Key": "round-trips"})
    assert done.status_code == 201, done.json
    assert len(seen) <= SUBMIT, "\n".join(seen)
    assert member_list_reads(seen) == []


def test_a_pick_on_postgresql_picks_holds_and_serves_in_one_statement(app, setup):
    if app.extensions["database"].engine.dialect.name != "postgresql":
        pytest.skip("SQLite serialises writers and has no data-modifying CTE")
    client, project = setup(3, 1)
    with statements(app) as seen:
        assert client.post(f"/api/v1/projects/{project.id}/assignments/next").status_code == 201
    serving = [s for s in seen if s.startswith("WITH picked AS")]
    assert len(serving) == 1 and "FOR UPDATE OF items SKIP LOCKED" in serving[0] \
        and "UPDATE items SET n_held" in serving[0] and "INSERT INTO assignments" in serving[0]
    assert not [s for s in seen if s.startswith("UPDATE items")]  # no recount after the pick


# The rating page's submit: the session's user; the assignment under its lock with its project,
# the rater's membership and its draft; the item under its lock with its outputs (and a judgment
# already stored under the key); the observation rows, read once, and the last heartbeat that
# rides with the form written to them; then SUBMIT's rationales, judgment, assignment, panel and
# counters; then the next pick (NEXT_NEW without the token and project reads). The next item's
# page: the session's user; the assignment with its project, membership, item, outputs, assets,
# draft and playback observations (the checklist's playback rule); the progress line (items
# waiting, judged today); the previous judgment.
PAGE_SUBMIT = {"postgresql": 15, "sqlite": 17}
PAGE = 5


def test_the_pages_submit_and_the_next_page_read_a_fixed_handful_of_rows(app, client, make_user, session):
    rater = make_user("rater")
    project = rating_project(session, make_user("manager").id, members=[rater], min_rationale_words=0,
                             min_media_fraction=0, gold_rate=0.0)
    for n in range(3):
        make_item(session, project, confidence=n / 10)
    assert client.login(rater.email).status_code == 302
    first = client.post(f"/projects/{project.id}/next").headers["Location"]
    assert client.get(first).status_code == 200
    beat = {side: {"t": 4.0, "playing": False} for side in ("left", "right")}
    form = {"choice": "left", "strength": "2", "confidence": "3", "rationale": rationale(11),
            "idempotency_key": "page-round-trips", "progress": json.dumps(beat)}
    with statements(app) as seen:
        done = client.post(first, data=form)
    assert done.status_code == 302 and done.headers["Location"] != first, done.get_data(as_text=True)
    assert len(seen) <= PAGE_SUBMIT[app.extensions["database"].engine.dialect.name], "\n".join(seen)
    assert len([s for s in seen if s.startswith("SELECT playback_observations")]) == 1, "\n".join(seen)
    assert member_list_reads(seen) == []
    judged = session.scalar(select(Judgment).where(Judgment.rater_id == rater.id))
    assert {row.label: row.position_s for row in session.scalars(select(PlaybackObservation).where(
        PlaybackObservation.assignment_id == judged.assignment_id))} == {"a": 4.0, "b": 4.0}  # the last beat
    with statements(app) as seen:
        page = client.get(done.headers["Location"])
    assert page.status_code == 200 and "<video" in page.get_data(as_text=True)
    assert len(seen) <= PAGE, "\n".join(seen)
