"""Judging: the rules a judgment must meet, and the writes around an assignment (submit,
revise, draft, skip, flag).

Rules (server-side; ``rules_for`` gives the page the same numbers to show live):
- Rationale effort (``tasks.rating.answers.rationale_problem``, thresholds documented there): at
  least ``min_rationale_words`` words; no filler (too few different words, a word or phrase
  repeated in a row); not mostly the brief or the rubric's level descriptions; not a near-copy of
  one of the rater's own last 50 rationales in the project, nor a copy of another rater's
  rationale on the same item — all compared with side words and model names normalised.
- Timing: refused sooner than ``min_media_fraction`` × the media's duration after serving, by the
  server clock. Video and audio play synchronised side by side, so the pair needs the *longer*
  duration; two scripts are read one after the other, so they need the *sum* of their reading
  times (stored on the asset at import, 4 words a second).
- Playback (video, audio): only what the server observed counts (``tasks.rating.playback``:
  the page's heartbeats, or the media bytes an API client fetched for the assignment). Each
  output's observed seconds ≥ ``min_media_fraction`` × its duration; a client's claim above the
  clip's duration, above the time since serving, or above the observation is refused. The
  judgment stores the observed seconds. Scripts are read, not played: no playback rule. The page
  shows where each output stands by the server's count (``playback_standing``, in every
  heartbeat's answer), judged by the same ``playback_counts`` as a submission.
- An output whose duration is unknown is left out of both rules.
- A refused (or malformed) answer is saved as the assignment's draft; the caller must keep that
  write although it answers 4xx (``db.keep_on_refusal()``, see ``RatingError.draft_saved``).

Idempotency: a submission carries a key, unique per rater. A retry with the same key and the
same body returns the stored judgment (``created`` False) and writes nothing; the same key with
another body is refused (409 ``idempotency_key_reused``). A refused answer does not use its key.

Revision: within the project's ``revision_window_h`` of the first submission, a rater may revise
their judgment: a new row superseding the current one. The rationale rules apply again (the
judgment's own earlier versions are not counted as copies); timing and playback do not (the
media was watched before the first submission), and a revision without playback keeps the
previous report. ``time_on_task_ms`` of a revision is still measured from serving.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from sqlalchemy import and_, bindparam, cast, func, literal, null, select, true, union_all
from sqlalchemy.orm import Session, contains_eager, joinedload
from sqlalchemy.orm.attributes import set_committed_value

from ops.tracing import current_request_id
from raters.models import User
from tasks.rating import notes as notes_rules
from tasks.rating import overlap, playback, routing, standing
from tasks.rating.answers import (
    BRIEF_COPY_THRESHOLD, MAX_RATIONALE_CHARS, NEAR_COPY_THRESHOLD, RECENT_RATIONALES, explanation, is_whole,
    rationale_problem, scores_problems,
)
from tasks.catalogue.models import Item, Project, ProjectMember
from tasks.catalogue.projects import SETTINGS
from tasks.catalogue.util import script_text
from tasks.rating.models import (
    AnswerInvalid, Assignment, Draft, Judgment, JudgmentRefused, NotFound, RatingError,
)

ANSWER_FIELDS = {"choice", "strength", "scores", "confidence", "rationale", "playback", "paste_count",
                 "keystrokes", "notes", "criteria"}
MAX_DRAFT_BYTES = 128 * 1024  # room for 50 notes of 1000 characters and their quotes
MAX_KEY_LENGTH = 100
MAX_REASON_CHARS = 2000
MAX_REVISION_WINDOW_H = int(SETTINGS["revision_window_h"][3])


@dataclass
class Answer:
    """A judgment's content in the item's labels."""
    choice: str | None
    strength: int | None
    scores: dict | None
    confidence: int
    rationale: str
    playback: dict | None  # {label: seconds}
    paste_count: int
    keystrokes: int | None
    notes: list | None = None  # tasks.rating.notes, stored shape
    criteria: dict | None = None  # {key: {choice: a|b|tie, strength}}


# -- look-ups -------------------------------------------------------------------------------

@cache
def _assignment_with_membership(for_update: bool, shown: bool):
    rater_id = bindparam("rater_id")
    query = (select(Assignment, ProjectMember).join(Assignment.project)
             .outerjoin(ProjectMember, and_(ProjectMember.project_id == Assignment.project_id,
                                            ProjectMember.user_id == rater_id))
             .options(contains_eager(Assignment.project))
             .where(Assignment.id == bindparam("assignment_id"), Assignment.rater_id == rater_id))
    if for_update:
        query = (query.options(joinedload(Assignment.draft)).with_for_update(of=Assignment)
                 .execution_options(populate_existing=True))
    if shown:
        query = query.options(joinedload(Assignment.item).options(routing.SERVED_WITH), joinedload(Assignment.draft),
                              joinedload(Assignment.observations))
    return query


def assignment_for(session: Session, assignment_id: int, rater: User, *, for_update: bool = False,
                   shown: bool = False) -> Assignment:
    """The rater's own assignment; anyone else's is NotFound (its existence is not revealed).

    One read: the assignment, its project, and the rater's membership row (whether they are
    still a member, kept on the project for the access check that follows; the row itself stays
    in the session for the standing rules a submit applies). ``for_update``: read it under the
    writer lock, with its draft, as a judgment write takes it first (``_lock`` then reads only
    the item), so a submit does not read the assignment twice. ``shown``: read, in the same
    statement, what the rating page shows with it (its item's outputs and their assets, its
    draft, the playback the server observed)."""
    row = session.execute(_assignment_with_membership(for_update, shown),
                          {"assignment_id": assignment_id, "rater_id": rater.id}).unique().first()
    if row is None:
        raise NotFound(f"There is no assignment {assignment_id}.")
    assignment, member = row
    assignment.project.remember_membership(rater.id, member)
    if for_update:
        assignment.__dict__[_LOCKED_IN] = session.get_transaction()
    return assignment


def current_judgment(session: Session, assignment: Assignment) -> Judgment | None:
    return session.scalar(select(Judgment).where(Judgment.assignment_id == assignment.id,
                                                 Judgment.superseded_at.is_(None)))


def is_expired(assignment: Assignment, now: datetime) -> bool:
    return assignment.status == "expired" or (assignment.status == "open" and now >= assignment.expires_at)


def revisable_until(assignment: Assignment) -> datetime | None:
    window = assignment.project.revision_window_h
    if assignment.submitted_at is None or not window:
        return None
    return assignment.submitted_at + timedelta(hours=window)


# -- the rules ------------------------------------------------------------------------------

def durations(assignment: Assignment) -> dict[str, float | None]:
    """Each output's duration in seconds (reading time for scripts), by item label."""
    return {o.label: o.asset.duration_s for o in assignment.item.outputs}


