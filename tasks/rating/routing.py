"""Routing: which item a rater gets next, picked through an index while many raters ask at once.

Policy (documented in design.md's Flow, step 2):
- A rater's open, unexpired assignment in the project is served again (resume) before anything
  new. Open assignments past ``expires_at`` are marked ``expired`` lazily here; their item goes
  back to the pool — for *other* raters: a rater never gets an item twice, even one they let
  expire or skipped (``uq_assignments_item_id_rater_id``).
- Candidates: the project's items the rater has neither been served nor judged (imported
  judgments count), whose required expertise the rater covers, with no unresolved flag, not
  dropped, every output's asset with usable consent (``tasks.rating.consent``), not adjudicated,
  and still short of
  judgments: current judgments + open assignments < the item's target (``overlap``, raised by
  adaptive overlap up to ``max_overlap``).
- Confidence gate: items with ``model_confidence >= confidence_threshold`` are auto-accepted and
  not routed, except an ``audit_rate`` share picked by a fixed hash of (project id, item id)
  (``audit_bucket``; the same in Python and SQL, in every process). Items with no confidence
  are routed.
- Order: lowest ``model_confidence`` first, an unknown confidence counting as 0 (no model signal,
  most in need of people), then oldest (id).
- Standing (``tasks.rating.standing``, read from the membership row the pick locks anyway): a
  paused or removed rater is served nothing (``RaterStopped``, 403 with the reason); a rater still
  in the project's qualification is served gold items only (none left: nothing).
- Gold: a rater's Nth assignment in the project (N counts every status) is a gold item when
  ``gold_draw(project, rater, N) < gold_rate`` and an eligible gold item they have not seen
  exists; otherwise a regular one. Gold items are never counted against ``overlap`` (every rater
  may meet each once). Nothing in the assignment tells the rater which kind it is.

How it is cheap: every item row carries routing's counters — ``n_judged`` (current judgments),
``n_held`` (open assignments), ``target`` (judgments needed) and ``hold`` (a bitmask of why it is
out of regular routing, ``HOLD_*``; 0 = routable). ``refresh_items`` recounts them, one UPDATE per
project and batch, under the items' row locks; **every write that changes what they count calls
it** (skip, expire, flag and its resolution, adjudication, judgment and item import, an asset's
consent change, a project's settings change) — except the three hot paths, which know exactly
what changed and write it as one delta UPDATE of the row they hold locked: serving
(``n_held + 1``, inside the serving statement), submitting and revising (``judgment_written``).
The property test compares the counters with a recount after random sequences of every path.
The partial index ``ix_items_routing`` holds exactly the items that still need work (``hold = 0 AND n_judged +
n_held < target``) in routing's order, so a pick reads the first rows of that index and only
checks the rater's own history against them — a handful of rows whether the project holds 100 or
100,000 items. Holds of expired assignments are released by a sweep (the rater's own, then up to
``SWEEP_LIMIT`` of others', oldest first) that a pick runs when the statement taking its lock
has seen an overdue open assignment in the project (through ``ix_assignments_project_status``).

Concurrency: the caller's transaction serialises the pick. PostgreSQL: the rater's project
membership row is locked (one pick per rater at a time); the candidate item row is taken with
``FOR UPDATE SKIP LOCKED``, its counters re-checked by PostgreSQL under the lock (they are columns
of the row itself), held and served in the same statement (``serve_statement``). When every
candidate is locked by someone else, the pick is *not* "nothing left": it waits for those locks
to clear (polling, up to ``LOCK_WAIT_S``; never a blocking wait, so no deadlock) and answers None only when, with no lock in the way, no item is servable for the
rater — else ``RoutingBusy`` (503, retry). The item's lock lasts as long as the pick: the views
commit right after it. SQLite: the whole transaction is a writer from its start (``BEGIN
IMMEDIATE``, ``db.serialise_writes()``); ``next_assignment`` refuses a SQLite session that is not.
"""
from __future__ import annotations

import hashlib
import random
import time
from datetime import datetime, timedelta
from functools import cache

from sqlalchemy import Text, and_, bindparam, case, cast, exists, func, insert, literal_column, or_, select, update
from sqlalchemy.orm import Session, joinedload
from sqlalchemy.orm.attributes import set_committed_value

