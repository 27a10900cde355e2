"""Building an export's data files: items in chunks from the database, rows through
``scoring.exports.tables``, batches into one writer per table. Memory holds one chunk of items
and one batch per table (plus, in consensus mode, the consensus records: one per item).
"""
from __future__ import annotations

import gc
import threading
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version as package_version
from pathlib import Path

from sqlalchemy.orm import Session

from scoring.exports import package, schema, source, tables
from scoring.exports.options import ExportOptions
from scoring.exports.writers import EXTENSIONS, Block, TableWriter
from tasks.catalogue.store import AssetStore, asset_store
from tasks.catalogue.models import Project


def app_version() -> str:
    try:
        return package_version("dailies")
    except PackageNotFoundError:
        return "unknown"


def configs_for(kind: str, project_kind: str) -> list[str]:
    if kind == "preferences":
        return ["preferences"] if project_kind == "pairwise" else ["unpaired"]
    return ["ratings", "consensus"]


def schema_for(config: str, project: Project, options: ExportOptions, criteria: list[str]):
    return {"preferences": lambda: schema.preferences(project.modality, options.mode),
            "unpaired": lambda: schema.unpaired(project.modality, options.mode, criteria),
            "ratings": lambda: schema.ratings(project.kind, criteria),
            "consensus": schema.consensus}[config]()


@dataclass
class BuildResult:
    project: Project
    export_options: dict
    configs: list[str]
    row_counts: dict
    ctx: tables.Context
    max_judgment_id: int
    assets: set = field(default_factory=set)
    columns: dict = field(default_factory=dict)  # config -> its column names, in order

    def manifest(self, export, creator, release_gate: bool) -> dict:
        ctx = self.ctx
        return {
            "export_id": export.id, "version": export.version, "name": f"{self.project.name} — {export.kind} v{export.version}",
            "project": {"id": self.project.id, "name": self.project.name, "kind": self.project.kind,
                        "modality": self.project.modality},
            "creator": creator.name if creator else "command line", "created_at": export.created_at.isoformat(),
            "built_at": export.built_at.isoformat(), "app_version": app_version(),
            "schema_version": schema.SCHEMA_VERSION, "kind": export.kind, "format": export.file_format,
            "configs": self.configs, "columns": self.columns, "options": self.export_options, "row_counts": self.row_counts,
            "excluded": {"items": dict(sorted(ctx.excluded_items.items())),
                         "judgments": dict(sorted(ctx.excluded_judgments.items())),
                         "raters": dict(sorted(Counter(ctx.rater_out.values()).items()))},
            "licenses": dict(sorted(ctx.licenses.items())),
            "consent_rule": "every output's asset has consent granted or not_required",
            "rater_pool": {"n_raters": len(ctx.raters), "pseudonyms": "HMAC-SHA256 of the account id under a "
                           "per-project key: stable within the project, unlinkable across projects"},
            "playback_source": "the judgment's stored playback: server-observed at submission (live judgments)",
            "data": {"data_key": export.data_key, "max_judgment_id": self.max_judgment_id},
        }


