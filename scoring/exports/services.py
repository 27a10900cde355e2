"""Exports: ask for one, build it (a background job), release it, retry it, and mark the exports
an asset's consent revocation affects. Services flush; the request, command or job commits.
Every act is audited (``raters.services.audit``).
"""
from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import shutil
from datetime import datetime, timedelta
from pathlib import Path

from flask import current_app
from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

import jobs
from database import db, utcnow
from raters.models import User
from raters.services import audit
from scoring.exports import package, source
from scoring.exports.builder import build_files
from scoring.exports.models import Export, ExportAsset, ExportSettings
from scoring.exports.options import ExportRequest
from scoring.reports import data as report_data
from tasks.catalogue.models import EXPORTABLE_CONSENT, Asset, Project

log = logging.getLogger("dailies.exports")


class ExportRefused(Exception):
    """A refused export action (``status`` as the API answers it)."""

    def __init__(self, message: str, status: int = 409, code: str = "conflict"):
        super().__init__(message)
        self.message, self.status, self.code = message, status, code


def settings_for(session: Session, project: Project) -> ExportSettings:
    found = session.get(ExportSettings, project.id)
    if found is None:
        found = ExportSettings(project_id=project.id, release_gate=True, pseudonym_key=secrets.token_hex(32))
        session.add(found)
        session.flush()
    return found


def set_release_gate(session: Session, project: Project, on: bool, actor: User | None) -> None:
    settings_for(session, project).release_gate = on
    audit(session, actor, "export.release_gate", f"project:{project.id}", "on" if on else "off",
          project_id=project.id)
    session.flush()


def pseudonymiser(key: str):
    """Rater id -> pseudonym: HMAC-SHA256 under the project's key (unlinkable across projects)."""
    secret = bytes.fromhex(key)
    cache: dict[int, str] = {}

    def name(rater_id: int) -> str:
        if rater_id not in cache:
            cache[rater_id] = "rater-" + hmac.new(secret, str(rater_id).encode(), hashlib.sha256).hexdigest()[:16]
        return cache[rater_id]

    return name


def data_key(session: Session, project: Project) -> str:
    """What the project's data is now: judgments and adjudications (the statistics' key), the
    consent of its assets, which raters are active, their standing in the project and its quality
    thresholds (which raters are flagged). Same key, same export."""
    stats_key = report_data.fingerprint(session, project, n_resamples=0).key
    digest = hashlib.sha256(repr((source.project_assets_consent(session, project),
                                  sorted(source.active_raters(session).items()),
                                  [tuple(r) for r in source.standing_key(session, project)],
                                  sorted((project.quality_thresholds or {}).items()))).encode()).hexdigest()[:16]
    return f"{stats_key}.c{digest}"


def request_export(session: Session, project: Project, req: ExportRequest, actor: User | None, *,
                   enqueue: bool = True) -> tuple[Export, bool]:
    """Queue an export (built after commit, unless ``enqueue`` is False: the caller builds it);
    (export, created). The same request on unchanged data returns the existing version instead
    of building an identical one."""
    reap_abandoned(session)
    key = data_key(session, project)
    same = session.scalar(select(Export).where(
        Export.project_id == project.id, Export.series_key == req.series_key, Export.data_key == key,
        Export.state != "failed").order_by(Export.version.desc()).limit(1))
    if same is not None:
        return same, False
    settings_for(session, project)
    version = (session.scalar(select(func.max(Export.version)).where(
        Export.project_id == project.id, Export.series_key == req.series_key)) or 0) + 1
    export = Export(project_id=project.id, kind=req.kind, file_format=req.file_format,
                    options=req.options.as_dict(), series_key=req.series_key, data_key=key, version=version,
                    state="queued", progress=0.0, created_by_id=actor.id if actor else None, created_at=utcnow())
    session.add(export)
    session.flush()
    audit(session, actor, "export.request", f"export:{export.id}",
          f"project {project.id} {req.kind} {req.file_format} v{version}", project_id=project.id)
    if enqueue:
        jobs.enqueue_after_commit(session, "build_export", export.id)
    return export, True