from database import IMMEDIATE_OPTION, one_of
from raters.models import User, UserExpertise
from tasks.catalogue.models import EXPORTABLE_CONSENT, Asset, Item, ItemExpertise, ItemOutput, Project, ProjectMember
from tasks.rating import standing
from tasks.rating.models import Adjudication, Assignment, Flag, ItemPanel, Judgment, RatingError

DEFAULT_TTL = timedelta(minutes=30)
HASH_SPACE = 2**32
AUDIT_ITEM_MULTIPLIER = 2654435761  # Knuth's multiplicative (Fibonacci) hash
AUDIT_PROJECT_MULTIPLIER = 40503
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


# -- the stored counters --------------------------------------------------------------------

HOLD_FLAGGED = 1  # an unresolved media report
HOLD_CONSENT = 2  # an output's asset has consent outside EXPORTABLE_CONSENT
HOLD_GOLD = 4  # gold: mixed in by its own draw, never counted against overlap
HOLD_GATED = 8  # auto-accepted by the confidence gate (and not in the audit share)
HOLD_ADJUDICATED = 16
HOLD_DROPPED = 32  # dropped by a manager after a media report (tasks.rating.flags)
WITHHELD = HOLD_FLAGGED | HOLD_CONSENT | HOLD_DROPPED  # keep gold items out of routing too
# The condition of the partial index ``ix_items_routing`` (tasks.catalogue.models) with literals,
# not bound parameters, so the planner can prove the index covers the query.
ROUTABLE = and_(Item.hold == literal_column("0"), Item.n_judged + Item.n_held < Item.target)
ROUTING_ORDER = func.coalesce(Item.model_confidence, literal_column("0.0"))
REFRESH_CHUNK = 1000


def _audit_bucket_sql(project: Project):
    return (Item.id * literal_column(str(AUDIT_ITEM_MULTIPLIER))
            + literal_column(str(project.id * AUDIT_PROJECT_MULTIPLIER))) % literal_column(str(HASH_SPACE))


def _gated_sql(project: Project):
    """Auto-accepted by the confidence gate: confident, and not in the audit share."""
    return and_(Item.model_confidence.isnot(None), Item.model_confidence >= project.confidence_threshold,
                _audit_bucket_sql(project) >= literal_column(str(audit_threshold(project.audit_rate))))


def is_gold_sql():
    """Items with a gold answer (an absent answer may be stored as SQL NULL or JSON null)."""
    return Item.gold.isnot(None) & (cast(Item.gold, Text) != "null")


def _unusable_output_sql():
    """The item has an output whose asset's consent is not usable — the same condition as
    ``tasks.rating.consent.unusable_output_sql``, which calls ``refresh_items`` (so it cannot be
    imported from here)."""
    return exists().where(ItemOutput.item_id == Item.id, ItemOutput.asset_id == Asset.id,
                          Asset.consent.not_in(EXPORTABLE_CONSENT))


def _bit(condition, bit: int):
    return case((condition, bit), else_=0)


def _recount(project: Project) -> dict:
    """The counters of a project's items, as correlated SQL recounts (see the module docstring)."""
    judged = (select(func.count()).select_from(Judgment)
              .where(Judgment.item_id == Item.id, Judgment.superseded_at.is_(None)).scalar_subquery())
    held = (select(func.count()).select_from(Assignment)
            .where(Assignment.item_id == Item.id, Assignment.status == "open").scalar_subquery())
    stored = select(ItemPanel.target).where(ItemPanel.item_id == Item.id).scalar_subquery()
    target = case((stored > project.max_overlap, project.max_overlap), (stored > project.overlap, stored),
                  else_=project.overlap)
    hold = (_bit(exists().where(Flag.item_id == Item.id, Flag.resolved_at.is_(None)), HOLD_FLAGGED)
            + _bit(_unusable_output_sql(), HOLD_CONSENT) + _bit(is_gold_sql(), HOLD_GOLD)
            + _bit(_gated_sql(project), HOLD_GATED)
            + _bit(exists().where(Adjudication.item_id == Item.id), HOLD_ADJUDICATED)
            + _bit(Item.dropped_at.isnot(None), HOLD_DROPPED))
    return {"n_judged": judged, "n_held": held, "target": target, "hold": hold}


