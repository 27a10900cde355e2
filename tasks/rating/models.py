"""The rating record: assignments, judgments, drafts, flags, panel state and adjudications.

Integrity lives in the schema: a rater gets an item at most once (``uq_assignments_item_id``),
holds at most one open assignment per project (``uq_assignments_one_open``, partial), has at most
one current (not superseded) judgment per item (``uq_judgments_current``, partial) and never
reuses an idempotency key (``uq_judgments_rater_id``). Judgments are append-only: their answer
columns are never changed; a revision is a new row whose ``supersedes_id`` points at the old
one, and the old row only gets ``superseded_at`` stamped.

Choices, scores and playback are stored in the item's labels (``a``/``b``), never screen sides.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON, BigInteger, Boolean, CheckConstraint, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint, event,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from database import Base, UTCDateTime, utcnow
from raters.models import User
from tasks.catalogue.models import Item, Project
from tasks.rating.answers import rationale_features

ASSIGNMENT_STATES = ("open", "submitted", "skipped", "expired")
FLAG_KINDS = ("broken", "unsafe", "other")
# What a manager did about a media report: the item goes back to routing, leaves the project's
# work for good, or gets a new asset for the reported output (and goes back to routing).
FLAG_ACTIONS = ("returned", "dropped", "replaced")
PANEL_STATES = ("collecting", "extended", "agreed", "split")
# JSON columns that may be empty store SQL NULL (not JSON ``null``), so IS NULL means "absent".
NullableJSON = JSON(none_as_null=True)


def _partial(condition: str) -> dict:
    return {"sqlite_where": text(condition), "postgresql_where": text(condition)}


class Assignment(Base):
    """An item served to a rater: when, which output on the left, and what became of it."""

    __tablename__ = "assignments"
    __table_args__ = (
        UniqueConstraint("item_id", "rater_id"),
        CheckConstraint("status IN ('open','submitted','skipped','expired')", name="status"),
        CheckConstraint("left_label IN ('a','b')", name="left_label"),
        CheckConstraint("expires_at > served_at", name="expiry"),
        Index("uq_assignments_one_open", "project_id", "rater_id", unique=True, **_partial("status = 'open'")),
        Index("ix_assignments_item_status", "item_id", "status"),
        Index("ix_assignments_project_status", "project_id", "status", "expires_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"))
    rater_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    served_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The item label shown on the left of the screen (rubric items: always 'a').
    left_label: Mapped[str] = mapped_column(String(1))
    status: Mapped[str] = mapped_column(String(10), default="open")
    # Routed although the model was confident enough to auto-accept: a check of the gate.
    is_audit: Mapped[bool] = mapped_column(Boolean, default=False)
    skip_reason: Mapped[str | None] = mapped_column(Text)
    # First submission: the revision window runs from here.
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    project: Mapped[Project] = relationship()
    item: Mapped[Item] = relationship()
    rater: Mapped[User] = relationship()
    draft: Mapped["Draft | None"] = relationship(back_populates="assignment", cascade="all, delete-orphan")
    # What the server observed of its playback, read with the rating page (``tasks.rating.playback``
    # writes the rows itself, under the assignment's lock).
    observations: Mapped[list["PlaybackObservation"]] = relationship(viewonly=True)

    @property
    def right_label(self) -> str:
        return "b" if self.left_label == "a" else "a"

    def label_of(self, side: str) -> str:
        """The item label shown on screen ``side`` (``left``/``right``; rubric ``output``)."""
        return {"left": self.left_label, "right": self.right_label, "output": "a"}[side]

    def side_of(self, label: str) -> str:
        if self.project.kind == "rubric":
            return "output"
        return "left" if label == self.left_label else "right"


class Judgment(Base):
    """A rater's answer to an item (live, through an assignment, or imported)."""

    __tablename__ = "judgments"
    __table_args__ = (
        UniqueConstraint("rater_id", "idempotency_key"),
        UniqueConstraint("supersedes_id"),
        CheckConstraint("choice IS NULL OR choice IN ('a','b','tie')", name="choice"),
        CheckConstraint("strength IS NULL OR (strength >= 1 AND strength <= 3)", name="strength"),
        CheckConstraint("confidence >= 1 AND confidence <= 5", name="confidence"),
        CheckConstraint("(choice IS NULL) <> (scores IS NULL)", name="one_answer"),
        CheckConstraint("time_on_task_ms IS NULL OR time_on_task_ms >= 0", name="time_on_task"),
        CheckConstraint("paste_count >= 0", name="paste_count"),
        CheckConstraint("source IN ('live','imported')", name="source"),
        CheckConstraint("source = 'imported' OR assignment_id IS NOT NULL", name="live_has_assignment"),
        Index("uq_judgments_current", "item_id", "rater_id", unique=True, **_partial("superseded_at IS NULL")),
        Index("ix_judgments_project_rater_id", "project_id", "rater_id", "id"),  # a rater's latest first
        Index("ix_judgments_item_id", "item_id", "id"),  # an item's judgments in order (exports)
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int | None] = mapped_column(ForeignKey("assignments.id", ondelete="CASCADE"), index=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"))
    rater_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    choice: Mapped[str | None] = mapped_column(String(3))  # item labels
    strength: Mapped[int | None] = mapped_column(Integer)
    scores: Mapped[dict | None] = mapped_column(NullableJSON)
    rationale: Mapped[str] = mapped_column(Text)
    # Time-coded notes in item labels (``tasks.rating.notes``: [{label, t_in, t_out, frame_in,
    # frame_out, text}] or, for scripts, line ranges); None when there are none.
    notes: Mapped[list | None] = mapped_column(NullableJSON)
    # Per-criterion choices of a pairwise project with criteria: {key: {choice: a|b|tie, strength}}.
    criteria: Mapped[dict | None] = mapped_column(NullableJSON)
    confidence: Mapped[int] = mapped_column(Integer)
    time_on_task_ms: Mapped[int | None] = mapped_column(BigInteger)  # server clock: now − served_at
    playback: Mapped[dict | None] = mapped_column(NullableJSON)  # {label: seconds played}, client-reported
    paste_count: Mapped[int] = mapped_column(Integer, default=0)
    keystrokes: Mapped[int | None] = mapped_column(Integer)
    idempotency_key: Mapped[str | None] = mapped_column(String(100))
    # sha256 of what the client sent with that key: a replay must match it.
    request_sha256: Mapped[str | None] = mapped_column(String(64))
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("judgments.id"))
    superseded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    source: Mapped[str] = mapped_column(String(10), default="live")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # ``X-Request-ID`` of the request that stored it (live judgments; None when imported).
    request_id: Mapped[str | None] = mapped_column(String(64))
    # ``tasks.rating.answers.rationale_features`` of the rationale, set when the row is written
    # (the ORM event below; bulk inserts set it themselves). None: computed when read.
    rationale_features: Mapped[dict | None] = mapped_column(NullableJSON)

    assignment: Mapped[Assignment | None] = relationship()
    item: Mapped[Item] = relationship()
    rater: Mapped[User] = relationship()

    @property
    def is_current(self) -> bool:
        return self.superseded_at is None



