"""The rating pages: start or resume, the task page, submit and revise, draft autosave, skip,
flag; and for managers (and senior raters) the adjudication queue and the media reports.

The pages call the same services as the API (``tasks.rating.routing``, ``tasks.rating.judging``,
``tasks.rating.overlap``) and show their refusals beside the fields; the refused answer stays as the
draft. Write routes run as SQLite writers (``BEGIN IMMEDIATE``) like the API's.
"""
from __future__ import annotations

import uuid
from datetime import timedelta

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from pydantic import TypeAdapter, ValidationError
from sqlalchemy import select

import boundary
from boundary import Invalid, accepts, parse_form, validate
from database import db, utcnow
from raters.access import authorize, requires
from tasks.rating import flags, inputs, judging, notes, overlap, playback, presentation, routing, standing
from tasks.catalogue.models import Asset, Item
from tasks.rating.api import assignment_json, flag_json, judgment_json, preload_json, queue_item_json
from tasks.rating.models import AnswerInvalid, Assignment, Flag, JudgmentRefused, NotFound, RatingError
from tasks.catalogue.util import project_for

SCORE = TypeAdapter(inputs.FormScore)
bp = Blueprint("rating", __name__)


@bp.before_request
def _serialise_writes():
    if request.method == "POST":
        db.serialise_writes()


def _ttl() -> timedelta:
    return timedelta(minutes=current_app.config["ASSIGNMENT_TTL_MIN"])


def _own(assignment_id: int, *, for_update: bool = False, shown: bool = False) -> Assignment:
    try:
        assignment = judging.assignment_for(db.session, assignment_id, current_user, for_update=for_update,
                                            shown=shown)
    except NotFound:
        abort(404, "There is no such assignment of yours.")
    authorize("rating.work", assignment.project)
    return assignment


def _go_next(project, message: str | None = None, category: str = "success"):
    """Serve the rater's next assignment in the project, or send them home when none is left."""
    if message:
        flash(message, category)
    try:
        assignment = routing.next_assignment(db.session, project, current_user, utcnow(), ttl=_ttl())
    except (routing.RoutingBusy, standing.RaterStopped) as exc:
        db.session.commit()  # what came before (a judgment, a skip) stands
        flash(exc.message, "info" if isinstance(exc, routing.RoutingBusy) else "error")
        return redirect(url_for("tasks.home"))
    db.session.commit()  # the picked item's lock lasts only as long as the pick
    if assignment is None:
        flash(f"Nothing more to rate in “{project.name}” for now. Thank you!", "info")
        return redirect(url_for("tasks.home"))
    return redirect(url_for("rating.task", assignment_id=assignment.id))


def form_answer(form, kind: str, rubric: list[dict], criteria: list[dict] | None = None) -> dict:
    """The page's form as an answer in the API's screen terms (numbers as numbers); ``Invalid``
    when a field is malformed (a number not in ASCII digits, text past its bound, bad JSON).
    Notes come from the hidden ``notes_json`` (a JSON array), per-criterion choices from
    ``crit-<key>-choice`` and ``crit-<key>-strength``."""
    fields = validate(inputs.AnswerForm, form.to_dict())
    try:
        playback = boundary.loads(fields.playback or "{}")
    except ValueError:
        playback = None
    data = {"confidence": fields.confidence, "rationale": fields.rationale,
            "playback": playback or None, "paste_count": fields.paste_count or 0,
            "keystrokes": fields.keystrokes}
    raw_notes = fields.notes_json or "[]"
    try:
        data["notes"] = boundary.loads(raw_notes)
    except (ValueError, RecursionError):
        data["notes"] = raw_notes[:200]  # kept as text: parse_answer refuses it with its reason
    if kind == "pairwise":
        data["choice"] = fields.choice or None
        data["strength"] = None if data["choice"] == "tie" else fields.strength
        if criteria:
            data["criteria"] = form_criteria(form, criteria)
    else:
        data["scores"] = form_scores(form, rubric)
    return data