def refresh_items(session: Session, item_ids) -> int:
    """Recount routing's counters of these items (any projects) under their row locks, taken in
    id order: one lock statement and one UPDATE per project and batch of ``REFRESH_CHUNK``.

    Call it after every write that changes what an item's counters count — its judgments, its
    open assignments, its panel's target, its flags, its adjudication, the consent of its outputs'
    assets, its project's settings. Returns how many items were refreshed."""
    ids = sorted(set(item_ids))
    done = 0
    for start in range(0, len(ids), REFRESH_CHUNK):
        rows = session.execute(select(Item.id, Item.project_id).where(one_of(session, Item.id, ids[start:start + REFRESH_CHUNK]))
                               .order_by(Item.id).with_for_update()).all()
        by_project: dict[int, list[int]] = {}
        for item_id, project_id in rows:
            by_project.setdefault(project_id, []).append(item_id)
        for project_id, chunk in by_project.items():
            _update(session, session.get(Project, project_id), one_of(session, Item.id, chunk))
        done += len(rows)
    return done


def refresh_project_items(session: Session, project: Project) -> int:
    """Recount every item of the project (after its overlap, gate or audit settings change)."""
    locked = session.scalars(select(Item.id).where(Item.project_id == project.id).order_by(Item.id)
                             .with_for_update()).all()
    _update(session, project, Item.project_id == project.id)
    return len(locked)


def _update(session: Session, project: Project, where) -> None:
    # "fetch": loaded items get their new counters from the UPDATE's RETURNING.
    session.execute(update(Item).where(where).values(**_recount(project))
                    .execution_options(synchronize_session="fetch"))


def target_for(project: Project, stored: int | None) -> int:
    """``_recount``'s target in Python: the panel's stored target kept within the project's
    ``overlap`` … ``max_overlap`` (``overlap`` without a panel)."""
    return project.overlap if stored is None else min(max(stored, project.overlap), project.max_overlap)


def judgment_written(session: Session, project: Project, item_id: int, panel_target: int | None, *,
                     closed_assignment: bool) -> None:
    """The counters after a live judgment, as one UPDATE of the item row the caller holds
    locked (no recount): a submit closes its open assignment (``n_held − 1``) and adds a current
    judgment (``n_judged + 1``); a revision replaces one (counts unchanged). The target follows
    the item's new panel. Exactly what ``refresh_items`` would store (the property test checks)."""
    values = {"target": target_for(project, panel_target)}
    if closed_assignment:
        values.update(n_judged=Item.n_judged + 1, n_held=Item.n_held - 1)
    session.execute(update(Item).where(Item.id == item_id).values(**values)
                    .execution_options(synchronize_session="evaluate"))


COUNTERS = ("n_judged", "n_held", "target", "hold")


def recount(session: Session, item_ids) -> dict[int, tuple[int, int, int, int]]:
    """The counters as they should be, without storing them (tests compare them with the stored)."""
    out = {}
    for item_id, project_id in session.execute(select(Item.id, Item.project_id).where(Item.id.in_(list(item_ids)))):
        values = _recount(session.get(Project, project_id))
        out[item_id] = tuple(session.execute(select(*(values[c] for c in COUNTERS)).where(Item.id == item_id)).one())
    return out


# -- the candidates -------------------------------------------------------------------------

def _not_seen_by(rater_id):
    """Conditions on the rater's own history: never served nor judged, expertise covered."""
    return [
        ~exists().where(Assignment.item_id == Item.id, Assignment.rater_id == rater_id),
        ~exists().where(Judgment.item_id == Item.id, Judgment.rater_id == rater_id),
        ~exists().where(ItemExpertise.item_id == Item.id, ItemExpertise.tag.not_in(
            select(UserExpertise.tag).where(UserExpertise.user_id == rater_id))),
    ]


def candidates_query(project_id, rater_id):
    """Regular (non-gold) items this rater may be served now, best first — through the partial
    index ``ix_items_routing`` of items that still need work. The ids may be ``bindparam``s."""
    return (select(Item).where(Item.project_id == project_id, ROUTABLE, *_not_seen_by(rater_id))
            .order_by(ROUTING_ORDER, Item.id))


def gold_query(project_id, rater_id):
    return (select(Item).where(Item.project_id == project_id, Item.gold.isnot(None),
                               Item.hold.op("&")(HOLD_GOLD | WITHHELD) == HOLD_GOLD, *_not_seen_by(rater_id))
            .order_by(Item.id))


