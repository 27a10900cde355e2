"""Rating over the API: next assignment, judgments (with ``Idempotency-Key``), drafts, skips,
flags, and the adjudication queue.

Raters see their own assignments only (anyone else's answers 404, so ids reveal nothing), in
screen terms (``left``/``right``): never an item label, model name or gold marker. Write requests
run in a writer transaction (SQLite ``BEGIN IMMEDIATE``) so concurrent picks are serialised.
``assignment_json`` and ``judgment_json`` are the payloads of design.md's "Assignment" and
"Judgment"; the rating pages may reuse them.
"""
from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, current_app, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from api import PREFIX, ApiError, documented, error_response, json_body, json_content, paginate
from boundary import parse, parse_query
from database import db, utcnow
from raters.access import authorize, requires
from tasks.rating import flags, inputs, judging, notes, overlap, presentation, routing
from tasks.catalogue.models import Asset, Item
from tasks.rating.models import Adjudication, Assignment, Flag, ItemPanel, Judgment, RatingError
from tasks.catalogue.util import project_for, script_text

bp = Blueprint("rating_api", __name__, url_prefix=PREFIX)

SIDE = {"type": "object", "properties": {
    "media_url": {"type": "string"}, "mime_type": {"type": "string"},
    "duration_s": {"type": ["number", "null"]},
    "frame_rate": {"type": ["number", "null"], "description": "video: frames a second (ffprobe at upload); "
                   "null for audio or when unknown; absent for scripts"},
    "text": {"type": "string"}}}
NOTE_READ = {"type": "object", "description": "a note as stored, with the side its author saw it on "
             "(null for imported judgments) and timecodes (HH:MM:SS:FF at the frame rate; HH:MM:SS.mmm without one)",
             "properties": {
    "side": {"type": ["string", "null"]}, "label": {"type": "string", "enum": ["a", "b"]},
    "t_in": {"type": "number"}, "t_out": {"type": ["number", "null"]},
    "frame_in": {"type": ["integer", "null"]}, "frame_out": {"type": ["integer", "null"]},
    "timecode_in": {"type": "string"}, "timecode_out": {"type": ["string", "null"]},
    "line_in": {"type": "integer"}, "line_out": {"type": ["integer", "null"]}, "char_in": {"type": ["integer", "null"]},
    "char_out": {"type": ["integer", "null"]}, "quote": {"type": ["string", "null"]}, "text": {"type": "string"}}}
ASSIGNMENT_SCHEMA = {"type": "object", "properties": {
    "id": {"type": "integer"}, "project_id": {"type": "integer"},
    "kind": {"type": "string", "enum": ["pairwise", "rubric"]}, "modality": {"type": "string"},
    "status": {"type": "string", "enum": ["open", "submitted", "skipped", "expired"]},
    "served_at": {"type": "string", "format": "date-time"}, "expires_at": {"type": "string", "format": "date-time"},
    "item": {"type": "object", "properties": {"prompt": {"type": "string"}, "left": SIDE, "right": SIDE, "output": SIDE}},
    "rubric": {"type": "array"},
    "criteria": {"type": "array", "description": "pairwise per-criterion comparisons to answer: [{key, name, description}]",
                 "items": {"type": "object", "properties": {"key": {"type": "string"}, "name": {"type": "string"},
                                                            "description": {"type": "string"}}}},
    "rules": {"type": "object", "description": "the rules in screen terms, including require_note, max_notes, "
              "max_note_chars"}, "draft": {"type": ["object", "null"]},
    "draft_saved_at": {"type": ["string", "null"], "format": "date-time", "description": "server clock"},
    "judgment": {"type": ["object", "null"]}, "revisable_until": {"type": ["string", "null"]}}}
JUDGMENT_SCHEMA = {"type": "object", "properties": {
    "id": {"type": "integer"}, "assignment_id": {"type": "integer"}, "choice": {"type": "string"},
    "strength": {"type": ["integer", "null"]}, "scores": {"type": "object"}, "confidence": {"type": "integer"},
    "rationale": {"type": "string"}, "playback": {"type": ["object", "null"]},
    "time_on_task_ms": {"type": "integer"}, "supersedes_id": {"type": ["integer", "null"]},
    "notes": {"type": "array", "items": NOTE_READ},
    "criteria": {"type": ["object", "null"], "description": "pairwise: {key: {choice: left|right|tie, strength}} "
                 "in the rater's screen terms"},
    "presented": {"type": "object", "description": "what was shown on each side: "
                  "{left: {label, model}, right: {label, model}} (model names only for staff and researchers)"},
    "created_at": {"type": "string", "format": "date-time"}}}
