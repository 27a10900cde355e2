"""The one scoring module that touches the database: a project's current judgments as frames,
the cache key naming the data they come from, and the rows of the cached snapshots. Thin on
purpose: queries here, statistics in ``scoring.reports.frames`` and ``scoring.reports.report``, the caching
policy in ``scoring.reports.snapshots``.

*Current* judgments are those not superseded (``superseded_at IS NULL``), live and imported
alike: a revised judgment counts once, as its latest version. Judgments of items with an output
whose asset's consent is withdrawn are kept but left out, and counted (``consent_excluded``); a
consent change bumps the project's revision, so the cache key changes with it. Judgments of
raters a manager excluded (``tasks.rating.standing``) are left out the same way and counted
(``rater_excluded``); the cache key names the excluded raters, so excluding changes it and
re-including restores the earlier one.
"""
from __future__ import annotations

import io
import json
import hashlib
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import orjson
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
from sqlalchemy import delete, func, insert, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from scoring.reports import frames as fr
from scoring.reports.models import ConsensusRow, StatsSnapshot
from scoring.reports.report import CONSENSUS_FILTERS, REPORT_VERSION, select_rows
from tasks.catalogue.models import Item, ItemOutput, Project
from tasks.rating.models import Adjudication, Judgment
from tasks.rating.consent import excluded_judgment_ids_sql, unusable_output_sql
from tasks.rating.standing import excluded_rater_ids, excluded_raters_sql
from tasks.rating.routing import is_gold_sql


@dataclass(frozen=True)
class Fingerprint:
    """What the cache key is made of; ``current`` is the number of current judgments."""

    key: str
    current: int


def fingerprint(session: Session, project: Project, *, n_resamples: int) -> Fingerprint:
    """The cache key: report version, resamples, project revision, and the judgments' and
    adjudications' counts and newest ids, and which raters are excluded. Judgments are append-only (a revision adds a row and
    stamps the old one), so any new, revised or imported judgment changes the key."""
    total, newest, superseded = session.execute(
        select(func.count(Judgment.id), func.max(Judgment.id), func.count(Judgment.superseded_at))
        .where(Judgment.project_id == project.id)).one()
    n_adj, newest_adj = session.execute(
        select(func.count(Adjudication.id), func.max(Adjudication.id))
        .where(Adjudication.project_id == project.id)).one()
    excluded = excluded_rater_ids(session, project.id)
    key = (f"v{REPORT_VERSION}.b{n_resamples}.r{project.revision}"
           f".j{total}-{newest or 0}-{superseded}.a{n_adj}-{newest_adj or 0}"
           + (f".x{hashlib.sha256(repr(excluded).encode()).hexdigest()[:12]}" if excluded else ""))
    return Fingerprint(key, total - superseded)


def counted_judgments(project: Project) -> list:
    """THE selection of the judgments the statistics count (every query below uses it): the
    project's current judgments, less those of raters a manager excluded and of items whose consent was withdrawn (excluded by
    item, as ``NOT EXISTS``: an anti-join the database plans as one hash join at any size, where
    ``NOT IN (items)`` became a per-row subplan once the planner's estimate of that list outgrew its
    work memory -- at 2,000,000 items a read of 10M judgments had not returned after 5 minutes)."""
    withdrawn = (select(Item.id).where(Item.id == Judgment.item_id, Item.project_id == project.id,
                                      unusable_output_sql()).correlate(Judgment).exists())
    return [Judgment.project_id == project.id, Judgment.superseded_at.is_(None), ~withdrawn,
            Judgment.rater_id.not_in(excluded_raters_sql(project.id))]