@event.listens_for(Judgment, "before_insert")
def _rationale_features(_mapper, _connection, judgment: Judgment) -> None:
    if judgment.rationale_features is None:
        judgment.rationale_features = rationale_features(judgment.rationale)


class Draft(Base):
    """The latest autosaved answer of an assignment (screen terms, as the page holds it)."""

    __tablename__ = "drafts"

    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignments.id", ondelete="CASCADE"), primary_key=True)
    answer: Mapped[dict] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    assignment: Mapped[Assignment] = relationship(back_populates="draft")


class Flag(Base):
    """A rater's report of broken or unsafe media; holds the item out of routing until resolved."""

    __tablename__ = "flags"
    __table_args__ = (
        CheckConstraint("kind IN ('broken','unsafe','other')", name="kind"),
        CheckConstraint("label IS NULL OR label IN ('a','b')", name="label"),
        CheckConstraint("action IS NULL OR action IN ('returned','dropped','replaced')", name="action"),
        Index("ix_flags_item_open", "item_id", "resolved_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"))
    assignment_id: Mapped[int | None] = mapped_column(ForeignKey("assignments.id", ondelete="SET NULL"))
    reported_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(10))
    # The output reported (item label) and its model; NULL when the rater named no side.
    label: Mapped[str | None] = mapped_column(String(1))
    model: Mapped[str | None] = mapped_column(String(120))
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    action: Mapped[str | None] = mapped_column(String(10))
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    resolution: Mapped[str | None] = mapped_column(Text)

    item: Mapped[Item] = relationship()
    reported_by: Mapped[User | None] = relationship(foreign_keys=[reported_by_id])


