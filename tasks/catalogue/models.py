"""Projects, assets with provenance, and items."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON, Boolean, CheckConstraint, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint, exists, func,
    select, text,
)
from sqlalchemy.orm import Mapped, mapped_column, object_session, relationship

from database import Base, UTCDateTime, utcnow
from raters.models import User

KINDS = ("pairwise", "rubric")
MODALITIES = ("video", "audio", "script")
CONSENT_STATES = ("granted", "pending", "revoked", "not_required")
# Consent states under which an asset may leave the platform in an export.
EXPORTABLE_CONSENT = frozenset({"granted", "not_required"})


def _where(condition: str) -> dict:
    """A partial index's condition, on both engines."""
    return {"sqlite_where": text(condition), "postgresql_where": text(condition)}


class Project(Base):
    __tablename__ = "projects"
    __table_args__ = (
        CheckConstraint("kind IN ('pairwise','rubric')", name="kind"),
        CheckConstraint("modality IN ('video','audio','script')", name="modality"),
        CheckConstraint("overlap >= 1 AND max_overlap >= overlap", name="overlap"),
        CheckConstraint("agreement_target >= 0 AND agreement_target <= 1", name="agreement_target"),
        CheckConstraint("confidence_threshold >= 0 AND confidence_threshold <= 1", name="confidence_threshold"),
        CheckConstraint("audit_rate >= 0 AND audit_rate <= 1", name="audit_rate"),
        CheckConstraint("gold_rate >= 0 AND gold_rate <= 1", name="gold_rate"),
        CheckConstraint("min_rationale_words >= 0", name="min_rationale_words"),
        CheckConstraint("min_media_fraction >= 0 AND min_media_fraction <= 1", name="min_media_fraction"),
        CheckConstraint("revision_window_h >= 0", name="revision_window_h"),
        CheckConstraint("qualification_gold >= 0", name="qualification_gold"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    modality: Mapped[str] = mapped_column(String(20))
    instructions: Mapped[str] = mapped_column(Text, default="")
    rubric: Mapped[list] = mapped_column(JSON, default=list)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    overlap: Mapped[int] = mapped_column(Integer, default=3)
    max_overlap: Mapped[int] = mapped_column(Integer, default=5)
    agreement_target: Mapped[float] = mapped_column(Float, default=0.67)
    confidence_threshold: Mapped[float] = mapped_column(Float, default=0.9)
    audit_rate: Mapped[float] = mapped_column(Float, default=0.05)
    gold_rate: Mapped[float] = mapped_column(Float, default=0.05)
    min_rationale_words: Mapped[int] = mapped_column(Integer, default=12)
    min_media_fraction: Mapped[float] = mapped_column(Float, default=0.8)
    # Hours after first submitting during which a rater may revise a judgment (0: never).
    revision_window_h: Mapped[int] = mapped_column(Integer, default=24, server_default="24")
    # Pairwise criteria judged one by one before the overall choice: [{key, name, description}].
    pairwise_criteria: Mapped[list | None] = mapped_column(JSON(none_as_null=True))
    # Every judgment must carry at least one time-coded (or line) note.
    require_note: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    # Gold items a new rater answers first, before any real work (0: no qualification).
    qualification_gold: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Per-project overrides of scoring.quality.thresholds (None: the documented defaults).
    quality_thresholds: Mapped[dict | None] = mapped_column(JSON)
    archived: Mapped[bool] = mapped_column(Boolean, default=False)
    # Bumped on every change to the project's items or settings (statistics cache key).
    revision: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    owner: Mapped[User] = relationship()
    member_rows: Mapped[list["ProjectMember"]] = relationship(
        back_populates="project", cascade="all, delete-orphan")

    @property
    def members(self) -> list[User]:
        return sorted((m.user for m in self.member_rows), key=lambda u: u.email)

    def has_member(self, user) -> bool:
        """Whether ``user`` is a member: one row read (the loaded member list when it is loaded,
        or nothing when the project was read together with it, see ``remember_membership``)."""
        if "member_rows" in self.__dict__:
            return any(m.user_id == user.id for m in self.member_rows)
        known = self.__dict__.get("_membership", {})
        if user.id in known:
            return known[user.id]
        return bool(object_session(self).scalar(select(is_member_sql(Project.id, user.id)).where(
            Project.id == self.id)))

    def remember_membership(self, user_id: int, member: "bool | ProjectMember | None") -> None:
        """Keep the membership read in the same statement as the project (``is_member_sql``, or
        the ``ProjectMember`` row itself) for this session's checks, so they read no row again.
        A row is held here too: the session's identity map keeps only what is referenced, and
        ``session.get(ProjectMember, …)`` later in the request then finds it without a read."""
        self.__dict__.setdefault("_membership", {})[user_id] = bool(member)
        if isinstance(member, ProjectMember):
            self.__dict__.setdefault("_member_rows", {})[user_id] = member

    @property
    def n_outputs(self) -> int:
        return 2 if self.kind == "pairwise" else 1

    @property
    def criteria_keys(self) -> list[str]:
        return [c["key"] for c in self.rubric or []]


def is_member_sql(project_id, user_id):
    """A column: whether the user is a member of the project (one row of the primary key)."""
    return exists().where(ProjectMember.project_id == project_id, ProjectMember.user_id == user_id)


MEMBER_STATUSES = ("active", "warned", "paused", "removed")
# Statuses under which a rater is served no new assignment (tasks.rating.standing).
STOPPED_STATUSES = frozenset({"paused", "removed"})


class ProjectMember(Base):
    """A user's membership of a project, with their standing in it (``tasks.rating.standing``
    keeps it: status and why, whether their judgments are excluded, the gold counters that make
    qualification and the auto-pause rules cheap to evaluate at submit time)."""

    __tablename__ = "project_members"
    __table_args__ = (
        CheckConstraint("status IN ('active','warned','paused','removed')", name="status"),
    )

    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    status: Mapped[str] = mapped_column(String(10), default="active", server_default="active")
    status_reason: Mapped[str | None] = mapped_column(Text)
    status_rule: Mapped[str | None] = mapped_column(String(20))  # the rule behind a warning or pause
    status_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The rater's judgments are left out of statistics and exports (reversible, with a note).
    excluded: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    exclusion_note: Mapped[str | None] = mapped_column(Text)
    # Gold judgments submitted here and how many matched (qualification, the gold auto-pause rule).
    gold_seen: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    gold_right: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    qualified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    fast_streak: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # judgments in a row too fast

    project: Mapped[Project] = relationship(back_populates="member_rows")
    user: Mapped[User] = relationship()


class Asset(Base):
    """One stored piece of media, identified by the sha256 of its bytes, with its provenance."""

    __tablename__ = "assets"
    __table_args__ = (
        CheckConstraint("media_kind IN ('video','audio','script')", name="media_kind"),
        CheckConstraint("consent IN ('granted','pending','revoked','not_required')", name="consent"),
        CheckConstraint("frame_rate IS NULL OR (frame_rate > 0 AND frame_rate <= 1000)", name="frame_rate"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    # Random, opaque: the only handle the media URL carries.
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    media_kind: Mapped[str] = mapped_column(String(10))
    mime_type: Mapped[str] = mapped_column(String(60))
    size_bytes: Mapped[int] = mapped_column(Integer)
    duration_s: Mapped[float | None] = mapped_column(Float)
    duration_source: Mapped[str | None] = mapped_column(String(20))  # ffprobe | mutagen | declared
    # Frames a second of a video (ffprobe's r_frame_rate, else the mp4's own sample table); None
    # for audio and scripts, or when unknown. ``frame_rate_source`` None: not probed yet.
    frame_rate: Mapped[float | None] = mapped_column(Float)
    frame_rate_source: Mapped[str | None] = mapped_column(String(20))  # ffprobe | mp4 | none
    original_name: Mapped[str] = mapped_column(String(255), default="")
    source_model: Mapped[str | None] = mapped_column(String(120))
    model_version: Mapped[str | None] = mapped_column(String(120))
    generation_params: Mapped[dict | None] = mapped_column(JSON)
    rights_holder: Mapped[str | None] = mapped_column(String(200))
    license: Mapped[str | None] = mapped_column(String(120))
    consent: Mapped[str] = mapped_column(String(20), default="pending")
    consent_ref: Mapped[str | None] = mapped_column(String(200))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    consent_changes: Mapped[list["ConsentChange"]] = relationship(
        back_populates="asset", order_by="ConsentChange.id", cascade="all, delete-orphan")

    @property
    def exportable(self) -> bool:
        return self.consent in EXPORTABLE_CONSENT


class ConsentChange(Base):
    """The audit trail of an asset's consent: every change, by whom, when, and why."""

    __tablename__ = "consent_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    asset_id: Mapped[int] = mapped_column(ForeignKey("assets.id", ondelete="CASCADE"), index=True)
    old_consent: Mapped[str | None] = mapped_column(String(20))
    new_consent: Mapped[str] = mapped_column(String(20))
    consent_ref: Mapped[str | None] = mapped_column(String(200))
    note: Mapped[str] = mapped_column(Text, default="")
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    asset: Mapped[Asset] = relationship(back_populates="consent_changes")
    changed_by: Mapped[User | None] = relationship()


class ItemImport(Base):
    """One accepted import file: what came in, from whom, how many items."""

    __tablename__ = "item_imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    file_format: Mapped[str] = mapped_column(String(10))
    sha256: Mapped[str] = mapped_column(String(64))
    n_items: Mapped[int] = mapped_column(Integer)
    imported_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    imported_by: Mapped[User | None] = relationship()


class Item(Base):
    """What one rater judges once: a prompt and one (rubric) or two (pairwise) outputs."""

    __tablename__ = "items"
    __table_args__ = (
        UniqueConstraint("project_id", "external_id"),
        # Routing's queue (tasks.rating.routing): the items that still need work, in the order
        # they are served. Its condition is tasks.rating.routing.ROUTABLE's.
        Index("ix_items_routing", "project_id", func.coalesce(text("model_confidence"), text("0.0")), "id",
              **_where("hold = 0 AND n_judged + n_held < target")),
        Index("ix_items_gold", "project_id", "id", **_where("gold IS NOT NULL")),
        CheckConstraint("n_judged >= 0 AND n_held >= 0 AND target >= 0 AND hold >= 0", name="routing_counters"),
        CheckConstraint("model_confidence IS NULL OR (model_confidence >= 0 AND model_confidence <= 1)",
                        name="model_confidence"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    external_id: Mapped[str] = mapped_column(String(200))
    prompt: Mapped[str] = mapped_column(Text)
    model_confidence: Mapped[float | None] = mapped_column(Float)
    # none_as_null: an absent answer is SQL NULL, never JSON null, so "IS NULL" means "not gold".
    gold: Mapped[dict | None] = mapped_column(JSON(none_as_null=True))
    extra: Mapped[dict | None] = mapped_column("metadata", JSON(none_as_null=True))
    import_id: Mapped[int | None] = mapped_column(ForeignKey("item_imports.id", ondelete="SET NULL"))
    # Set when a manager drops the item (a media report): it is never routed again.
    dropped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Routing's counters, kept by tasks.rating.routing.refresh_items under the item's row lock:
    # current judgments, open assignments, judgments needed (0 until first refreshed: never
    # routed), and why the item is out of regular routing (a bitmask, routing.HOLD_*; 0 = routable).
    n_judged: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    n_held: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    target: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    hold: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    project: Mapped[Project] = relationship()
    outputs: Mapped[list["ItemOutput"]] = relationship(
        back_populates="item", order_by="ItemOutput.label", cascade="all, delete-orphan")
    expertise_rows: Mapped[list["ItemExpertise"]] = relationship(cascade="all, delete-orphan")

    @property
    def expertise(self) -> list[str]:
        return sorted(row.tag for row in self.expertise_rows)

    @property
    def is_gold(self) -> bool:
        return self.gold is not None


class ItemOutput(Base):
    """One output of an item: label ``a`` or ``b`` (rubric items have only ``a``)."""

    __tablename__ = "item_outputs"
    __table_args__ = (CheckConstraint("label IN ('a','b')", name="label"),)

    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), primary_key=True)
    label: Mapped[str] = mapped_column(String(1), primary_key=True)
    model: Mapped[str] = mapped_column(String(120), index=True)
    asset_id: Mapped[int] = mapped_column(ForeignKey("assets.id"), index=True)

    item: Mapped[Item] = relationship(back_populates="outputs")
    asset: Mapped[Asset] = relationship()


class ItemExpertise(Base):
    __tablename__ = "item_expertise"

    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), primary_key=True)
    tag: Mapped[str] = mapped_column(String(40), primary_key=True)