def explain_query(project: Project, rater: User, now: datetime | None = None):
    """The hot query of a pick, as it runs on PostgreSQL (for ``EXPLAIN ANALYZE`` in the bench):
    the statement that picks, holds and serves (``serve_statement``), with this pick's values."""
    now = now or datetime.now().astimezone()
    return serve_statement(candidates_query(project.id, rater.id).limit(1),
                           serve_parameters(project, rater, now, DEFAULT_TTL))


# -- the pick -------------------------------------------------------------------------------

# What serving the item reads next (its outputs and their assets), loaded with it in one read.
SERVED_WITH = joinedload(Item.outputs).joinedload(ItemOutput.asset)
LOCK_WAIT_S = 10.0  # how long a pick waits for other picks' locks before answering 503
POLL_S = (0.002, 0.02)  # sleep between tries while every candidate is locked


class RoutingBusy(RatingError):
    """Every item this rater could get is locked by other writers for longer than a pick waits."""
    status, code = 503, "routing_busy"


def require_serialised(session: Session) -> None:
    """On SQLite, refuse a transaction that did not begin as a writer (see module docstring)."""
    connection = session.connection()
    if connection.dialect.name == "sqlite" and not connection.get_execution_options().get(IMMEDIATE_OPTION):
        raise RuntimeError("On SQLite this write must run in a writer transaction: call "
                           "db.serialise_writes() first (or use db.writer_sessionmaker).")


@cache
def _open_assignment():
    return (select(Assignment).where(
        Assignment.project_id == bindparam("project_id"), Assignment.rater_id == bindparam("rater_id"),
        Assignment.status == "open", Assignment.expires_at > bindparam("now"))
        .options(joinedload(Assignment.item).options(SERVED_WITH), joinedload(Assignment.draft)))


def open_assignment(session: Session, project: Project, rater: User, now: datetime) -> Assignment | None:
    """The rater's open, unexpired assignment in the project, if any, read with what serving it
    again shows (its item's outputs and their assets, its draft)."""
    return session.scalar(_open_assignment(), {"project_id": project.id, "rater_id": rater.id, "now": now})


def expire_overdue(session: Session, project: Project, now: datetime, *,
                   rater: User | None = None) -> Assignment | None:
    """Mark open assignments past their expiry as expired — the rater's own (waiting for their
    locks), then up to ``SWEEP_LIMIT`` of others' (skipping rows another pick is marking) — and
    release their items' holds. Returns the rater's open assignment still running, if any."""
    overdue = (select(Assignment).where(Assignment.project_id == project.id, Assignment.status == "open",
                                        Assignment.expires_at <= now).order_by(Assignment.id))
    rows, running = [], None
    if rater is not None:
        for assignment in session.scalars(select(Assignment).where(
                Assignment.project_id == project.id, Assignment.rater_id == rater.id, Assignment.status == "open")
                .order_by(Assignment.id).with_for_update()):
            if assignment.expires_at <= now:
                rows.append(assignment)
            else:
                running = assignment
    rows += session.scalars(overdue.limit(SWEEP_LIMIT).with_for_update(skip_locked=True)).all()
    for assignment in rows:
        if assignment.status == "open":
            assignment.status, assignment.closed_at = "expired", now
    if rows:
        session.flush()
        refresh_items(session, {a.item_id for a in rows})
    return running


def _start(session: Session, project: Project, rater: User, now: datetime) -> tuple[ProjectMember | None, int, bool]:
    """The pick's first statement: lock the rater's membership row (one pick per rater at a
    time; its standing says whether they may be served) and read, with it, how many assignments the rater has had in the project (the gold
    draw's N) and whether any open assignment of the project is overdue (the expiry sweep runs
    only then). Both are hints read beside the lock: the rater's own open assignment is read
    after it, in a statement of its own, so a pick of another tab that just committed is seen."""
    row = session.execute(_start_statement(), {"project_id": project.id, "rater_id": rater.id, "now": now}).first()
    return (row[0], row[1], bool(row[2])) if row else (None, 0, True)