class PlaybackObservation(Base):
    """What the server saw of one output's playback in one assignment (``tasks.rating.playback``).

    ``heard_s``: seconds credited from the page's heartbeats (each credit bounded by the server
    time between two heartbeats); ``byte_ranges``: merged ``[start, end)`` ranges of the media
    served for this assignment (API raters fetch what they watch), ``bytes_seen`` their total.
    """

    __tablename__ = "playback_observations"
    __table_args__ = (
        CheckConstraint("label IN ('a','b')", name="label"),
        CheckConstraint("heard_s >= 0 AND bytes_seen >= 0", name="amounts"),
    )

    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignments.id", ondelete="CASCADE"), primary_key=True)
    label: Mapped[str] = mapped_column(String(1), primary_key=True)
    position_s: Mapped[float | None] = mapped_column(Float)  # the last heartbeat's player time
    playing: Mapped[bool] = mapped_column(Boolean, default=False)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # server clock
    heard_s: Mapped[float] = mapped_column(Float, default=0.0)
    byte_ranges: Mapped[list | None] = mapped_column(NullableJSON)
    bytes_seen: Mapped[int] = mapped_column(BigInteger, default=0)
    first_fetch_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ItemPanel(Base):
    """Where an item's panel stands, recomputed from its current judgments after each one.

    A cache of a derived value (``tasks.rating.overlap.panel_state``) kept so routing can filter in SQL:
    ``target`` is how many judgments the item needs; ``split`` means the adjudication queue.
    Items with no row yet are collecting toward the project's ``overlap``.
    """

    __tablename__ = "item_panels"
    __table_args__ = (
        CheckConstraint("state IN ('collecting','extended','agreed','split')", name="state"),
        CheckConstraint("target >= 1", name="target"),
        Index("ix_item_panels_project_state", "project_id", "state"),
    )

    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    n_judgments: Mapped[int] = mapped_column(Integer)
    target: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(12))
    agreement: Mapped[float | None] = mapped_column(Float)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Adjudication(Base):
    """The final decision on an item the panel could not agree on, beside its judgments."""

    __tablename__ = "adjudications"
    __table_args__ = (
        UniqueConstraint("item_id"),
        CheckConstraint("choice IS NULL OR choice IN ('a','b','tie')", name="choice"),
        CheckConstraint("strength IS NULL OR (strength >= 1 AND strength <= 3)", name="strength"),
        CheckConstraint("(choice IS NULL) <> (scores IS NULL)", name="one_answer"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"))
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    choice: Mapped[str | None] = mapped_column(String(3))  # item labels
    strength: Mapped[int | None] = mapped_column(Integer)
    scores: Mapped[dict | None] = mapped_column(NullableJSON)
    rationale: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    item: Mapped[Item] = relationship()
    decided_by: Mapped[User | None] = relationship()


class RatingError(Exception):
    """A refused rating action: ``code`` and ``status`` say how the API answers it; ``details``
    maps a field to what is wrong with it."""

    status = 409
    code = "conflict"
    # Set when the refused answer was saved as the draft: the caller keeps that write.
    draft_saved = False

    def __init__(self, message: str, details: dict | None = None, *, code: str | None = None,
                 status: int | None = None):
        super().__init__(message)
        self.message, self.details = message, details
        if code:
            self.code = code
        if status:
            self.status = status


class AnswerInvalid(RatingError):
    """The answer is malformed (missing choice, a score off the scale, …)."""
    status, code = 422, "validation_failed"


class JudgmentRefused(RatingError):
    """A well-formed answer that breaks a quality rule (rationale, timing, playback)."""
    status, code = 422, "judgment_refused"


class NotFound(RatingError):
    status, code = 404, "not_found"
