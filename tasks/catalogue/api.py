"""Projects, items and assets over the API."""
from __future__ import annotations

from flask import Blueprint, current_app, request, url_for
from flask_login import current_user
from sqlalchemy import func, select

from api import PREFIX, ApiError, documented, paginate, uploaded_file
from boundary import parse, parse_query
from database import db, utcnow
from raters.access import requires
from tasks.catalogue import assets as asset_ops
from tasks.catalogue.formats import AssetError
from tasks.catalogue import importing, inputs
from tasks.rating import consent
from tasks.catalogue.asset_views import upload_asset
from tasks.catalogue.models import Asset, Item
from tasks.catalogue.projects import SETTINGS, ProjectError, create_project, set_members, update_project
from tasks.rating import item_states
from tasks.rating.item_states import STATES
from tasks.catalogue.store import asset_store
from tasks.catalogue.util import max_asset_bytes, project_for, visible_projects_query

bp = Blueprint("tasks_api", __name__, url_prefix=PREFIX)

CRITERION = {"type": "object", "required": ["key", "label", "min", "max", "levels"], "properties": {
    "key": {"type": "string"}, "label": {"type": "string"}, "min": {"type": "integer"},
    "max": {"type": "integer"}, "levels": {"type": "object", "additionalProperties": {"type": "string"}}}}
PAIRWISE_CRITERION = {"type": "object", "required": ["key", "name"], "additionalProperties": False, "properties": {
    "key": {"type": "string", "pattern": "^[a-z][a-z0-9_]{0,39}$"}, "name": {"type": "string", "maxLength": 80},
    "description": {"type": "string", "maxLength": 500}}}
PROJECT_FIELDS = {
    "name": {"type": "string"}, "kind": {"type": "string", "enum": ["pairwise", "rubric"]},
    "modality": {"type": "string", "enum": ["video", "audio", "script"]},
    "instructions": {"type": "string"}, "rubric": {"type": "array", "items": CRITERION},
    "pairwise_criteria": {"type": ["array", "null"], "maxItems": 8, "items": PAIRWISE_CRITERION,
                          "description": "pairwise only: what raters compare one by one (Left / Right / Tie, "
                                         "strength) before the overall choice"},
    "require_note": {"type": "boolean", "default": False,
                     "description": "every judgment must carry at least one time-coded (scripts: line) note"},
    "owner_id": {"type": "integer"},
    **{name: {"type": "integer" if spec[0] is int else "number", "default": spec[1],
              "minimum": spec[2], "maximum": spec[3]} for name, spec in SETTINGS.items()}}
PROJECT_SCHEMA = {"type": "object", "properties": {
    "id": {"type": "integer"}, **PROJECT_FIELDS, "revision": {"type": "integer"},
    "members": {"type": "array", "items": {"type": "integer"}}}}
ASSET_SCHEMA = {"type": "object", "properties": {
    "id": {"type": "integer"}, "sha256": {"type": "string"}, "media_kind": {"type": "string"},
    "mime_type": {"type": "string"}, "size_bytes": {"type": "integer"},
    "duration_s": {"type": ["number", "null"]}, "media_url": {"type": "string"},
    "frame_rate": {"type": ["number", "null"], "description": "frames a second (video); null for audio, scripts, unknown"},
    **{k: {} for k in asset_ops.PROVENANCE_FIELDS}}}
ITEM_SCHEMA = {"type": "object", "properties": {
    "id": {"type": "integer"}, "external_id": {"type": "string"}, "prompt": {"type": "string"},
    "model_confidence": {"type": ["number", "null"]}, "expertise": {"type": "array"},
    "gold": {}, "metadata": {}, "outputs": {"type": "array"}}}
PAGE = {"page": {"type": "integer", "minimum": 1, "maximum": 10**9},
        "per_page": {"type": "integer", "minimum": 1, "maximum": 500}}