@cache
def _start_statement(lock: bool = True):
    """The membership row with the pick's hints; ``lock=False``: the same read without taking
    the row's lock (``upcoming_item``, which holds nothing)."""
    project_id, rater_id = bindparam("project_id"), bindparam("rater_id")
    served = (select(func.count()).select_from(Assignment)
              .where(Assignment.project_id == project_id, Assignment.rater_id == rater_id).scalar_subquery())
    overdue = exists().where(Assignment.project_id == project_id, Assignment.status == "open",
                             Assignment.expires_at <= bindparam("now"))
    query = (select(ProjectMember, served, overdue)
             .where(ProjectMember.project_id == project_id, ProjectMember.user_id == rater_id))
    return (query.with_for_update(of=ProjectMember) if lock else query).execution_options(populate_existing=True)


def _pools(project: Project, member: ProjectMember | None, rater_id: int, n_served: int) -> tuple[bool, ...]:
    """Which candidates a new pick tries, in order — gold (True), regular (False): a rater in
    qualification gold only; the Nth assignment gold first when its draw says so."""
    if standing.in_qualification(project, member):
        return (True,)
    return (True, False) if project.gold_rate > 0 and wants_gold(project, rater_id, n_served) else (False,)


@cache
def _served_item():
    return (select(Item).where(Item.id == bindparam("item_id")).options(SERVED_WITH)
            .execution_options(populate_existing=True))


def next_assignment(session: Session, project: Project, rater: User, now: datetime, *,
                    ttl: timedelta = DEFAULT_TTL) -> Assignment | None:
    """The rater's open assignment in the project (resumed), else a new one, else None (nothing
    is servable for the rater). Raises ``RoutingBusy`` when other writers' locks kept every
    candidate out of reach for ``LOCK_WAIT_S``.

    The caller has checked that ``rater`` may rate in ``project`` (a member with consent) and
    that the project is not archived. A resumed assignment keeps its ``served_at``.

    Round trips of a new pick on PostgreSQL: the lock (``_start``), the rater's open assignment,
    one statement picking, holding and serving the item (``_serve``), and the served item's
    outputs; the expiry sweep and the gold pick only when they can find something."""
    require_serialised(session)
    member, n_served, overdue = _start(session, project, rater, now)
    if standing.stopped(member):
        raise standing.RaterStopped(standing.stop_message(member))
    resumed = expire_overdue(session, project, now, rater=rater) if overdue else \
        open_assignment(session, project, rater, now)
    if resumed is not None:
        return resumed
    assignment = None
    for gold in _pools(project, member, rater.id, n_served):  # a gold pick does not wait for locks
        assignment = _pick(session, gold, project, rater, now, ttl, wait=not gold)
        if assignment is not None:
            break
    if assignment is None:
        return None
    item = session.scalars(_served_item(), {"item_id": assignment.item_id}).unique().one()
    set_committed_value(assignment, "item", item)
    set_committed_value(assignment, "draft", None)  # a new assignment has none: no read to learn it
    return assignment


def upcoming_item(session: Session, project: Project, rater: User, now: datetime) -> Item | None:
    """The item a pick would most likely serve the rater once their open assignment is closed —
    read, never served: nothing is written, locked or held, and no counter changes. The same
    pools (``_pools``) and the same first-candidate statements (``_pick_statements``) as the pick,
    so the two cannot drift; only a guess (another rater may take the item first, an overdue hold
    may be released by the pick's sweep), read with the item's outputs and their assets."""
    row = session.execute(_start_statement(lock=False), {"project_id": project.id, "rater_id": rater.id,
                                                         "now": now}).first()
    member, n_served = (row[0], row[1]) if row else (None, 0)
    if standing.stopped(member):
        return None
    for gold in _pools(project, member, rater.id, n_served):
        item_id = session.scalar(_pick_statements(gold)[0].with_only_columns(Item.id), _pick_ids(project, rater))
        if item_id is not None:
            return session.scalars(_served_item(), {"item_id": item_id}).unique().one()
    return None


@cache
def _pick_statements(gold: bool):
    """(the first candidate, the statement serving it on PostgreSQL) for gold or regular items,
    built once with the project's and the rater's values as parameters (``serve_parameters``)."""
    query = (gold_query if gold else candidates_query)(bindparam("pick_project_id"), bindparam("pick_rater_id"))
    first = query.limit(1)
    return first, select(Assignment).from_statement(serve_statement(first))


