"""Project pages: home, list, detail, create and edit, members, item import and item list."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select

from database import db, utcnow
from raters.access import can, requires
from raters.models import User
from boundary import Invalid, PageQuery, accepts, parse_form, parse_query, validate
from tasks.catalogue import importing, inputs
from tasks.rating import judging, overlap, routing, standing
from tasks.catalogue.models import Item, ItemImport, Project
from tasks.rating.models import Flag
from tasks.catalogue.projects import EDITABLE, SETTINGS, ProjectError, create_project, set_members, update_project
from tasks.catalogue.store import asset_store
from tasks.catalogue.util import max_asset_bytes, project_for, visible_projects_query

bp = Blueprint("tasks", __name__)
RUBRIC_FORM_ROWS = 2  # blank criteria rows offered beyond the existing ones
ITEMS_PER_PAGE = 50


def project_form_data(form) -> dict:
    """The project fields from the HTML form, in the API's shape (validation is shared); the
    form's numbers and texts checked against ``inputs.ProjectForm`` first (``boundary.Invalid``).
    A setting not on the form keeps its value."""
    fields = validate(inputs.ProjectForm, form.to_dict())
    data = fields.model_dump(exclude={"rubric_rows"})
    data = {name: value for name, value in data.items() if name not in SETTINGS or name in form}
    data.update({name: "" for name, value in data.items() if value is None and name != "owner_id"})
    rubric, errors = [], {}
    for i in range(fields.rubric_rows):
        prefix = f"rubric-{i}-"
        try:
            row = validate(inputs.CriterionRow, {k[len(prefix):]: v for k, v in form.items() if k.startswith(prefix)})
        except Invalid as exc:
            errors.update({f"rubric[{i}].{k}": v for k, v in exc.details.items()})
            continue
        if not row.key and not row.label:
            continue
        levels = {}
        for line in row.levels.splitlines():
            point, sep, text = line.partition(":")
            if sep:
                levels[point.strip()] = text.strip()
        rubric.append({"key": row.key, "label": row.label, "min": row.min, "max": row.max, "levels": levels})
    if errors:
        raise Invalid(errors)
    data["rubric"] = rubric
    data["pairwise_criteria"] = criteria_from_lines(form.get("pairwise_criteria", ""))
    data["require_note"] = form.get("require_note") in ("on", "1", "true", "yes")
    return data


def criteria_from_lines(text: str) -> list[dict]:
    """Pairwise criteria typed one a line as ``key | Name | description``."""
    criteria = []
    for line in text.splitlines():
        if not line.strip():
            continue
        key, _, rest = line.partition("|")
        name, _, description = rest.partition("|")
        criteria.append({"key": key.strip(), "name": name.strip(), "description": description.strip()})
    return criteria
def _form_values(form) -> dict:
    """A refused form's values to show again (texts only; the rubric rows start over)."""
    return {key: form.get(key, "")[:500] for key in ("name", "kind", "modality", "instructions", "owner_id", *SETTINGS)}


def _render_form(project: Project | None, values: dict, errors: dict, status: int = 200):
    owners = db.session.scalars(select(User).where(User.role.in_(("admin", "manager")),
                                                   User.active.is_(True)).order_by(User.name)).all()
    rubric = list(values.get("rubric") or [])
    rubric += [{"key": "", "label": "", "min": 1, "max": 5, "levels": {}}] * RUBRIC_FORM_ROWS
    return render_template("tasks/project_form.html", project=project, values=values, errors=errors,
                           rubric=rubric, owners=owners, settings=SETTINGS), status


@bp.get("/")
@requires("projects.list")
def home():
    projects = db.session.scalars(visible_projects_query(current_user)).all()
    counts = dict(db.session.execute(select(Item.project_id, func.count()).group_by(Item.project_id)).all())
    progress, revisable = {}, []
    if current_user.role == "rater":
        now = utcnow()
        progress = {p.id: standing.with_standing(db.session, p, current_user, routing.progress(
            db.session, p, current_user, now)) for p in projects}
        revisable = judging.revisable_assignments(db.session, current_user, now)
    return render_template("tasks/home.html", projects=projects, counts=counts, progress=progress,
                           revisable=revisable, available_cap=routing.AVAILABLE_CAP)


@bp.route("/projects/new", methods=["GET", "POST"])
@requires("projects.create")
@accepts(form=inputs.ProjectForm)
def new_project():
    if request.method == "POST":
        try:
            data = project_form_data(request.form)
            project = create_project(db.session, data, current_user)
        except Invalid as exc:
            return _render_form(None, _form_values(request.form), exc.details, 400)
        except ProjectError as exc:
            return _render_form(None, data, exc.errors, 400)
        flash(f"Project “{project.name}” created. Import its items next.", "success")
        return redirect(url_for("tasks.project", project_id=project.id))
    defaults = {"kind": "pairwise", "modality": "video", "owner_id": current_user.id, "rubric": [],
                **{k: spec[1] for k, spec in SETTINGS.items()}}
    return _render_form(None, defaults, {})


