"""Reading what an export is made of, in chunks of items (the only export module that queries).

Items come in id order, ``CHUNK_ITEMS`` at a time, each with its outputs (model, asset, consent)
and its judgments up to the export's high-water mark, so memory is bounded by the chunk, not the
project. The consensus comes from ``scoring``'s own consensus (``scoring.reports``), never a
re-implementation.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Iterator, NamedTuple

from sqlalchemy import String, func, or_, select, type_coerce
from sqlalchemy.orm import Session

from raters.models import User
from scoring.reports import data as report_data
from scoring.reports import frames as fr
from scoring.reports.report import consensus as report_consensus, consensus_records
from tasks.catalogue.store import AssetStore
from tasks.catalogue.models import EXPORTABLE_CONSENT, STOPPED_STATUSES, Asset, Item, ItemOutput, Project, ProjectMember
from tasks.rating.models import Assignment, Judgment

CHUNK_ITEMS = 2000


@dataclass
class Output:
    label: str
    model: str
    asset_id: int
    sha256: str
    media_kind: str
    mime_type: str
    duration_s: float | None
    consent: str
    license: str | None
    frame_rate: float | None = None
    text: str | None = None  # scripts: the text itself


class JudgmentRow(NamedTuple):
    """One judgment as the export reads it (a tuple: made in one C call per database row)."""
    id: int
    item_id: int
    rater_id: int
    choice: str | None
    strength: int | None
    scores: dict | None
    rationale: str
    confidence: int
    time_on_task_ms: int | None
    playback: dict | None  # {"a": seconds or None, "b": ...}; None when neither was observed
    superseded: bool
    source: str
    created_at: datetime
    left_label: str | None  # None for imported judgments: nothing was presented
    rater_active: bool  # not deactivated (see ``in_good_standing``)
    notes: list | None = None  # tasks.rating.notes, stored shape (item labels)
    criteria: dict | None = None  # {key: {choice, strength}}, item labels


@dataclass
class ItemData:
    id: int
    external_id: str
    prompt: str
    is_gold: bool
    outputs: dict[str, Output]
    dropped: bool = False  # a manager dropped it after a media report (broken or unsafe media)
    judgments: list[JudgmentRow] = field(default_factory=list)

    @property
    def exportable(self) -> bool:
        """The consent rule: every output's asset is ``granted`` or ``not_required``."""
        return bool(self.outputs) and all(o.consent in EXPORTABLE_CONSENT for o in self.outputs.values())

    def model(self, label: str) -> str | None:
        output = self.outputs.get(label)
        return output.model if output else None


def high_water(session: Session, project: Project) -> int:
    """The newest judgment id now: the export includes nothing written after it started."""
    return session.scalar(select(func.max(Judgment.id)).where(Judgment.project_id == project.id)) or 0


def count_items(session: Session, project: Project) -> int:
    return session.scalar(select(func.count(Item.id)).where(Item.project_id == project.id)) or 0


def item_chunks(session: Session, project: Project, store: AssetStore | None, *, max_judgment_id: int,
                chunk: int = CHUNK_ITEMS) -> Iterator[list[ItemData]]:
    """The project's items with outputs and judgments, ``chunk`` items at a time."""
    last = 0
    while True:
        ids = session.scalars(select(Item.id).where(Item.project_id == project.id, Item.id > last)
                              .order_by(Item.id).limit(chunk)).all()
        if not ids:
            return
        last = ids[-1]
        yield load_items(session, ids, store, max_judgment_id=max_judgment_id)


def load_items(session: Session, ids: list[int], store: AssetStore | None, *,
               max_judgment_id: int | None = None, with_judgments: bool = True) -> list[ItemData]:
    connection = session.connection()  # Core rows, each query fetched in one call
    items = {row.id: ItemData(row.id, row.external_id, row.prompt, row.gold is not None, {}, row.dropped_at is not None)
             for row in connection.execute(select(Item.id, Item.external_id, Item.prompt, Item.gold, Item.dropped_at)
                                        .where(Item.id.in_(ids)).order_by(Item.id)).all()}
    for row in connection.execute(
            select(ItemOutput.item_id, ItemOutput.label, ItemOutput.model, Asset.id, Asset.sha256,
                   Asset.media_kind, Asset.mime_type, Asset.duration_s, Asset.consent, Asset.license,
                   Asset.frame_rate)
            .join(Asset, Asset.id == ItemOutput.asset_id).where(ItemOutput.item_id.in_(ids))).all():
        output = Output(*row[1:])
        if output.media_kind == "script" and store is not None and output.consent in EXPORTABLE_CONSENT:
            output.text = store.read_bytes(output.sha256).decode("utf-8")
        items[row.item_id].outputs[output.label] = output
    if with_judgments:
        query = (select(Judgment.id, Judgment.item_id, Judgment.rater_id, Judgment.choice, Judgment.strength,
                        Judgment.scores, Judgment.rationale, Judgment.confidence, Judgment.time_on_task_ms,
                        Judgment.playback["a"].as_float(), Judgment.playback["b"].as_float(),
                        Judgment.superseded_at.is_not(None),
                        Judgment.source, type_coerce(Judgment.created_at, String), Assignment.left_label,
                        in_good_standing(), Judgment.notes, Judgment.criteria)
                 .outerjoin(Assignment, Assignment.id == Judgment.assignment_id)
                 .join(User, User.id == Judgment.rater_id)
                 .where(Judgment.item_id.in_(ids)).order_by(Judgment.item_id, Judgment.id))
        if max_judgment_id is not None:
            query = query.where(Judgment.id <= max_judgment_id)
        # Playback read by the database and time parsed here: a third of the cost of typed rows.
        # (The judging rules store playback as seconds per item label.)
        make = tuple.__new__
        for values in connection.execute(query).all():
            played = (None if values[9] is None and values[10] is None
                      else {"a": _seconds(values[9]), "b": _seconds(values[10])})
            items[values[1]].judgments.append(make(JudgmentRow, (*values[:9], played, values[11], values[12],
                                                                 _utc(values[13]), *values[14:])))
    return list(items.values())


