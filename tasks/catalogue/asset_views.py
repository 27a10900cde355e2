"""Asset pages (list, upload, provenance and consent) and the media URL itself."""
from __future__ import annotations

import hashlib
import hmac
import json
import re

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select
from werkzeug.exceptions import HTTPException, RequestedRangeNotSatisfiable
from werkzeug.wsgi import FileWrapper

import boundary
from boundary import Invalid, PageQuery, accepts, parse_form, parse_query
from database import db, utcnow
from raters.access import requires
from security import is_token_media_request
from tasks.rating import consent, playback
from tasks.catalogue import assets as asset_ops
from tasks.catalogue.formats import AssetError
from tasks.catalogue import inputs
from tasks.catalogue.models import CONSENT_STATES, Asset, Item, ItemOutput, Project
from tasks.catalogue.store import AssetStore, MissingBytes, asset_store
from tasks.catalogue.util import max_asset_bytes, may_fetch_media

bp = Blueprint("assets", __name__)
PER_PAGE = 50
MEDIA_BLOCK = 64 * 1024  # bytes read from the store per write to the client


def upload_asset(upload, form_or_json: dict) -> tuple[Asset, bool]:
    """Store an uploaded file and register it with the provenance sent beside it."""
    provenance, problems = asset_ops.clean_provenance(
        {k: v for k, v in form_or_json.items() if k in asset_ops.PROVENANCE_FIELDS and v not in ("", None)})
    if problems:
        raise AssetError("; ".join(problems))
    store = asset_store()
    stored = store.put(upload.stream, upload.filename or "upload", max_asset_bytes())
    return asset_ops.register(db.session, store, stored, original_name=upload.filename or "", actor=current_user,
                              provenance=provenance)


@bp.get("/assets")
@requires("assets.view")
def index():
    page = parse_query(PageQuery).page
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
        except AssetError as exc:
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
    return render_template("tasks/asset.html", asset=asset, uses=consent.affected(db.session, asset),
                           states=CONSENT_STATES, errors=[])


@bp.post("/assets/<int:asset_id>")
@requires("assets.edit")
@accepts(form=inputs.ProvenanceForm)
def edit(asset_id: int):
    asset = db.session.get(Asset, asset_id) or abort(404)
    try:
        form = parse_form(inputs.ProvenanceForm).model_dump()
    except Invalid as exc:
        return render_template("tasks/asset.html", asset=asset, uses=consent.affected(db.session, asset),
                               states=CONSENT_STATES, errors=[f"{k}: {v}" for k, v in exc.details.items()]), 400
    note = form.pop("note", "").strip()
    raw = {k: (v.strip() or None) for k, v in form.items() if k in asset_ops.PROVENANCE_FIELDS}
    if raw.get("generation_params"):
        try:
            raw["generation_params"] = boundary.loads(raw["generation_params"])
        except ValueError:
            raw["generation_params"] = "not json"
    provenance, problems = asset_ops.clean_provenance({k: v for k, v in raw.items() if v is not None})
    if provenance.get("consent") != asset.consent and not note:
        problems.append("say why the consent changes (the note is kept in the audit trail)")
    if problems:
        return render_template("tasks/asset.html", asset=asset, uses=consent.affected(db.session, asset),
                               states=CONSENT_STATES, errors=problems), 400
    for key in asset_ops.PROVENANCE_FIELDS:  # a cleared field is cleared
        provenance.setdefault(key, None if key != "consent" else asset.consent)
    old = asset.consent
    asset_ops.set_provenance(db.session, asset, provenance, current_user, note=note)
    effect = consent.consent_changed(db.session, asset, old, current_user, note=note, now=utcnow())
    flash("Provenance saved." + (_effect_text(asset, effect) if effect else ""), "success")
    return redirect(url_for("assets.detail", asset_id=asset.id))


class ConsentWithheld(HTTPException):
    code = 451
    name = "Media withdrawn"
    api_code = "consent_withdrawn"
    description = ("The consent for this media was withdrawn, so it is no longer shown to raters. "
                   "Any open task using it was closed; nothing you submitted is lost.")


@bp.before_request
def _token_media_fetch_writes():
    if request.endpoint == "assets.media" and is_token_media_request():
        db.serialise_writes()  # it records the byte ranges served (SQLite writer from the start)


