"""Cached statistics: one snapshot per project and cache key.

The key (``scoring.reports.data.cache_key``) names the data a report was computed from: the project's
revision plus a fingerprint of its judgments and adjudications, so any new, revised or imported
judgment gives a new key and the old snapshot becomes *stale*. A row with ``report`` NULL and
``requested_at`` set is a computation that was queued and has not finished; a ready row with
``requested_at`` set is being recomputed on demand; ``error`` keeps the last failure.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON, Boolean, CheckConstraint, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint,
)
from sqlalchemy.orm import Mapped, deferred, mapped_column

from database import Base, UTCDateTime, utcnow

NullableJSON = JSON(none_as_null=True)


class StatsSnapshot(Base):
    __tablename__ = "stats_snapshots"
    __table_args__ = (
        UniqueConstraint("project_id", "key"),
        CheckConstraint("(report IS NULL) = (computed_at IS NULL)", name="ready_has_time"),
        CheckConstraint("duration_ms IS NULL OR duration_ms >= 0", name="duration"),
        Index("ix_stats_snapshots_project_computed", "project_id", "computed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(200))
    # Agreement, leaderboard, win rates and counts (``scoring.reports.report.build_report`` minus the
    # per-item consensus, which is kept apart so summary reads stay small). ``consensus`` holds the
    # consensus header (criteria, columns, Dawid-Skene summaries); its rows are ``ConsensusRow``s
    # (snapshots of report version 1 kept their rows inside ``consensus``).
    report: Mapped[dict | None] = mapped_column(NullableJSON)
    consensus: Mapped[dict | None] = deferred(mapped_column(NullableJSON))
    computed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    duration_ms: Mapped[int | None] = mapped_column(Integer)
    n_judgments: Mapped[int | None] = mapped_column(Integer)
    # Set while a background computation of this key is queued or running.
    requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def ready(self) -> bool:
        return self.report is not None


class ConsensusRow(Base):
    """One item's consensus in a snapshot, kept apart so a page reads only the rows it shows.

    ``row`` is the item's values in the order of the snapshot's ``consensus["columns"]``; the
    columns beside it are what the page's filters select on: ``any_tied`` and ``min_share`` (the
    lowest majority share over the criteria) for *contested*, ``adjudicated``, ``n_imported``.

    Keyed by ``(snapshot_id, position)``, with no foreign key: a cache written a snapshot at a
    time (a row per item), whose surrogate id and per-row key check were two thirds of the
    write's cost. ``scoring.reports.data`` deletes a snapshot's rows with the snapshot."""

    __tablename__ = "stats_consensus_rows"
    __table_args__ = (
        CheckConstraint("n_imported >= 0", name="n_imported"),
    )

    snapshot_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    position: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    item_id: Mapped[int] = mapped_column(Integer)
    any_tied: Mapped[bool] = mapped_column(Boolean)
    min_share: Mapped[float | None] = mapped_column(Float)
    adjudicated: Mapped[bool] = mapped_column(Boolean)
    n_imported: Mapped[int] = mapped_column(Integer)
    row: Mapped[list] = mapped_column(JSON)