def form_criteria(form, criteria: list[dict]) -> dict:
    """``crit-<key>-choice`` and ``crit-<key>-strength`` fields (``inputs.CriterionAnswerForm``)
    as per-criterion answers; ``Invalid`` naming the malformed fields."""
    answers, errors = {}, {}
    for crit in criteria:
        prefix = f"crit-{crit['key']}-"
        try:
            fields = validate(inputs.CriterionAnswerForm, {"choice": form.get(prefix + "choice"),
                                                           "strength": form.get(prefix + "strength")})
        except Invalid as exc:
            errors.update({prefix + name: message for name, message in exc.details.items()})
            continue
        if fields.choice:
            answers[crit["key"]] = {"choice": fields.choice,
                                    "strength": None if fields.choice == "tie" else fields.strength}
    if errors:
        raise Invalid(errors)
    return answers


def form_scores(form, rubric: list[dict]) -> dict:
    """``score-<key>`` fields as whole numbers (``Invalid`` naming the malformed ones)."""
    scores, errors = {}, {}
    for criterion in rubric:
        name = f"score-{criterion['key']}"
        try:
            scores[criterion["key"]] = SCORE.validate_python(form.get(name))
        except ValidationError as exc:
            errors[name] = boundary.field_errors(exc)["body"]
    if errors:
        raise Invalid(errors)
    return scores


# The page's hidden fields (and the per-criterion ones, ``crit-<key>-…``): no place beside them
# for a message, so the refusal names them.
FORM_ONLY_FIELDS = ("progress", "paste_count", "keystrokes", "idempotency_key", "notes_json")


def _render(assignment: Assignment, answer: dict, errors: dict, status: int = 200, revising: bool = False):
    project = assignment.project
    payload = assignment_json(assignment)
    rules = payload["rules"]
    sides = ("left", "right") if project.kind == "pairwise" else ("output",)
    submit_after = assignment.served_at + timedelta(seconds=0 if revising else rules["earliest_submit_s"])
    now = utcnow()
    # The playback rule as the server counts it so far (a revision is not held to it); the
    # heartbeats' answers bring it up to date.
    playback_rule = None if revising or project.modality == "script" else judging.playback_standing(
        assignment, playback.observed(db.session, assignment, now, {row.label: row for row in assignment.observations}))
    return render_template(
        "tasks/rate.html", project=project, assignment=payload, answer=answer or {}, errors=errors or {},
        unplaced_errors={k: v for k, v in (errors or {}).items() if k in FORM_ONLY_FIELDS or k.startswith("crit-")},
        revising=revising, playback_rule=playback_rule,
        criteria=payload["criteria"], require_note=project.require_note,
        frame_rates={side: payload["item"][side].get("frame_rate") for side in sides},
        note_limits={"max_notes": notes.MAX_NOTES, "max_text_chars": notes.MAX_NOTE_CHARS,
                     "max_quote_chars": notes.MAX_QUOTE_CHARS},
        submit_after_ms=int(submit_after.timestamp() * 1000), server_now_ms=int(utcnow().timestamp() * 1000),
        idempotency_key=str(uuid.uuid4()), draft_saved_at=assignment.draft.updated_at if assignment.draft else None,
        progress=_queue_line(project, now), previous=_previous(project, assignment, now),
        urls={"submit": url_for("rating.task", assignment_id=assignment.id),
              "draft": url_for("rating.draft", assignment_id=assignment.id),
              "progress": url_for("rating.progress", assignment_id=assignment.id),
              "upcoming": None if revising else url_for("rating.upcoming", assignment_id=assignment.id),
              "skip": url_for("rating.skip", assignment_id=assignment.id),
              "flag": url_for("rating.flag", assignment_id=assignment.id)}), status


