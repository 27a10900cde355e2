"""Assets: content sniffing, the content-addressed store, duration, provenance and consent."""
from __future__ import annotations

import hashlib
import io
import json
import os
import secrets
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import mutagen
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

import boundary
from raters.models import User
from raters.services import audit
from tasks.catalogue.inputs import Provenance
from tasks.catalogue.models import CONSENT_STATES, Asset, ConsentChange, ItemOutput
from tasks.rating import routing

# sniffed format → (media kind, MIME type, extensions a file of that format may carry)
FORMATS = {
    "mp4": ("video", "video/mp4", {".mp4", ".m4v", ".mov"}),
    "webm": ("video", "video/webm", {".webm"}),
    "wav": ("audio", "audio/wav", {".wav", ".wave"}),
    "mp3": ("audio", "audio/mpeg", {".mp3"}),
    "ogg": ("audio", "audio/ogg", {".ogg", ".oga", ".opus"}),
    "flac": ("audio", "audio/flac", {".flac"}),
    "text": ("script", "text/plain; charset=utf-8", {".txt", ".fountain", ".md", ".script", ""}),
}
PROVENANCE_FIELDS = ("source_model", "model_version", "generation_params", "rights_holder",
                     "license", "consent", "consent_ref")
CHUNK = 1024 * 1024


class AssetError(ValueError):
    pass


def sniff(head: bytes) -> str | None:
    """The format the first bytes show, whatever the file name says (None: not media we take)."""
    if len(head) >= 12 and head[4:8] == b"ftyp":
        return "mp4"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "webm" if b"webm" in head[:64] else None
    if head.startswith(b"RIFF") and head[8:12] == b"WAVE":
        return "wav"
    if head.startswith(b"ID3") or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0
                                   and head[1] & 0x06 != 0):
        return "mp3"
    if head.startswith(b"OggS"):
        return "ogg"
    if head.startswith(b"fLaC"):
        return "flac"
    if b"\x00" not in head:
        try:
            head.decode("utf-8")
        except UnicodeDecodeError as exc:
            # a multi-byte character cut at the end of the sample is still text
            if exc.start < len(head) - 4:
                return None
        return "text"
    return None


def check_format(head: bytes, filename: str) -> str:
    """Sniff and check the bytes agree with the file's extension; the refusal says why."""
    fmt = sniff(head)
    ext = Path(filename or "").suffix.lower()
    if fmt is None:
        raise AssetError(f"{filename or 'the file'}: not a supported video (mp4, webm), audio "
                         "(wav, mp3, ogg, flac) or script (UTF-8 text) file")
    if ext and ext not in FORMATS[fmt][2]:
        claimed = next((name for name, spec in FORMATS.items() if ext in spec[2]), ext)
        raise AssetError(f"{filename}: the name says {claimed} but the content is {fmt}")
    return fmt


@dataclass
class StoredBytes:
    sha256: str
    size: int
    fmt: str
    path: Path


class AssetStore:
    """Bytes on disk under ``root/<sha[:2]>/<sha>``: written once, never changed."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)

    def path_for(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256

    def put(self, stream: BinaryIO, filename: str, max_bytes: int) -> StoredBytes:
        """Stream into the store, hashing and capping as it goes; sniff the first bytes."""
        self.root.mkdir(parents=True, exist_ok=True)
        digest, size = hashlib.sha256(), 0
        head = b""
        with tempfile.NamedTemporaryFile(dir=self.root, delete=False, prefix=".upload-") as tmp:
            try:
                while chunk := stream.read(CHUNK):
                    if not head:
                        head = chunk[:4096]
                    size += len(chunk)
                    if size > max_bytes:
                        raise AssetError(f"{filename}: larger than the {max_bytes // (1024 * 1024)} MB limit")
                    digest.update(chunk)
                    tmp.write(chunk)
                if size == 0:
                    raise AssetError(f"{filename}: the file is empty")
                fmt = check_format(head, filename)
            except BaseException:
                tmp.close()
                os.unlink(tmp.name)
                raise
        sha = digest.hexdigest()
        final = self.path_for(sha)
        if final.exists():
            os.unlink(tmp.name)
        else:
            final.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp.name, final)
        return StoredBytes(sha, size, fmt, final)


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


def register(session: Session, stored: StoredBytes, *, original_name: str, actor: User | None,
             provenance: dict | None = None, declared_duration: float | None = None,
             text: str | None = None) -> tuple[Asset, bool]:
    """The asset for these bytes, created if new; returns (asset, created)."""
    asset = session.scalar(select(Asset).where(Asset.sha256 == stored.sha256))
    created = asset is None
    if created:
        kind, mime, _ = FORMATS[stored.fmt]
        if text is not None:
            duration, source = text_duration(text), "reading"
        else:
            duration, source = probe_duration(stored.path, stored.fmt)
        if duration is None and declared_duration:
            duration, source = float(declared_duration), "declared"
        asset = Asset(sha256=stored.sha256, public_id=secrets.token_urlsafe(18), media_kind=kind,
                      mime_type=mime, size_bytes=stored.size, duration_s=duration,
                      duration_source=source, original_name=original_name[:255], consent="pending",
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