def retry(session: Session, export: Export, actor: User | None) -> None:
    if export.state != "failed":
        raise ExportRefused("Only a failed export can be retried.")
    export.state, export.error, export.progress = "queued", None, 0.0
    audit(session, actor, "export.retry", f"export:{export.id}", project_id=export.project_id)
    session.flush()
    jobs.enqueue_after_commit(session, "build_export", export.id)


def may_release(user: User, export: Export) -> bool:
    return user.role == "admin" or export.project.owner_id == user.id


def release(session: Session, export: Export, actor: User, note: str) -> None:
    """The project's owner (or an admin) releases a reviewed draft with a note."""
    if not may_release(actor, export):
        raise ExportRefused("Only the project's owner or an admin releases its exports.", 403, "forbidden")
    if export.state != "draft":
        raise ExportRefused(f"Only a draft can be released (this export is {export.state}).")
    if export.affected_at is not None:
        raise ExportRefused(f"This export can no longer be released: {export.affected_reason}.")
    note = (note or "").strip()
    if not note:
        raise ExportRefused("Say what was reviewed: the release note is required.", 422, "validation_failed")
    export.state, export.released_at, export.released_by_id, export.release_note = "released", utcnow(), actor.id, note[:2000]
    manifest = dict(export.manifest)
    manifest["release"] = release_block(export, actor)
    export.manifest = manifest
    _repack(export)
    audit(session, actor, "export.release", f"export:{export.id}", note[:200], project_id=export.project_id)
    session.flush()


def release_block(export: Export, approver: User | None) -> dict:
    return {"state": export.state, "gate": export.state != "released" or export.release_note is not None,
            "note": export.release_note, "approver": approver.name if approver else None,
            "released_at": export.released_at.isoformat() if export.released_at else None}


def on_consent_changed(session: Session, asset: Asset, *, actor: User | None = None,
                       flush: bool = True) -> list[Export]:
    """Mark every export containing ``asset`` affected when its consent no longer allows export
    (call after changing ``asset.consent``; ``actor`` made the change); returns the exports newly
    marked. Idempotent."""
    if asset.consent in EXPORTABLE_CONSENT:
        return []
    found = session.scalars(select(Export).join(ExportAsset, ExportAsset.export_id == Export.id)
                            .where(ExportAsset.asset_id == asset.id, Export.affected_at.is_(None))).all()
    now = utcnow()
    for export in found:
        export.affected_at = now
        export.affected_reason = f"asset {asset.id} ({asset.sha256[:12]}…) consent is now {asset.consent}"
        audit(session, actor, "export.affected", f"export:{export.id}", export.affected_reason,
              project_id=export.project_id)
    if flush:
        session.flush()
    return found


def exports_containing(session: Session, asset_id: int) -> list[Export]:
    return session.scalars(select(Export).join(ExportAsset, ExportAsset.export_id == Export.id)
                           .where(ExportAsset.asset_id == asset_id).order_by(Export.id.desc())).all()


def previous_version(session: Session, export: Export) -> Export | None:
    return session.scalar(select(Export).where(
        Export.project_id == export.project_id, Export.series_key == export.series_key,
        Export.version < export.version, Export.state.in_(("draft", "released")))
        .order_by(Export.version.desc()).limit(1))


def count_changes(export: Export, before: Export | None) -> dict[str, int]:
    """Rows gained (+) or lost (−) per table since the previous built version."""
    now, then = export.row_counts or {}, (before.row_counts or {}) if before else {}
    return {name: now.get(name, 0) - then.get(name, 0) for name in sorted(set(now) | set(then))}


# -- building -----------------------------------------------------------------------------------

def export_root() -> Path:
    return Path(current_app.config["EXPORT_ROOT"])


def folder_of(export: Export) -> Path:
    return export_root() / str(export.id)


def archive_of(export: Export) -> Path:
    return export_root() / f"{export.id}.tar"