def required_dwell_s(modality: str, fraction: float, by_label: dict[str, float | None]) -> float:
    """Seconds that must pass between serving and submitting (unknown durations left out)."""
    known = [d for d in by_label.values() if d]
    if not known:
        return 0.0
    return fraction * (sum(known) if modality == "script" else max(known))


def required_playback_s(modality: str, fraction: float, by_label: dict[str, float | None]) -> dict[str, float]:
    """Seconds each output must have been played, by label (none for scripts or unknown length)."""
    if modality == "script":
        return {}
    return {label: fraction * d for label, d in by_label.items() if d}


@dataclass(frozen=True)
class PlaybackCount:
    """One output against the playback rule: the seconds the server counted (observed) and the
    seconds the rule needs."""
    counted_s: float
    required_s: float

    @property
    def met(self) -> bool:
        return self.counted_s + 1e-6 >= self.required_s


def playback_counts(assignment: Assignment, seen: dict[str, float]) -> dict[str, PlaybackCount]:
    """Each output the playback rule applies to (by label) with what the server observed
    (``seen``: ``playback.observed``) and what the rule needs. The one place the rule's threshold
    is applied: a submission's refusal (``playback_problem``) and the page's checklist
    (``playback_standing``, in every heartbeat's answer) both read it."""
    project = assignment.project
    needed = required_playback_s(project.modality, project.min_media_fraction, durations(assignment))
    return {label: PlaybackCount(seen.get(label, 0.0), need) for label, need in sorted(needed.items())}


