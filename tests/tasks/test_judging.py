"""Judging: rationale, timing and playback rules (pure and through the service), choices in item
labels, idempotency, closed assignments, revisions, drafts, and the schema's guarantees."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from raters.models import User
from tasks.rating import answers, flags, judging, routing
from tasks.rating.models import (
    AnswerInvalid, Assignment, Judgment, JudgmentRefused, NotFound, RatingError,
)
from tests.tasks.rating_factories import (  # noqa: F401
    T0, after, answer, make_item, observe, rating_project, rationale, store_for, wsession,
)

LONG = ("The left take holds the chase in one breath while the right one cuts away twice and "
        "loses the geography of the alley halfway through the run")


# -- pure rules -----------------------------------------------------------------------------

def test_words_ignore_punctuation_and_case_and_keep_contractions():
    assert answers.words("Don't STOP—the cut, at 0:12!") == ["don't", "stop", "the", "cut", "at", "0", "12"]
    assert answers.count_words("  ") == 0


def test_shingles_of_short_and_long_texts():
    assert answers.shingles("") == frozenset()
    assert answers.shingles("two words") == {("two", "words")}
    assert answers.shingles("a b c d") == {("a", "b", "c"), ("b", "c", "d")}


def test_jaccard_and_containment():
    a, b = answers.shingles("one two three four"), answers.shingles("two three four five")
    assert answers.jaccard(a, b) == pytest.approx(1 / 3)
    assert answers.jaccard(frozenset(), frozenset()) == 0.0
    assert answers.containment(a, a | b) == 1.0 and answers.containment(frozenset(), a) == 0.0


def test_near_copy_threshold_separates_a_retype_from_a_real_edit():
    earlier = [LONG]
    retyped = LONG.upper().replace(" and ", ", and ") + "."
    assert "Near-copy" in answers.rationale_problem(retyped, min_words=12, brief="", earlier=earlier)
    swapped = LONG.replace("left", "TMP").replace("right", "left").replace("TMP", "right")
    assert "Near-copy" in answers.rationale_problem(swapped, min_words=12, brief="", earlier=earlier)
    # Keeping only the opening clause and saying something new about this item is not a copy.
    edited = LONG.split(" while ")[0] + ", but the grade drifts green and the rain stops mid-shot for no reason"
    share = answers.coverage(answers.normalise(edited), answers.word_shingles(answers.normalise(LONG), answers.COPY_K))
    assert share < answers.NEAR_COPY_THRESHOLD
    assert answers.rationale_problem(edited, min_words=12, brief="", earlier=earlier) is None


def test_rationale_must_not_just_repeat_the_brief():
    brief = "A chase through a neon-lit alley, one take, with rain and reflections on every surface tonight"
    echo = "a chase through a neon-lit alley, one take, with rain and reflections on every surface"
    assert "Mostly the brief" in answers.rationale_problem(echo, min_words=5, brief=brief, earlier=[])
    assert answers.rationale_problem(LONG, min_words=5, brief=brief, earlier=[]) is None


def test_rationale_word_minimum_counts_words():
    assert "Too short: write at least 12 words" in answers.rationale_problem("too short", min_words=12, brief="", earlier=[])
    assert answers.rationale_problem("", min_words=0, brief="x", earlier=[""]) is None


def test_dwell_uses_the_longer_clip_for_media_and_the_sum_for_scripts():
    assert judging.required_dwell_s("video", 0.8, {"a": 10.0, "b": 20.0}) == pytest.approx(16.0)
    assert judging.required_dwell_s("audio", 0.5, {"a": 30.0, "b": None}) == pytest.approx(15.0)
    assert judging.required_dwell_s("script", 0.8, {"a": 10.0, "b": 20.0}) == pytest.approx(24.0)
    assert judging.required_dwell_s("video", 0.8, {"a": None, "b": None}) == 0.0


def test_playback_rule_is_per_output_and_skips_scripts_and_unknown_lengths():
    assert judging.required_playback_s("video", 0.8, {"a": 10.0, "b": None}) == {"a": pytest.approx(8.0)}
    assert judging.required_playback_s("script", 0.8, {"a": 10.0, "b": 12.0}) == {}


# -- the service ----------------------------------------------------------------------------

@pytest.fixture
def setup(make_user, wsession):
    """A pairwise video project (clips of 10 s and 20 s), a rater with an open assignment."""
    manager, rater, other = make_user("manager"), make_user("rater"), make_user("rater")
    project = rating_project(wsession, manager.id, members=[rater, other])
    item = make_item(wsession, project, durations=(10.0, 20.0))
    assignment = routing.next_assignment(wsession, project, wsession.get(User, rater.id), T0)
    wsession.commit()
    return {"project": project, "item": item, "assignment": assignment, "rater": rater, "other": other,
            "manager": manager}


def submit(session, assignment, data, *, key="key-1", now=None):
    return judging.submit_judgment(session, assignment, data, idempotency_key=key, now=now or after(assignment))


def n_judgments(session) -> int:
    return session.scalar(select(func.count()).select_from(Judgment))


def test_choice_and_playback_are_stored_in_item_labels(setup, wsession):
    assignment = setup["assignment"]
    assignment.left_label = "b"  # the item's "b" output was on the left of this rater's screen
    wsession.flush()
    data = answer(assignment, choice="left", playback={"left": 19.0, "right": 9.5}, paste_count=2, keystrokes=311)
    judgment, created = submit(wsession, assignment, data, now=T0 + timedelta(seconds=42.5))
    assert created and judgment.choice == "b" and judgment.strength == 2
    assert judgment.playback == {"b": 19.0, "a": 9.5}
    assert (judgment.paste_count, judgment.keystrokes, judgment.time_on_task_ms) == (2, 311, 42500)
    assert assignment.status == "submitted" and assignment.submitted_at == T0 + timedelta(seconds=42.5)
    second = _second(wsession, setup, left="a")
    other_side, _ = submit(wsession, second, answer(second, choice="left"), key="key-2")
    assert other_side.choice == "a"


def _second(session, setup, left=None):
    """The other rater's assignment on the same item (made once)."""
    existing = session.scalar(select(Assignment).where(Assignment.rater_id == setup["other"].id))
    if existing is None:
        existing = routing.next_assignment(session, setup["project"], session.get(User, setup["other"].id), T0)
    if left:
        existing.left_label = left
        session.flush()
    return existing


