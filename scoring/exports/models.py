"""Exports: immutable, versioned datasets built from a project's judgments.

An ``Export`` row is one version of one *series* (a project, a kind, a format and the same
filters: ``series_key``). Its files never change once built; only its state around them does
(released with a note, marked *affected* when an asset it contains loses consent). Which assets
an export contains is kept in ``export_assets`` so a consent revocation finds its exports.

States: ``queued`` → ``building`` → ``draft`` (release gate on) or ``released``; a crashed
build is ``failed`` with its error and can be queued again; ``draft`` → ``released`` by the
project's owner (or an admin) with a note.

A build holds a *lease* (``lease``, a token of the worker building it) renewed by a heartbeat
(``heartbeat_at``) at every progress step. A build whose worker died (killed, out of memory, machine
lost) sends no more heartbeats: after the timeout it is failed with that error and can be retried
(``scoring.exports.services.reap_abandoned``); a worker that lost its lease stops and writes nothing.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON, BigInteger, Boolean, CheckConstraint, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from database import Base, UTCDateTime, utcnow
from raters.models import User
from tasks.catalogue.models import Project

EXPORT_STATES = ("queued", "building", "draft", "released", "failed")
NullableJSON = JSON(none_as_null=True)


class ExportSettings(Base):
    """A project's export settings: the release gate and the key of its rater pseudonyms."""

    __tablename__ = "export_settings"

    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True)
    release_gate: Mapped[bool] = mapped_column(Boolean, default=True)
    # Keyed hash of rater ids: stable within the project's exports, unlinkable across projects.
    pseudonym_key: Mapped[str] = mapped_column(String(64))


class Export(Base):
    __tablename__ = "exports"
    __table_args__ = (
        UniqueConstraint("project_id", "series_key", "version"),
        CheckConstraint("state IN ('queued','building','draft','released','failed')", name="state"),
        CheckConstraint("kind IN ('preferences','ratings')", name="kind"),
        CheckConstraint("file_format IN ('parquet','jsonl','csv')", name="file_format"),
        CheckConstraint("version >= 1", name="version"),
        CheckConstraint("progress >= 0 AND progress <= 1", name="progress"),
        CheckConstraint("(state = 'released') = (released_at IS NOT NULL)", name="released_has_time"),
        CheckConstraint("(state = 'building') = (lease IS NOT NULL)", name="building_has_lease"),
        Index("ix_exports_project_created", "project_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    file_format: Mapped[str] = mapped_column(String(10))
    # The export's options (mode, ties, media, filters) exactly as recorded in the manifest.
    options: Mapped[dict] = mapped_column(JSON)
    series_key: Mapped[str] = mapped_column(String(64))  # sha256 of kind, format and options
    data_key: Mapped[str | None] = mapped_column(String(200))  # the data it was built from
    version: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(10), default="queued")
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    error: Mapped[str | None] = mapped_column(Text)
    lease: Mapped[str | None] = mapped_column(String(32))  # the building worker's token
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # last sign of life of that worker
    manifest: Mapped[dict | None] = mapped_column(NullableJSON)
    row_counts: Mapped[dict | None] = mapped_column(NullableJSON)
    archive_sha256: Mapped[str | None] = mapped_column(String(64))
    archive_bytes: Mapped[int | None] = mapped_column(BigInteger)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    built_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    released_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    release_note: Mapped[str | None] = mapped_column(Text)
    # Set when an asset in the export later lost consent: the export must not be used further.
    affected_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    affected_reason: Mapped[str | None] = mapped_column(Text)

    project: Mapped[Project] = relationship()
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    released_by: Mapped[User | None] = relationship(foreign_keys=[released_by_id])

    @property
    def ready(self) -> bool:
        return self.state in ("draft", "released")

    @property
    def name(self) -> str:
        return f"{self.kind} v{self.version}"


class ExportAsset(Base):
    """An asset whose media or text an export contains."""

    __tablename__ = "export_assets"

    export_id: Mapped[int] = mapped_column(ForeignKey("exports.id", ondelete="CASCADE"), primary_key=True)
    asset_id: Mapped[int] = mapped_column(ForeignKey("assets.id", ondelete="CASCADE"), primary_key=True, index=True)