def build_files(session: Session, project: Project, export, root: Path, *, pseudonym, progress=None,
                batch_rows: int = 10_000) -> BuildResult:
    options = ExportOptions(**{**export.options, "models": tuple(export.options["models"]),
                               "criteria": tuple(export.options["criteria"])})
    store = asset_store()
    criteria = list(options.criteria) or project.criteria_keys
    scales = {c["key"]: (int(c["min"]), int(c["max"])) for c in project.rubric or []}
    copy_media = options.media == "files" and project.modality != "script"

    def media_ref(output) -> str:
        if options.media == "references":
            return f"sha256:{output.sha256}"
        return package.media_name(output.sha256, output.mime_type)

    ctx = tables.Context(project.kind, project.modality, options, criteria, scales, pseudonym, media_ref,
                         pairwise_criteria=[c["key"] for c in project.pairwise_criteria or []],
                         rater_out=source.raters_left_out(session, project, options))
    configs = configs_for(export.kind, project.kind)
    active = source.active_raters(session)
    hw = source.high_water(session, project)
    needs_consensus = options.mode == "consensus" or "consensus" in configs
    if needs_consensus:
        ctx.consensus = source.consensus_by_item(session, project, keep_judgment=lambda rater, created: (
            tables.judgment_refusal(rater, active.get(rater, False), created, options, ctx.rater_out) is None))
        if progress:
            progress(0.0)  # a heartbeat: the consensus can take a while on a large project
    extension = EXTENSIONS[export.file_format]
    writers = {name: TableWriter(root / "data" / name / f"train-00000.{extension}",
                                 schema_for(name, project, options, criteria), export.file_format)
               for name in configs}
    buffers = {name: Block() for name in configs}
    copied: set[str] = set()
    total = max(source.count_items(session, project), 1)
    done = 0
    with _collector_paused():
        try:
            for chunk in source.item_chunks(session, project, store, max_judgment_id=hw):
                for item in chunk:
                    refusal = tables.item_refusal(item, ctx)
                    if refusal:
                        ctx.excluded_items[refusal] += 1
                        continue
                    kept = tables.kept_judgments(item, ctx)
                    current = [j for j in kept if not j.superseded]
                    for name, rows in _rows(configs, item, kept, current, ctx).items():
                        buffers[name].extend(rows)
                        if rows and copy_media:
                            _copy_media(item, root, store, copied)
                        if len(buffers[name]) >= batch_rows:
                            writers[name].write(buffers[name])
                            buffers[name] = Block()
                done += len(chunk)
                gc.collect(0)  # the few cycles a chunk leaves (the database layer's): young objects only
                if progress:
                    progress(done / total)
            for name, rows in buffers.items():
                writers[name].write(rows)
        finally:
            for writer in writers.values():
                writer.close()
    return BuildResult(project, options.as_dict(), configs, {n: w.rows for n, w in writers.items()}, ctx, hw,
                       set(ctx.assets), {n: w.schema.names for n, w in writers.items()})


_pause_lock = threading.Lock()
_pauses = {"builds": 0, "was_enabled": True}


@contextmanager
def _collector_paused():
    """The cyclic garbage collector off while builds run (on again when the last one ends, if it
    was on). A build makes millions of short-lived objects and only a few reference cycles (the
    database layer's, per chunk), and the collector's repeated full passes over the batch in
    memory cost a fifth to a half of the build's CPU time. Memory stays bounded: the
    build's objects are freed by reference counting, and the loop collects the youngest generation
    (what the last chunk left) once per chunk."""
    with _pause_lock:
        if _pauses["builds"] == 0:
            _pauses["was_enabled"] = gc.isenabled()
            gc.disable()
        _pauses["builds"] += 1
    try:
        yield
    finally:
        with _pause_lock:
            _pauses["builds"] -= 1
            if _pauses["builds"] == 0 and _pauses["was_enabled"]:
                gc.enable()


def _rows(configs: list[str], item, kept, current, ctx: tables.Context) -> dict[str, list[dict] | Block]:
    if "preferences" in configs:
        return {"preferences": tables.preference_rows(item, current, ctx)}
    if "unpaired" in configs:
        return {"unpaired": tables.unpaired_rows(item, current, ctx)}
    ratings = tables.rating_rows(item, kept, ctx)
    return {"ratings": ratings, "consensus": tables.consensus_rows(item, ctx) if ratings else []}


def _copy_media(item, root: Path, store: AssetStore, copied: set[str]) -> None:
    for output in item.outputs.values():
        if output.sha256 in copied:
            continue
        target = root / package.media_name(output.sha256, output.mime_type)
        target.parent.mkdir(parents=True, exist_ok=True)
        store.copy_to(output.sha256, target)
        copied.add(output.sha256)
