"""Item import (JSONL or CSV): every row checked first, then all written, or nothing.

Errors are collected for the whole file as ``line N: what is wrong``; only a file without a
single error is written. Asset bytes referenced by path or inline text enter the
content-addressed store while checking (harmless if the import is then refused: the store is
keyed by content and unreferenced bytes are never served).
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import math
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

import boundary
from raters.models import User
from raters.services import TAG_RE, audit
from tasks.catalogue import assets as asset_ops
from tasks.catalogue.formats import FORMATS, AssetError
from tasks.catalogue.models import Asset, Item, ItemExpertise, ItemImport, ItemOutput, Project
from tasks.catalogue.store import AssetStore, StoredBytes
from tasks.rating import routing
from tasks.rating.answers import is_whole

ROW_FIELDS = {"external_id", "prompt", "outputs", "model_confidence", "expertise", "gold", "metadata"}
OUTPUT_FIELDS = {"model", "asset", "text", "provenance", "duration_s"}
JSON_COLUMNS = ("outputs", "expertise", "gold", "metadata")
MAX_LISTED_ERRORS = 200
EXTERNAL_ID_CHARS = boundary.column_length(Item.external_id)
MODEL_CHARS = boundary.column_length(ItemOutput.model)


class ImportRejected(ValueError):
    """The file was refused; ``errors`` lists every ``line N: …`` problem found."""

    def __init__(self, errors: list[str]):
        shown = errors[:MAX_LISTED_ERRORS]
        if len(errors) > MAX_LISTED_ERRORS:
            shown.append(f"… and {len(errors) - MAX_LISTED_ERRORS} more")
        super().__init__(f"{len(errors)} problem(s); nothing was imported")
        self.errors = shown


@dataclass
class MediaRef:
    asset: Asset | None = None  # already in the database
    stored: StoredBytes | None = None  # new bytes
    text: str | None = None
    original_name: str = ""


@dataclass
class CheckedOutput:
    label: str
    model: str
    media: MediaRef
    provenance: dict
    duration_s: float | None


@dataclass
class CheckedRow:
    line: int
    external_id: str
    prompt: str
    outputs: list[CheckedOutput]
    model_confidence: float | None
    expertise: list[str]
    gold: dict | None
    metadata: dict | None


@dataclass
class ImportContext:
    session: Session
    project: Project
    store: AssetStore
    media_root: Path
    max_asset_bytes: int
    errors: list[str] = field(default_factory=list)


def read_rows(data: bytes, filename: str, *, json_columns=(), converters=None,
              what: str = "items") -> tuple[list[tuple[int, object]], list[str]]:
    """(line, parsed row) pairs from JSONL or CSV (chosen by extension, else by content), with
    every problem as ``line N: …``. CSV cells of ``json_columns`` are parsed as JSON; a cell of a
    ``converters`` column is converted when it can be (else left as text for the row check to
    report with its value). Shared by the item and the judgment import."""
    converters = converters or {}
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        return [], [f"line {line}: not UTF-8 text (byte {exc.start}, column {column}: "
                    f"{data[exc.start:exc.start + 1].hex()})"]
    # Lines end at \n (or \r\n) only: U+2028, U+2029 and the other separators
    # str.splitlines() knows are text inside a line.
    lines = [raw[:-1] if raw.endswith("\r") else raw for raw in text.split("\n")]
    nul_lines = [f"line {n}: holds the NUL character" for n, raw in enumerate(lines, start=1) if "\x00" in raw]
    if nul_lines:
        return [], nul_lines
    name = filename.lower()
    is_csv = name.endswith(".csv") or (
        not name.endswith((".jsonl", ".json", ".ndjson")) and not text.lstrip().startswith("{"))
    rows, errors = [], []
    if is_csv:
        reader = csv.DictReader(io.StringIO(text))
        if not reader.fieldnames:
            return [], ["the CSV file has no header row"]
        for record in reader:
            line = reader.line_num
            if None in record:
                errors.append(f"line {line}: more cells than header columns")
                continue
            row: dict = {k: v for k, v in record.items() if v not in (None, "")}
            for column in json_columns:
                if column in row:
                    try:
                        row[column] = boundary.loads(row[column])
                    except ValueError as exc:
                        errors.append(f"line {line}: column {column} is not valid JSON ({getattr(exc, 'msg', exc)})")
            for column, convert in converters.items():
                if column in row:
                    try:
                        row[column] = convert(row[column].strip())
                    except ValueError:
                        pass
            rows.append((line, row))
    else:
        for line, raw in enumerate(lines, start=1):
            if not raw.strip():
                continue
            try:
                rows.append((line, boundary.loads(raw)))
            except json.JSONDecodeError as exc:
                errors.append(f"line {line}: not valid JSON ({exc.msg} at column {exc.colno})")
            except ValueError as exc:
                errors.append(f"line {line}: not valid JSON ({exc})")
    if not rows and not errors:
        errors.append(f"the file holds no {what}")
    return rows, errors


def read_upload(upload, max_mb: int) -> bytes:
    """The bytes of an uploaded import file, refused (ImportRejected) past ``max_mb``."""
    data = upload.read(max_mb * 1024 * 1024 + 1)
    if len(data) > max_mb * 1024 * 1024:
        raise ImportRejected([f"the file is larger than {max_mb} MB"])
    return data


def in_line_order(errors: list[str]) -> list[str]:
    """``line N: …`` messages sorted by line (stable: a line's messages keep their order)."""
    return sorted(errors, key=lambda e: int(e.split()[1].rstrip(":,")) if e.startswith("line ") else 0)


def parse_rows(data: bytes, filename: str) -> tuple[list[tuple[int, object]], list[str]]:
    """The rows of an item file."""
    return read_rows(data, filename, json_columns=JSON_COLUMNS, converters={"model_confidence": float})


def _resolve_media(ctx: ImportContext, out: dict, where: str) -> MediaRef | None:
    project = ctx.project
    has_asset, has_text = "asset" in out, "text" in out
    if has_asset == has_text:
        ctx.errors.append(f"{where}: give exactly one of “asset” or “text”")
        return None
    if has_text:
        text = out["text"]
        if project.modality != "script":
            ctx.errors.append(f"{where}: inline text is only for script projects (this one is {project.modality})")
            return None
        if not isinstance(text, str) or not text.strip():
            ctx.errors.append(f"{where}: text must be the script, not empty")
            return None
        stored = asset_ops.store_text(ctx.store, text, ctx.max_asset_bytes)
        existing = ctx.session.scalar(select(Asset).where(Asset.sha256 == stored.sha256))
        return MediaRef(asset=existing, stored=stored, text=text, original_name="inline script")
    ref = out["asset"]
    if not isinstance(ref, dict) or len(ref) != 1 or next(iter(ref)) not in ("id", "sha256", "path"):
        ctx.errors.append(f"{where}: asset must be one of {{\"id\"}}, {{\"sha256\"}} or {{\"path\"}}")
        return None
    how, value = next(iter(ref.items()))
    if how in ("id", "sha256"):
        column = Asset.id if how == "id" else Asset.sha256
        if how == "id" and (not isinstance(value, int) or isinstance(value, bool)):
            ctx.errors.append(f"{where}: asset id must be a number")
            return None
        asset = ctx.session.scalar(select(Asset).where(column == (value if how == "id" else str(value).lower())))
        if asset is None:
            ctx.errors.append(f"{where}: unknown asset {how} {value!r}")
            return None
        media = MediaRef(asset=asset)
        kind = asset.media_kind
    else:
        if not isinstance(value, str) or not value:
            ctx.errors.append(f"{where}: asset path must be text")
            return None
        root = ctx.media_root.resolve()
        path = (root / value).resolve()
        if not path.is_relative_to(root):
            ctx.errors.append(f"{where}: path {value!r} is outside the media root")
            return None
        if not path.is_file():
            ctx.errors.append(f"{where}: no file {value!r} under the media root")
            return None
        try:
            with path.open("rb") as fh:
                stored = ctx.store.put(fh, path.name, ctx.max_asset_bytes)
        except AssetError as exc:
            ctx.errors.append(f"{where}: {exc}")
            return None
        existing = ctx.session.scalar(select(Asset).where(Asset.sha256 == stored.sha256))
        media = MediaRef(asset=existing, stored=stored, original_name=value)
        kind = FORMATS[stored.fmt][0]
    if kind != project.modality:
        ctx.errors.append(f"{where}: the asset is {kind}, but this is a {project.modality} project")
        return None
    if media.asset is not None and media.asset.consent == "revoked":
        ctx.errors.append(f"{where}: {revoked_reason(media.asset)}")
        return None
    return media


def revoked_reason(asset: Asset) -> str:
    """Why an asset whose consent was revoked may not be imported again, with its audit note."""
    last = asset.consent_changes[-1] if asset.consent_changes else None
    why = f" ({last.changed_at:%Y-%m-%d}: {last.note})" if last and last.note else ""
    return f"asset {asset.id} has its consent revoked{why}; it cannot be used in new items"


def _check_output(ctx: ImportContext, out, where: str, label: str) -> CheckedOutput | None:
    if not isinstance(out, dict):
        ctx.errors.append(f"{where}: must be an object with model and asset (or text)")
        return None
    unknown = sorted(set(out) - OUTPUT_FIELDS)
    if unknown:
        ctx.errors.append(f"{where}: unknown field(s) {', '.join(unknown)}")
    model = out.get("model")
    if not isinstance(model, str) or not model.strip():
        ctx.errors.append(f"{where}: missing field “model” (the name of the model that made it)")
        model = None
    elif len(model.strip()) > MODEL_CHARS:
        ctx.errors.append(f"{where}: model must be at most {MODEL_CHARS} characters")
        model = None
    provenance, problems = asset_ops.clean_provenance(out.get("provenance"))
    ctx.errors.extend(f"{where}: {p}" for p in problems)
    duration = out.get("duration_s")
    if duration is not None and (not isinstance(duration, (int, float)) or isinstance(duration, bool)
                                 or not 0 < duration < 86400):
        ctx.errors.append(f"{where}: duration_s must be a positive number of seconds")
        duration = None
    media = _resolve_media(ctx, out, where)
    if media is None or model is None:
        return None
    provenance.setdefault("source_model", model.strip())
    if media.asset is not None:
        ctx.errors.extend(f"{where}: {p}" for p in asset_ops.provenance_conflicts(media.asset, provenance))
    return CheckedOutput(label, model.strip(), media, provenance, duration)


def _check_gold(ctx: ImportContext, gold, where: str):
    project = ctx.project
    if gold is None:
        return None
    if project.kind == "pairwise":
        if not isinstance(gold, dict) or gold.get("choice") not in ("a", "b", "tie") or set(gold) - {"choice", "strength"}:
            ctx.errors.append(f"{where}: gold must be {{\"choice\": \"a\" | \"b\" | \"tie\"}}")
            return None
        strength = gold.get("strength")
        if strength is not None and (gold["choice"] == "tie" or not is_whole(strength, 1, 3)):
            ctx.errors.append(f"{where}: gold strength must be a whole number from 1 to 3 (none for a tie)")
            return None
        return gold
    scores = gold.get("scores") if isinstance(gold, dict) else None
    if not isinstance(scores, dict) or not scores or set(gold) != {"scores"}:
        ctx.errors.append(f"{where}: gold must be {{\"scores\": {{criterion: level, …}}}}")
        return None
    criteria = {c["key"]: c for c in project.rubric}
    for key, level in scores.items():
        crit = criteria.get(key)
        if crit is None:
            ctx.errors.append(f"{where}: gold names unknown criterion “{key}”")
        elif not isinstance(level, int) or isinstance(level, bool) or not crit["min"] <= level <= crit["max"]:
            ctx.errors.append(f"{where}: gold {key} must be a whole number from {crit['min']} to {crit['max']}")
    return gold


def check_row(ctx: ImportContext, line: int, row, fallback_id: str) -> CheckedRow | None:
    where = f"line {line}"
    before = len(ctx.errors)
    if not isinstance(row, dict):
        ctx.errors.append(f"{where}: each line must be a JSON object")
        return None
    unknown = sorted(set(row) - ROW_FIELDS)
    if unknown:
        ctx.errors.append(f"{where}: unknown field(s) {', '.join(unknown)}")
    external_id = row.get("external_id", fallback_id)
    if not isinstance(external_id, (str, int)) or isinstance(external_id, bool) or not str(external_id).strip():
        ctx.errors.append(f"{where}: external_id must be text")
        external_id = fallback_id
    external_id = str(external_id).strip()
    if len(external_id) > EXTERNAL_ID_CHARS:
        ctx.errors.append(f"{where}: external_id must be at most {EXTERNAL_ID_CHARS} characters")
    prompt = row.get("prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        ctx.errors.append(f"{where}: missing field “prompt” (the brief the outputs answer)")
    confidence = row.get("model_confidence")
    if confidence is not None and (not isinstance(confidence, (int, float)) or isinstance(confidence, bool)
                                   or math.isnan(confidence) or not 0 <= confidence <= 1):
        ctx.errors.append(f"{where}: model_confidence must be a number from 0 to 1")
    expertise = row.get("expertise", [])
    if not isinstance(expertise, list) or not all(isinstance(t, str) and TAG_RE.match(t.strip().lower()) for t in expertise):
        ctx.errors.append(f"{where}: expertise must be a list of tags like [\"editing\"]")
        expertise = []
    metadata = row.get("metadata")
    if metadata is not None and not isinstance(metadata, dict):
        ctx.errors.append(f"{where}: metadata must be an object")
    gold = _check_gold(ctx, row.get("gold"), where)
    outputs = row.get("outputs")
    checked_outputs: list[CheckedOutput] = []
    need = ctx.project.n_outputs
    if not isinstance(outputs, list):
        ctx.errors.append(f"{where}: missing field “outputs” (a list of {need})")
    elif len(outputs) != need:
        ctx.errors.append(f"{where}: a {ctx.project.kind} item has exactly {need} output(s), this one has {len(outputs)}")
    else:
        for i, out in enumerate(outputs):
            checked = _check_output(ctx, out, f"{where}, output {i + 1}", "ab"[i])
            if checked is not None:
                checked_outputs.append(checked)
        if len(checked_outputs) == 2:
            shas = [o.media.stored.sha256 if o.media.stored else o.media.asset.sha256 for o in checked_outputs]
            if shas[0] == shas[1]:
                ctx.errors.append(f"{where}: both outputs are the same media")
    if len(ctx.errors) > before:
        return None
    return CheckedRow(line, external_id, prompt.strip(), checked_outputs, confidence,
                      sorted({t.strip().lower() for t in expertise}), gold, metadata)


def import_items(session: Session, project: Project, data: bytes, filename: str, *, actor: User | None,
                 store: AssetStore, media_root: str, max_asset_bytes: int) -> ItemImport:
    """Check every row of the file, then write them all; raise ImportRejected otherwise."""
    rows, errors = parse_rows(data, filename)
    ctx = ImportContext(session, project, store, Path(media_root), max_asset_bytes, errors)
    file_sha = hashlib.sha256(data).hexdigest()
    checked: list[CheckedRow] = []
    first_line: dict[str, int] = {}
    for line, row in rows:
        result = check_row(ctx, line, row, fallback_id=f"{file_sha[:8]}-{line}")
        if result is None:
            continue
        if result.external_id in first_line:
            ctx.errors.append(f"line {line}: external_id “{result.external_id}” already used on line "
                              f"{first_line[result.external_id]}")
            continue
        first_line[result.external_id] = line
        checked.append(result)
    if first_line:
        taken = set(session.scalars(select(Item.external_id).where(
            Item.project_id == project.id, Item.external_id.in_(list(first_line)))))
        for ext in sorted(taken, key=first_line.get):
            ctx.errors.append(f"line {first_line[ext]}: external_id “{ext}” is already in this project")
    if ctx.errors:
        raise ImportRejected(in_line_order(ctx.errors))
    return _write(session, project, checked, filename, file_sha, actor, store)


def _write(session: Session, project: Project, rows: list[CheckedRow], filename: str, file_sha: str,
           actor: User | None, store: AssetStore) -> ItemImport:
    record = ItemImport(project_id=project.id, filename=filename[:255] or "upload",
                        file_format="csv" if filename.lower().endswith(".csv") else "jsonl",
                        sha256=file_sha, n_items=len(rows), imported_by_id=actor.id if actor else None)
    session.add(record)
    session.flush()
    items = []
    for row in rows:
        item = Item(project_id=project.id, external_id=row.external_id, prompt=row.prompt,
                    model_confidence=row.model_confidence, gold=row.gold, extra=row.metadata,
                    import_id=record.id)
        item.expertise_rows = [ItemExpertise(tag=t) for t in row.expertise]
        for out in row.outputs:
            media = out.media
            if media.stored is not None:
                asset, _ = asset_ops.register(session, store, media.stored, original_name=media.original_name,
                                              actor=actor, provenance=out.provenance,
                                              declared_duration=out.duration_s, text=media.text)
            else:
                asset = media.asset
                asset_ops.complete_provenance(session, asset, out.provenance, actor)
            item.outputs.append(ItemOutput(label=out.label, model=out.model, asset=asset))
        session.add(item)
        items.append(item)
    project.revision += 1
    session.flush()
    routing.refresh_items(session, [item.id for item in items])
    audit(session, actor, "items.import", f"project:{project.id}", f"{len(rows)} items from {filename}",
          project_id=project.id)
    return record
