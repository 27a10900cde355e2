"""Assets: registering stored bytes, their duration, provenance and consent (the bytes themselves
are in ``tasks.catalogue.store``, their formats in ``tasks.catalogue.formats``)."""
from __future__ import annotations

import io
import json
import secrets
import shutil
import subprocess
from pathlib import Path

import mutagen
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

import boundary
from raters.models import User
from raters.services import audit
from tasks.catalogue import frame_rate
from tasks.catalogue.formats import FORMATS
from tasks.catalogue.inputs import Provenance
from tasks.catalogue.models import CONSENT_STATES, Asset, ConsentChange, ItemOutput
from tasks.catalogue.store import AssetStore, MissingBytes, StoredBytes
from tasks.rating import routing

PROVENANCE_FIELDS = ("source_model", "model_version", "generation_params", "rights_holder",
                     "license", "consent", "consent_ref")


def probe_duration(path: Path, fmt: str) -> tuple[float | None, str | None]:
    """Seconds of media: ffprobe where installed, else mutagen (pure Python), else unknown."""
    if fmt == "text":
        return None, None
    if shutil.which("ffprobe"):
        try:
            out = subprocess.run(
                ["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "json", str(path)],
                capture_output=True, timeout=20, check=True).stdout
            value = float(json.loads(out)["format"]["duration"])
            if value > 0:
                return round(value, 3), "ffprobe"
        except (subprocess.SubprocessError, KeyError, ValueError, json.JSONDecodeError):
            pass
    try:
        info = mutagen.File(str(path))
        if info is not None and getattr(info.info, "length", 0):
            return round(float(info.info.length), 3), "mutagen"
    except Exception:  # noqa: BLE001 - a damaged file just has no known duration
        pass
    return None, None


def text_duration(text: str) -> float:
    """A reading time for a script: 4 words a second is a brisk, attentive read."""
    return round(max(1.0, len(text.split()) / 4.0), 1)


def probe_missing_frame_rates(session: Session, store: AssetStore) -> int:
    """Read the frame rate of every video asset not probed yet (stored before frame rates were
    kept); returns how many were probed. Run by ``flask db upgrade`` after migrating."""
    assets = session.scalars(select(Asset).where(Asset.frame_rate_source.is_(None))).all()
    for asset in assets:
        fmt = next((f for f, spec in FORMATS.items() if spec[1] == asset.mime_type), "")
        try:
            with store.local_path(asset.sha256) as path:
                asset.frame_rate, asset.frame_rate_source = frame_rate.probe(path, fmt)
        except MissingBytes:
            asset.frame_rate, asset.frame_rate_source = None, "none"
    session.flush()
    return len(assets)


def clean_provenance(raw) -> tuple[dict, list[str]]:
    """Provenance fields from import/API/form data (checked by ``inputs.Provenance``: each text
    fits its column, no NUL), with a list of problems."""
    if raw is None:
        return {}, []
    if not isinstance(raw, dict):
        return {}, ["provenance must be an object"]
    try:
        given = Provenance.model_validate({k: v for k, v in raw.items() if v is not None}).given()
    except ValidationError as exc:
        problems = []
        for field, problem in boundary.field_errors(exc).items():
            name = field.split(".")[0]
            if problem == "unknown field":
                problems.append(f"unknown provenance field “{name}”")
            elif name == "consent":
                problems.append(f"consent must be one of {', '.join(CONSENT_STATES)}")
            elif name == "generation_params" and field == name and problem == "must be an object":
                problems.append("generation_params must be an object")
            elif problem == "must be text":
                problems.append(f"{name} must be text")
            else:
                problems.append(f"{field} {problem}")
        return {}, problems
    return {k: v.strip() if isinstance(v, str) else v for k, v in given.items()}, []


def register(session: Session, store: AssetStore, stored: StoredBytes, *, original_name: str,
             actor: User | None, provenance: dict | None = None, declared_duration: float | None = None,
             text: str | None = None) -> tuple[Asset, bool]:
    """The asset for these bytes (already in ``store``), created if new; returns (asset, created)."""
    asset = session.scalar(select(Asset).where(Asset.sha256 == stored.sha256))
    created = asset is None
    if created:
        kind, mime, _ = FORMATS[stored.fmt]
        duration, source, rate, rate_source = None, None, None, None
        if text is not None:
            duration, source = text_duration(text), "reading"
        elif stored.fmt != "text":
            with store.local_path(stored.sha256) as path:
                duration, source = probe_duration(path, stored.fmt)
                rate, rate_source = frame_rate.probe(path, stored.fmt)
        if duration is None and declared_duration:
            duration, source = float(declared_duration), "declared"
        asset = Asset(sha256=stored.sha256, public_id=secrets.token_urlsafe(18), media_kind=kind,
                      mime_type=mime, size_bytes=stored.size, duration_s=duration,
                      duration_source=source, frame_rate=rate, frame_rate_source=rate_source,
                      original_name=original_name[:255], consent="pending",
                      created_by_id=actor.id if actor else None)
        session.add(asset)
        session.flush()
        audit(session, actor, "asset.create", f"asset:{asset.id}", f"{kind} {original_name[:120]}")
    if created:
        set_provenance(session, asset, provenance or {}, actor, note="created")
    else:
        complete_provenance(session, asset, provenance or {}, actor)
    session.flush()
    return asset, created


def complete_provenance(session: Session, asset: Asset, provenance: dict, actor: User | None) -> None:
    """An existing asset only gains what it lacked; changing a set value is an explicit edit."""
    fill = {k: v for k, v in provenance.items() if not provenance_conflicts(asset, {k: v})
            and getattr(asset, k) != v}
    if fill:
        set_provenance(session, asset, fill, actor, note="completed by a later upload/import")


def provenance_conflicts(asset: Asset, provenance: dict) -> list[str]:
    """Where ``provenance`` would overwrite a value the asset already has (consent ``pending`` is
    a placeholder that later data may settle)."""
    problems = []
    for key, value in provenance.items():
        current = getattr(asset, key)
        if key == "consent" and current == "pending":
            continue
        if current not in (None, "", {}) and current != value:
            problems.append(f"asset {asset.sha256[:12]}… already has {key} “{current}”, not “{value}” "
                            "(change it on the asset's page)")
    return problems


def set_provenance(session: Session, asset: Asset, provenance: dict, actor: User | None,
                   note: str = "") -> None:
    """Update provenance; a consent change is written to the asset's audit trail."""
    changed = [k for k, v in provenance.items() if k not in ("consent", "consent_ref") and getattr(asset, k) != v]
    for key in changed:
        setattr(asset, key, provenance[key])
    if changed and asset.consent_changes:  # an existing asset's provenance edited or completed
        audit(session, actor, "asset.provenance", f"asset:{asset.id}", f"{', '.join(sorted(changed))} {note}".strip())
    new_consent = provenance.get("consent", asset.consent)
    new_ref = provenance.get("consent_ref", asset.consent_ref)
    first = not asset.consent_changes
    consent_changed = new_consent != asset.consent
    if consent_changed or new_ref != asset.consent_ref or first:
        session.add(ConsentChange(asset=asset, old_consent=None if first else asset.consent,
                                  new_consent=new_consent, consent_ref=new_ref, note=note,
                                  changed_by_id=actor.id if actor else None))
        if not first:
            audit(session, actor, "asset.consent", f"asset:{asset.id}",
                  f"{asset.consent} -> {new_consent} (ref {new_ref or '-'}) {note}".strip())
        asset.consent, asset.consent_ref = new_consent, new_ref
    session.flush()
    if consent_changed and asset.id is not None:  # its items enter or leave routing
        users = session.scalars(select(ItemOutput.item_id).where(ItemOutput.asset_id == asset.id))
        routing.refresh_items(session, users)


def store_text(store: AssetStore, text: str, max_bytes: int) -> StoredBytes:
    return store.put(io.BytesIO(text.encode("utf-8")), "script.txt", max_bytes)