def playback_standing(assignment: Assignment, seen: dict[str, float]) -> dict[str, dict]:
    """The playback rule as the rating page shows it, by screen side: ``counted_s`` (what the
    server observed so far), ``required_s``, and ``met`` (a submission now would pass the rule's
    count; its last heartbeat can only add to it). Empty for scripts."""
    by_side = {assignment.side_of(label): c for label, c in playback_counts(assignment, seen).items()}
    return {side: {"counted_s": round(c.counted_s, 3), "required_s": round(c.required_s, 3), "met": c.met}
            for side, c in sorted(by_side.items())}  # left before right


def rules_for(assignment: Assignment) -> dict:
    """The rules in the rater's screen terms, for the page to show and enforce live."""
    project = assignment.project
    by_label = durations(assignment)
    dwell = required_dwell_s(project.modality, project.min_media_fraction, by_label)
    playback = required_playback_s(project.modality, project.min_media_fraction, by_label)
    return {
        "min_rationale_words": project.min_rationale_words,
        "min_media_fraction": project.min_media_fraction,
        "earliest_submit_s": round(dwell, 3),
        "earliest_submit_at": (assignment.served_at + timedelta(seconds=dwell)).isoformat(),
        "min_playback_s": {assignment.side_of(label): round(s, 3) for label, s in sorted(playback.items())},
        "require_note": project.require_note,
        "max_notes": notes_rules.MAX_NOTES,
        "max_note_chars": notes_rules.MAX_NOTE_CHARS,
        "near_copy_threshold": NEAR_COPY_THRESHOLD,
        "brief_copy_threshold": BRIEF_COPY_THRESHOLD,
        "recent_rationales_compared": RECENT_RATIONALES,
        "playback_observed": ("Only playback the server observed counts: the rating page's player heartbeats, or, "
                              "for API clients, the bytes of each output's media_url fetched with your token "
                              "(counted for no more than the time since the first byte was served)."),
    }


def parse_answer(assignment: Assignment, data) -> Answer:
    """The client's answer (screen sides) checked and turned into item labels; AnswerInvalid
    lists every problem by field."""
    if not isinstance(data, dict):
        raise AnswerInvalid("The answer must be a JSON object.", {"answer": "must be an object"})
    project = assignment.project
    problems: dict[str, str] = {}
    unknown = sorted(set(data) - ANSWER_FIELDS) + [
        f for f in (("scores",) if project.kind == "pairwise" else ("choice", "strength"))
        if data.get(f) is not None]
    if unknown:
        problems["fields"] = f"not part of a {project.kind} judgment: {', '.join(unknown)}"
    choice = strength = scores = None
    if project.kind == "pairwise":
        side = data.get("choice")
        if side not in ("left", "right", "tie"):
            problems["choice"] = "choose left, right or tie"
        else:
            choice = "tie" if side == "tie" else assignment.label_of(side)
        strength = data.get("strength")
        if choice == "tie":
            strength = None
        elif not is_whole(strength, 1, 3):
            problems["strength"] = "how much better: 1 (slightly), 2 (clearly) or 3 (much)"
    else:
        scores = data.get("scores")
        problems.update(scores_problems(scores, project.rubric or []))
    confidence = data.get("confidence")
    if not is_whole(confidence, 1, 5):
        problems["confidence"] = "how sure you are, from 1 to 5"
    rationale = data.get("rationale", "")
    if not isinstance(rationale, str):
        problems["rationale"] = "must be text"
    elif len(rationale) > MAX_RATIONALE_CHARS:
        problems["rationale"] = f"at most {MAX_RATIONALE_CHARS} characters"
    playback = _playback_labels(assignment, data.get("playback"), problems)
    notes = None
    if data.get("notes") not in (None, []):  # the sides (a script's lines) are read only for notes
        try:
            notes = notes_rules.parse_notes(data["notes"], note_sides(assignment), project.modality) or None
        except notes_rules.NoteError as exc:
            problems["notes"] = str(exc)
    criteria, criteria_problems = notes_rules.parse_criteria(
        data.get("criteria"), project.pairwise_criteria if project.kind == "pairwise" else [], assignment.label_of)
    problems.update(criteria_problems)
    counters = {}
    for name in ("paste_count", "keystrokes"):
        value = data.get(name)
        if value is not None and not is_whole(value, 0, 10**7):
            problems[name] = "a count (a whole number, 0 or more)"
        counters[name] = value
    if problems:
        raise AnswerInvalid("The answer is incomplete or malformed.", problems)
    return Answer(choice, strength, scores, confidence, rationale.strip(), playback,
                  counters["paste_count"] or 0, counters["keystrokes"], notes, criteria)


