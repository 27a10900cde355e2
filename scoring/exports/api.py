"""Exports over the API: ask for one (202), follow it, release it, download it; and the
project's judgments as rows (the ratings table's columns, paginated)."""
from __future__ import annotations

from datetime import datetime

from flask import Blueprint, current_app, url_for
from flask_login import current_user
from sqlalchemy import func, select

from api import PREFIX, ApiError, documented, int_arg, json_body, json_content
from database import db
from scoring.exports import schema, services, source, tables
from scoring.exports.models import Export
from scoring.exports.options import ExportBody, ExportOptions, OptionsInvalid, parse
from scoring.exports.views import export_for, may_download, send_archive
from tasks.catalogue.models import EXPORTABLE_CONSENT, Asset, ItemOutput
from tasks.catalogue.util import project_for
from tasks.rating.models import Judgment
from tasks.rating.standing import excluded_raters_sql
from raters.access import requires

bp = Blueprint("exports_api", __name__, url_prefix=PREFIX)

EXPORT = {"type": "object", "properties": {
    "id": {"type": "integer"}, "project_id": {"type": "integer"}, "kind": {"type": "string"},
    "format": {"type": "string"}, "version": {"type": "integer"},
    "state": {"type": "string", "enum": ["queued", "building", "draft", "released", "failed"]},
    "progress": {"type": "number"}, "error": {"type": ["string", "null"]}, "options": {"type": "object"},
    "row_counts": {"type": ["object", "null"]}, "row_count_changes": {"type": ["object", "null"], "description": "rows gained or lost per table since the previous version"},
    "affected": {"type": ["string", "null"], "description": "why the export must no longer be used"},
    "download_url": {"type": ["string", "null"]}, "manifest": {"type": ["object", "null"]}}}
ARROW_JSON = {"string": "string", "double": "number", "int64": "integer"}
NOTE_SCHEMA = {"type": "object", "description": "a time-coded note (dataset card: `notes`)", "properties": {
    field.name: {"type": [ARROW_JSON[str(field.type)], "null"]} for field in schema.NOTE}}
JUDGMENT_ROW = {"type": "object", "description": "the columns of the ratings table", "properties": {
    "item_id": {"type": "string"}, "model_a": {"type": ["string", "null"]}, "model_b": {"type": ["string", "null"]},
    "choice": {"type": ["string", "null"]}, "strength": {"type": ["integer", "null"]}, "scores": {"type": "object"},
    "rationale": {"type": "string"}, "notes": {"type": "array", "items": NOTE_SCHEMA},
    "criteria": {"type": "array", "description": "pairwise: per-criterion choices (item labels)", "items": {
        "type": "object", "properties": {"key": {"type": "string"}, "choice": {"type": "string", "enum": ["a", "b", "tie"]},
                                         "strength": {"type": ["integer", "null"]}}}}, "is_gold": {"type": "boolean"},
    "superseded": {"type": "boolean"}, "source": {"type": "string"}, "rater": {"type": "string"},
    "presented": {"type": ["object", "null"]}, "playback_s": {"type": ["object", "null"]},
    "time_on_task_ms": {"type": ["integer", "null"]}, "confidence": {"type": "integer"},
    "created_at": {"type": "string", "format": "date-time"}}}


def serialise(export: Export, *, manifest: bool = False) -> dict:
    out = {"id": export.id, "project_id": export.project_id, "kind": export.kind, "format": export.file_format,
           "version": export.version, "state": export.state, "progress": export.progress, "error": export.error,
           "options": export.options, "row_counts": export.row_counts,
           "row_count_changes": _changes(export),
           "affected": export.affected_reason,
           "download_url": url_for("exports_api.download", export_id=export.id) if may_download(current_user, export)
           else None}
    if manifest:
        out["manifest"] = export.manifest
    return out


def _changes(export: Export) -> dict | None:
    before = services.previous_version(db.session, export) if export.row_counts else None
    return services.count_changes(export, before) if before else None


def _refused(exc: services.ExportRefused):
    raise ApiError(exc.status, exc.code, exc.message)


@bp.post("/projects/<int:project_id>/exports")
@requires("exports.create")
@documented(body=ExportBody, response=EXPORT, status=202, also=(200,))
def create(project_id: int):
    """Ask for an export: 202 with its id; it is built in the background.

    The same request on unchanged data answers 200 with the existing version."""
    project = project_for(project_id, "exports.create")
    try:
        req = parse(json_body(), project_kind=project.kind, criteria_keys=project.criteria_keys)
    except OptionsInvalid as exc:
        raise ApiError(422, "validation_failed", "The export options are not valid.", exc.errors) from None
    export, created = services.request_export(db.session, project, req, current_user)
    return serialise(export), 202 if created else 200, {"Location": url_for("exports_api.detail", export_id=export.id)}