FLAG_SCHEMA = {"type": "object", "properties": {
    "id": {"type": "integer"}, "item_id": {"type": "integer"}, "kind": {"type": "string"},
    "reason": {"type": "string"}, "label": {"type": ["string", "null"]}, "model": {"type": ["string", "null"]},
    "media_url": {"type": ["string", "null"]}, "action": {"type": ["string", "null"]},
    "created_at": {"type": "string"}, "resolved_at": {"type": ["string", "null"]},
    "resolution": {"type": ["string", "null"]}}}
QUEUE_ITEM_SCHEMA = {"type": "object", "properties": {
    "item_id": {"type": "integer"}, "external_id": {"type": "string"}, "prompt": {"type": "string"},
    "outputs": {"type": "object", "description": "by item label (a, b)"}, "panel": {"type": "object"},
    "judgments": {"type": "array"}}}
ADJUDICATION_SCHEMA = {"type": "object", "properties": {
    "id": {"type": "integer"}, "item_id": {"type": "integer"}, "choice": {"type": ["string", "null"]},
    "strength": {"type": ["integer", "null"]}, "scores": {"type": ["object", "null"]},
    "rationale": {"type": "string"}, "decided_by_id": {"type": "integer"}, "created_at": {"type": "string"}}}
PAGE = {"page": {"type": "integer", "minimum": 1}, "per_page": {"type": "integer", "minimum": 1}}


@bp.before_request
def _serialise_writes():
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        db.serialise_writes()


@bp.errorhandler(RatingError)
def _rating_error(exc: RatingError):
    if exc.draft_saved:
        db.keep_on_refusal()
    return error_response(exc.status, exc.code, exc.message, exc.details)


@bp.errorhandler(IntegrityError)
def _integrity_error(_exc):
    return error_response(409, "conflict", "Another request changed this at the same moment; try again.")


# -- payloads -------------------------------------------------------------------------------

def _iso(moment):
    return moment.isoformat() if moment else None


def _output_json(output) -> dict:
    asset = output.asset
    data = {"media_url": url_for("assets.media", public_id=asset.public_id), "mime_type": asset.mime_type,
            "duration_s": asset.duration_s}
    if asset.media_kind == "script":
        data["text"] = script_text(asset)
    else:
        data["frame_rate"] = asset.frame_rate
    return data


PRELOADED_KINDS = ("video", "audio")  # a script's text is never sent ahead: reading time counts from serving


def preload_json(item) -> dict:
    """What the rating page may fetch ahead for an item routing would likely serve next
    (``routing.upcoming_item``): its video and audio URLs only — media a member may fetch anyway."""
    urls = sorted({url_for("assets.media", public_id=output.asset.public_id) for output in (item.outputs if item else ())
                   if output.asset.media_kind in PRELOADED_KINDS})
    return {"media": urls}


def assignment_json(assignment: Assignment, now=None) -> dict:
    """What a rater's client gets (design.md "Assignment"), in screen order."""
    now = now or utcnow()
    project, item = assignment.project, assignment.item
    outputs = {o.label: o for o in item.outputs}
    shown = {"prompt": item.prompt}
    if project.kind == "pairwise":
        shown["left"] = _output_json(outputs[assignment.left_label])
        shown["right"] = _output_json(outputs[assignment.right_label])
    else:
        shown["output"] = _output_json(outputs["a"])
    # Only a submitted assignment has a judgment (a new one skips the query).
    current = judging.current_judgment(db.session, assignment) if assignment.status == "submitted" else None
    until = judging.revisable_until(assignment)
    return {
        "id": assignment.id, "project_id": project.id, "kind": project.kind, "modality": project.modality,
        "status": "expired" if judging.is_expired(assignment, now) else assignment.status,
        "served_at": _iso(assignment.served_at), "expires_at": _iso(assignment.expires_at),
        "item": shown, "rubric": project.rubric or [],
        "criteria": (project.pairwise_criteria or []) if project.kind == "pairwise" else [],
        "rules": judging.rules_for(assignment),
        "draft": assignment.draft.answer if assignment.draft else None,
        "draft_saved_at": _iso(assignment.draft.updated_at) if assignment.draft else None,
        "skip_reason": assignment.skip_reason,
        "judgment": judgment_json(current, assignment) if current else None,
        "revisable_until": _iso(until) if current and until and until > now else None,
    }


