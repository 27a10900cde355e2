"""Rater quality, progress and the gate's calibration over the API (managers, admins and
researchers; never raters). The items browser's JSON is the catalogue's
``GET /api/v1/projects/<id>/items?state=…&q=…``."""
from __future__ import annotations

from flask import Blueprint, request
from flask_login import current_user

from api import PREFIX, ApiError, documented, json_body, json_content
from database import db, utcnow
from raters.access import requires
from scoring.quality import desk
from scoring.quality.thresholds import Thresholds
from tasks.catalogue.util import project_for
from tasks.rating import standing

bp = Blueprint("quality_api", __name__, url_prefix=PREFIX)


@bp.before_request
def _serialise_writes():
    if request.method in ("POST", "PUT"):  # acts and settings write (SQLite: as a writer from the start)
        db.serialise_writes()

NUMBER = {"type": ["number", "null"]}
INTERVAL = {"type": "array", "items": NUMBER, "description": "95% interval [low, high]"}
SHARE = {"type": "object", "properties": {"n": {"type": "integer"}, "k": {"type": "integer"}, "share": NUMBER,
                                          "ci": INTERVAL}}
FLAG = {"type": "object", "properties": {"figure": {"type": "string"}, "reason": {"type": "string"}}}
RATER_ROW = {"type": "object", "properties": {
    "rater_id": {"type": "integer"}, "name": {"type": "string"}, "email": {"type": "string"},
    "n": {"type": "integer"}, "n_live": {"type": "integer"}, "n_imported": {"type": "integer"},
    "first_at": {"type": ["string", "null"]}, "last_at": {"type": ["string", "null"]},
    "time": {"type": "object", "description": "n, median_s, n_with_media, median_ratio (time / media duration), "
                                              "too_fast (share faster than the media lasts), watched (the share of the media the "
                                              "server observed played — never the client's claim: median_share, "
                                              "partial)"},
    "gold": {"type": "object", "description": "share with Wilson interval, longest_miss_streak, current_miss_streak"},
    "agreement": {"type": "object", "description": "Cohen's κ against the leave-one-out consensus of the other "
                                                   "raters (quadratic weights on rubric scales), ci, agreement, n"},
    "dawid_skene": {"type": "object", "properties": {"n": {"type": "integer"}, "accuracy": NUMBER}},
    "mace": {"type": "object", "properties": {"n": {"type": "integer"}, "competence": NUMBER}},
    "position": {**SHARE, "description": "share of Left choices, exact binomial p_value against 0.5"},
    "ties": {**SHARE, "description": "tie share, panel_share, p_value"},
    "straight_lining": {**SHARE, "description": "share of rubric answers with one level on every criterion; "
                                                "variance, panel_variance, variance_ratio"},
    "rationale": {"type": "object", "description": "median_words, near_duplicate, notes_per_judgment, specific"},
    "anomaly": {"type": "object", "description": "n votes, p_value (Fisher's method, empirical null), "
                                                 "share_surprising"},
    "flags": {"type": "array", "items": FLAG}}}
THRESHOLDS = {"type": "object", "properties": {name: {"type": "number"} for name in Thresholds.names()}}
STANDING = {"type": ["object", "null"], "description": "the rater's standing in the project", "properties": {
    "status": {"type": "string", "enum": ["active", "warned", "paused", "removed"]},
    "reason": {"type": ["string", "null"]}, "rule": {"type": ["string", "null"], "description":
                                                     "manager, qualification, gold, speed or burst"},
    "since": {"type": ["string", "null"]}, "excluded": {"type": "boolean"},
    "exclusion_note": {"type": ["string", "null"]}, "gold_seen": {"type": "integer"}, "gold_right": {"type": "integer"},
    "qualification": {"type": "object"}}}
RATER_ROW["properties"]["standing"] = STANDING