def output_sides(item: Item) -> dict[str, notes_rules.Side]:
    """An item's outputs by label as the note rules need them (duration, frame rate, and a
    script's number of lines)."""
    sides = {}
    for output in item.outputs:
        asset = output.asset
        if asset.media_kind == "script":
            sides[output.label] = notes_rules.Side(output.label, n_lines=max(1, len(script_text(asset).splitlines())))
        else:
            sides[output.label] = notes_rules.Side(output.label, asset.duration_s, asset.frame_rate)
    return sides


def note_sides(assignment: Assignment) -> dict[str, notes_rules.Side]:
    """The outputs by the side the rater sees them on."""
    by_label = output_sides(assignment.item)
    sides = ("left", "right") if assignment.project.kind == "pairwise" else ("output",)
    return {side: by_label[assignment.label_of(side)] for side in sides}


def _playback_labels(assignment: Assignment, playback, problems: dict) -> dict | None:
    if playback is None:
        return None
    sides = ("left", "right") if assignment.project.kind == "pairwise" else ("output",)
    if not isinstance(playback, dict) or set(playback) - set(sides) or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and 0 <= v <= 86400 for v in playback.values()):
        problems["playback"] = f"seconds played per output: {{{', '.join(f'“{s}”: 12.5' for s in sides)}}}"
        return None
    return {assignment.label_of(side): float(value) for side, value in playback.items()} or None


@dataclass
class Compared:
    """What a new explanation is compared with (``compared_rationales``), and the other raters'
    current answers on the item read in the same statement: with the item locked, the item's
    panel is those and the new judgment (``overlap.refresh_panel(answers=...)``)."""
    earlier: list[str]  # the rater's own recent explanations in the project
    others: list[str]  # other raters' current explanations on the item
    other_answers: list[dict]  # their choices and scores ({"choice", "scores"})
    # When the rater's live judgments among ``earlier`` were made, newest first (the burst rule's
    # window, ``standing.after_submit``), and whether ``earlier`` holds all of the rater's judgments.
    earlier_live_at: list[datetime]
    earlier_complete: bool


@cache
def _rationales_compared(revising: bool):
    rater_id = bindparam("rater_id")
    own = (select(literal("own").label("whose"), Judgment.rationale, Judgment.notes, Judgment.created_at,
                  Judgment.source)
           .where(Judgment.project_id == bindparam("project_id"), Judgment.rater_id == rater_id,
                  Judgment.assignment_id.is_distinct_from(bindparam("assignment_id")) if revising else true())
           .order_by(Judgment.id.desc()).limit(RECENT_RATIONALES).subquery())
    others = select(literal("other").label("whose"), Judgment.rationale, Judgment.notes, Judgment.choice,
                    Judgment.scores, cast(null(), Judgment.created_at.type), cast(null(), Judgment.source.type)).where(
        Judgment.item_id == bindparam("item_id"), Judgment.rater_id != rater_id, Judgment.superseded_at.is_(None))
    return union_all(select(own.c.whose, own.c.rationale, own.c.notes, cast(null(), Judgment.choice.type),
                            cast(null(), Judgment.scores.type), own.c.created_at, own.c.source),
                     others)


def compared_rationales(session: Session, assignment: Assignment, *, revising: bool) -> Compared:
    """What a new explanation (rationale with its notes, ``answers.explanation``) is compared with,
    in one read through two bounded index scans: the rater's own last ``RECENT_RATIONALES`` in the
    project (``ix_judgments_project_rater_id``; not the judgment's own earlier versions when
    revising) and other raters' current ones on the item (``ix_judgments_item_id``: a panel's
    worth), with their choices and scores."""
    rows = session.execute(_rationales_compared(revising), {
        "project_id": assignment.project_id, "rater_id": assignment.rater_id, "item_id": assignment.item_id,
        "assignment_id": assignment.id}).all()
    side_words = [o.model for o in assignment.item.outputs]
    compared = Compared([], [], [], [], False)
    for whose, rationale, notes, choice, scores, created_at, source in rows:
        text = explanation(rationale, notes_rules.note_texts(notes), side_words)
        if whose == "own":
            compared.earlier.append(text)
            if source == "live":
                compared.earlier_live_at.append(created_at)
        else:
            compared.others.append(text)
            compared.other_answers.append({"choice": choice, "scores": scores})
    compared.earlier_complete = len(compared.earlier) < RECENT_RATIONALES
    return compared