def _pick(session: Session, gold: bool, project: Project, rater: User, now: datetime, ttl: timedelta, *,
          wait: bool) -> Assignment | None:
    """Serve the first gold or regular candidate nobody else holds. With ``wait``, when every
    matching row is locked, poll until a lock clears (then re-read: the holder may have filled
    the item)."""
    first, serve = _pick_statements(gold)
    deadline = time.monotonic() + LOCK_WAIT_S
    postgresql = session.get_bind().dialect.name == "postgresql"
    while True:
        # PostgreSQL: one statement locks the first free candidate (``SKIP LOCKED``), counts the
        # new hold on it (``n_held + 1``: exactly the recount, one more open assignment) and
        # inserts the assignment. The item's lock lasts until the caller commits, right after.
        assignment = session.scalar(serve, serve_parameters(project, rater, now, ttl)) if postgresql else \
            _serve_serialised(session, first, project, rater, now, ttl)
        if assignment is not None or not wait or not postgresql:
            return assignment
        if session.scalar(first.with_only_columns(Item.id), _pick_ids(project, rater)) is None:
            return None  # nothing servable, locked or not
        if time.monotonic() > deadline:
            raise RoutingBusy("Other raters are being served the last items right now; ask again in a moment.")
        time.sleep(random.uniform(*POLL_S))


SERVED_VALUES = ("project_id", "served_at", "expires_at", "status", "left_label")  # a new assignment's


def _assignment_values(project: Project, now: datetime, ttl: timedelta) -> dict:
    """The ``SERVED_VALUES`` of a new assignment (``serve_statement`` binds them by these names)."""
    return dict(zip(SERVED_VALUES, (project.id, now, now + ttl, "open",
                                    _sides.choice("ab") if project.kind == "pairwise" else "a"), strict=True))


def _pick_ids(project: Project, rater: User) -> dict:
    # Named apart from every column: the UPDATE inside ``serve_statement`` would take a parameter
    # named like one of the items' columns as a value to SET.
    return {"pick_project_id": project.id, "pick_rater_id": rater.id}


def serve_parameters(project: Project, rater: User, now: datetime, ttl: timedelta) -> dict:
    """The values of ``serve_statement``'s parameters for this pick."""
    return {**{f"pick_{k}": v for k, v in _assignment_values(project, now, ttl).items()}, **_pick_ids(project, rater),
            "pick_confidence_threshold": project.confidence_threshold}


def serve_statement(first, values: dict | None = None):
    """``WITH picked AS (… LIMIT 1 FOR UPDATE OF items SKIP LOCKED), held AS (UPDATE items SET
    n_held = n_held + 1 … RETURNING …) INSERT INTO assignments … SELECT … FROM held RETURNING *``,
    its values parameters (``serve_parameters``; given as ``values``, bound in the statement).
    An assignment of a confident (not gold) item is an audit: a check of the confidence gate."""
    def param(name, type_):
        return bindparam(name, type_=type_) if values is None else bindparam(name, values[name], type_=type_)

    picked = first.with_only_columns(Item.id).with_for_update(of=Item, skip_locked=True).cte("picked")
    held = (update(Item).where(Item.id == picked.c.id).values(n_held=Item.n_held + 1)
            .returning(Item.id, Item.model_confidence, Item.hold).cte("held"))
    column = Assignment.__table__.c
    is_audit = and_(held.c.hold.op("&")(HOLD_GOLD) == 0, held.c.model_confidence.isnot(None),
                    held.c.model_confidence >= param("pick_confidence_threshold", Item.model_confidence.type))
    return (insert(Assignment).from_select(
        [*SERVED_VALUES, "item_id", "rater_id", "is_audit"],
        select(*(param(f"pick_{k}", column[k].type) for k in SERVED_VALUES), held.c.id,
               param("pick_rater_id", column.rater_id.type), is_audit))
        .returning(Assignment))


def _serve_serialised(session: Session, first, project: Project, rater: User, now: datetime,
                      ttl: timedelta) -> Assignment | None:
    """SQLite (one writer at a time): read the first candidate, insert the assignment, count the
    new hold."""
    item = session.scalar(first, _pick_ids(project, rater))
    if item is None:
        return None
    assignment = Assignment(item_id=item.id, rater_id=rater.id, is_audit=not item.is_gold and item.model_confidence
                            is not None and item.model_confidence >= project.confidence_threshold,
                            **_assignment_values(project, now, ttl))
    session.add(assignment)
    session.flush()
    session.execute(update(Item).where(Item.id == item.id).values(n_held=Item.n_held + 1)
                    .execution_options(synchronize_session="evaluate"))
    return assignment