def judgments_frame(session: Session, project: Project) -> pd.DataFrame:
    """The project's current judgments, read straight into columns (``pandas.read_sql`` on the
    session's connection, inside its transaction)."""
    query = (select(Judgment.id, Judgment.item_id, Judgment.rater_id, Judgment.source, Judgment.choice,
                    Judgment.strength, Judgment.scores, Judgment.criteria)
             .where(*counted_judgments(project))
             .order_by(Judgment.id))
    frame = pd.read_sql(query, session.connection(), coerce_float=False)
    if frame.empty:
        return fr.empty_judgments()
    frame.columns = list(fr.JUDGMENT_COLUMNS)
    for column in ("choice", "strength", "scores", "criteria"):  # missing is None, as the frames expect
        frame[column] = frame[column].astype(object).where(frame[column].notna(), None)
    return frame


def read_frame(session: Session, query, types: dict) -> pd.DataFrame:
    """The rows of ``query`` as a frame whose columns are named (in order) and typed by ``types``
    (name -> pyarrow type). PostgreSQL: ``COPY (query) TO STDOUT`` as CSV, parsed by pyarrow in
    compiled code (several times faster than fetching rows into Python objects); other databases:
    ``pandas.read_sql``. Either way text columns hold str or None, numbers with NULLs are float,
    and a timestamp column (``pa.timestamp(unit, tz="UTC")``) holds UTC datetimes, typed
    ``datetime64[ns, UTC]`` (NULL: NaT) -- what ``pd.to_datetime(..., utc=True)`` makes of the rows'
    datetimes."""
    stamps = [name for name, kind in types.items() if pa.types.is_timestamp(kind)]
    if session.get_bind().dialect.name != "postgresql":
        frame = pd.read_sql(query, session.connection(), coerce_float=False)
        frame.columns = list(types)
        for name in stamps:
            frame[name] = pd.to_datetime(frame[name], utc=True).astype("datetime64[ns, UTC]")
        return frame
    sql = str(query.compile(dialect=session.get_bind().dialect, compile_kwargs={"literal_binds": True}))
    buffer = io.BytesIO()
    with session.connection().connection.dbapi_connection.cursor() as cursor:
        with cursor.copy(f"COPY ({sql}) TO STDOUT (FORMAT csv)") as copy:
            for block in copy:
                buffer.write(block)
    if not buffer.tell():  # no rows (pyarrow refuses an empty CSV)
        return _stamped(pa.schema(list(types.items())).empty_table().to_pandas(), stamps)
    buffer.seek(0)
    table = pa_csv.read_csv(
        buffer, read_options=pa_csv.ReadOptions(column_names=list(types)),
        parse_options=pa_csv.ParseOptions(newlines_in_values=True),
        convert_options=pa_csv.ConvertOptions(  # only an unquoted empty field is NULL (COPY's CSV)
            column_types=types, null_values=[""], quoted_strings_can_be_null=False,
            strings_can_be_null=True, true_values=["t"], false_values=["f"]))
    return _stamped(table.to_pandas(), stamps)


def _stamped(frame: pd.DataFrame, stamps: list[str]) -> pd.DataFrame:
    """PostgreSQL's timestamps (COPY writes them with their offset; pyarrow reads them as UTC) in
    nanoseconds, as on the other path."""
    for name in stamps:
        frame[name] = frame[name].astype("datetime64[ns, UTC]")
    return frame


def consent_excluded(session: Session, project: Project) -> int:
    """How many current judgments are left out because an output's consent was withdrawn."""
    return session.scalar(select(func.count()).select_from(excluded_judgment_ids_sql(project.id).subquery()))


def rater_excluded(session: Session, project: Project) -> int:
    """How many current judgments are left out because a manager excluded their rater."""
    return session.scalar(select(func.count()).select_from(Judgment).where(
        Judgment.project_id == project.id, Judgment.superseded_at.is_(None),
        Judgment.rater_id.in_(excluded_raters_sql(project.id)))) or 0