def judgment_json(judgment: Judgment, assignment: Assignment) -> dict:
    """A judgment as its rater sees it: in the screen terms of their assignment, with what was
    presented on each side (item labels; model names only for those who may read them)."""
    data = {"id": judgment.id, "assignment_id": assignment.id, "confidence": judgment.confidence,
            "presented": presentation.presented(assignment, models=presentation.can_see_models(current_user)),
            "rationale": judgment.rationale, "time_on_task_ms": judgment.time_on_task_ms,
            "playback": {assignment.side_of(k): v for k, v in (judgment.playback or {}).items()} or None,
            "paste_count": judgment.paste_count, "keystrokes": judgment.keystrokes,
            "supersedes_id": judgment.supersedes_id, "created_at": _iso(judgment.created_at)}
    data["notes"] = notes_json(judgment, assignment)
    if assignment.project.kind == "pairwise":
        data["choice"] = "tie" if judgment.choice == "tie" else assignment.side_of(judgment.choice)
        data["strength"] = judgment.strength
        data["criteria"] = notes.criteria_json(judgment.criteria, assignment.side_of)
    else:
        data["scores"] = judgment.scores
    return data


def notes_json(judgment: Judgment, assignment: Assignment | None) -> list[dict]:
    """A judgment's notes with the side its author saw them on (None for an imported judgment)
    and their timecodes at each output's frame rate."""
    rates = {o.label: o.asset.frame_rate for o in judgment.item.outputs}
    side_of = assignment.side_of if assignment is not None else None
    return [notes.note_json(n, side_of, rates) for n in judgment.notes or []]


def flag_json(flag: Flag) -> dict:
    """A media report for staff: the output it names (label, model, media URL)."""
    output = next((o for o in flag.item.outputs if o.label == flag.label), None)
    return {"id": flag.id, "project_id": flag.project_id, "item_id": flag.item_id,
            "external_id": flag.item.external_id, "assignment_id": flag.assignment_id,
            "reported_by_id": flag.reported_by_id, "kind": flag.kind, "reason": flag.reason,
            "label": flag.label, "model": flag.model,
            "media_url": url_for("assets.media", public_id=output.asset.public_id) if output else None,
            "created_at": _iso(flag.created_at), "resolved_at": _iso(flag.resolved_at),
            "resolved_by_id": flag.resolved_by_id, "resolution": flag.resolution, "action": flag.action}


def queue_item_json(item: Item) -> dict:
    """A split item for its adjudicator: outputs by item label (model names and raters only for
    staff and researchers), the panel, and each judgment with the presentation its rater saw."""
    panel = db.session.get(ItemPanel, item.id)
    judgments = overlap.current_judgments(db.session, item.id)
    staff = presentation.can_see_models(current_user)
    outputs = {}
    for o in item.outputs:
        outputs[o.label] = {**_output_json(o), **({"model": o.model} if staff else {})}

    def one(j: Judgment) -> dict:
        shown = presentation.presented(j.assignment, models=staff)
        data = {"id": j.id, "choice": j.choice, "strength": j.strength, "scores": j.scores,
                "criteria": j.criteria, "notes": notes_json(j, j.assignment),
                "confidence": j.confidence, "rationale": j.rationale, "presented": shown,
                "presented_note": presentation.note(shown), "source": j.source, "created_at": _iso(j.created_at)}
        if staff:
            data["rater"] = {"id": j.rater_id, "name": j.rater.name, "email": j.rater.email}
        return data
    return {"item_id": item.id, "external_id": item.external_id, "prompt": item.prompt, "outputs": outputs,
            "panel": {"n_judgments": panel.n_judgments, "agreement": panel.agreement, "state": panel.state},
            "judgments": [one(j) for j in judgments]}