@bp.get("/projects/<int:project_id>/exports")
@requires("exports.view")
@documented(response={"type": "object", "properties": {"items": {"type": "array", "items": EXPORT}}})
def index(project_id: int):
    """The project's exports, newest first, with row-count changes since each one's previous version."""
    project = project_for(project_id, "exports.view")
    services.reap_abandoned(db.session)
    rows = db.session.scalars(select(Export).where(Export.project_id == project.id)
                              .order_by(Export.created_at.desc(), Export.id.desc())).all()
    return {"items": [serialise(e) for e in rows]}


@bp.get("/exports/<int:export_id>")
@requires("exports.view")
@documented(response=EXPORT)
def detail(export_id: int):
    """An export: state, progress and, once built, its manifest."""
    return serialise(export_for(export_id, "exports.view"), manifest=True)


@bp.post("/exports/<int:export_id>/release")
@requires("exports.release")
@documented(body=json_content({"type": "object", "required": ["note"], "properties": {
    "note": {"type": "string", "minLength": 1, "maxLength": 2000}}}), response=EXPORT)
def release(export_id: int):
    """Release a draft (the project's owner or an admin), with a note that goes in the manifest."""
    export = export_for(export_id, "exports.release")
    note = json_body().get("note")
    if not isinstance(note, str):
        raise ApiError(422, "validation_failed", "Send the release note.", {"note": "required text"})
    try:
        services.release(db.session, export, current_user, note)
    except services.ExportRefused as exc:
        _refused(exc)
    return serialise(export, manifest=True)


@bp.post("/exports/<int:export_id>/retry")
@requires("exports.create")
@documented(response=EXPORT, status=202)
def retry(export_id: int):
    """Queue a failed export again."""
    export = export_for(export_id, "exports.create")
    try:
        services.retry(db.session, export, current_user)
    except services.ExportRefused as exc:
        _refused(exc)
    return serialise(export), 202


@bp.get("/exports/<int:export_id>/download")
@requires("exports.download")
@documented()
def download(export_id: int):
    """The export as a ``.tar`` (streamed; ``Range`` requests resume a download)."""
    return send_archive(export_for(export_id, "exports.download"))


@bp.get("/projects/<int:project_id>/judgments")
@requires("judgments.list")
@documented(query={"page": {"type": "integer", "minimum": 1}, "per_page": {"type": "integer", "minimum": 1}},
            response={"type": "object", "properties": {"items": {"type": "array", "items": JUDGMENT_ROW},
                                                       "page": {"type": "integer"}, "per_page": {"type": "integer"},
                                                       "total": {"type": "integer"}, "next": {"type": ["string", "null"]}}})
def judgments(project_id: int):
    """The project's judgments (current and superseded) as rows of the ratings table.

    Pseudonymous raters; items with an asset whose consent does not allow export are left out, and
    so are the judgments of raters a manager excluded (as in every export)."""
    project = project_for(project_id, "judgments.list")
    per_page = int_arg("per_page", current_app.config["API_PAGE_SIZE"], lo=1, hi=current_app.config["API_MAX_PAGE_SIZE"])
    page = int_arg("page", 1, lo=1, hi=10**9)
    withheld = (select(ItemOutput.item_id).join(Asset, Asset.id == ItemOutput.asset_id)
                .where(Asset.consent.not_in(EXPORTABLE_CONSENT)))
    query = select(Judgment.id, Judgment.item_id).where(Judgment.project_id == project.id,
                                                        Judgment.item_id.not_in(withheld),
                                                        Judgment.rater_id.not_in(excluded_raters_sql(project.id)))
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    page_rows = db.session.execute(query.order_by(Judgment.id).limit(per_page).offset((page - 1) * per_page)).all()
    wanted = {jid for jid, _ in page_rows}
    items = source.load_items(db.session, sorted({item for _, item in page_rows}), None)
    ctx = tables.Context(project.kind, project.modality, ExportOptions(), project.criteria_keys, {},
                         services.pseudonymiser(services.settings_for(db.session, project).pseudonym_key),
                         lambda output: f"sha256:{output.sha256}",
                         pairwise_criteria=[c["key"] for c in project.pairwise_criteria or []])
    rows = sorted(((j.id, tables.rating_row(j, item, ctx)) for item in items for j in item.judgments
                   if j.id in wanted), key=lambda pair: pair[0])
    next_url = None
    if page * per_page < total:
        next_url = url_for("exports_api.judgments", project_id=project.id, page=page + 1, per_page=per_page)
    return {"items": [{k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in row.items()}
                      for _, row in rows],
            "page": page, "per_page": per_page, "total": total, "next": next_url}