def archive_name(export: Export) -> str:
    return f"dailies-project{export.project_id}-{export.kind}-v{export.version}"


def build(session: Session, export: Export, *, progress=None, lease: str | None = None) -> None:
    """Build ``export``'s files into a fresh folder, then move it in place (never half-written).
    Under a ``lease`` (the job's), the files are moved in place only while the lease is still
    held: a build taken for dead meanwhile raises :class:`LeaseLost` and leaves nothing."""
    project = export.project
    settings = settings_for(session, project)
    root = export_root()
    work = root / f"{BUILDING_PREFIX}{export.id}-{secrets.token_hex(4)}"
    try:
        result = build_files(session, project, export, work, pseudonym=pseudonymiser(settings.pseudonym_key),
                             progress=progress)
        built_at, state = utcnow(), "draft" if settings.release_gate else "released"
        if lease is not None:
            _end_lease(session, export, lease, state, built_at)
        creator = session.get(User, export.created_by_id) if export.created_by_id else None
        export.built_at, export.state = built_at, state
        export.row_counts = result.row_counts
        if export.state == "released":
            export.released_at = export.built_at
        before = previous_version(session, export)
        manifest = result.manifest(export, creator, settings.release_gate)
        manifest["previous_version"] = ({"export_id": before.id, "version": before.version,
                                         "row_count_changes": count_changes(export, before)} if before else None)
        manifest["release"] = release_block(export, None) | {"gate": settings.release_gate}
        (work / "README.md").write_text(package.card(manifest, result.configs, export.file_format))
        manifest["files"] = package.file_list(work)
        package.write_manifest(work, manifest)
        target = folder_of(export)
        if target.exists():
            shutil.rmtree(target)
        work.rename(target)
        export.manifest = manifest
        export.archive_sha256, export.archive_bytes = package.make_tar(target, archive_of(export), archive_name(export))
        session.add_all(ExportAsset(export_id=export.id, asset_id=a) for a in sorted(result.assets))
        export.progress = 1.0
        audit(session, creator, "export.build", f"export:{export.id}",
              f"{export.kind} v{export.version}: " + ", ".join(f"{k} {v}" for k, v in result.row_counts.items()),
              project_id=export.project_id)
        session.flush()
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _repack(export: Export) -> None:
    """Write the released manifest into the package and re-pack it (the data files are unchanged)."""
    package.write_manifest(folder_of(export), export.manifest)
    export.archive_sha256, export.archive_bytes = package.make_tar(folder_of(export), archive_of(export),
                                                                   archive_name(export))


class LeaseLost(Exception):
    """The build's lease was taken (its worker was taken for dead): stop, write nothing."""


BUILDING_PREFIX = ".building-"  # the work folder of a build in progress, never offered


def heartbeat_timeout() -> timedelta:
    return timedelta(seconds=current_app.config["EXPORT_HEARTBEAT_TIMEOUT_S"])


def take_lease(session: Session, export_id: int, now: datetime | None = None) -> str | None:
    """Claim a queued export for this worker (``queued`` → ``building`` with a fresh lease and
    heartbeat); None when it is not queued any more (another worker took it, or it was cancelled)."""
    lease = secrets.token_hex(16)
    taken = session.execute(update(Export).where(Export.id == export_id, Export.state == "queued").values(
        state="building", lease=lease, heartbeat_at=now or utcnow(), error=None)).rowcount
    return lease if taken == 1 else None


def heartbeat(session: Session, export_id: int, lease: str, progress: float, now: datetime | None = None) -> None:
    """Renew the lease with the build's progress; :class:`LeaseLost` when it is no longer ours."""
    renewed = session.execute(update(Export).where(Export.id == export_id, Export.lease == lease).values(
        heartbeat_at=now or utcnow(), progress=round(min(max(progress, 0.0), 0.99), 3))).rowcount
    if renewed != 1:
        raise LeaseLost(f"export {export_id}: the build's lease was taken")