def test_tie_needs_no_strength(setup, wsession):
    data = answer(setup["assignment"], choice="tie", strength=3)
    judgment, _ = submit(wsession, setup["assignment"], data)
    assert (judgment.choice, judgment.strength) == ("tie", None)


@pytest.mark.parametrize("rule, change", [
    ("rationale", {"rationale": "Left is better."}),
    ("rationale", {"rationale": "{prompt} nicely"}),
    ("playback", {"playback": {"left": 3.0, "right": 3.0}}),
    ("timing", "early"),
])
def test_each_rule_refuses_and_keeps_the_answer_as_draft(setup, wsession, rule, change):
    assignment = setup["assignment"]
    data, now = answer(assignment), after(assignment)
    if change == "early":
        now = T0 + timedelta(seconds=10)  # the longer clip is 20 s: 16 s must pass
        data["playback"] = {"left": 8.0, "right": 8.0}  # no more than the time since serving
        observe(wsession, assignment, data["playback"])
    elif rule == "playback":  # what the server observed is short, and so is the claim
        observe(wsession, assignment, change["playback"])
        data.update(change)
    else:
        data.update({k: v.format(prompt=assignment.item.prompt) if isinstance(v, str) else v
                     for k, v in change.items()})
    with pytest.raises(JudgmentRefused) as refused:
        submit(wsession, assignment, data, now=now)
    # 10 s after serving, 16 s of the 20 s clip cannot have been observed either
    assert set(refused.value.details) == ({rule, "playback"} if change == "early" else {rule})
    assert refused.value.draft_saved and assignment.draft.answer == data
    assert assignment.status == "open" and n_judgments(wsession) == 0