def _queue_line(project, now) -> dict:
    """The rating page's progress line: judged today (UTC), items still waiting for this rater."""
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    left = routing.available_count(db.session, project, current_user)
    return {"today": judging.judged_since(db.session, project.id, current_user.id, midnight),
            "left": left, "left_capped": left >= routing.AVAILABLE_CAP}


def _previous(project, assignment: Assignment, now) -> dict | None:
    """The way back to the rater's previous judgment in this project while it may be revised."""
    found = judging.previous_revisable(db.session, project, current_user, now)
    if not found or found[0].id == assignment.id:
        return None
    return {"id": found[0].id, "until": found[1]}


@bp.post("/projects/<int:project_id>/next")
@requires("rating.work")
def start(project_id: int):
    """Start (or resume) rating in a project."""
    project = project_for(project_id, "rating.work")
    if project.archived:
        abort(409, "This project is archived.")
    return _go_next(project)


@bp.route("/assignments/<int:assignment_id>", methods=["GET", "POST"])
@requires("rating.work")
@accepts(form=inputs.AnswerForm)
def task(assignment_id: int):
    # A submission reads the assignment under its writer lock (with its draft) once, here; the
    # page reads it with what it shows.
    posted = request.method == "POST"
    assignment = _own(assignment_id, for_update=posted, shown=not posted)
    now = utcnow()
    revising = assignment.status == "submitted"
    if revising:
        until = judging.revisable_until(assignment)
        if until is None or now > until:
            flash("That judgment is final: its revision window has closed.", "info")
            return redirect(url_for("tasks.home"))
    elif judging.is_expired(assignment, now) or assignment.status != "open":
        closed = assignment.skip_reason if assignment.status == "expired" and assignment.skip_reason else None
        flash(closed or "That assignment is no longer open; here is your next one.", "info")
        return _go_next(assignment.project) if request.method == "POST" else redirect(url_for("tasks.home"))
    if not posted:
        current = judging.current_judgment(db.session, assignment) if revising else None
        answer = judgment_json(current, assignment) if current else (
            assignment.draft.answer if assignment.draft else {})
        return _render(assignment, answer, {}, revising=revising)
    try:
        data = form_answer(request.form, assignment.project.kind, assignment.project.rubric or [],
                           assignment.project.pairwise_criteria)
    except Invalid as exc:
        return _render(assignment, {}, exc.details, 422, revising=revising)
    key = request.form.get("idempotency_key", "")
    try:
        if revising:
            _judgment, created = judging.revise_judgment(db.session, assignment, data, idempotency_key=key, now=now)
        else:
            last_beat = _last_heartbeat(assignment, request.form.get("progress"))
            _judgment, created = judging.submit_judgment(db.session, assignment, data, idempotency_key=key, now=now,
                                                         last_beat=last_beat)
    except (AnswerInvalid, JudgmentRefused) as exc:
        if getattr(exc, "draft_saved", False):
            db.keep_on_refusal()
        return _render(assignment, data, exc.details or {"form": exc.message}, 422, revising=revising)
    except RatingError as exc:
        flash(exc.message, "error")
        return redirect(url_for("tasks.home"))
    if revising:
        flash("Revision saved: it supersedes your earlier judgment.", "success")
        return redirect(url_for("tasks.home"))
    message = "Judgment saved." if created else "That judgment was already saved."
    if assignment.project.revision_window_h:
        message += f" You can revise it for {assignment.project.revision_window_h} h from your home page."
    return _go_next(assignment.project, message)


@bp.get("/assignments/<int:assignment_id>/upcoming")
@requires("rating.work")
def upcoming(assignment_id: int):
    """The media of the item routing would most likely serve after this open assignment, for the
    page to preload (``routing.upcoming_item``: read-only, a guess; a wrong one costs only speed)."""
    assignment = _own(assignment_id)
    now = utcnow()
    item = None
    if assignment.status == "open" and not judging.is_expired(assignment, now) and not assignment.project.archived:
        item = routing.upcoming_item(db.session, assignment.project, current_user, now)
    return preload_json(item), 200, {"Cache-Control": "no-store"}


