"""Asset pages (list, upload, provenance and consent) and the media URL itself."""
from __future__ import annotations

import json

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user
from sqlalchemy import func, select

from database import db
from raters.access import requires
from tasks.catalogue import assets as asset_ops
from tasks.catalogue.models import CONSENT_STATES, Asset, Item, ItemOutput, Project
from tasks.catalogue.util import asset_store, max_asset_bytes, may_fetch_media

bp = Blueprint("assets", __name__)
PER_PAGE = 50


def upload_asset(upload, form_or_json: dict) -> tuple[Asset, bool]:
    """Store an uploaded file and register it with the provenance sent beside it."""
    provenance, problems = asset_ops.clean_provenance(
        {k: v for k, v in form_or_json.items() if k in asset_ops.PROVENANCE_FIELDS and v not in ("", None)})
    if problems:
        raise asset_ops.AssetError("; ".join(problems))
    stored = asset_store().put(upload.stream, upload.filename or "upload", max_asset_bytes())
    return asset_ops.register(db.session, stored, original_name=upload.filename or "", actor=current_user,
                              provenance=provenance)


@bp.get("/assets")
@requires("assets.view")
def index():
    page = max(1, request.args.get("page", 1, type=int))
    consent = request.args.get("consent")
    query = select(Asset).order_by(Asset.id.desc())
    if consent in CONSENT_STATES:
        query = query.where(Asset.consent == consent)
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    rows = db.session.scalars(query.limit(PER_PAGE).offset((page - 1) * PER_PAGE)).all()
    return render_template("tasks/assets.html", assets=rows, total=total, page=page,
                           pages=max(1, -(-total // PER_PAGE)), consent=consent, states=CONSENT_STATES)


@bp.post("/assets")
@requires("assets.upload")
def upload():
    files = [f for f in request.files.getlist("file") if f.filename]
    if not files:
        flash("Choose at least one file to upload.", "error")
        return redirect(url_for("assets.index"))
    done, refused = [], []
    for upload_file in files:
        try:
            asset, created = upload_asset(upload_file, request.form.to_dict())
            done.append((asset, created))
        except asset_ops.AssetError as exc:
            refused.append(str(exc))
    if refused:
        db.session.rollback()
        for message in refused:
            flash(message, "error")
        flash("Nothing was uploaded: fix the files above and try again.", "error")
        return redirect(url_for("assets.index"))
    new = sum(created for _a, created in done)
    flash(f"Uploaded {len(done)} file(s): {new} new, {len(done) - new} already stored.", "success")
    if len(done) == 1:
        return redirect(url_for("assets.detail", asset_id=done[0][0].id))
    return redirect(url_for("assets.index"))


@bp.get("/assets/<int:asset_id>")
@requires("assets.view")
def detail(asset_id: int):
    asset = db.session.get(Asset, asset_id) or abort(404)
    uses = db.session.execute(
        select(Project, Item, ItemOutput).join(Item, Item.project_id == Project.id)
        .join(ItemOutput, ItemOutput.item_id == Item.id).where(ItemOutput.asset_id == asset.id)
        .order_by(Project.name, Item.external_id).limit(100)).all()
    return render_template("tasks/asset.html", asset=asset, uses=uses, states=CONSENT_STATES, errors=[])


@bp.post("/assets/<int:asset_id>")
@requires("assets.edit")
def edit(asset_id: int):
    asset = db.session.get(Asset, asset_id) or abort(404)
    form = request.form.to_dict()
    note = form.pop("note", "").strip()
    raw = {k: (v.strip() or None) for k, v in form.items() if k in asset_ops.PROVENANCE_FIELDS}
    if raw.get("generation_params"):
        try:
            raw["generation_params"] = json.loads(raw["generation_params"])
        except json.JSONDecodeError:
            raw["generation_params"] = "not json"
    provenance, problems = asset_ops.clean_provenance({k: v for k, v in raw.items() if v is not None})
    if provenance.get("consent") != asset.consent and not note:
        problems.append("say why the consent changes (the note is kept in the audit trail)")
    if problems:
        return render_template("tasks/asset.html", asset=asset, uses=[], states=CONSENT_STATES,
                               errors=problems), 400
    for key in asset_ops.PROVENANCE_FIELDS:  # a cleared field is cleared
        provenance.setdefault(key, None if key != "consent" else asset.consent)
    asset_ops.set_provenance(db.session, asset, provenance, current_user, note=note)
    flash("Provenance saved.", "success")
    return redirect(url_for("assets.detail", asset_id=asset.id))


@bp.get("/media/<public_id>")
@requires("media.fetch")
def media(public_id: str):
    """The bytes of an asset, with Range support; 404 to anyone not allowed to see it."""
    asset = db.session.scalar(select(Asset).where(Asset.public_id == public_id))
    if asset is None or not may_fetch_media(current_user, asset):
        abort(404)
    path = asset_store().path_for(asset.sha256)
    if not path.is_file():
        abort(404)
    response = send_file(path, mimetype=asset.mime_type, conditional=True, etag=asset.sha256,
                         max_age=0, download_name=f"{asset.public_id}{_suffix(asset)}")
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response


def _suffix(asset: Asset) -> str:
    return {"video/mp4": ".mp4", "video/webm": ".webm", "audio/wav": ".wav", "audio/mpeg": ".mp3",
            "audio/ogg": ".ogg", "audio/flac": ".flac"}.get(asset.mime_type, ".txt")