def rule_problems(session: Session, assignment: Assignment, answer: Answer, now: datetime, *,
                  revising: Judgment | None = None, seen: dict[str, float] | None = None,
                  compared: Compared | None = None) -> dict[str, str]:
    """Which quality rules the answer breaks, by field (``rationale``, ``timing``, ``playback``,
    ``notes``). ``seen``: the observed playback, ``compared``: the compared rationales, when the
    caller has read them already."""
    project, problems = assignment.project, {}
    side_words = [o.model for o in assignment.item.outputs]
    if compared is None:
        compared = compared_rationales(session, assignment, revising=revising is not None)
    earlier, others = compared.earlier, compared.others
    levels = [text for c in project.rubric or [] for text in (c.get("levels") or {}).values()]
    message = rationale_problem(answer.rationale, min_words=project.min_rationale_words,
                                brief=assignment.item.prompt, earlier=earlier, others=others, levels=levels,
                                side_words=side_words, notes=notes_rules.note_texts(answer.notes))
    if message:
        problems["rationale"] = message
    if project.require_note and not answer.notes:
        anchor = "line note (select a line of a script)" if project.modality == "script" else "time-coded note"
        problems["notes"] = f"This project asks for at least one {anchor} with every judgment."
    if revising is not None:
        return problems
    by_label = durations(assignment)
    elapsed = (now - assignment.served_at).total_seconds()
    dwell = required_dwell_s(project.modality, project.min_media_fraction, by_label)
    if elapsed < dwell:
        problems["timing"] = (f"Submitted {elapsed:.0f} s after the task opened; the media needs at least "
                              f"{dwell:.0f} s ({project.min_media_fraction:.0%} of its length). Keep watching.")
    if seen is None:
        seen = playback.observed(session, assignment, now)
    message = playback_problem(assignment, answer, seen, elapsed)
    if message:
        problems["playback"] = message
    return problems


def playback_problem(assignment: Assignment, answer: Answer, seen: dict[str, float], elapsed: float) -> str | None:
    """Why the playback is refused (claims beyond the media, the clock or the observation; too
    little observed), or None. ``seen``: server-observed seconds by label (``tasks.rating.playback``)."""
    project = assignment.project
    if project.modality == "script":
        return None
    by_label = durations(assignment)
    side = {label: assignment.side_of(label).capitalize() for label in by_label}
    claims, tolerance = answer.playback or {}, playback.CLAIM_TOLERANCE_S
    for label, claimed in sorted(claims.items()):
        duration = by_label.get(label)
        if duration and claimed > duration + 0.5:
            return (f"{side[label]}: {claimed:.1f} s played was claimed, but the clip is {duration:.1f} s long. "
                    "Only playback the server observed counts.")
        if claimed > elapsed + tolerance:
            return (f"{side[label]}: {claimed:.1f} s played was claimed, but the task was served only "
                    f"{elapsed:.1f} s ago. Only playback the server observed counts.")
        if claimed > seen.get(label, 0.0) + tolerance:
            return (f"{side[label]}: {claimed:.1f} s played was claimed, but the server observed "
                    f"{seen.get(label, 0.0):.1f} s (the page's player reports, or the media fetched for this task). "
                    "Play it here, or fetch the media with your token.")
    short = [f"{side[label]} {count.counted_s:.1f} s of {count.required_s:.1f} s"
             for label, count in playback_counts(assignment, seen).items() if not count.met]
    if short:
        return (f"Play at least {project.min_media_fraction:.0%} of each output before judging "
                f"(observed by the server: {'; '.join(short)}).")
    return None


# -- writes ---------------------------------------------------------------------------------