@bp.get("/projects/<int:project_id>")
@requires("projects.view")
def project(project_id: int):
    return _project_page(project_for(project_id, "projects.view"))


def _project_page(project: Project, import_errors: list[str] | None = None, import_filename: str = "",
                  status: int = 200):
    """The project page as the current user may see it (with a refused import's errors)."""
    context = {"project": project, "n_items": 0, "items": [], "imports": [], "page": 1, "pages": 1}
    if can(current_user, "items.view"):
        page = parse_query(PageQuery).page
        n_items = db.session.scalar(select(func.count()).select_from(Item).where(Item.project_id == project.id))
        items = db.session.scalars(select(Item).where(Item.project_id == project.id).order_by(Item.id)
                                   .limit(ITEMS_PER_PAGE).offset((page - 1) * ITEMS_PER_PAGE)).all()
        imports = db.session.scalars(select(ItemImport).where(ItemImport.project_id == project.id)
                                     .order_by(ItemImport.id.desc())).all()
        context.update(n_items=n_items, items=items, imports=imports, page=page,
                       pages=max(1, -(-n_items // ITEMS_PER_PAGE)))
    raters = []
    if can(current_user, "projects.edit"):
        raters = db.session.scalars(select(User).where(User.role == "rater", User.active.is_(True))
                                    .order_by(User.name)).all()
    if can(current_user, "flags.manage", project) or can(current_user, "adjudication.decide", project):
        context["open_flags"] = db.session.scalar(select(func.count()).select_from(Flag).where(
            Flag.project_id == project.id, Flag.resolved_at.is_(None)))
        context["split_items"] = db.session.scalar(select(func.count()).select_from(
            overlap.queue_query(project).order_by(None).subquery()))
    if current_user.role == "rater":
        context["progress"] = standing.with_standing(db.session, project, current_user, routing.progress(
            db.session, project, current_user, utcnow()))
    return render_template("tasks/project.html", raters=raters, import_errors=import_errors,
                           import_filename=import_filename, **context), status


@bp.route("/projects/<int:project_id>/edit", methods=["GET", "POST"])
@requires("projects.edit")
@accepts(form=inputs.ProjectForm)
def edit_project(project_id: int):
    project = project_for(project_id, "projects.edit")
    if request.method == "POST":
        try:
            data = project_form_data(request.form)
            update_project(db.session, project, data, current_user)
        except Invalid as exc:
            return _render_form(project, _form_values(request.form), exc.details, 400)
        except ProjectError as exc:
            return _render_form(project, data, exc.errors, 400)
        flash("Project saved.", "success")
        return redirect(url_for("tasks.project", project_id=project.id))
    values = {field: getattr(project, field) for field in EDITABLE}
    return _render_form(project, values, {})


@bp.post("/projects/<int:project_id>/members")
@requires("projects.edit")
@accepts(form=inputs.MembersForm)
def members(project_id: int):
    project = project_for(project_id, "projects.edit")
    ids = parse_form(inputs.MembersForm).member  # malformed: 422 naming the field
    try:
        set_members(db.session, project, ids, current_user)
    except ProjectError as exc:
        flash(f"Members not saved: {'; '.join(exc.errors.values())}", "error")
        return redirect(url_for("tasks.project", project_id=project.id))
    flash(f"{len(ids)} rater(s) on this project.", "success")
    return redirect(url_for("tasks.project", project_id=project.id, _anchor="members"))


@bp.post("/projects/<int:project_id>/items")
@requires("items.import")
def import_items(project_id: int):
    project = project_for(project_id, "items.import")
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        flash("Choose a JSONL or CSV file to import.", "error")
        return redirect(url_for("tasks.project", project_id=project.id))
    try:
        data = importing.read_upload(upload, current_app.config["MAX_IMPORT_MB"])
        record = importing.import_items(db.session, project, data, upload.filename, actor=current_user,
                                        store=asset_store(), media_root=current_app.config["MEDIA_ROOT"],
                                        max_asset_bytes=max_asset_bytes())
    except importing.ImportRejected as exc:
        db.session.rollback()
        flash(f"{upload.filename}: nothing was imported — fix these and upload again.", "error")
        return _project_page(project, exc.errors, upload.filename, 422)
    flash(f"Imported {record.n_items} items from {upload.filename}.", "success")
    return redirect(url_for("tasks.project", project_id=project.id))
