"""The exports page of a project (form, versions, release, retry) and the download."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user
from sqlalchemy import select

from boundary import Invalid, accepts, parse_form
from database import db
from raters.access import can, requires
from scoring.exports import services
from scoring.exports.models import Export
from scoring.exports.options import CHECKBOXES, FORMATS, KINDS, MEDIA, MODES, ExportForm, OptionsInvalid, parse
from tasks.catalogue.util import project_for

bp = Blueprint("exports", __name__)


def export_for(export_id: int, action: str) -> Export:
    services.reap_abandoned(db.session)  # a dead worker's build is shown failed, not "building" forever
    export = db.session.get(Export, export_id)
    if export is None:
        abort(404, f"There is no export {export_id}.")
    project_for(export.project_id, action)
    return export


def may_download(user, export: Export) -> bool:
    """Released versions: every reader; drafts: the project's managers (staff) only; never an
    export an asset's consent revocation affected."""
    if export.affected_at is not None:
        return False
    if export.state == "released":
        return can(user, "exports.download")
    return export.state == "draft" and can(user, "exports.release")


def versions(project_id: int) -> list[tuple[Export, dict | None]]:
    """The project's exports, newest first, each with its row-count changes since its previous
    version (None for a first version or one not built yet)."""
    services.reap_abandoned(db.session)
    rows = db.session.scalars(select(Export).where(Export.project_id == project_id)
                              .order_by(Export.created_at.desc(), Export.id.desc())).all()
    out = []
    for export in rows:
        before = services.previous_version(db.session, export) if export.row_counts else None
        out.append((export, services.count_changes(export, before) if before else None))
    return out


def _page(project, errors=None, form=None, status=200):
    settings = services.settings_for(db.session, project)
    return render_template("scoring/exports/exports.html", project=project, versions=versions(project.id),
                           settings=settings, errors=errors or {}, form=form or {}, kinds=KINDS, formats=FORMATS,
                           modes=MODES, media=MEDIA, may_release=lambda e: services.may_release(current_user, e),
                           may_download=lambda e: may_download(current_user, e),
                           is_staff=can(current_user, "exports.release")), status


@bp.get("/projects/<int:project_id>/exports")
@requires("exports.view")
def index(project_id: int):
    return _page(project_for(project_id, "exports.view"))


@bp.post("/projects/<int:project_id>/exports")
@requires("exports.create")
@accepts(form=ExportForm)
def create(project_id: int):
    project = project_for(project_id, "exports.create")
    form = request.form.to_dict()  # shown again when refused: an unticked box stays unticked
    form.update({flag: "on" if flag in request.form else "off" for flag in CHECKBOXES})
    try:
        fields = parse_form(ExportForm)  # bounds and digits first; then the options' own rules
    except Invalid as exc:  # the same status as the options' own refusals below
        return _page(project, exc.details, form, 400)
    try:
        req = parse(fields.body(), project_kind=project.kind, criteria_keys=project.criteria_keys)
    except OptionsInvalid as exc:
        return _page(project, exc.errors, form, 400)
    export, created = services.request_export(db.session, project, req, current_user)
    flash(f"Export {export.name} queued: it is built in the background." if created else
          f"Nothing changed since {export.name}: that version is the same export.", "success" if created else "info")
    return redirect(url_for("exports.index", project_id=project.id))


@bp.post("/projects/<int:project_id>/exports/settings")
@requires("exports.release")
def settings(project_id: int):
    project = project_for(project_id, "exports.release")
    services.set_release_gate(db.session, project, request.form.get("release_gate") == "on", current_user)
    flash("Export settings saved.", "success")
    return redirect(url_for("exports.index", project_id=project.id))


@bp.post("/exports/<int:export_id>/release")
@requires("exports.release")
def release(export_id: int):
    export = export_for(export_id, "exports.release")
    try:
        services.release(db.session, export, current_user, request.form.get("note", ""))
    except services.ExportRefused as exc:
        flash(exc.message, "error")
        return redirect(url_for("exports.index", project_id=export.project_id)), 303
    flash(f"{export.name} released.", "success")
    return redirect(url_for("exports.index", project_id=export.project_id))


@bp.post("/exports/<int:export_id>/retry")
@requires("exports.create")
def retry(export_id: int):
    export = export_for(export_id, "exports.create")
    try:
        services.retry(db.session, export, current_user)
        flash(f"{export.name} queued again.", "success")
    except services.ExportRefused as exc:
        flash(exc.message, "error")
    return redirect(url_for("exports.index", project_id=export.project_id))


def send_archive(export: Export):
    """The export's ``.tar``: streamed from disk, Range-capable, ETag = its sha256; audited."""
    if export.affected_at is not None:
        abort(410, f"This export may no longer be downloaded: {export.affected_reason}. Build a new version.")
    if not may_download(current_user, export):
        abort(403, "Only released exports can be downloaded; drafts only by the project's managers.")
    path = services.archive_of(export)
    if not path.is_file():
        abort(404, "The export's files are missing.")
    if request.headers.get("Range") is None or request.headers.get("Range", "").startswith("bytes=0-"):
        services.audit(db.session, current_user, "export.download", f"export:{export.id}", export.state,
                       project_id=export.project_id)
    return send_file(path, mimetype="application/x-tar", as_attachment=True, conditional=True,
                     etag=export.archive_sha256, download_name=f"{services.archive_name(export)}.tar", max_age=0)


@bp.get("/exports/<int:export_id>/download")
@requires("exports.download")
def download(export_id: int):
    return send_archive(export_for(export_id, "exports.download"))