def items_frame(session: Session, project: Project, *, prompts: bool = True) -> pd.DataFrame:
    """The project's items with their two outputs' models (None where absent: rubric items have
    only ``a``), read in one query straight into columns (the outputs' key is (item, label), so
    each join adds at most one row); with their ``prompt`` text unless ``prompts`` is False (the
    rubric comparison pairs items by prompt; nothing in a pairwise report reads it)."""
    out_a, out_b = aliased(ItemOutput), aliased(ItemOutput)
    columns = [Item.id, Item.external_id, is_gold_sql(), out_a.model, out_b.model] + ([Item.prompt] if prompts else [])
    query = (select(*columns)
             .outerjoin(out_a, (out_a.item_id == Item.id) & (out_a.label == "a"))
             .outerjoin(out_b, (out_b.item_id == Item.id) & (out_b.label == "b"))
             .where(Item.project_id == project.id).order_by(Item.id))
    frame = read_frame(session, query, {"item": pa.int64(), "external_id": pa.string(), "is_gold": pa.bool_(),
                                        "model_a": pa.string(), "model_b": pa.string(),
                                        **({"prompt": pa.string()} if prompts else {})})
    if frame.empty:
        return fr.empty_items()
    frame["is_gold"] = frame["is_gold"].astype(bool)
    for column in ("model_a", "model_b"):
        frame[column] = frame[column].astype(object).where(frame[column].notna(), None)
    return frame[[*fr.ITEM_COLUMNS, *(["prompt"] if prompts else [])]]


def adjudications(session: Session, project: Project) -> dict:
    """item id -> {criterion key: decided label} (pairwise: ``choice`` and ``preference``)."""
    out = {}
    for item_id, choice, strength, scores in session.execute(
            select(Adjudication.item_id, Adjudication.choice, Adjudication.strength, Adjudication.scores)
            .where(Adjudication.project_id == project.id)):
        if choice is not None:
            out[item_id] = {"choice": choice, "preference": fr.signed_strength(choice, strength)}
        else:
            out[item_id] = dict(scores or {})
    return out


def project_frames(session: Session, project: Project) -> fr.ProjectFrames:
    """The project's frames as the statistics report takes them: the judgments' values read as
    small columns (rubric scores extracted by the database, never parsed row by row here) and
    the pairwise comparisons counted per (model_a, model_b, winner) from the judgments just read
    (a vectorised count in memory: a second pass of the database over the judgments and two joins
    cost several times more). Equal to :func:`project_frames_from_rows` (tested)."""
    rubric = project.rubric or []
    columns = [Judgment.id, Judgment.item_id, Judgment.rater_id, Judgment.source, Judgment.choice,
               Judgment.strength]
    columns += [Judgment.scores[c["key"]].as_float().label(fr.VALUE_PREFIX + c["key"]) for c in rubric]
    pairwise_criteria = project.pairwise_criteria if project.kind == "pairwise" else []
    if pairwise_criteria:  # per-criterion choices: one small JSON object a judgment
        columns.append(Judgment.criteria)
    types = {"judgment_id": pa.int64(), "item": pa.int64(), "rater": pa.int64(), "source": pa.string(),
             "choice": pa.string(), "strength": pa.float64(),
             **{fr.VALUE_PREFIX + c["key"]: pa.float64() for c in rubric},
             **({"criteria": pa.string()} if pairwise_criteria else {})}
    frame = read_frame(session, select(*columns).where(*counted_judgments(project)).order_by(Judgment.id), types)
    if pairwise_criteria and session.get_bind().dialect.name == "postgresql":  # JSON text, as COPY writes it
        frame["criteria"] = [json.loads(c) if c is not None else None for c in frame["criteria"]]
    for column in ("choice", "strength"):
        frame[column] = frame[column].astype(object).where(frame[column].notna(), None)
    frames = fr.build(project.kind, rubric, frame, items_frame(session, project, prompts=project.kind != "pairwise"),
                      adjudications(session, project),
                      pairwise_criteria)
    if project.kind == "pairwise":
        frames.comparisons, frames.same_model = fr.comparison_counts(frames)
    return frames