def project_json(project) -> dict:
    return {"id": project.id, "name": project.name, "kind": project.kind, "modality": project.modality,
            "instructions": project.instructions, "rubric": project.rubric,
            "pairwise_criteria": project.pairwise_criteria, "require_note": project.require_note,
            "owner_id": project.owner_id,
            **{name: getattr(project, name) for name in SETTINGS}, "revision": project.revision,
            "members": sorted(m.user_id for m in project.member_rows)}


def asset_json(asset: Asset) -> dict:
    return {"id": asset.id, "sha256": asset.sha256, "media_kind": asset.media_kind,
            "mime_type": asset.mime_type, "size_bytes": asset.size_bytes, "duration_s": asset.duration_s,
            "frame_rate": asset.frame_rate,
            "media_url": url_for("assets.media", public_id=asset.public_id),
            **{k: getattr(asset, k) for k in asset_ops.PROVENANCE_FIELDS}}


def item_json(item: Item) -> dict:
    return {"id": item.id, "external_id": item.external_id, "prompt": item.prompt,
            "model_confidence": item.model_confidence, "expertise": item.expertise, "gold": item.gold,
            "metadata": item.extra,
            "outputs": [{"label": o.label, "model": o.model, "asset_id": o.asset_id} for o in item.outputs]}


def _project_error(exc: ProjectError) -> ApiError:
    return ApiError(422, "validation_failed", "The project is not valid.", exc.errors)


@bp.get("/projects")
@requires("projects.list")
@documented(response={"type": "object", "properties": {"items": {"type": "array", "items": PROJECT_SCHEMA}}},
            query=PAGE)
def list_projects():
    """Projects you can see (raters: the ones they are members of)."""
    return paginate(visible_projects_query(current_user), project_json)


@bp.post("/projects")
@requires("projects.create")
@documented(body=inputs.ProjectCreate, response=PROJECT_SCHEMA, status=201)
def create():
    """Create a project."""
    data = parse(inputs.ProjectCreate).given()
    try:
        project = create_project(db.session, data, current_user)
        if data.get("members") is not None:
            set_members(db.session, project, data["members"], current_user)
    except ProjectError as exc:
        raise _project_error(exc) from None
    return project_json(project), 201


@bp.get("/projects/<int:project_id>")
@requires("projects.view")
@documented(response=PROJECT_SCHEMA)
def get(project_id: int):
    """One project."""
    return project_json(project_for(project_id, "projects.view"))


@bp.patch("/projects/<int:project_id>")
@requires("projects.edit")
@documented(body=inputs.ProjectPatch, response=PROJECT_SCHEMA)
def patch(project_id: int):
    """Change a project's settings, rubric or members (send only what changes)."""
    project = project_for(project_id, "projects.edit")
    data = parse(inputs.ProjectPatch).given()
    try:
        update_project(db.session, project, data, current_user)
        if data.get("members") is not None:
            set_members(db.session, project, data["members"], current_user)
    except ProjectError as exc:
        raise _project_error(exc) from None
    return project_json(project)


@bp.get("/projects/<int:project_id>/items")
@requires("items.view")
@documented(response={"type": "object", "properties": {"items": {"type": "array", "items": {
    **ITEM_SCHEMA, "properties": {**ITEM_SCHEMA["properties"], "state": {"type": "string", "enum": list(STATES)}}}}}},
            query=inputs.ItemQuery)
def list_items(project_id: int):
    """The project's items, oldest first, each with its state; filter by ``state`` and search with ``q``.

    States: gold, adjudicated, flagged, auto_accepted (the confidence gate let it through
    without people), agreed, split (awaiting adjudication), extended (more raters asked for),
    in_progress, queued."""
    project = project_for(project_id, "items.view")
    query = parse_query(inputs.ItemQuery)
    state, q = query.state, query.q
    if state is not None and state not in STATES:
        raise ApiError(400, "invalid_parameter", f"state must be one of {', '.join(STATES)}.", {"state": state})
    now = utcnow()
    statement = select(Item).where(Item.project_id == project.id).order_by(Item.id)
    if state:  # the state is derived: find the items in it first
        rows = item_states.item_rows(db.session, project, now)
        statement = statement.where(Item.id.in_([r["item_id"] for r in rows if r["state"] == state] or [-1]))
    if q:
        like = f"%{q.lower()}%"
        statement = statement.where(func.lower(Item.external_id).like(like) | func.lower(Item.prompt).like(like))
    body = paginate(statement, item_json)
    states = {r["item_id"]: r["state"] for r in
              item_states.item_rows(db.session, project, now, only=[i["id"] for i in body["items"]])}
    for item in body["items"]:
        item["state"] = states.get(item["id"])
    return body