def _end_lease(session: Session, export: Export, lease: str, state: str, built_at: datetime) -> None:
    """Give the lease up as the build finishes, in the transaction that records it: one statement
    moves ``building`` → ``state`` only if the lease is still ours, and keeps the row locked until
    commit, so no reaper can fail it in between; :class:`LeaseLost` when it was taken."""
    ended = session.execute(update(Export).where(
        Export.id == export.id, Export.lease == lease, Export.state == "building").values(
        lease=None, state=state, built_at=built_at,
        released_at=built_at if state == "released" else None)).rowcount
    if ended != 1:
        raise LeaseLost(f"export {export.id}: the build's lease was taken")
    session.expire(export, ["lease"])


def reap_abandoned(session: Session, *, now: datetime | None = None) -> list[int]:
    """Fail every build whose worker sent no heartbeat within the timeout (killed, out of memory,
    machine lost), with that error, and remove its half-written work folders; returns their ids.
    A failed build can be retried. Cheap when there is none (one indexed-by-state query)."""
    now = now or utcnow()
    cutoff = now - heartbeat_timeout()
    stale = session.scalars(select(Export.id).where(
        Export.state == "building", or_(Export.heartbeat_at.is_(None), Export.heartbeat_at < cutoff))).all()
    reaped = []
    for export_id in stale:
        last = session.scalar(select(Export.heartbeat_at).where(Export.id == export_id))
        error = (f"build abandoned: its worker sent no heartbeat for {heartbeat_timeout().total_seconds():.0f} s "
                 f"(last at {last.isoformat() if last else 'never'}); nothing of it is offered — retry it")
        failed = session.execute(update(Export).where(
            Export.id == export_id, Export.state == "building",
            or_(Export.heartbeat_at.is_(None), Export.heartbeat_at < cutoff)).values(
            state="failed", lease=None, error=error)).rowcount
        if failed != 1:  # it beat its heartbeat, or finished, meanwhile
            continue
        project_id = session.scalar(select(Export.project_id).where(Export.id == export_id))
        audit(session, None, "export.failed", f"export:{export_id}", error[:200], project_id=project_id)
        reaped.append(export_id)
    if reaped:
        session.expire_all()
        session.flush()
        for export_id in reaped:
            remove_work_folders(export_id)
    return reaped


def remove_work_folders(export_id: int) -> None:
    """Whatever a dead build of ``export_id`` left on disk: its work folders and, if it got that far
    before dying uncommitted, its moved folder and archive (a failed export offers neither)."""
    root = export_root()
    for folder in [*root.glob(f"{BUILDING_PREFIX}{export_id}-*"), root / str(export_id)]:
        shutil.rmtree(folder, ignore_errors=True)
    (root / f"{export_id}.tar").unlink(missing_ok=True)


@jobs.job
def build_export(export_id: int) -> str | None:
    """Background job: build one export under a lease (its own transaction; a crash marks it
    failed; a worker that dies outright is failed by :func:`reap_abandoned` after the timeout)."""
    session = db.session
    reap_abandoned(session)
    lease = take_lease(session, export_id)
    session.commit()
    if lease is None:
        return None
    export = session.get(Export, export_id)

    def progress(fraction: float) -> None:
        heartbeat(session, export_id, lease, fraction)
        session.commit()

    try:
        build(session, export, progress=progress, lease=lease)
        session.commit()
        return export.state
    except LeaseLost:
        session.rollback()
        log.warning("export %s: lease lost, build abandoned", export_id)
        return "abandoned"
    except Exception as exc:
        session.rollback()
        log.exception("export %s failed", export_id)
        error = f"{type(exc).__name__}: {exc}"[:2000]
        failed = session.execute(update(Export).where(Export.id == export_id, Export.lease == lease).values(
            state="failed", lease=None, error=error)).rowcount
        if failed == 1:
            project_id = session.scalar(select(Export.project_id).where(Export.id == export_id))
            audit(session, None, "export.failed", f"export:{export_id}", error[:200], project_id=project_id)
        session.commit()
        return "failed"