def project_frames_from_rows(session: Session, project: Project) -> fr.ProjectFrames:
    """The same frames from every judgment's raw row (each value taken from its row in Python)."""
    return fr.build(project.kind, project.rubric or [], judgments_frame(session, project),
                    items_frame(session, project, prompts=project.kind != "pairwise"), adjudications(session, project),
                    project.pairwise_criteria)


# -- cached snapshots (scoring.reports.snapshots decides when; these read and write the rows) ---------

KEEP_PREVIOUS = 2  # earlier ready snapshots kept per project (served as stale while computing)
EMPTY_CONSENSUS = {"criteria": [], "columns": [], "rows": [], "dawid_skene": {}}


def find_snapshot(session: Session, project_id: int, key: str) -> StatsSnapshot | None:
    return session.scalar(select(StatsSnapshot).where(StatsSnapshot.project_id == project_id,
                                                      StatsSnapshot.key == key))


def latest_ready_snapshot(session: Session, project_id: int) -> StatsSnapshot | None:
    return session.scalar(select(StatsSnapshot).where(
        StatsSnapshot.project_id == project_id, StatsSnapshot.report.is_not(None))
        .order_by(StatsSnapshot.computed_at.desc(), StatsSnapshot.id.desc()).limit(1))


def snapshot_consensus(session: Session, snapshot: StatsSnapshot) -> dict:
    """The snapshot's consensus header: criteria, columns, Dawid-Skene summaries (a deferred
    column, loaded on demand; its rows are read a page at a time by :func:`consensus_page`)."""
    found = session.scalar(select(StatsSnapshot.consensus).where(StatsSnapshot.id == snapshot.id))
    return found or EMPTY_CONSENSUS


def consensus_page(session: Session, snapshot: StatsSnapshot, show: str, agreement_target: float,
                   offset: int, limit: int) -> tuple[dict, list[list], int]:
    """``(header, rows, total)``: the rows of one page of the consensus under filter ``show``,
    read from ``stats_consensus_rows`` (a page costs what it shows). ``all`` is a range of
    positions (written contiguous from 0) read through the ``(snapshot_id, position)`` index;
    the filters are ``LIMIT``/``OFFSET`` over their condition. Totals come from the counts stored
    with the rows (:func:`consensus_counts`), so no page counts the whole table; a snapshot
    stored before those counts existed, or a target outside them, is counted in SQL."""
    header = snapshot_consensus(session, snapshot)
    if header.get("rows"):  # a report-version-1 snapshot kept its rows in the header
        rows = select_rows(header, show, agreement_target)
        return header, rows[offset: offset + limit], len(rows)
    query = select(ConsensusRow.row).where(ConsensusRow.snapshot_id == snapshot.id)
    condition = _FILTERS[show](agreement_target) if show != "all" else None
    if condition is None and "n_rows" in header:  # positions are 0 … n_rows - 1 (an integer column:
        # an offset past the end, which may be past 2^31, is answered without asking)
        query = query.where(ConsensusRow.position >= offset).order_by(ConsensusRow.position).limit(limit)
        rows = session.scalars(query).all() if offset < header["n_rows"] else []
    else:
        if condition is not None:
            query = query.where(condition)
        rows = session.scalars(query.order_by(ConsensusRow.position).offset(offset).limit(limit)).all()
    total = stored_total(header.get("counts"), show, agreement_target)
    if total is None and condition is None:
        total = header.get("n_rows")
    if total is None:
        counted = select(func.count()).select_from(ConsensusRow).where(ConsensusRow.snapshot_id == snapshot.id)
        total = session.scalar(counted.where(condition) if condition is not None else counted) or 0
    return header, list(rows), total