@bp.post("/projects/<int:project_id>/items")
@requires("items.import")
@documented(body={"application/x-ndjson": {"schema": {"type": "string"}},
                  "text/csv": {"schema": {"type": "string"}},
                  "multipart/form-data": {"schema": {"type": "object", "properties": {
                      "file": {"type": "string", "format": "binary"}}}}},
            response={"type": "object", "properties": {"import_id": {"type": "integer"},
                                                       "n_items": {"type": "integer"}}}, status=201)
def import_items(project_id: int):
    """Import items from JSONL or CSV (the body, or a multipart ``file``); all or nothing.

    A refused file answers 422 with ``details.errors``: every ``line N: …`` problem."""
    project = project_for(project_id, "items.import")
    data, filename = uploaded_file("upload")
    try:
        record = importing.import_items(db.session, project, data, filename, actor=current_user,
                                        store=asset_store(), media_root=current_app.config["MEDIA_ROOT"],
                                        max_asset_bytes=max_asset_bytes())
    except importing.ImportRejected as exc:
        raise ApiError(422, "import_rejected", f"{exc} — nothing was imported.", {"errors": exc.errors}) from None
    return {"import_id": record.id, "n_items": record.n_items}, 201


@bp.post("/assets")
@requires("assets.upload")
@documented(body={"multipart/form-data": {"schema": {"type": "object", "required": ["file"], "properties": {
    "file": {"type": "string", "format": "binary"}, **{k: {"type": "string"} for k in asset_ops.PROVENANCE_FIELDS}}}}},
    response=ASSET_SCHEMA, status=201)
def upload():
    """Upload one media file with its provenance (201 when new, 200 when already stored)."""
    upload_file = request.files.get("file")
    if upload_file is None:
        raise ApiError(400, "missing_file", "Send the media as a multipart field named “file”.")
    try:
        asset, created = upload_asset(upload_file, request.form.to_dict())
    except AssetError as exc:
        raise ApiError(422, "invalid_media", str(exc)) from None
    return asset_json(asset), 201 if created else 200


@bp.get("/assets/<int:asset_id>")
@requires("assets.view")
@documented(response=ASSET_SCHEMA)
def get_asset(asset_id: int):
    """One asset with its provenance."""
    return asset_json(_asset(asset_id))


@bp.patch("/assets/<int:asset_id>")
@requires("assets.edit")
@documented(body=inputs.AssetPatch, response=ASSET_SCHEMA)
def patch_asset(asset_id: int):
    """Change an asset's provenance; a consent change needs a ``note`` and is audited."""
    asset = _asset(asset_id)
    data = parse(inputs.AssetPatch).given()
    note = data.pop("note", "")
    provenance, problems = asset_ops.clean_provenance(data)
    if "consent" in provenance and provenance["consent"] != asset.consent and not str(note).strip():
        problems.append("note: say why the consent changes")
    if problems:
        raise ApiError(422, "validation_failed", "The provenance is not valid.", {"errors": problems})
    old = asset.consent
    asset_ops.set_provenance(db.session, asset, provenance, current_user, note=str(note))
    consent.consent_changed(db.session, asset, old, current_user, note=str(note), now=utcnow())
    return asset_json(asset)


def _asset(asset_id: int) -> Asset:
    asset = db.session.get(Asset, asset_id)
    if asset is None:
        raise ApiError(404, "not_found", f"There is no asset {asset_id}.")
    return asset