def test_near_copy_of_own_earlier_rationale_is_refused_but_not_of_someone_elses(make_user, wsession):
    manager, rater, colleague = make_user("manager"), make_user("rater"), make_user("rater")
    project = rating_project(wsession, manager.id, members=[rater, colleague], overlap=2)
    make_item(wsession, project)
    make_item(wsession, project)
    mine = routing.next_assignment(wsession, project, wsession.get(User, rater.id), T0)
    submit(wsession, mine, answer(mine, rationale=LONG))
    theirs = routing.next_assignment(wsession, project, wsession.get(User, colleague.id), T0)
    assert theirs.item_id == mine.item_id
    with pytest.raises(JudgmentRefused) as refused:  # another rater's rationale on the same item
        submit(wsession, theirs, answer(theirs, rationale=LONG.replace("left", "right")), key="c-1")
    assert "Copy: 100% of the rationale repeats another rater's rationale" in refused.value.details["rationale"]
    submit(wsession, theirs, answer(theirs), key="c-2")
    elsewhere = routing.next_assignment(wsession, project, wsession.get(User, colleague.id), T0 + timedelta(minutes=11))
    assert elsewhere.item_id != mine.item_id
    submit(wsession, elsewhere, answer(elsewhere, rationale=LONG), key="c-3")  # not their own, another item
    again = routing.next_assignment(wsession, project, wsession.get(User, rater.id), T0 + timedelta(minutes=11))
    copied = answer(again, rationale=LONG + "!")
    with pytest.raises(JudgmentRefused) as refused:
        submit(wsession, again, copied, key="key-2")
    assert set(refused.value.details) == {"rationale"} and "Near-copy" in refused.value.details["rationale"]
    assert again.draft.answer == copied and again.status == "open"


def test_every_rule_broken_at_once_is_reported_by_field(setup, wsession):
    assignment = setup["assignment"]
    data = answer(assignment, rationale="fine", playback={"left": 1, "right": 1})
    with pytest.raises(JudgmentRefused) as refused:
        submit(wsession, assignment, data, now=T0 + timedelta(seconds=1))
    assert set(refused.value.details) == {"rationale", "timing", "playback"}
    assert refused.value.code == "judgment_refused"


def test_unknown_durations_skip_timing_and_playback(make_user, wsession):
    manager, rater = make_user("manager"), make_user("rater")
    project = rating_project(wsession, manager.id, members=[rater])
    make_item(wsession, project, durations=(None, None))
    assignment = routing.next_assignment(wsession, project, wsession.get(User, rater.id), T0)
    judgment, _ = submit(wsession, assignment, answer(assignment, playback={}), now=T0 + timedelta(seconds=1))
    assert judgment.id is not None


def test_scripts_need_their_summed_reading_time_and_no_playback(app, make_user, wsession):
    manager, rater = make_user("manager"), make_user("rater")
    project = rating_project(wsession, manager.id, modality="script", members=[rater])
    make_item(wsession, project, durations=(30.0, 50.0), texts=["INT. HARBOUR", "EXT. HARBOUR"], store=store_for(app))
    assignment = routing.next_assignment(wsession, project, wsession.get(User, rater.id), T0)
    data = answer(assignment, playback={})
    with pytest.raises(JudgmentRefused) as refused:
        submit(wsession, assignment, data, now=T0 + timedelta(seconds=60))  # 0.8 × 80 s = 64 s
    assert set(refused.value.details) == {"timing"}
    assert judging.rules_for(assignment)["min_playback_s"] == {}
    judgment, _ = submit(wsession, assignment, data, now=T0 + timedelta(seconds=65))
    assert judgment.playback is None


def test_malformed_answer_lists_every_problem_and_keeps_the_draft(setup, wsession):
    assignment = setup["assignment"]
    data = {"choice": "a", "strength": 7, "confidence": 0, "rationale": 5, "playback": {"top": 3},
            "scores": {"x": 1}}
    with pytest.raises(AnswerInvalid) as invalid:
        submit(wsession, assignment, data)
    assert set(invalid.value.details) == {"choice", "strength", "confidence", "rationale", "playback", "fields"}
    assert assignment.draft.answer == data


def test_rubric_scores_must_cover_every_criterion_on_its_scale(make_user, wsession):
    manager, rater = make_user("manager"), make_user("rater")
    project = rating_project(wsession, manager.id, kind="rubric", members=[rater])
    make_item(wsession, project, durations=(10.0,))
    assignment = routing.next_assignment(wsession, project, wsession.get(User, rater.id), T0)
    with pytest.raises(AnswerInvalid) as invalid:
        submit(wsession, assignment, answer(assignment, scores={"coherence": 9, "vibes": 2}))
    assert set(invalid.value.details) == {"scores", "scores.coherence"}
    judgment, _ = submit(wsession, assignment, answer(assignment, playback={"output": 10.0}), key="key-2")
    assert judgment.scores == {"coherence": 5} and judgment.choice is None and judgment.playback == {"a": 10.0}