def _seconds(value) -> float | None:
    if value.__class__ is float:
        return value
    return float(value) if isinstance(value, int) and not isinstance(value, bool) else None


def _utc(value) -> datetime:
    """A stored time as an aware UTC datetime (SQLite gives naive text, PostgreSQL datetimes)."""
    if isinstance(value, str):
        tail = value[19:]  # naive text is read with its offset in one call: ``replace`` costs more
        return datetime.fromisoformat(value if "+" in tail or "-" in tail or "Z" in tail else value + "+00:00")
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def consensus_by_item(session: Session, project: Project, *, keep_judgment) -> dict[int, dict]:
    """``scoring``'s consensus records (``consensus_records``) by item id, computed from the
    project's current judgments that ``keep_judgment(rater_id, created_at)`` keeps: with nothing
    filtered out, exactly the rows of the statistics snapshot."""
    judgments = report_data.judgments_frame(session, project)
    if len(judgments):
        meta = dict((jid, (rater, created)) for jid, rater, created in session.execute(
            select(Judgment.id, Judgment.rater_id, Judgment.created_at)
            .where(Judgment.project_id == project.id, Judgment.superseded_at.is_(None))))
        kept = [keep_judgment(*meta[jid]) for jid in judgments["judgment_id"]]
        judgments = judgments[kept].reset_index(drop=True)
    frames = fr.build(project.kind, project.rubric or [], judgments, report_data.items_frame(session, project),
                      report_data.adjudications(session, project), project.pairwise_criteria)
    section = report_consensus(frames)
    return {record["item_id"]: record for record in consensus_records(section, section["rows"])}


def raters_left_out(session: Session, project: Project, options) -> dict[int, str]:
    """Rater id -> why every judgment of theirs stays out of the export: ``excluded_rater`` (a
    manager excluded them: always), ``paused_rater`` and ``flagged_rater`` (when asked)."""
    out: dict[int, str] = {}
    if options.exclude_flagged_raters:
        from scoring.quality.desk import flagged_raters  # the whole panel's figures: only when asked
        out.update((rater, "flagged_rater") for rater in flagged_raters(session, project))
    for rater, status, excluded in session.execute(
            select(ProjectMember.user_id, ProjectMember.status, ProjectMember.excluded)
            .where(ProjectMember.project_id == project.id)):
        if excluded:
            out[rater] = "excluded_rater"
        elif options.exclude_paused_raters and status in STOPPED_STATUSES:
            out[rater] = "paused_rater"
    return out


def standing_key(session: Session, project: Project) -> list[tuple]:
    """The project's raters' standing, for the export's data key."""
    return session.execute(select(ProjectMember.user_id, ProjectMember.status, ProjectMember.excluded)
                           .where(ProjectMember.project_id == project.id).order_by(ProjectMember.user_id)).all()


def in_good_standing():
    """SQL: the account is not deactivated. Placeholder raters of imported judgments (no
    password, never active) count as in good standing: nobody deactivated them."""
    return or_(User.active.is_(True), User.password_hash.is_(None))


def active_raters(session: Session) -> dict[int, bool]:
    return dict(session.execute(select(User.id, in_good_standing())).all())


def project_assets_consent(session: Session, project: Project) -> list[tuple[int, str]]:
    return session.execute(select(Asset.id, Asset.consent).join(ItemOutput, ItemOutput.asset_id == Asset.id)
                           .join(Item, Item.id == ItemOutput.item_id).where(Item.project_id == project.id)
                           .distinct().order_by(Asset.id)).all()