def _fingerprint(assignment: Assignment, operation: str, data) -> str:
    body = json.dumps({"assignment": assignment.id, "operation": operation, "answer": data},
                      sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(body.encode()).hexdigest()


def _check_key(key) -> str:
    if not isinstance(key, str) or not key.strip() or len(key.strip()) > MAX_KEY_LENGTH or not key.strip().isprintable():
        raise RatingError(f"Send an Idempotency-Key (1–{MAX_KEY_LENGTH} printable characters, e.g. a UUID).",
                          {"idempotency_key": "required"}, code="idempotency_key_required", status=400)
    return key.strip()


_LOCKED_IN = "_locked_in_transaction"  # on an assignment read under its lock: in which transaction


@cache
def _item_with_replay():
    stored = (select(Judgment.id).where(Judgment.rater_id == bindparam("rater_id"),
                                        Judgment.idempotency_key == bindparam("key")).scalar_subquery())
    return (select(Item, stored).where(Item.id == bindparam("item_id")).options(routing.SERVED_WITH)
            .with_for_update(of=Item).execution_options(populate_existing=True))


def _lock(session: Session, assignment: Assignment, key: str) -> int | None:
    """Lock the assignment and then its item (every writer of an item's panel does the same),
    re-reading both under their locks: the assignment with its draft and project (unless
    ``assignment_for(for_update=True)`` read it so in this transaction), the item with its
    outputs and their assets (what the rules read next), and in the item's statement the id of
    the rater's judgment stored under ``key`` (a replay), if any — one or two statements."""
    if assignment.__dict__.get(_LOCKED_IN) is not session.get_transaction():
        session.scalars(select(Assignment).where(Assignment.id == assignment.id)
                        .options(joinedload(Assignment.project), joinedload(Assignment.draft))
                        .with_for_update(of=Assignment).execution_options(populate_existing=True)).unique().one()
    item, replay_id = session.execute(_item_with_replay(), {"item_id": assignment.item_id, "key": key,
                                                            "rater_id": assignment.rater_id}).unique().one()
    set_committed_value(assignment, "item", item)
    return replay_id


def _replay(session: Session, stored_id: int | None, fingerprint: str) -> Judgment | None:
    if stored_id is None:
        return None
    stored = session.get(Judgment, stored_id)
    if stored.request_sha256 != fingerprint:
        raise RatingError("This Idempotency-Key was already used for a different request.",
                          {"idempotency_key": "already used"}, code="idempotency_key_reused")
    return stored


def _require_open(assignment: Assignment, now: datetime) -> None:
    if assignment.status == "submitted":
        raise RatingError("This assignment is already judged; revise the judgment instead.", code="already_judged")
    if assignment.status == "skipped":
        raise RatingError("This assignment was skipped.", code="assignment_skipped")
    if is_expired(assignment, now):  # closed under the rater (consent withdrawn, item dropped): say why
        reason = assignment.skip_reason if assignment.status == "expired" else None
        raise RatingError(reason or "This assignment expired; ask for the next one.", code="assignment_expired")


def _draft_size(data) -> int | None:
    """The draft's size as stored JSON, or None when JSON cannot store it (NaN, Infinity:
    PostgreSQL's JSON refuses them)."""
    try:
        return len(json.dumps(data, default=str, allow_nan=False))
    except ValueError:
        return None


def _refuse(session: Session, assignment: Assignment, data, error: RatingError, now: datetime) -> RatingError:
    """Keep the refused answer as the draft (when it fits) and mark the error accordingly."""
    size = _draft_size(data)
    if isinstance(data, dict) and size is not None and size <= MAX_DRAFT_BYTES:
        _put_draft(session, assignment, data, now)
        error.draft_saved = True
    return error


def _begin(session: Session, assignment: Assignment, operation: str, data,
           idempotency_key) -> tuple[str, str, Judgment | None]:
    """What every judgment write starts with: a valid key, the writer lock on the assignment,
    the request's fingerprint, and the judgment already stored under that key (a replay)."""
    key = _check_key(idempotency_key)
    routing.require_serialised(session)
    stored_id = _lock(session, assignment, key)
    fingerprint = _fingerprint(assignment, operation, data)
    return key, fingerprint, _replay(session, stored_id, fingerprint)


def submit_judgment(session: Session, assignment: Assignment, data, *, idempotency_key: str,
                    now: datetime, last_beat: dict[str, tuple[float, bool]] | None = None) -> tuple[Judgment, bool]:
    """Judge an open assignment with the client's answer (screen terms). Returns (judgment,
    created): ``created`` is False for an idempotent replay. Raises AnswerInvalid/JudgmentRefused
    (422, draft kept) or RatingError (409: ``already_judged``, ``assignment_skipped``,
    ``assignment_expired``, ``idempotency_key_reused``; 400 ``idempotency_key_required``).

    ``last_beat``: the page's players as the form was sent (``playback.parse_heartbeat``), recorded
    under the locks the submission takes, before the rules read what the server observed."""
    key, fingerprint, replayed = _begin(session, assignment, "submit", data, idempotency_key)
    if replayed is not None:
        return replayed, False
    _require_open(assignment, now)
    rows = playback.heartbeat(session, assignment, last_beat, now, locked=True) if last_beat else None
    try:
        answer = parse_answer(assignment, data)
    except AnswerInvalid as exc:
        raise _refuse(session, assignment, data, exc, now) from None
    seen = playback.observed(session, assignment, now, rows) if assignment.project.modality != "script" else {}
    compared = compared_rationales(session, assignment, revising=False)
    problems = rule_problems(session, assignment, answer, now, seen=seen, compared=compared)
    if problems:
        raise _refuse(session, assignment, data, JudgmentRefused(
            "The judgment was refused: " + " ".join(problems.values()), problems), now)
    if assignment.project.modality != "script":  # what the server saw, not what was claimed
        answer.playback = {k: v for k, v in seen.items() if v} or None
    judgment = _write(session, assignment, answer, key, fingerprint, now)
    assignment.status, assignment.submitted_at, assignment.closed_at = "submitted", now, now
    assignment.draft = None  # a judged assignment keeps no draft (delete-orphan)
    session.flush()
    panel = overlap.refresh_panel(session, assignment.item, answers=_panel_answers(compared, judgment))
    routing.judgment_written(session, assignment.project, assignment.item_id, panel.target if panel else None,
                             closed_assignment=True)
    standing.after_submit(session, assignment, judgment, now,  # qualification, auto-pause rules
                          earlier_live_at=compared.earlier_live_at, earlier_complete=compared.earlier_complete)
    return judgment, True


def revise_judgment(session: Session, assignment: Assignment, data, *, idempotency_key: str,
                    now: datetime) -> tuple[Judgment, bool]:
    """Write a new judgment superseding the assignment's current one, within the revision
    window. Returns (judgment, created). Raises as ``submit_judgment``, plus 409
    ``not_judged`` and ``revision_window_closed``."""
    key, fingerprint, replayed = _begin(session, assignment, "revise", data, idempotency_key)
    if replayed is not None:
        return replayed, False
    current = current_judgment(session, assignment)
    if assignment.status != "submitted" or current is None:
        raise RatingError("There is no judgment to revise on this assignment yet.", code="not_judged")
    until = revisable_until(assignment)
    if until is None or now > until:
        raise RatingError("The time to revise this judgment has passed.", code="revision_window_closed")
    answer = parse_answer(assignment, data)
    compared = compared_rationales(session, assignment, revising=True)
    problems = rule_problems(session, assignment, answer, now, revising=current, compared=compared)
    if problems:
        raise JudgmentRefused("The revision was refused: " + " ".join(problems.values()), problems)
    if answer.playback is None:
        answer.playback = current.playback
    current.superseded_at = now
    session.flush()  # the old row leaves the "current" unique index before the new one enters
    judgment = _write(session, assignment, answer, key, fingerprint, now, supersedes=current)
    panel = overlap.refresh_panel(session, assignment.item, answers=_panel_answers(compared, judgment))
    routing.judgment_written(session, assignment.project, assignment.item_id, panel.target if panel else None,
                             closed_assignment=False)
    return judgment, True


def _panel_answers(compared: Compared, judgment: Judgment) -> list[dict]:
    """The item's current answers after ``judgment`` was written, with the item locked: the
    other raters' (read with the compared rationales) and this rater's one current judgment."""
    return [*compared.other_answers, {"choice": judgment.choice, "scores": judgment.scores}]


def _write(session: Session, assignment: Assignment, answer: Answer, key: str, fingerprint: str,
           now: datetime, supersedes: Judgment | None = None) -> Judgment:
    judgment = Judgment(
        assignment_id=assignment.id, project_id=assignment.project_id, item_id=assignment.item_id,
        rater_id=assignment.rater_id, choice=answer.choice, strength=answer.strength, scores=answer.scores,
        rationale=answer.rationale, notes=answer.notes, criteria=answer.criteria, confidence=answer.confidence,
        time_on_task_ms=max(0, int((now - assignment.served_at).total_seconds() * 1000)),
        playback=answer.playback, paste_count=answer.paste_count, keystrokes=answer.keystrokes,
        idempotency_key=key, request_sha256=fingerprint, supersedes_id=supersedes.id if supersedes else None,
        source="live", created_at=now, request_id=current_request_id())
    session.add(judgment)
    session.flush()
    return judgment


def _put_draft(session: Session, assignment: Assignment, data: dict, now: datetime) -> Draft:
    if assignment.draft is None:
        assignment.draft = Draft(answer=data, updated_at=now)
    else:
        assignment.draft.answer, assignment.draft.updated_at = data, now
    session.flush()
    return assignment.draft


def save_draft(session: Session, assignment: Assignment, data, *, now: datetime, ttl: timedelta) -> Draft:
    """Autosave the page's answer (any JSON object up to 32 KB) on an open assignment; saving
    also renews the assignment's hold to ``now + ttl`` (an active rater never loses it)."""
    if not isinstance(data, dict):
        raise AnswerInvalid("The draft must be a JSON object.", {"draft": "must be an object"})
    size = _draft_size(data)
    if size is None:
        raise AnswerInvalid("The draft holds a number JSON cannot store (NaN or Infinity).",
                            {"draft": "finite numbers only"})
    if size > MAX_DRAFT_BYTES:
        raise AnswerInvalid("The draft is too large.", {"draft": f"at most {MAX_DRAFT_BYTES // 1024} KB"})
    session.refresh(assignment, with_for_update={"of": Assignment})  # OF: it may carry eager joins
    _require_open(assignment, now)
    assignment.expires_at = max(assignment.expires_at, now + ttl)
    return _put_draft(session, assignment, data, now)


def skip_assignment(session: Session, assignment: Assignment, reason, *, now: datetime) -> Assignment:
    """Give an open assignment back with a reason; the item never returns to this rater."""
    if not isinstance(reason, str) or not reason.strip() or len(reason) > MAX_REASON_CHARS:
        raise AnswerInvalid("Say why you skip this item.", {"reason": f"required, at most {MAX_REASON_CHARS} characters"})
    session.refresh(assignment, with_for_update={"of": Assignment})  # OF: it may carry eager joins
    _require_open(assignment, now)
    assignment.status, assignment.skip_reason, assignment.closed_at = "skipped", reason.strip(), now
    session.flush()
    routing.refresh_items(session, [assignment.item_id])
    return assignment


def judged_since(session: Session, project_id: int, rater_id: int, since: datetime) -> int:
    """How many of the rater's assignments in the project were judged at or after ``since``."""
    return session.scalar(select(func.count()).select_from(Assignment).where(
        Assignment.project_id == project_id, Assignment.rater_id == rater_id, Assignment.status == "submitted",
        Assignment.submitted_at >= since))


def previous_revisable(session: Session, project: Project, rater: User, now: datetime) -> tuple[Assignment, datetime] | None:
    """The rater's latest judged assignment in the project while its revision window is open
    (with the moment it closes), or None."""
    if not project.revision_window_h:
        return None
    latest = session.scalar(
        select(Assignment).where(Assignment.project_id == project.id, Assignment.rater_id == rater.id,
                                 Assignment.status == "submitted", Assignment.submitted_at.is_not(None))
        .order_by(Assignment.submitted_at.desc(), Assignment.id.desc()).limit(1))
    until = revisable_until(latest) if latest else None
    return (latest, until) if until and until > now else None


def revisable_assignments(session: Session, rater: User, now: datetime, *, limit: int = 20) -> list[tuple[Assignment, datetime]]:
    """The rater's judged assignments still inside their project's revision window, newest
    first, each with the moment its window closes."""
    oldest = now - timedelta(hours=MAX_REVISION_WINDOW_H)
    recent = session.scalars(
        select(Assignment).join(Project, Project.id == Assignment.project_id)
        .where(Assignment.rater_id == rater.id, Assignment.status == "submitted", Assignment.submitted_at > oldest,
               Project.archived.is_(False), Project.revision_window_h > 0)
        .order_by(Assignment.submitted_at.desc(), Assignment.id.desc()).limit(500))
    open_ = [(a, until) for a in recent if (until := revisable_until(a)) is not None and until > now]
    return open_[:limit]