def _effect_text(asset: Asset, effect: dict) -> str:
    if asset.exportable:
        return (f" Consent restored: {effect['items']} item(s) are routed again and "
                f"{effect['judgments']} judgment(s) count in the statistics again.")
    return (f" Consent withdrawn: {effect['items']} item(s) left routing, {effect['open_assignments_closed']} open "
            f"assignment(s) were closed, {effect['judgments']} judgment(s) are kept but excluded from statistics.")


@bp.get("/media/<public_id>")
@requires("media.fetch")
def media(public_id: str):
    """The bytes of an asset, with Range support; 404 to anyone not allowed to see it, 451 to a
    rater when the asset's consent is withdrawn (staff still see it, to review).

    Accepts the session cookie or a bearer token. Raters' bytes always pass through here (from
    the disk or, Range for Range, from the bucket): every request is checked, so a withdrawn
    consent or a removed membership stops playback at the next range, and for a rater with a
    token the byte ranges served are recorded against each of their open assignments showing
    the asset — the playback the server observed for API raters (``tasks.rating.playback``).
    Staff and researchers are redirected to a short-lived presigned URL when the store is a
    bucket (``MEDIA_URL_TTL_S``), so their bytes never load an app worker. Never cached beyond
    the request (``no-store``: revoked access must not live on in a browser cache); the ETag is
    keyed, never the content hash."""
    asset = db.session.scalar(select(Asset).where(Asset.public_id == public_id))
    if asset is None or not may_fetch_media(current_user, asset):
        abort(404)
    if current_user.role == "rater" and not asset.exportable:
        raise ConsentWithheld()
    store = asset_store()
    if current_user.role != "rater":
        url = store.presigned_url(asset.sha256, expires_s=current_app.config["MEDIA_URL_TTL_S"],
                                  mime_type=asset.mime_type, download_name=f"{asset.public_id}{_suffix(asset)}")
        if url:
            response = redirect(url, 307)
            response.headers["Cache-Control"] = "private, no-store"
            return response
    response = _bytes_response(store, asset)
    if current_user.role == "rater" and is_token_media_request() and request.method == "GET":
        served = _served_range(response, asset.size_bytes)
        if served:
            now = utcnow()
            for assignment, label in playback.open_assignments_showing(db.session, current_user.id, asset.id, now):
                playback.record_bytes(db.session, assignment, label, served[0], served[1], now)
    return response


def _bytes_response(store: AssetStore, asset: Asset):
    """The asset's bytes read from the store: 206 for a Range (fetching just that range from a
    bucket), 304 for a matching If-None-Match, 416 for a range past the end."""
    size = asset.size_bytes
    wanted = request.range.range_for_length(size) if request.range else None
    start, stop = wanted or (0, size)
    try:
        source = store.open(asset.sha256, start, stop)
    except MissingBytes:
        current_app.logger.error("asset %s: its bytes are missing from the store", asset.id)
        abort(404)
    response = current_app.response_class(FileWrapper(source, MEDIA_BLOCK), mimetype=asset.mime_type,
                                          direct_passthrough=True)
    response.content_length = size
    response.headers.set("Content-Disposition", "inline", filename=f"{asset.public_id}{_suffix(asset)}")
    response.set_etag(_etag(asset))
    try:
        response = response.make_conditional(request.environ, accept_ranges=True, complete_length=size)
    except RequestedRangeNotSatisfiable:
        source.close()
        raise
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _etag(asset: Asset) -> str:
    key = current_app.config["SECRET_KEY"]
    key = key if isinstance(key, bytes) else str(key).encode()
    return hmac.new(key, f"media:{asset.public_id}:{asset.sha256}".encode(), hashlib.sha256).hexdigest()[:32]


def _served_range(response, size: int) -> tuple[int, int] | None:
    """The ``[start, end)`` bytes a media response carries (None for 304, 416 and the like)."""
    if response.status_code == 200:
        return (0, size) if size else None
    if response.status_code == 206:
        found = re.match(r"bytes (\d+)-(\d+)/", response.headers.get("Content-Range", ""))
        if found:
            return int(found.group(1)), int(found.group(2)) + 1
    return None


def _suffix(asset: Asset) -> str:
    return {"video/mp4": ".mp4", "video/webm": ".webm", "audio/wav": ".wav", "audio/mpeg": ".mp3",
            "audio/ogg": ".ogg", "audio/flac": ".flac"}.get(asset.mime_type, ".txt")