AVAILABLE_CAP = 1000  # the home page counts waiting items up to this ("1,000+")


def available_count(session: Session, project: Project, rater: User) -> int:
    """How many items still wait for the rater in the project, counted up to ``AVAILABLE_CAP``."""
    return session.scalar(select(func.count()).select_from(
        candidates_query(project.id, rater.id).with_only_columns(Item.id).order_by(None).limit(AVAILABLE_CAP).subquery()))


def progress(session: Session, project: Project, rater: User, now: datetime) -> dict:
    """What the rater's home shows per project: done, skipped, open, work still available (counted
    up to ``AVAILABLE_CAP``), and when nothing waits, why (``why_nothing``)."""
    counts = dict(session.execute(select(Assignment.status, func.count()).where(
        Assignment.project_id == project.id, Assignment.rater_id == rater.id).group_by(Assignment.status)).all())
    available = available_count(session, project, rater)
    current = open_assignment(session, project, rater, now)
    idle = current is None and not available
    return {"judged": counts.get("submitted", 0), "skipped": counts.get("skipped", 0),
            "expired": counts.get("expired", 0), "open_assignment_id": current.id if current else None,
            "available": available, "why": why_nothing(session, project, rater) if idle else []}


def _items(n: int, one: str, many: str) -> str:
    return f"1 item {one}" if n == 1 else f"{n} items {many}"


def why_nothing(session: Session, project: Project, rater: User) -> list[dict]:
    """Why no item waits for this rater, most telling first: ``{"code", "text"}`` each.

    Codes: ``archived``; ``done_by_you`` (every item still needing work was served to or judged
    by them); ``expertise`` (the rest ask for tags they lack); ``waiting`` (the remaining slots are
    held by other raters' open assignments); ``consent`` and ``reported`` (items held back by their
    media's consent or an open media report); ``complete`` (every item has its judgments)."""
    if project.archived:
        return [{"code": "archived", "text": "This project is archived: it takes no more judgments."}]
    count = lambda *where: session.scalar(select(func.count()).select_from(Item).where(  # noqa: E731
        Item.project_id == project.id, *where))
    reasons = []
    need = count(ROUTABLE)
    if need:
        seen = count(ROUTABLE, or_(exists().where(Assignment.item_id == Item.id, Assignment.rater_id == rater.id),
                                   exists().where(Judgment.item_id == Item.id, Judgment.rater_id == rater.id)))
        if seen:
            reasons.append({"code": "done_by_you", "text": "All done by you: you have judged or skipped every item "
                            "that still needs judgments." if seen == need else f"You have judged or skipped {seen} "
                            f"of the {need} items that still need judgments."})
        if need > seen:
            tags = session.scalars(select(ItemExpertise.tag).distinct().where(
                ItemExpertise.item_id == Item.id, Item.project_id == project.id, ROUTABLE,
                ItemExpertise.tag.not_in(rater.expertise)).order_by(ItemExpertise.tag).limit(8)).all()
            reasons.append({"code": "expertise", "text": f"{_items(need - seen, 'asks', 'ask')} for "
                            f"expertise you do not have ({', '.join(tags)}); a manager can add it to your profile."})
        return reasons
    unfinished = and_(Item.n_judged < Item.target, Item.hold.op("&")(HOLD_GOLD) == 0)
    held = count(unfinished, Item.hold == 0, Item.n_held > 0)
    if held:
        reasons.append({"code": "waiting", "text": f"Waiting for other raters: {_items(held, 'is', 'are')} being "
                        "judged right now. Work comes back if they let an assignment expire or their panel disagrees."})
    consent = count(unfinished, Item.hold.op("&")(HOLD_CONSENT) != 0)
    if consent:
        reasons.append({"code": "consent", "text": f"{_items(consent, 'is', 'are')} held back: consent for their media "
                        "is not granted (or was revoked)."})
    reported = count(unfinished, Item.hold.op("&")(HOLD_FLAGGED) != 0)
    if reported:
        reasons.append({"code": "reported", "text": f"{_items(reported, 'is', 'are')} held back: their media "
                        "was reported and awaits a manager."})
    if not reasons:
        reasons.append({"code": "complete", "text": "All done: every item has the judgments it needs. Thank you!"})
    return reasons
