"""Routing: which item a rater gets next, picked safely while many raters ask at once.

Policy (documented in design.md's Flow, step 2):
- A rater's open, unexpired assignment in the project is served again (resume) before anything
  new. Open assignments past ``expires_at`` are marked ``expired`` lazily here; their item goes
  back to the pool — for *other* raters: a rater never gets an item twice, even one they let
  expire or skipped (``uq_assignments_item_id_rater_id``).
- Candidates: the project's items the rater has neither been served nor judged (imported
  judgments count), whose required expertise the rater covers, with no unresolved flag, not
  dropped, every output's asset with usable consent (``tasks.rating.consent``), not adjudicated, and still short of judgments: current judgments + open unexpired assignments <
  the item's target (``overlap``, raised by adaptive overlap up to ``max_overlap``).
- Confidence gate: items with ``model_confidence >= confidence_threshold`` are auto-accepted and
  not routed, except an ``audit_rate`` share picked by a fixed hash of (project id, item id)
  (``audit_bucket``; the same in Python and SQL, in every process). Items with no confidence
  are routed.
- Order: lowest ``model_confidence`` first, an unknown confidence counting as 0 (no model signal,
  most in need of people), then oldest (id).
- Gold: a rater's Nth assignment in the project (N counts every status) is a gold item when
  ``gold_draw(project, rater, N) < gold_rate`` and an eligible gold item they have not seen
  exists; otherwise a regular one. Gold items are never counted against ``overlap`` (every rater
  may meet each once) and are never served when no regular work is left (that would give them
  away). Nothing in the assignment tells the rater which kind it is.

Concurrency: the caller's transaction must serialise the pick. PostgreSQL: the rater's project
membership row is locked (one pick per rater at a time), candidate item rows are taken with
``FOR UPDATE SKIP LOCKED`` and their counts re-checked with a fresh statement once locked (every
writer of an item's panel holds that item's row lock). SQLite: the whole transaction is a writer
from its start (``BEGIN IMMEDIATE``, ``db.serialise_writes()``); ``next_assignment`` refuses a
SQLite session that is not.
"""
from __future__ import annotations

import hashlib
import random
from datetime import datetime, timedelta

from sqlalchemy import Text, case, cast, exists, func, literal, or_, select
from sqlalchemy.orm import Session

from database import IMMEDIATE_OPTION
from raters.models import User
from tasks.catalogue.models import Item, ItemExpertise, Project, ProjectMember
from tasks.rating.consent import unusable_output_sql
from tasks.rating.models import Adjudication, Assignment, Flag, ItemPanel, Judgment

DEFAULT_TTL = timedelta(minutes=30)
HASH_SPACE = 2**32
AUDIT_ITEM_MULTIPLIER = 2654435761  # Knuth's multiplicative (Fibonacci) hash
AUDIT_PROJECT_MULTIPLIER = 40503
MAX_LOCK_TRIES = 20  # candidates tried per pick before answering "nothing for now"
SWEEP_LIMIT = 200  # overdue assignments of other raters marked expired per pick

_sides = random.SystemRandom()


# -- policy: pure ---------------------------------------------------------------------------

def audit_bucket(project_id: int, item_id: int) -> int:
    """A fixed pseudo-random bucket in [0, 2³²) per (project, item)."""
    return (item_id * AUDIT_ITEM_MULTIPLIER + project_id * AUDIT_PROJECT_MULTIPLIER) % HASH_SPACE


def audit_threshold(audit_rate: float) -> int:
    return int(round(audit_rate * HASH_SPACE))


def is_audited(project_id: int, item_id: int, audit_rate: float) -> bool:
    """True for the ``audit_rate`` share of confident items that are routed anyway."""
    return audit_bucket(project_id, item_id) < audit_threshold(audit_rate)