@bp.get("/projects/<int:project_id>/raters")
@requires("quality.view")
@documented(response={"type": "object", "properties": {
    "project_id": {"type": "integer"}, "kind": {"type": "string"}, "thresholds": THRESHOLDS,
    "raters": {"type": "array", "items": RATER_ROW}, "panel": {"type": "object"}}})
def raters(project_id: int):
    """Every rater's quality figures, each with its n and interval, and the flags they raise.

    Figures: time on task (against the media's duration), gold accuracy (Wilson interval, miss
    streaks), agreement with the other raters' leave-one-out consensus (Cohen's κ) and the
    Dawid–Skene accuracy, position bias and tie rate, straight-lining (rubric), rationale effort,
    and anomalous votes (Fisher's method over per-vote p-values given the panel's history of the
    same model pair). ``thresholds`` are the values the flags were raised with."""
    project = project_for(project_id, "quality.view")
    return desk.panel_overview(db.session, project)


@bp.get("/projects/<int:project_id>/raters/<int:rater_id>")
@requires("quality.view")
@documented(response={"type": "object", "properties": {
    **RATER_ROW["properties"], "weekly": {"type": "array", "items": {"type": "object"}},
    "judgments": {"type": "array", "items": {"type": "object", "description": "newest first (200 at most), "
                                             "each with ``presented``: the sides as the rater saw them, "
                                             "``notes``: how many time-coded notes, and ``notes_shown``: "
                                             "those notes with the side the rater saw (left/right/output; "
                                             "null when imported), HH:MM:SS:FF timecodes and ``anchor`` "
                                             "in the rating page's words"}},
    "gold_results": {"type": "array", "items": {"type": "object"}}}})
def rater(project_id: int, rater_id: int):
    """One rater's figures, their weekly drift, their judgments as they were presented, and gold results."""
    project = project_for(project_id, "quality.view")
    found = desk.rater_detail(db.session, project, rater_id)
    if found is None:
        raise ApiError(404, "not_found", f"Rater {rater_id} has no judgments in project {project.id}.")
    return found


@bp.get("/projects/<int:project_id>/progress")
@requires("quality.view")
@documented(response={"type": "object", "properties": {
    "project_id": {"type": "integer"}, "states": {"type": "object", "additionalProperties": {"type": "integer"}},
    "per_day": {"type": "array", "items": {"type": "object"}}, "active_raters_7d": {"type": "integer"},
    "pace_per_day": {"type": "number"}, "remaining_judgments": {"type": "integer"},
    "awaiting_adjudication": {"type": "integer"}, "projected_days": NUMBER,
    "projected_at": {"type": ["string", "null"]},
    "funnel": {"type": "array", "items": {"type": "object", "properties": {
        "step": {"type": "string"}, "n": {"type": "integer"}, "lost": {"type": "array"},
        "judgments": {"type": "object", "description": "the counted step only: current judgments, those the "
                      "statistics count, and those left out for an excluded rater or missing consent"}}}}}})
def progress(project_id: int):
    """Items by state, judgments and raters per day, the projected completion at the last 14
    days' pace, and the funnel imported → routed → judged → counted → agreed → exportable with what each
    step lost and why."""
    project = project_for(project_id, "quality.view")
    return desk.progress(db.session, project, utcnow())


@bp.get("/projects/<int:project_id>/calibration")
@requires("quality.view")
@documented(response={"type": "object", "properties": {
    "project_id": {"type": "integer"}, "supported": {"type": "boolean"}, "threshold": {"type": "number"},
    "auto_accepted": {"type": "integer"}, "judgments_saved": {"type": "integer"},
    "n_with_model_choice": {"type": "integer"},
    "bins": {"type": "array", "items": SHARE}, "audit": SHARE, "estimated_errors": {"type": ["object", "null"]}}})
def calibration(project_id: int):
    """The confidence gate against the panel: per ``model_confidence`` bin, the share of items
    whose panel label equals the model's preferred output (``metadata.model_choice``); judgments
    the gate saved; and the error rate of auto-accepted items estimated from the audited ones
    (Wilson 95% interval)."""
    project = project_for(project_id, "quality.view")
    return desk.calibration(db.session, project, utcnow())