@bp.post("/assignments/<int:assignment_id>/progress")
@requires("rating.work")
def progress(assignment_id: int):
    """A heartbeat of the page's players: ``{side: {"t": seconds, "playing": bool}}`` (JSON body;
    CSRF token in the X-CSRFToken header), stamped with the server clock. Answers what the server
    has observed so far, by screen side, and where each output stands against the playback rule
    (``judging.playback_standing``: the page's checklist shows that, not its players' own count)."""
    assignment = _own(assignment_id)
    now = utcnow()
    if assignment.status == "submitted":  # a heartbeat that crossed the submission: nothing to record
        return "", 204
    if assignment.status != "open" or judging.is_expired(assignment, now):
        return {"error": {"code": "assignment_closed", "message": assignment.skip_reason
                          or "This assignment is no longer open.", "details": None}}, 409
    beats = playback.parse_heartbeat(assignment, request.get_json(silent=True))
    if beats is None:
        return {"error": {"code": "validation_failed", "message": "Send {side: {t, playing}} per player.",
                          "details": None}}, 422
    rows = playback.heartbeat(db.session, assignment, beats, now)
    seen = playback.observed(db.session, assignment, now, rows)
    return {"observed": {assignment.side_of(label): s for label, s in seen.items()},
            "playback_rule": judging.playback_standing(assignment, seen)}


def _last_heartbeat(assignment: Assignment, raw: str | None) -> dict[str, tuple[float, bool]] | None:
    """The players' state as the form was sent (the last heartbeat rides with the submission),
    parsed; None when absent or malformed."""
    if not raw:
        return None
    try:
        return playback.parse_heartbeat(assignment, boundary.loads(raw))
    except ValueError:
        return None


@bp.post("/assignments/<int:assignment_id>/draft")
@requires("rating.work")
def draft(assignment_id: int):
    """Autosave (JSON body; CSRF token in the X-CSRFToken header)."""
    assignment = _own(assignment_id)
    if assignment.status == "submitted":  # an autosave that crossed the submission: nothing to keep
        return "", 204
    data = request.get_json(silent=True)
    try:
        saved = judging.save_draft(db.session, assignment, data, now=utcnow(), ttl=_ttl())
    except RatingError as exc:
        return {"error": {"code": exc.code, "message": exc.message, "details": exc.details}}, exc.status
    return {"saved_at": saved.updated_at.isoformat()}


@bp.post("/assignments/<int:assignment_id>/skip")
@requires("rating.work")
@accepts(form=inputs.SkipForm)
def skip(assignment_id: int):
    assignment = _own(assignment_id)
    reason = parse_form(inputs.SkipForm).reason  # malformed: 422 naming the field
    try:
        judging.skip_assignment(db.session, assignment, reason, now=utcnow())
    except AnswerInvalid:
        flash("Say why you skip this item.", "error")
        return redirect(url_for("rating.task", assignment_id=assignment.id))
    except RatingError as exc:
        flash(exc.message, "error")
    return _go_next(assignment.project, "Skipped.", "info")


@bp.post("/assignments/<int:assignment_id>/flag")
@requires("rating.work")
@accepts(form=inputs.FlagForm)
def flag(assignment_id: int):
    assignment = _own(assignment_id)
    fields = parse_form(inputs.FlagForm)  # malformed: 422 naming the field
    try:
        flags.flag_assignment(db.session, assignment, fields.kind, fields.reason, now=utcnow(),
                              side=fields.side or None)
    except AnswerInvalid as exc:
        flash("Report not sent: " + "; ".join(exc.details.values()), "error")
        return redirect(url_for("rating.task", assignment_id=assignment.id))
    return _go_next(assignment.project, "Thank you — the manager will look at this item.", "info")


# -- managers and senior raters ----------------------------------------------------------------

@bp.get("/projects/<int:project_id>/adjudication")
@requires("adjudication.decide")
def adjudication(project_id: int):
    return _adjudication_page(project_for(project_id, "adjudication.decide"))


