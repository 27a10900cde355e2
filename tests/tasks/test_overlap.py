"""Adaptive overlap and adjudication: agreement measures (pure), the panel's states, one more
rater on disagreement, the adjudication queue and decisions stored beside the judgments."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from raters.models import User
from tasks.rating import judging, overlap, routing
from tasks.rating.models import AnswerInvalid, Judgment, RatingError
from tests.tasks.rating_factories import T0, after, answer, make_item, rating_project, wsession  # noqa: F401

RUBRIC7 = [{"key": "craft", "label": "Craft", "min": 1, "max": 7, "levels": {"1": "poor", "7": "superb"}},
           {"key": "tone", "label": "Tone", "min": 1, "max": 3, "levels": {"1": "off", "3": "right"}}]


# -- pure -----------------------------------------------------------------------------------

def test_majority_share():
    assert overlap.majority_share(["a", "a", "b"]) == pytest.approx(2 / 3)
    assert overlap.majority_share(["a", "b", "tie"]) == pytest.approx(1 / 3)
    assert overlap.majority_share([]) is None


def test_tolerance_scales_with_the_scale():
    assert [overlap.tolerance(1, m) for m in (2, 3, 4, 5, 7, 8, 9, 11)] == [0, 0, 0, 1, 1, 1, 2, 2]


def test_near_median_share():
    assert overlap.near_median_share([3, 4, 5], 1) == 1.0
    assert overlap.near_median_share([1, 4, 5], 1) == pytest.approx(2 / 3)
    assert overlap.near_median_share([2, 3], 0) == 0.0  # median 2.5: neither is exactly on it
    assert overlap.near_median_share([], 1) is None


def test_rubric_agreement_is_the_weakest_criterion():
    answers = [{"scores": {"craft": 5, "tone": 3}}, {"scores": {"craft": 6, "tone": 3}},
               {"scores": {"craft": 4, "tone": 1}}]
    # craft: median 5, ±1 → all three; tone: median 3, exact → two of three.
    assert overlap.rubric_agreement(answers, RUBRIC7) == pytest.approx(2 / 3)
    assert overlap.AGREEMENT["rubric"] is overlap.rubric_agreement


@pytest.mark.parametrize("n, agreement, expected", [
    (1, None, ("collecting", 3)),
    (2, 0.5, ("collecting", 3)),
    (3, 1.0, ("agreed", 3)),
    (3, 0.67, ("agreed", 3)),
    (3, 2 / 3, ("agreed", 3)),  # 0.666… is what a target of 0.67 means
    (3, 0.6, ("extended", 4)),
    (4, 0.5, ("extended", 5)),
    (4, 0.75, ("agreed", 4)),
    (5, 0.6, ("split", 5)),
])
def test_panel_state(n, agreement, expected):
    state = overlap.panel_state(n, agreement, overlap=3, max_overlap=5, agreement_target=0.67)
    assert (state.state, state.target) == expected


# -- the service ----------------------------------------------------------------------------

@pytest.fixture
def panel(make_user, wsession):
    """overlap 2, max 3, target 0.67; four raters, one senior; one item."""
    manager = make_user("manager")
    raters = [make_user("rater") for _ in range(3)] + [make_user("rater", senior=True)]
    project = rating_project(wsession, manager.id, members=raters, overlap=2, max_overlap=3, agreement_target=0.67)
    item = make_item(wsession, project)
    return {"manager": manager, "raters": raters, "project": project, "item": item}


def rate(session, project, rater, item_choice, now=T0):
    """The rater picks and judges, choosing the item label ``item_choice``."""
    assignment = routing.next_assignment(session, project, session.get(User, rater.id), now)
    assert assignment is not None, "expected work for this rater"
    side = "tie" if item_choice == "tie" else assignment.side_of(item_choice)
    judging.submit_judgment(session, assignment, answer(assignment, choice=side), idempotency_key=f"k{assignment.id}",
                            now=after(assignment))
    session.commit()
    return assignment


def test_agreement_at_overlap_closes_the_item(panel, wsession):
    project, raters = panel["project"], panel["raters"]
    rate(wsession, project, raters[0], "a")
    rate(wsession, project, raters[1], "a")
    assert overlap.item_state(wsession, panel["item"]) == "agreed"
    assert routing.next_assignment(wsession, project, wsession.get(User, raters[2].id), T0) is None


def test_disagreement_adds_a_rater_and_a_still_split_item_goes_to_adjudication(panel, wsession):
    project, raters, item = panel["project"], panel["raters"], panel["item"]
    rate(wsession, project, raters[0], "a")
    rate(wsession, project, raters[1], "b")
    assert overlap.item_state(wsession, item) == "extended"
    third = rate(wsession, project, raters[2], "tie")  # routed to one more rater…
    assert third.item_id == item.id
    assert overlap.item_state(wsession, item) == "split"  # …still split at max_overlap
    assert [i.id for i in wsession.scalars(overlap.queue_query(project))] == [item.id]
    assert routing.next_assignment(wsession, project, wsession.get(User, raters[3].id), T0) is None


def test_a_third_judgment_that_agrees_settles_the_extended_item(panel, wsession):
    project, raters, item = panel["project"], panel["raters"], panel["item"]
    rate(wsession, project, raters[0], "a")
    rate(wsession, project, raters[1], "b")
    rate(wsession, project, raters[2], "b")
    stored = wsession.get(overlap.ItemPanel, item.id)
    assert (stored.state, stored.n_judgments, stored.agreement) == ("agreed", 3, pytest.approx(2 / 3))
    assert list(wsession.scalars(overlap.queue_query(project))) == []


def test_a_revision_can_move_the_panel(panel, wsession):
    project, raters, item = panel["project"], panel["raters"], panel["item"]
    first = rate(wsession, project, raters[0], "a")
    rate(wsession, project, raters[1], "b")
    assert overlap.item_state(wsession, item) == "extended"
    revision = answer(first, choice=first.side_of("b"), rationale="On a second look the other take keeps the "
                      "geography of the chase far better than I first credited")
    judging.revise_judgment(wsession, first, revision, idempotency_key="rev", now=after(first, 900))
    assert overlap.item_state(wsession, item) == "agreed"


def test_rubric_panel_splits_on_spread(make_user, wsession):
    manager = make_user("manager")
    raters = [make_user("rater") for _ in range(2)]
    project = rating_project(wsession, manager.id, kind="rubric", members=raters, overlap=2, max_overlap=2)
    item = make_item(wsession, project, durations=(10.0,))
    for rater, level in zip(raters, (1, 5)):
        a = routing.next_assignment(wsession, project, wsession.get(User, rater.id), T0)
        judging.submit_judgment(wsession, a, answer(a, scores={"coherence": level}), idempotency_key="k", now=after(a))
    assert overlap.item_state(wsession, item) == "split"


def test_gold_items_have_no_panel(make_user, wsession):
    manager, rater = make_user("manager"), make_user("rater")
    project = rating_project(wsession, manager.id, members=[rater], gold_rate=1.0)
    gold = make_item(wsession, project, gold={"choice": "a"})
    rate(wsession, project, rater, "b")
    assert wsession.get(overlap.ItemPanel, gold.id) is None and overlap.item_state(wsession, gold) == "gold"


def split_item(panel, session):
    project, raters = panel["project"], panel["raters"]
    for rater, choice in zip(raters[:3], ("a", "b", "tie")):
        rate(session, project, rater, choice)
    return panel["item"]


def test_adjudication_is_stored_beside_the_judgments_and_leaves_the_queue(panel, wsession):
    item = split_item(panel, wsession)
    before = [(j.id, j.choice) for j in overlap.current_judgments(wsession, item.id)]
    senior = wsession.get(User, panel["raters"][3].id)
    record = overlap.adjudicate(wsession, item, senior, {"choice": "b", "strength": 2, "rationale":
                                "B holds the single take and the brief asks for one take, A cuts twice, so B"},
                                now=T0 + timedelta(hours=1))
    assert (record.choice, record.decided_by_id) == ("b", senior.id)
    assert [(j.id, j.choice) for j in overlap.current_judgments(wsession, item.id)] == before
    assert overlap.item_state(wsession, item) == "adjudicated"
    assert list(wsession.scalars(overlap.queue_query(panel["project"]))) == []
    with pytest.raises(RatingError) as twice:
        overlap.adjudicate(wsession, item, wsession.get(User, panel["manager"].id),
                           {"choice": "a", "rationale": "x " * 20}, now=T0)
    assert twice.value.code == "already_adjudicated"


def test_adjudication_refusals(panel, wsession):
    project, raters, item = panel["project"], panel["raters"], panel["item"]
    manager = wsession.get(User, panel["manager"].id)
    rate(wsession, project, raters[0], "a")
    with pytest.raises(RatingError) as early:
        overlap.adjudicate(wsession, item, manager, {"choice": "a", "rationale": "x " * 20}, now=T0)
    assert early.value.code == "not_in_queue"
    rate(wsession, project, raters[1], "b")
    rate(wsession, project, raters[2], "tie")
    with pytest.raises(RatingError) as own:
        overlap.adjudicate(wsession, item, wsession.get(User, raters[0].id), {"choice": "a", "rationale": "x " * 20},
                           now=T0)
    assert own.value.code == "own_panel"
    with pytest.raises(AnswerInvalid) as invalid:
        overlap.adjudicate(wsession, item, manager, {"choice": "left", "strength": 9, "rationale": "short"}, now=T0)
    assert set(invalid.value.details) == {"choice", "strength", "rationale"}
    assert wsession.scalar(select(func.count()).select_from(Judgment)) == 3


def test_settings_change_recomputes_panels(panel, wsession):
    project, raters, item = panel["project"], panel["raters"], panel["item"]
    rate(wsession, project, raters[0], "a")
    rate(wsession, project, raters[1], "b")
    project.agreement_target = 0.5
    assert overlap.refresh_project(wsession, project) == 1
    assert overlap.item_state(wsession, item) == "agreed"