ACT_DOCS = {
    "pause": "Pause a rater: no new assignments in this project (their open one is released); they see the note as the reason.",
    "resume": "Resume a paused, warned or removed rater (a failed qualification counts as passed: the manager vouches).",
    "remove": "Remove a rater from the project's work (the membership and judgments stay; resume undoes it).",
    "exclude": "Exclude a rater's judgments from statistics and exports (reversible: include).",
    "include": "Re-include an excluded rater's judgments in statistics and exports.",
}
NOTE_BODY = json_content({"type": "object", "required": ["note"], "additionalProperties": False,
                          "properties": {"note": {"type": "string", "minLength": 1, "maxLength": standing.MAX_NOTE,
                                                  "description": "why (audited; a pause's note is what the rater reads)"}}})


def _act_view(action: str):
    def view(project_id: int, rater_id: int):
        project = project_for(project_id, "raters.manage")
        body = json_body()
        unknown = sorted(set(body) - {"note"})
        if unknown:
            raise ApiError(400, "validation_failed", f"Unknown field(s): {', '.join(unknown)}.")
        try:
            member = standing.act(db.session, project, rater_id, action, body.get("note"), current_user, utcnow())
        except standing.StandingRefused as exc:
            raise ApiError(exc.status, exc.code, exc.message) from None
        db.session.commit()
        return {"project_id": project.id, "rater_id": rater_id, "standing": standing.standing_json(project, member)}

    view.__name__ = f"rater_{action}"
    view.__doc__ = ACT_DOCS[action] + "\n\nAudited. 404 when the user is not a member; 409 when it does not apply; 422 without a note."
    return requires("raters.manage")(documented(body=NOTE_BODY, response={"type": "object", "properties": {
        "project_id": {"type": "integer"}, "rater_id": {"type": "integer"}, "standing": STANDING}})(view))


for _action in standing.MANAGER_ACTS:
    bp.add_url_rule(f"/projects/<int:project_id>/raters/<int:rater_id>/{_action}", endpoint=f"rater_{_action}",
                    view_func=_act_view(_action), methods=["POST"])

THRESHOLD_ROW = {"type": "object", "properties": {
    "name": {"type": "string"}, "default": {"type": "number"}, "value": {"type": "number"},
    "overridden": {"type": "boolean"}, "whole": {"type": "boolean"}, "meaning": {"type": "string"}}}
THRESHOLD_SETTINGS = {"type": "object", "properties": {"project_id": {"type": "integer"},
                                                       "thresholds": {"type": "array", "items": THRESHOLD_ROW}}}


@bp.get("/projects/<int:project_id>/quality/thresholds")
@requires("quality.view")
@documented(response=THRESHOLD_SETTINGS)
def thresholds(project_id: int):
    """The project's quality thresholds and auto-pause rules: each with its default, its value
    here and what it means."""
    return desk.thresholds_settings(project_for(project_id, "quality.view"))


@bp.put("/projects/<int:project_id>/quality/thresholds")
@requires("quality.settings")
@documented(body=json_content({"type": "object", "description": "name: number (null resets to the default)",
                               "properties": {name: {"type": ["number", "null"]} for name in Thresholds.names()},
                               "additionalProperties": False}), response=THRESHOLD_SETTINGS)
def put_thresholds(project_id: int):
    """Override some of the project's thresholds (the others keep their values). Audited;
    422 naming each wrong value, and nothing is written."""
    project = project_for(project_id, "quality.settings")
    try:
        out = desk.save_thresholds(db.session, project, json_body(), current_user)
    except desk.ThresholdsInvalid as exc:
        raise ApiError(422, "validation_failed", "Some thresholds are wrong.", exc.errors) from None
    db.session.commit()
    return out