def _adjudication_page(project, errors: dict | None = None, form=None, status: int = 200):
    items = db.session.scalars(overlap.queue_query(project).limit(50)).all()
    shown = {i.id for i in items}
    for item_id, problems in (errors or {}).items():
        if item_id not in shown:  # decided meanwhile, or not split: no row to show the messages beside
            flash(f"Item {item_id}: " + "; ".join(f"{k}: {v}" for k, v in problems.items()), "error")
    return render_template("tasks/adjudication.html", project=project, queue=[queue_item_json(i) for i in items],
                           errors=errors or {}, form=form or {}, choice_words=presentation.choice_words,
                           desk_side=presentation.DESK_SIDE), status


@bp.post("/items/<int:item_id>/adjudication")
@requires("adjudication.decide")
@accepts(form=inputs.DecisionForm)
def adjudicate(item_id: int):
    item = db.session.get(Item, item_id) or abort(404)
    project = project_for(item.project_id, "adjudication.decide")
    form = request.form
    try:
        fields = parse_form(inputs.DecisionForm)
        decision = {"rationale": fields.rationale}
        if project.kind == "pairwise":
            decision["choice"], decision["strength"] = fields.choice or None, fields.strength
        else:
            decision["scores"] = form_scores(form, project.rubric or [])
    except Invalid as exc:
        return _adjudication_page(project, {item.id: exc.details}, form, 422)
    try:
        overlap.adjudicate(db.session, item, current_user, decision, now=utcnow())
    except AnswerInvalid as exc:  # the decision stays in the form, each message beside its field
        details = dict(exc.details or {"form": exc.message})
        if "choice" in details:
            details["choice"] = "choose Left, Right or Tie"
        return _adjudication_page(project, {item.id: details}, form, exc.status)
    except RatingError as exc:
        return _adjudication_page(project, {item.id: {"form": exc.message}}, form, exc.status)
    flash(f"Decision on {item.external_id} recorded beside the panel's judgments.", "success")
    return redirect(url_for("rating.adjudication", project_id=project.id))


def _flags_page(project, errors: dict | None = None, status: int = 200):
    rows = db.session.scalars(select(Flag).where(Flag.project_id == project.id)
                              .order_by(Flag.resolved_at.is_not(None), Flag.id.desc()).limit(200)).all()
    return render_template("tasks/flags.html", project=project, flags=[flag_json(f) | {"row": f} for f in rows],
                           errors=errors or {}, form=request.form), status


@bp.get("/projects/<int:project_id>/flags")
@requires("flags.manage")
def flag_list(project_id: int):
    return _flags_page(project_for(project_id, "flags.manage"))


RESOLVED = {"returned": "Report resolved; the item is routed again.",
            "dropped": "Report resolved; the item is dropped and will not be routed again.",
            "replaced": "Report resolved; the output's asset is replaced and the item is routed again."}


@bp.post("/flags/<int:flag_id>/resolve")
@requires("flags.manage")
@accepts(form=inputs.ResolveForm)
def resolve(flag_id: int):
    record = db.session.get(Flag, flag_id) or abort(404)
    project = project_for(record.project_id, "flags.manage")
    try:
        fields = parse_form(inputs.ResolveForm)
    except Invalid as exc:
        return _flags_page(project, {record.id: exc.details}, 422)
    action = fields.action
    asset = db.session.get(Asset, fields.asset_id) if fields.asset_id else None
    try:
        flags.resolve_flag(db.session, record, current_user, fields.resolution, now=utcnow(),
                           action=action, asset=asset)
    except AnswerInvalid as exc:
        return _flags_page(project, {record.id: exc.details or {}}, 422)
    except RatingError as exc:
        flash(exc.message, "error")
    else:
        flash(RESOLVED.get(action, "Report resolved."), "success")
    return redirect(url_for("rating.flag_list", project_id=project.id))