def test_a_retried_submission_returns_the_same_judgment_and_stores_one(setup, wsession):
    assignment = setup["assignment"]
    data = answer(assignment)
    results = [submit(wsession, assignment, data, key="retry-me") for _ in range(5)]
    assert [created for _, created in results] == [True, False, False, False, False]
    assert len({j.id for j, _ in results}) == 1 and n_judgments(wsession) == 1


def test_the_same_key_with_another_body_is_a_conflict(setup, wsession):
    assignment = setup["assignment"]
    submit(wsession, assignment, answer(assignment), key="once")
    with pytest.raises(RatingError) as conflict:
        submit(wsession, assignment, answer(assignment, choice="right"), key="once")
    assert (conflict.value.code, conflict.value.status) == ("idempotency_key_reused", 409)


@pytest.mark.parametrize("key", [None, "", " ", "x" * 101, "tab\there"])
def test_an_idempotency_key_is_required(setup, wsession, key):
    with pytest.raises(RatingError) as missing:
        submit(wsession, setup["assignment"], answer(setup["assignment"]), key=key)
    assert (missing.value.code, missing.value.status) == ("idempotency_key_required", 400)


def test_closed_assignments_take_no_judgment(setup, wsession):
    assignment = setup["assignment"]
    with pytest.raises(RatingError, match="expired") as expired:
        submit(wsession, assignment, answer(assignment), now=T0 + timedelta(hours=1))
    assert expired.value.code == "assignment_expired"
    submit(wsession, assignment, answer(assignment), key="k1")
    with pytest.raises(RatingError) as twice:
        submit(wsession, assignment, answer(assignment, choice="right"), key="k2")
    assert twice.value.code == "already_judged"
    skipped = _second(wsession, setup)
    judging.skip_assignment(wsession, skipped, "I know the director", now=T0)
    with pytest.raises(RatingError) as after_skip:
        submit(wsession, skipped, answer(skipped), key="k3")
    assert after_skip.value.code == "assignment_skipped" and skipped.skip_reason == "I know the director"


def test_another_raters_assignment_is_not_found(setup, wsession):
    with pytest.raises(NotFound):
        judging.assignment_for(wsession, setup["assignment"].id, wsession.get(User, setup["other"].id))
    assert judging.assignment_for(wsession, setup["assignment"].id, wsession.get(User, setup["rater"].id))


def test_a_revision_supersedes_the_current_judgment_within_the_window(setup, wsession):
    assignment = setup["assignment"]
    first, _ = submit(wsession, assignment, answer(assignment, rationale=LONG))
    revised_text = LONG + " and on reflection the right one is stronger"
    later = after(assignment, 3600)
    revision = answer(assignment, choice="right", rationale=revised_text)
    del revision["playback"]
    second, created = judging.revise_judgment(wsession, assignment, revision, idempotency_key="rev-1", now=later)
    assert created and second.supersedes_id == first.id and first.superseded_at == later
    assert second.playback == first.playback  # kept from the first report
    assert second.choice == assignment.right_label
    assert [j.id for j in wsession.scalars(select(Judgment).where(Judgment.superseded_at.is_(None)))] == [second.id]
    replay, again = judging.revise_judgment(wsession, assignment, dict(revision), idempotency_key="rev-1", now=later)
    assert replay.id == second.id and not again


def test_no_revision_after_the_window_or_before_a_judgment(setup, wsession):
    assignment = setup["assignment"]
    with pytest.raises(RatingError) as nothing:
        judging.revise_judgment(wsession, assignment, answer(assignment), idempotency_key="r0", now=after(assignment))
    assert nothing.value.code == "not_judged"
    submit(wsession, assignment, answer(assignment))
    too_late = assignment.submitted_at + timedelta(hours=24, seconds=1)
    with pytest.raises(RatingError) as closed:
        judging.revise_judgment(wsession, assignment, answer(assignment, rationale=LONG), idempotency_key="r1",
                                now=too_late)
    assert closed.value.code == "revision_window_closed"