def consensus_counts(flags: dict[str, list]) -> dict:
    """What the page totals are made of, stored in the snapshot's header: rows in all,
    adjudicated, with imported judgments, tied on some criterion, and the lowest majority shares
    of the other rows as ``[share, rows]`` (so *contested* can be counted for any target; left out
    when the shares are too many to keep, and counted in SQL then)."""
    tied = np.asarray(flags["any_tied"], dtype=bool)
    share = np.array(flags["min_share"], dtype=np.float64)  # None reads as NaN
    values, counts = np.unique(share[~tied & ~np.isnan(share)], return_counts=True)
    out = {"all": len(tied), "adjudicated": int(np.count_nonzero(flags["adjudicated"])),
           "imported": int(np.count_nonzero(np.asarray(flags["n_imported"]) > 0)),
           "tied": int(np.count_nonzero(tied))}
    if len(values) <= MAX_STORED_SHARES:
        out["untied_shares"] = [[float(v), int(n)] for v, n in zip(values, counts)]
    return out


MAX_STORED_SHARES = 1_000


def stored_total(counts: dict | None, show: str, agreement_target: float) -> int | None:
    """The rows under ``show`` from :func:`consensus_counts` (None when they cannot say)."""
    if not counts:
        return None
    if show != "contested":
        return counts.get(show)
    if "untied_shares" not in counts:
        return None
    below = agreement_target - 0.005  # the same bound as the SQL filter and select_rows
    return counts["tied"] + sum(n for share, n in counts["untied_shares"] if share < below)


_FILTERS = {  # as ``scoring.reports.report.select_rows``, in SQL
    "adjudicated": lambda target: ConsensusRow.adjudicated.is_(True),
    "imported": lambda target: ConsensusRow.n_imported > 0,
    "contested": lambda target: or_(ConsensusRow.any_tied.is_(True), ConsensusRow.min_share < target - 0.005),
}
assert set(_FILTERS) | {"all"} == set(CONSENSUS_FILTERS)


def _store_consensus_rows(session: Session, snapshot: StatsSnapshot, consensus: dict) -> dict:
    """Write the consensus rows of ``snapshot`` (one statement per batch) and return the header
    without them. PostgreSQL takes a batch as one JSON array of ``[filter values..., row]``
    (encoded once, in compiled code, and unpacked by the database); other databases as one
    ``executemany``."""
    session.execute(delete(ConsensusRow).where(ConsensusRow.snapshot_id == snapshot.id))
    rows = consensus["rows"]
    flags = consensus_row_flags(consensus)
    postgres = session.get_bind().dialect.name == "postgresql"
    for start in range(0, len(rows), CONSENSUS_BATCH):
        stop = min(len(rows), start + CONSENSUS_BATCH)
        batch = [values[start:stop] for values in flags.values()]
        if postgres:
            _copy_consensus_rows(session, snapshot.id, start, zip(*batch, rows[start:stop]))
        else:
            session.execute(insert(ConsensusRow), [
                {"snapshot_id": snapshot.id, "position": start + k, "row": row, **dict(zip(flags, values))}
                for k, (*values, row) in enumerate(zip(*batch, rows[start:stop]))])
    return {**consensus, "rows": [], "n_rows": len(rows), "counts": consensus_counts(flags)}


CONSENSUS_BATCH = 50_000
_COPY_ROWS_PG = ("COPY stats_consensus_rows (snapshot_id, position, item_id, any_tied, min_share, adjudicated, "
                 "n_imported, row) FROM STDIN")


def _copy_consensus_rows(session: Session, snapshot_id: int, first: int, batch) -> None:
    """PostgreSQL: one ``COPY`` of a batch of ``(item_id, any_tied, min_share, adjudicated,
    n_imported, row)``, written as COPY's text format. The row's JSON is encoded by ``orjson``
    (compiled; ten times ``json.dumps``'s speed on these rows); it has no raw tab or newline -- JSON
    escapes control characters -- so only its backslashes need COPY's escaping."""
    lines = []
    for position, (item_id, tied, share, adjudicated, n_imported, row) in enumerate(batch, start=first):
        lines.append(f"{snapshot_id}\t{position}\t{item_id}\t{'t' if tied else 'f'}\t"
                     f"{_NULL if share is None else repr(float(share))}\t{'t' if adjudicated else 'f'}\t"
                     f"{n_imported}\t{orjson.dumps(row).decode().replace(_BACKSLASH, _BACKSLASH * 2)}\n")
    with session.connection().connection.dbapi_connection.cursor() as cursor:
        with cursor.copy(_COPY_ROWS_PG) as copy:
            copy.write("".join(lines))