def adjudication_json(record: Adjudication) -> dict:
    return {"id": record.id, "item_id": record.item_id, "choice": record.choice, "strength": record.strength,
            "scores": record.scores, "rationale": record.rationale, "decided_by_id": record.decided_by_id,
            "created_at": _iso(record.created_at)}


# -- rater routes ---------------------------------------------------------------------------

def _ttl() -> timedelta:
    return timedelta(minutes=current_app.config["ASSIGNMENT_TTL_MIN"])


def _rater():
    return current_user._get_current_object()


def _own_assignment(assignment_id: int, *, for_update: bool = False) -> Assignment:
    assignment = judging.assignment_for(db.session, assignment_id, _rater(), for_update=for_update)
    authorize("rating.work", assignment.project)  # still a member of the project
    return assignment


@bp.post("/projects/<int:project_id>/assignments/next")
@requires("rating.work")
@documented(response=ASSIGNMENT_SCHEMA, status=201, also=(200, 204))
def next_assignment(project_id: int):
    """Your next assignment in the project.

    201 with a newly served assignment; 200 with your open one when you have one (resume);
    204 when nothing is left for you now."""
    project = project_for(project_id, "rating.work")
    if project.archived:
        raise ApiError(409, "project_archived", "This project is archived: it takes no more judgments.")
    now = utcnow()
    assignment = routing.next_assignment(db.session, project, _rater(), now, ttl=_ttl())
    db.session.commit()  # the picked item's lock lasts only as long as the pick
    if assignment is None:
        return "", 204
    return assignment_json(assignment, now), 201 if assignment.served_at == now else 200


@bp.get("/assignments/<int:assignment_id>")
@requires("rating.work")
@documented(response=ASSIGNMENT_SCHEMA)
def get_assignment(assignment_id: int):
    """One of your assignments, with its saved draft and current judgment."""
    return assignment_json(_own_assignment(assignment_id))


@bp.put("/assignments/<int:assignment_id>/draft")
@requires("rating.work")
@documented(body=json_content({"type": "object", "description": "the page's answer so far (≤ 32 KB)"}),
            response={"type": "object", "properties": {"saved_at": {"type": "string"},
                                                       "expires_at": {"type": "string"}}})
def put_draft(assignment_id: int):
    """Autosave your answer on an open assignment (renews its hold)."""
    assignment = _own_assignment(assignment_id)
    draft = judging.save_draft(db.session, assignment, json_body(), now=utcnow(), ttl=_ttl())
    return {"saved_at": _iso(draft.updated_at), "expires_at": _iso(assignment.expires_at)}


def _judgment_response(judgment: Judgment, assignment: Assignment, created: bool):
    headers = {} if created else {"Idempotent-Replayed": "true"}
    return judgment_json(judgment, assignment), 201, headers


@bp.post("/assignments/<int:assignment_id>/judgment")
@requires("rating.work")
@documented(body=inputs.Answer, response=JUDGMENT_SCHEMA, status=201)
def submit(assignment_id: int):
    """Judge an assignment; send an ``Idempotency-Key`` header.

    A retry with the same key and body answers the stored judgment again (201, header
    ``Idempotent-Replayed: true``); the same key with another body is 409. A judgment breaking a
    rule is 422 ``judgment_refused`` with ``details`` by field (``rationale``, ``timing``,
    ``playback``), and the answer is kept as your draft."""
    assignment = _own_assignment(assignment_id, for_update=True)
    judgment, created = judging.submit_judgment(db.session, assignment, parse(inputs.Answer).given(),
                                                idempotency_key=request.headers.get("Idempotency-Key"),
                                                now=utcnow())
    return _judgment_response(judgment, assignment, created)


@bp.put("/assignments/<int:assignment_id>/judgment")
@requires("rating.work")
@documented(body=inputs.Revision, response=JUDGMENT_SCHEMA, status=201)
def revise(assignment_id: int):
    """Revise your judgment within the project's revision window (a new judgment superseding
    the old); send an ``Idempotency-Key`` header. ``playback`` may be left out."""
    assignment = _own_assignment(assignment_id, for_update=True)
    judgment, created = judging.revise_judgment(db.session, assignment, parse(inputs.Revision).given(),
                                                idempotency_key=request.headers.get("Idempotency-Key"),
                                                now=utcnow())
    return _judgment_response(judgment, assignment, created)