def gold_draw(project_id: int, rater_id: int, n: int) -> float:
    """A fixed number in [0, 1) for a rater's ``n``-th assignment in a project."""
    digest = hashlib.sha256(f"gold:{project_id}:{rater_id}:{n}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def wants_gold(project: Project, rater_id: int, n: int) -> bool:
    return project.gold_rate > 0 and gold_draw(project.id, rater_id, n) < project.gold_rate


def routed(project: Project, item: Item) -> bool:
    """Whether the confidence gate lets the item through (uncertain, unknown, or audited)."""
    return (item.model_confidence is None or item.model_confidence < project.confidence_threshold
            or is_audited(project.id, item.id, project.audit_rate))


# -- SQL forms of the policy ---------------------------------------------------------------

def _audit_bucket_sql(project: Project):
    return (Item.id * literal(AUDIT_ITEM_MULTIPLIER) + literal(project.id * AUDIT_PROJECT_MULTIPLIER)) % literal(HASH_SPACE)


def _gate_sql(project: Project):
    return or_(Item.model_confidence.is_(None), Item.model_confidence < project.confidence_threshold,
               _audit_bucket_sql(project) < audit_threshold(project.audit_rate))


def is_gold_sql():
    """Items with a gold answer (an absent answer may be stored as SQL NULL or JSON null)."""
    return Item.gold.isnot(None) & (cast(Item.gold, Text) != "null")


def slots_used_sql(now: datetime):
    """Current judgments plus open, unexpired assignments of the item."""
    judged = (select(func.count()).select_from(Judgment)
              .where(Judgment.item_id == Item.id, Judgment.superseded_at.is_(None)).scalar_subquery())
    held = (select(func.count()).select_from(Assignment)
            .where(Assignment.item_id == Item.id, Assignment.status == "open", Assignment.expires_at > now)
            .scalar_subquery())
    return judged + held


def target_sql(project: Project):
    """The item's target: its panel's (adaptive overlap) kept within [overlap, max_overlap]."""
    stored = select(ItemPanel.target).where(ItemPanel.item_id == Item.id).scalar_subquery()
    return case((stored > project.max_overlap, project.max_overlap), (stored > project.overlap, stored),
                else_=project.overlap)


def _eligible_for(project: Project, rater: User):
    """Conditions every candidate meets, gold or not."""
    return [
        Item.project_id == project.id,
        ~exists().where(Assignment.item_id == Item.id, Assignment.rater_id == rater.id),
        ~exists().where(Judgment.item_id == Item.id, Judgment.rater_id == rater.id),
        ~exists().where(ItemExpertise.item_id == Item.id, ItemExpertise.tag.not_in(rater.expertise)),
        ~exists().where(Flag.item_id == Item.id, Flag.resolved_at.is_(None)),
        ~unusable_output_sql(),  # an output's consent is not granted/not_required (tasks.rating.consent)
        Item.dropped_at.is_(None),  # dropped by a manager after a media report
    ]


def candidates_query(project: Project, rater: User, now: datetime):
    """Regular (non-gold) items this rater may be served now, best first."""
    return (select(Item).where(
        *_eligible_for(project, rater), ~is_gold_sql(), _gate_sql(project),
        ~exists().where(Adjudication.item_id == Item.id),
        slots_used_sql(now) < target_sql(project))
        .order_by(func.coalesce(Item.model_confidence, 0.0), Item.id))


def gold_query(project: Project, rater: User):
    return select(Item).where(*_eligible_for(project, rater), is_gold_sql()).order_by(Item.id)


# -- the pick -------------------------------------------------------------------------------

def require_serialised(session: Session) -> None:
    """On SQLite, refuse a transaction that did not begin as a writer (see module docstring)."""
    connection = session.connection()
    if connection.dialect.name == "sqlite" and not connection.get_execution_options().get(IMMEDIATE_OPTION):
        raise RuntimeError("On SQLite this write must run in a writer transaction: call "
                           "db.serialise_writes() first (or use db.writer_sessionmaker).")


def open_assignment(session: Session, project: Project, rater: User, now: datetime) -> Assignment | None:
    """The rater's open, unexpired assignment in the project, if any."""
    return session.scalar(select(Assignment).where(
        Assignment.project_id == project.id, Assignment.rater_id == rater.id,
        Assignment.status == "open", Assignment.expires_at > now))


def expire_overdue(session: Session, project: Project, now: datetime, *, rater: User | None = None) -> int:
    """Mark open assignments past their expiry as expired: the rater's own (waiting for their
    locks), then up to ``SWEEP_LIMIT`` of others' (skipping rows another pick is marking)."""
    overdue = (select(Assignment).where(Assignment.project_id == project.id, Assignment.status == "open",
                                        Assignment.expires_at <= now).order_by(Assignment.id))
    rows = []
    if rater is not None:
        rows += session.scalars(overdue.where(Assignment.rater_id == rater.id).with_for_update()).all()
    rows += session.scalars(overdue.limit(SWEEP_LIMIT).with_for_update(skip_locked=True)).all()
    for assignment in rows:
        if assignment.status == "open":
            assignment.status, assignment.closed_at = "expired", now
    session.flush()
    return len({a.id for a in rows})


def next_assignment(session: Session, project: Project, rater: User, now: datetime, *,
                    ttl: timedelta = DEFAULT_TTL) -> Assignment | None:
    """The rater's open assignment in the project (resumed), else a new one, else None.

    The caller has checked that ``rater`` may rate in ``project`` (a member with consent) and
    that the project is not archived. A resumed assignment keeps its ``served_at``."""
    require_serialised(session)
    session.scalar(select(ProjectMember.user_id).where(
        ProjectMember.project_id == project.id, ProjectMember.user_id == rater.id).with_for_update())
    expire_overdue(session, project, now, rater=rater)
    resumed = open_assignment(session, project, rater, now)
    if resumed is not None:
        return resumed
    n = session.scalar(select(func.count()).select_from(Assignment).where(
        Assignment.project_id == project.id, Assignment.rater_id == rater.id))
    item = None
    if wants_gold(project, rater.id, n):
        item = session.scalar(gold_query(project, rater).limit(1))
    if item is None:
        item = _lock_regular(session, project, rater, now)
    if item is None:
        return None
    assignment = Assignment(
        project_id=project.id, item_id=item.id, rater_id=rater.id, served_at=now, expires_at=now + ttl,
        left_label=_sides.choice("ab") if project.kind == "pairwise" else "a", status="open",
        is_audit=not item.is_gold and item.model_confidence is not None
        and item.model_confidence >= project.confidence_threshold)
    session.add(assignment)
    session.flush()
    return assignment


def _lock_regular(session: Session, project: Project, rater: User, now: datetime) -> Item | None:
    """Lock the best candidate that, re-counted under its lock, still needs a judgment."""
    tried: list[int] = []
    for _ in range(MAX_LOCK_TRIES):
        query = candidates_query(project, rater, now)
        if tried:
            query = query.where(Item.id.not_in(tried))
        item = session.scalar(query.limit(1).with_for_update(of=Item, skip_locked=True))
        if item is None:
            return None
        still_short = session.scalar(select(slots_used_sql(now) < target_sql(project)).where(Item.id == item.id))
        if still_short:
            return item
        tried.append(item.id)
    return None


def progress(session: Session, project: Project, rater: User, now: datetime) -> dict:
    """What the rater's home shows per project: done, skipped, open, and work still available."""
    counts = dict(session.execute(select(Assignment.status, func.count()).where(
        Assignment.project_id == project.id, Assignment.rater_id == rater.id).group_by(Assignment.status)).all())
    available = session.scalar(select(func.count()).select_from(candidates_query(project, rater, now)
                                                                 .order_by(None).subquery()))
    current = open_assignment(session, project, rater, now)
    return {"judged": counts.get("submitted", 0), "skipped": counts.get("skipped", 0),
            "expired": counts.get("expired", 0), "open_assignment_id": current.id if current else None,
            "available": available}
