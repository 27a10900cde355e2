"""Statistics snapshots: serve the report of the project's current data, computing it in the
request for small projects and on the job queue for large ones.

``serve`` looks up the snapshot of the current cache key (``scoring.reports.data.fingerprint``). When it
is missing (or a recompute is forced):

* at most ``inline_max`` current judgments: computed now and stored;
* more: a ``compute_project_stats`` job is queued once the request commits, claimed by a
  pending row (the unique ``(project_id, key)`` makes the claim atomic), and the newest earlier
  snapshot is served marked *stale* meanwhile. A claim older than ``job_timeout_s`` is
  queued again; a failed job is retried only on request (Recompute).

The rows are read and written by ``scoring.reports.data`` through the caller's session (the request or
job commits); nothing here commits, except the job, which is its own unit of work.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy.orm import Session

import jobs
from database import db, utcnow
from scoring.reports import data
from scoring.reports.models import StatsSnapshot
from scoring.reports.report import build_report, ds_starts
from tasks.catalogue.models import Project

log = logging.getLogger("dailies.scoring")


@dataclass(frozen=True)
class StatsConfig:
    inline_max: int = 20_000
    n_resamples: int = 1000
    job_timeout_s: int = 1800

    @classmethod
    def from_app(cls, config=None) -> "StatsConfig":
        """From the app's settings (``STATS_*``; the current app's when none are given)."""
        config = current_app.config if config is None else config
        return cls(config["STATS_INLINE_MAX_JUDGMENTS"], config["STATS_RESAMPLES"], config["STATS_JOB_TIMEOUT_S"])


@dataclass(frozen=True)
class Served:
    """What to show: ``snapshot`` (None when nothing was ever computed), for ``key`` unless
    ``stale``; ``computing`` while a background computation is queued or running; ``queued``
    when this call queued it; ``error`` of the last failed computation of this key."""

    snapshot: StatsSnapshot | None
    key: str
    stale: bool = False
    computing: bool = False
    queued: bool = False
    error: str | None = None


def _pending(snapshot: StatsSnapshot | None, cfg: StatsConfig, now: datetime) -> bool:
    return (snapshot is not None and snapshot.requested_at is not None
            and now - snapshot.requested_at < timedelta(seconds=cfg.job_timeout_s))


def serve(session: Session, project: Project, cfg: StatsConfig, *, now: datetime | None = None,
          force: bool = False) -> Served:
    """The statistics to show for ``project`` now (see the module docstring)."""
    now = now or utcnow()
    fp = data.fingerprint(session, project, n_resamples=cfg.n_resamples)
    snapshot = data.find_snapshot(session, project.id, fp.key)
    if snapshot is not None and snapshot.ready and not force:
        return Served(snapshot, fp.key, computing=_pending(snapshot, cfg, now))
    if fp.current <= cfg.inline_max:
        return Served(compute(session, project, cfg, fp=fp, now=now), fp.key)
    queued = request_background(session, project, fp.key, cfg, now=now, force=force)
    snapshot = data.find_snapshot(session, project.id, fp.key)
    error = snapshot.error if snapshot is not None else None
    if snapshot is not None and snapshot.ready:
        return Served(snapshot, fp.key, computing=_pending(snapshot, cfg, now), queued=queued, error=error)
    previous = data.latest_ready_snapshot(session, project.id)
    return Served(previous, fp.key, stale=previous is not None, computing=_pending(snapshot, cfg, now),
                  queued=queued, error=error)


def peek(session: Session, project: Project, cfg: StatsConfig, *, now: datetime | None = None) -> Served:
    """What ``serve`` would show, without computing or queueing anything."""
    now = now or utcnow()
    fp = data.fingerprint(session, project, n_resamples=cfg.n_resamples)
    snapshot = data.find_snapshot(session, project.id, fp.key)
    if snapshot is not None and snapshot.ready:
        return Served(snapshot, fp.key, computing=_pending(snapshot, cfg, now), error=snapshot.error)
    previous = data.latest_ready_snapshot(session, project.id)
    return Served(previous, fp.key, stale=previous is not None, computing=_pending(snapshot, cfg, now),
                  error=snapshot.error if snapshot else None)


def status(session: Session, project: Project, cfg: StatsConfig, *, now: datetime | None = None) -> dict:
    """Whether the current key's snapshot is ready (for the page's poll; computes nothing)."""
    now = now or utcnow()
    fp = data.fingerprint(session, project, n_resamples=cfg.n_resamples)
    snapshot = data.find_snapshot(session, project.id, fp.key)
    return {"key": fp.key, "ready": bool(snapshot and snapshot.ready and not _pending(snapshot, cfg, now)),
            "computing": _pending(snapshot, cfg, now), "error": snapshot.error if snapshot else None,
            "computed_at": snapshot.computed_at.isoformat() if snapshot and snapshot.computed_at else None}


def request_background(session: Session, project: Project, key: str, cfg: StatsConfig, *,
                       now: datetime, force: bool = False) -> bool:
    """Claim ``key`` and queue its computation after commit; False when it is already queued
    (or failed, unless ``force``)."""
    snapshot = data.find_snapshot(session, project.id, key)
    if snapshot is None:
        if data.claim_snapshot(session, project.id, key, now) is None:  # another request claimed it
            return False
    elif _pending(snapshot, cfg, now) or (snapshot.error and not force):
        return False
    else:
        snapshot.requested_at, snapshot.error = now, None
        session.flush()
    jobs.enqueue_after_commit(session, "compute_project_stats", project.id, key)
    return True


def compute(session: Session, project: Project, cfg: StatsConfig, *, fp: data.Fingerprint | None = None,
            now: datetime | None = None) -> StatsSnapshot:
    """Compute the project's report now and store it under its key. The key is read before the
    judgments, so a judgment arriving meanwhile can only make the key older than the data
    (recomputed at the next look), never the reverse. Dawid-Skene starts from the newest ready
    snapshot's estimates when they fit (same answer to its tolerance, in fewer iterations)."""
    fp = fp or data.fingerprint(session, project, n_resamples=cfg.n_resamples)
    started = time.perf_counter()
    previous = data.latest_ready_snapshot(session, project.id)  # its Dawid-Skene estimates: EM's warm start
    starts = ds_starts(data.snapshot_consensus(session, previous)) if previous is not None else {}
    report = build_report(data.project_frames(session, project), n_resamples=cfg.n_resamples, ds_starts=starts)
    consensus = report.pop("consensus")
    duration_ms = int((time.perf_counter() - started) * 1000)
    return data.store_snapshot(session, project.id, fp, report, consensus, duration_ms, now or utcnow())


@jobs.job
def compute_project_stats(project_id: int, key: str) -> str | None:
    """Background job: compute a project's statistics and store them (its own transaction)."""
    session = db.session
    project = session.get(Project, project_id)
    if project is None:
        return None
    cfg = StatsConfig.from_app()
    try:
        snapshot = compute(session, project, cfg)
        if snapshot.key != key:  # the data moved on while queued: release the old claim
            old = data.find_snapshot(session, project_id, key)
            if old is not None:
                old.requested_at = None
        session.commit()
        return snapshot.key
    except Exception as exc:
        session.rollback()
        log.exception("statistics of project %s failed", project_id)
        failed = data.find_snapshot(session, project_id, key)
        if failed is not None:
            failed.requested_at, failed.error = None, f"{type(exc).__name__}: {exc}"[:2000]
            session.commit()
        raise