_NULL, _BACKSLASH = "\\N", "\\"


def consensus_row_flags(consensus: dict) -> dict[str, list]:
    """Per consensus row, the values the page's filters select on (``ConsensusRow``'s columns
    beside ``row``, in this order), as plain lists: ``item_id``, ``any_tied``, ``min_share``
    (the lowest share over the criteria; None when none has one), ``adjudicated``, ``n_imported``."""
    rows = consensus["rows"]
    columns = {name: i for i, name in enumerate(consensus["columns"])}

    def column(name, dtype):  # None reads as False or NaN
        i = columns[name]
        return np.array([r[i] for r in rows], dtype=dtype)
    tied = np.zeros(len(rows), dtype=bool)
    share = np.full(len(rows), np.nan)
    for key in consensus["criteria"]:
        tied |= column(f"{key}.tied", bool)
        share = np.fmin(share, column(f"{key}.share", np.float64))
    return {"item_id": [r[columns["item_id"]] for r in rows] if rows else [], "any_tied": tied.tolist(),
            "min_share": [None if v != v else v for v in share.tolist()],
            "adjudicated": column("adjudicated", bool).tolist() if rows else [],
            "n_imported": np.nan_to_num(column("n_imported", np.float64)).astype(np.int64).tolist() if rows else []}


def claim_snapshot(session: Session, project_id: int, key: str, now: datetime) -> StatsSnapshot | None:
    """Insert the pending row of ``key`` (computation requested at ``now``); None when another
    transaction inserted it first (the unique ``(project_id, key)`` decides)."""
    snapshot = StatsSnapshot(project_id=project_id, key=key, requested_at=now)
    session.add(snapshot)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        return None
    return snapshot


def store_snapshot(session: Session, project_id: int, fp: Fingerprint, report: dict, consensus: dict,
                   duration_ms: int, now: datetime) -> StatsSnapshot:
    """Write the computed report under ``fp.key`` (insert or update), then prune old rows."""
    for attempt in range(2):
        snapshot = find_snapshot(session, project_id, fp.key)
        if snapshot is None:
            snapshot = StatsSnapshot(project_id=project_id, key=fp.key)
            session.add(snapshot)
        snapshot.report, snapshot.consensus = report, {**consensus, "rows": []}
        snapshot.computed_at, snapshot.duration_ms, snapshot.n_judgments = now, duration_ms, fp.current
        snapshot.requested_at = snapshot.error = None
        try:
            session.flush()
            snapshot.consensus = _store_consensus_rows(session, snapshot, consensus)
            session.flush()
            break
        except IntegrityError:  # stored concurrently: update that row instead
            session.rollback()
            if attempt:
                raise
    prune_snapshots(session, project_id, fp.key)
    return snapshot


def prune_snapshots(session: Session, project_id: int, keep_key: str) -> None:
    """Drop other keys' pending rows and all but the newest ``KEEP_PREVIOUS`` ready ones."""
    keep = session.scalars(select(StatsSnapshot.id).where(
        StatsSnapshot.project_id == project_id, StatsSnapshot.key != keep_key, StatsSnapshot.report.is_not(None))
        .order_by(StatsSnapshot.computed_at.desc(), StatsSnapshot.id.desc()).limit(KEEP_PREVIOUS)).all()
    dropped = (StatsSnapshot.project_id == project_id, StatsSnapshot.key != keep_key,
               StatsSnapshot.id.not_in(keep or [-1]))
    session.execute(delete(ConsensusRow).where(  # a cache without a foreign key: its rows go with it
        ConsensusRow.snapshot_id.in_(select(StatsSnapshot.id).where(*dropped))))
    session.execute(delete(StatsSnapshot).where(*dropped))
    session.flush()