def test_the_schema_keeps_one_current_judgment_per_rater_and_item(setup, wsession):
    assignment = setup["assignment"]
    first, _ = submit(wsession, assignment, answer(assignment))
    wsession.commit()
    duplicate = Judgment(assignment_id=assignment.id, project_id=first.project_id, item_id=first.item_id,
                         rater_id=first.rater_id, choice="a", strength=1, rationale="x", confidence=3,
                         source="live", created_at=T0)
    wsession.add(duplicate)
    with pytest.raises(IntegrityError):
        wsession.flush()


def test_the_schema_refuses_an_item_twice_to_a_rater_and_two_open_assignments(setup, wsession):
    assignment = setup["assignment"]
    twin = Assignment(project_id=assignment.project_id, item_id=assignment.item_id, rater_id=assignment.rater_id,
                      served_at=T0, expires_at=T0 + timedelta(minutes=5), left_label="a", status="expired")
    wsession.add(twin)
    with pytest.raises(IntegrityError):
        wsession.flush()
    wsession.rollback()
    other_item = make_item(wsession, setup["project"])
    second_open = Assignment(project_id=assignment.project_id, item_id=other_item.id, rater_id=assignment.rater_id,
                             served_at=T0, expires_at=T0 + timedelta(minutes=5), left_label="a", status="open")
    wsession.add(second_open)
    with pytest.raises(IntegrityError):
        wsession.flush()


def test_a_draft_save_renews_the_hold_and_needs_an_open_assignment(setup, wsession):
    assignment = setup["assignment"]
    draft = judging.save_draft(wsession, assignment, {"choice": "left", "rationale": "half a thought"},
                               now=T0 + timedelta(minutes=25), ttl=timedelta(minutes=30))
    assert draft.answer["rationale"] == "half a thought"
    assert assignment.expires_at == T0 + timedelta(minutes=55)
    judging.save_draft(wsession, assignment, {"choice": "right"}, now=T0 + timedelta(minutes=26), ttl=timedelta(minutes=30))
    assert assignment.draft.answer == {"choice": "right"}
    with pytest.raises(AnswerInvalid):
        judging.save_draft(wsession, assignment, {"blob": "x" * (judging.MAX_DRAFT_BYTES + 1)}, now=T0, ttl=timedelta(minutes=30))
    submit(wsession, assignment, answer(assignment))
    assert assignment.draft is None  # a judged assignment keeps no draft
    with pytest.raises(RatingError) as closed:
        judging.save_draft(wsession, assignment, {}, now=after(assignment), ttl=timedelta(minutes=30))
    assert closed.value.code == "already_judged"


def test_skip_and_flag_need_a_reason(setup, wsession):
    with pytest.raises(AnswerInvalid):
        judging.skip_assignment(wsession, setup["assignment"], "  ", now=T0)
    with pytest.raises(AnswerInvalid) as bad_flag:
        flags.flag_assignment(wsession, setup["assignment"], "ugly", "", now=T0)
    assert set(bad_flag.value.details) == {"kind", "reason"}


def test_a_flag_skips_the_open_assignment(setup, wsession):
    flag = flags.flag_assignment(wsession, setup["assignment"], "unsafe", "graphic injury at 0:04", now=T0)
    assert flag.item_id == setup["item"].id and flag.resolved_at is None
    assert setup["assignment"].status == "skipped"
    assert setup["assignment"].skip_reason == "flagged as unsafe: graphic injury at 0:04"


def test_rationale_helper_gives_distinct_texts():
    assert answers.jaccard(answers.shingles(rationale(1)), answers.shingles(rationale(2))) < 0.2


def test_revisable_assignments_lists_judgments_still_inside_their_window(setup, wsession):
    assignment, rater = setup["assignment"], wsession.get(User, setup["rater"].id)
    assert judging.revisable_assignments(wsession, rater, after(assignment)) == []
    submit(wsession, assignment, answer(assignment))
    until = assignment.submitted_at + timedelta(hours=24)
    assert judging.revisable_assignments(wsession, rater, until - timedelta(seconds=1)) == [(assignment, until)]
    assert judging.revisable_assignments(wsession, rater, until + timedelta(seconds=1)) == []
    setup["project"].revision_window_h = 0
    assert judging.revisable_assignments(wsession, rater, after(assignment)) == []