@bp.post("/assignments/<int:assignment_id>/skip")
@requires("rating.work")
@documented(body=inputs.SkipBody, response=ASSIGNMENT_SCHEMA)
def skip(assignment_id: int):
    """Skip an open assignment, saying why (the item will not come back to you)."""
    assignment = _own_assignment(assignment_id)
    judging.skip_assignment(db.session, assignment, parse(inputs.SkipBody).reason, now=utcnow())
    return assignment_json(assignment)


@bp.post("/assignments/<int:assignment_id>/flag")
@requires("rating.work")
@documented(body=inputs.FlagBody, response={"type": "object", "properties": {"id": {"type": "integer"}, "kind": {"type": "string"}}}, status=201)
def flag(assignment_id: int):
    """Report broken or unsafe media to the project's managers (an open assignment is skipped)."""
    assignment = _own_assignment(assignment_id)
    body = parse(inputs.FlagBody)
    record = flags.flag_assignment(db.session, assignment, body.kind, body.reason, now=utcnow(), side=body.side)
    return {"id": record.id, "kind": record.kind, "assignment": assignment_json(assignment)}, 201


# -- staff routes ---------------------------------------------------------------------------

@bp.get("/projects/<int:project_id>/flags")
@requires("flags.manage")
@documented(response={"type": "object", "properties": {"items": {"type": "array", "items": FLAG_SCHEMA}}},
            query=inputs.FlagQuery)
def list_flags(project_id: int):
    """Raters' reports of broken or unsafe media in the project (open ones by default)."""
    project = project_for(project_id, "flags.manage")
    state = parse_query(inputs.FlagQuery).state
    query = select(Flag).where(Flag.project_id == project.id).order_by(Flag.id)
    if state == "open":
        query = query.where(Flag.resolved_at.is_(None))
    elif state == "resolved":
        query = query.where(Flag.resolved_at.isnot(None))
    elif state != "all":
        raise ApiError(400, "invalid_parameter", "state must be open, resolved or all.", {"state": state})
    return paginate(query, flag_json)


@bp.post("/flags/<int:flag_id>/resolve")
@requires("flags.manage")
@documented(body=inputs.ResolveBody, response=FLAG_SCHEMA)
def resolve_flag(flag_id: int):
    """Close a flag, saying what was done: return the item to routing, drop it, or replace the
    reported output's asset (audited)."""
    record = db.session.get(Flag, flag_id)
    if record is None:
        raise ApiError(404, "not_found", f"There is no flag {flag_id}.")
    project_for(record.project_id, "flags.manage")
    body = parse(inputs.ResolveBody)
    asset = db.session.get(Asset, body.asset_id) if body.asset_id else None
    flags.resolve_flag(db.session, record, _rater(), body.resolution, now=utcnow(), action=body.action, asset=asset)
    return flag_json(record)


@bp.get("/projects/<int:project_id>/adjudications/queue")
@requires("adjudication.decide")
@documented(response={"type": "object", "properties": {"items": {"type": "array", "items": QUEUE_ITEM_SCHEMA}}},
            query=PAGE)
def adjudication_queue(project_id: int):
    """Items whose panel stayed split at the maximum overlap, awaiting a final decision."""
    project = project_for(project_id, "adjudication.decide")
    return paginate(overlap.queue_query(project), queue_item_json)


@bp.post("/items/<int:item_id>/adjudication")
@requires("adjudication.decide")
@documented(body=inputs.Decision, response=ADJUDICATION_SCHEMA, status=201)
def adjudicate(item_id: int):
    """Decide a split item (in the item's labels), with a rationale; stored beside the judgments."""
    item = db.session.get(Item, item_id)
    if item is None:
        raise ApiError(404, "not_found", f"There is no item {item_id}.")
    project_for(item.project_id, "adjudication.decide")
    record = overlap.adjudicate(db.session, item, _rater(), parse(inputs.Decision).given(), now=utcnow())
    return adjudication_json(record), 201
