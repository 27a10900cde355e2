"""Acting on rater quality: qualification gates real work, the submit-time rules warn then pause,
paused raters get nothing (and are told why), resume restores work, managers' acts are audited,
and excluding a rater changes the statistics reversibly."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from raters.models import AuditEvent, User
from scoring.reports import data as report_data
from tasks.catalogue.models import Project, ProjectMember
from tasks.rating import judging, routing, standing
from tasks.rating.models import Assignment
from tests.tasks.rating_factories import T0, after, answer, make_item, rating_project, wsession  # noqa: F401

GOLD = {"choice": "a"}


def pick(session, project, rater, now=T0):
    return routing.next_assignment(session, project, session.get(User, rater.id), now)


def judge(session, assignment, *, seconds=600, choice=None, gold_right=None):
    """Submit; ``gold_right`` picks the screen side that is (or is not) the gold answer."""
    if gold_right is not None:
        want = "a" if gold_right else "b"
        choice = "left" if assignment.left_label == want else "right"
    played = {"left": min(seconds, 10.0), "right": min(seconds, 10.0)}
    judging.submit_judgment(session, assignment, answer(assignment, choice=choice or "left", playback=played),
                            idempotency_key=f"k-{assignment.id}", now=after(assignment, seconds))
    session.commit()


def set_thresholds(session, project, overrides: dict) -> None:
    project.quality_thresholds = overrides
    session.commit()


def member(session, project, rater) -> ProjectMember:
    session.expire_all()
    return session.get(ProjectMember, (project.id, rater.id))


@pytest.fixture
def people(make_user):
    return {"manager": make_user("manager"), "rater": make_user("rater"), "other": make_user("rater")}


def test_qualification_serves_gold_first_and_passing_opens_real_work(people, wsession):
    rater = people["rater"]
    project = rating_project(wsession, people["manager"].id, members=[rater], qualification_gold=3)
    regular = [make_item(wsession, project, confidence=0.1) for _ in range(3)]
    gold = [make_item(wsession, project, gold=GOLD) for _ in range(4)]
    served = []
    for i in range(3):
        assert standing.rater_notice(project, member(wsession, project, rater))["text"].startswith("Qualification")
        assignment = pick(wsession, project, rater, now=T0 + timedelta(hours=i))
        served.append(assignment.item_id)
        judge(wsession, assignment, gold_right=True)
    assert set(served) <= {g.id for g in gold}  # regular items waited, though first in routing's order
    m = member(wsession, project, rater)
    assert m.qualified_at is not None and m.status == "active" and (m.gold_seen, m.gold_right) == (3, 3)
    project = wsession.get(Project, project.id)
    nxt = pick(wsession, project, rater, now=T0 + timedelta(hours=5))
    assert nxt.item_id in {r.id for r in regular}


def test_qualification_with_no_gold_left_serves_nothing(people, wsession):
    rater = people["rater"]
    project = rating_project(wsession, people["manager"].id, members=[rater], qualification_gold=2)
    make_item(wsession, project)
    assert pick(wsession, project, rater) is None


def test_failing_qualification_pauses_with_the_reason_and_resume_lets_them_work(people, wsession):
    rater, manager = people["rater"], people["manager"]
    project = rating_project(wsession, manager.id, members=[rater], qualification_gold=2)
    make_item(wsession, project)
    for _ in range(3):
        make_item(wsession, project, gold=GOLD)
    for i in range(2):
        judge(wsession, pick(wsession, project, rater, now=T0 + timedelta(hours=i)), gold_right=False)
    m = member(wsession, project, rater)
    assert m.status == "paused" and m.status_rule == "qualification" and "0 of 2" in m.status_reason
    with pytest.raises(standing.RaterStopped, match="qualification failed"):
        pick(wsession, project, rater, now=T0 + timedelta(hours=3))
    wsession.rollback()
    project = wsession.get(Project, project.id)
    standing.act(wsession, project, rater.id, "resume", "talked it through", wsession.get(User, manager.id),
                 T0 + timedelta(hours=4))
    wsession.commit()
    assert pick(wsession, project, rater, now=T0 + timedelta(hours=5)) is not None


def test_gold_rule_warns_first_then_pauses_and_stops_assignments(people, wsession):
    rater = people["rater"]
    project = rating_project(wsession, people["manager"].id, members=[rater], gold_rate=1.0)
    set_thresholds(wsession, project, {"pause_gold_min_n": 3})
    for _ in range(6):
        make_item(wsession, project, gold=GOLD)
    make_item(wsession, project)
    statuses = []
    for i in range(4):
        judge(wsession, pick(wsession, project, rater, now=T0 + timedelta(hours=i)), gold_right=False)
        statuses.append(member(wsession, project, rater).status)
    assert statuses == ["active", "active", "warned", "paused"]
    m = member(wsession, project, rater)
    assert m.status_rule == "gold" and "after an earlier warning" in m.status_reason
    with pytest.raises(standing.RaterStopped):
        pick(wsession, project, rater, now=T0 + timedelta(hours=9))
    wsession.rollback()
    actions = wsession.scalars(select(AuditEvent.action).where(AuditEvent.project_id == project.id)
                               .where(AuditEvent.action.like("rater.%")).order_by(AuditEvent.id)).all()
    assert actions == ["rater.warn", "rater.pause"]


def test_speed_rule_counts_judgments_in_a_row_faster_than_the_media(people, wsession):
    rater = people["rater"]
    project = rating_project(wsession, people["manager"].id, members=[rater])
    set_thresholds(wsession, project, {"speed_streak": 3, "burst_count": 1000})
    for _ in range(9):
        make_item(wsession, project, durations=(10.0, 10.0))
    pattern = [9, 9, 30, 9, 9, 9, 9, 9, 9]  # the 8-second dwell rule lets 9 s through; the clips last 10
    statuses = []
    for i, seconds in enumerate(pattern):
        judge(wsession, pick(wsession, project, rater, now=T0 + timedelta(hours=i)), seconds=seconds)
        statuses.append(member(wsession, project, rater).status)
    # the slow one resets the streak: warned after three fast in a row, paused after three more
    assert statuses == ["active"] * 5 + ["warned"] * 3 + ["paused"]
    assert member(wsession, project, rater).status_rule == "speed"


def test_burst_rule_trips_on_many_judgments_in_a_short_window(people, wsession):
    rater = people["rater"]
    project = rating_project(wsession, people["manager"].id, members=[rater])
    set_thresholds(wsession, project, {"burst_count": 3, "burst_window_s": 60})
    for _ in range(3):
        make_item(wsession, project)
    for i in range(3):
        judge(wsession, pick(wsession, project, rater, now=T0 + timedelta(seconds=15 * i)), seconds=12)
    m = member(wsession, project, rater)
    assert m.status == "warned" and m.status_rule == "burst"


@pytest.mark.parametrize("given,complete,trips", [
    (None, False, True),  # nothing given: the window is read
    ([], False, True),  # too few given and not all of them: read, not trusted
    ([], True, False),  # the caller read all of the rater's judgments: none before this one
])
def test_burst_rule_reads_the_window_unless_the_caller_gave_all_it_needs(people, wsession, given, complete, trips):
    rater = people["rater"]
    project = rating_project(wsession, people["manager"].id, members=[rater])
    set_thresholds(wsession, project, {"burst_count": 1000, "speed_streak": 1000})
    for _ in range(3):
        make_item(wsession, project)
    for i in range(3):  # three within a minute, judged before the rule was set
        judge(wsession, pick(wsession, project, rater, now=T0 + timedelta(seconds=15 * i)), seconds=12)
    set_thresholds(wsession, project, {"burst_count": 3, "burst_window_s": 60, "speed_streak": 1000})
    latest = wsession.scalars(select(judging.Judgment).order_by(judging.Judgment.id.desc())).first()
    standing.after_submit(wsession, latest.assignment, latest, latest.created_at, earlier_live_at=given,
                          earlier_complete=complete)
    wsession.commit()
    assert (member(wsession, project, rater).status == "warned") is trips


def test_honest_pace_trips_nothing(people, wsession):
    rater = people["rater"]
    project = rating_project(wsession, people["manager"].id, members=[rater])
    for _ in range(12):
        make_item(wsession, project)
    for i in range(12):
        judge(wsession, pick(wsession, project, rater, now=T0 + timedelta(minutes=2 * i)), seconds=40)
    assert member(wsession, project, rater).status == "active"


def test_manager_pause_releases_the_open_assignment_and_resume_restores_work(people, wsession):
    rater, manager = people["rater"], people["manager"]
    project = rating_project(wsession, manager.id, members=[rater])
    item = make_item(wsession, project)
    held = pick(wsession, project, rater)
    wsession.commit()
    boss = wsession.get(User, manager.id)
    standing.act(wsession, project, rater.id, "pause", "checking your rationales", boss, T0)
    wsession.commit()
    assert wsession.get(Assignment, held.id).status == "expired"
    assert wsession.get(type(item), item.id).n_held == 0  # routing's counters refreshed
    with pytest.raises(standing.RaterStopped, match="checking your rationales"):
        pick(wsession, project, rater, now=T0 + timedelta(minutes=1))
    wsession.rollback()
    project = wsession.get(Project, project.id)
    with pytest.raises(standing.StandingRefused):
        standing.act(wsession, project, rater.id, "pause", "again", wsession.get(User, manager.id), T0)
    with pytest.raises(standing.StandingRefused) as no_note:
        standing.act(wsession, project, rater.id, "resume", "  ", wsession.get(User, manager.id), T0)
    assert no_note.value.status == 422
    standing.act(wsession, project, rater.id, "resume", "all fine", wsession.get(User, manager.id), T0)
    wsession.commit()
    make_item(wsession, project)
    assert pick(wsession, project, rater, now=T0 + timedelta(minutes=2)) is not None


def test_excluding_a_rater_changes_the_statistics_and_re_including_restores_them(people, wsession):
    rater, other, manager = people["rater"], people["other"], people["manager"]
    project = rating_project(wsession, manager.id, members=[rater, other])
    for _ in range(3):
        make_item(wsession, project)
    for who in (rater, other):
        for i in range(3):
            judge(wsession, pick(wsession, project, who, now=T0 + timedelta(hours=i)))
    project = wsession.get(Project, project.id)
    before = report_data.fingerprint(wsession, project, n_resamples=0).key
    assert len(report_data.judgments_frame(wsession, project)) == 6
    boss = wsession.get(User, manager.id)
    standing.act(wsession, project, rater.id, "exclude", "rubber-stamped the batch", boss, T0)
    wsession.commit()
    frame = report_data.judgments_frame(wsession, project)
    assert len(frame) == 3 and set(frame["rater"]) == {other.id}
    assert report_data.rater_excluded(wsession, project) == 3
    excluded_key = report_data.fingerprint(wsession, project, n_resamples=0).key
    assert excluded_key != before
    standing.act(wsession, project, rater.id, "include", "reviewed: they were fine", boss, T0)
    wsession.commit()
    assert len(report_data.judgments_frame(wsession, project)) == 6
    assert report_data.fingerprint(wsession, project, n_resamples=0).key == before  # the cached snapshot serves again
    notes = wsession.scalars(select(AuditEvent.detail).where(AuditEvent.action.in_(["rater.exclude", "rater.include"]))
                             .order_by(AuditEvent.id)).all()
    assert notes == ["rubber-stamped the batch", "reviewed: they were fine"]


def test_home_page_says_why_a_rater_is_paused(people, session, client):
    rater, manager = people["rater"], people["manager"]
    project = rating_project(session, manager.id, members=[rater])
    make_item(session, project)
    m = session.get(ProjectMember, (project.id, rater.id))
    m.status, m.status_reason = "paused", "too many check items missed"
    session.commit()
    assert client.login(rater.email).status_code == 302
    page = client.get("/").get_data(as_text=True)
    assert "You are paused in this project: too many check items missed" in page
    assert "Start rating" not in page


def test_a_judgment_is_written_with_its_rationale_features(people, wsession):
    from tasks.rating.answers import rationale_features
    from tasks.rating.models import Judgment
    rater = people["rater"]
    project = rating_project(wsession, people["manager"].id, members=[rater])
    make_item(wsession, project)
    judge(wsession, pick(wsession, project, rater))
    stored = wsession.scalars(select(Judgment)).one()
    assert stored.rationale_features == rationale_features(stored.rationale) and stored.rationale_features["words"] >= 12


RULE_SEEDS = 500


def _simulate(rng, *, gold_accuracy, fast, n=200, gold_share=0.1, rules=None):
    """One rater through the submit-time rules (the pure functions ``after_submit`` applies):
    their final status. ``fast``: their time on task as a multiple of the media's duration."""
    rules = rules or standing.Rules(**standing.RULE_DEFAULTS)
    status, streak, seen, right, clock, times = "active", 0, 0, 0, T0, []
    for _ in range(n):
        media = rng.uniform(4.0, 12.0)
        seconds = media * fast(rng)
        clock += timedelta(seconds=seconds + (rng.uniform(2, 6) if fast(rng) < 1 else rng.uniform(15, 90)))
        times = (times + [clock])[-rules.burst_count:]
        tripped = False
        if rng.random() < gold_share:
            seen, right = seen + 1, right + (rng.random() < gold_accuracy)
            tripped = standing.gold_rule_trips(right, seen, rules)
        streak, fast_trip = standing.speed_step(streak, seconds, media, rules)
        tripped = tripped or fast_trip or standing.burst_trips(times, clock, rules)
        if tripped:
            status = standing.escalate(status)
    return status


def test_the_rules_pause_bad_raters_and_almost_never_touch_careful_ones():
    import random
    rng = random.Random(11)
    careful = [_simulate(rng, gold_accuracy=rng.uniform(0.75, 0.95), fast=lambda r: r.lognormvariate(0.6, 0.35))
               for _ in range(RULE_SEEDS)]
    goldfail = [_simulate(rng, gold_accuracy=0.25, fast=lambda r: r.lognormvariate(0.6, 0.35)) for _ in range(100)]
    stamper = [_simulate(rng, gold_accuracy=0.5, fast=lambda r: r.uniform(0.8, 0.98)) for _ in range(100)]
    warned = sum(s != "active" for s in careful) / RULE_SEEDS
    paused = sum(s == "paused" for s in careful) / RULE_SEEDS
    print(f"careful raters over 200 judgments: warned {warned:.3f}, paused {paused:.3f} ({RULE_SEEDS} raters); "
          f"gold-failers paused {sum(s == 'paused' for s in goldfail)}/100, stampers {sum(s == 'paused' for s in stamper)}/100")
    assert paused <= 0.01 and warned <= 0.05
    assert sum(s == "paused" for s in goldfail) >= 95 and all(s == "paused" for s in stamper)
