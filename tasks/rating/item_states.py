"""Where each item of a project stands, in one word, for the manager's items browser and the
progress funnel.

States, first match wins (``state_of``):
``gold`` (a check item, not judged for its own sake) · ``adjudicated`` (decided by a senior) ·
``flagged`` (an unresolved report of broken or unsafe media holds it out of routing) ·
``auto_accepted`` (the model was confident enough, and the item was not drawn for audit) ·
``agreed`` · ``split`` (awaiting adjudication) · ``extended`` (the panel disagreed: more raters) ·
``in_progress`` (judgments or open assignments, short of its target) · ``queued`` (untouched).

``consent_ok`` is separate: an item whose output lacks export consent is still rated, but it
cannot leave in an export.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from tasks.catalogue.models import EXPORTABLE_CONSENT, Asset, Item, ItemOutput, Project
from tasks.rating.models import Adjudication, Assignment, Flag, ItemPanel, Judgment
from tasks.rating.routing import is_audited, is_gold_sql

STATES = ("gold", "adjudicated", "flagged", "auto_accepted", "agreed", "split", "extended", "in_progress",
          "queued")


def state_of(row: dict) -> str:
    """The state of one item from its facts (keys as ``item_rows`` gives them)."""
    if row["is_gold"]:
        return "gold"
    if row["adjudicated"]:
        return "adjudicated"
    if row["flagged"]:
        return "flagged"
    if not row["routed"]:
        return "auto_accepted"
    if row["panel_state"] in ("agreed", "split", "extended"):
        return row["panel_state"]
    if row["n_judgments"] or row["n_open"]:
        return "in_progress"
    return "queued"


def _counts(session: Session, column, *where) -> dict:
    return dict(session.execute(select(column, func.count()).where(*where).group_by(column)).all())


def item_rows(session: Session, project: Project, now: datetime, *, only: list[int] | None = None) -> list[dict]:
    """One dict per item with its facts and ``state``, oldest first (a few grouped queries);
    ``only``: just these items (a page of them)."""
    pid = project.id

    def scope(column):
        return [column.in_(only)] if only is not None else []

    judged = _counts(session, Judgment.item_id, Judgment.project_id == pid, Judgment.superseded_at.is_(None),
                     *scope(Judgment.item_id))
    opened = _counts(session, Assignment.item_id, Assignment.project_id == pid, Assignment.status == "open",
                     Assignment.expires_at > now, *scope(Assignment.item_id))
    skipped = _counts(session, Assignment.item_id, Assignment.project_id == pid, Assignment.status == "skipped",
                      *scope(Assignment.item_id))
    flagged = set(session.scalars(select(Flag.item_id).where(Flag.project_id == pid, Flag.resolved_at.is_(None),
                                                             *scope(Flag.item_id))))
    adjudicated = set(session.scalars(select(Adjudication.item_id).where(Adjudication.project_id == pid,
                                                                         *scope(Adjudication.item_id))))
    panels = {row.item_id: row for row in session.execute(  # plain rows: no ORM object per item
        select(ItemPanel.item_id, ItemPanel.state, ItemPanel.agreement, ItemPanel.target)
        .where(ItemPanel.project_id == pid, *scope(ItemPanel.item_id)))}
    blocked = set(session.scalars(
        select(ItemOutput.item_id).join(Asset, Asset.id == ItemOutput.asset_id).join(Item, Item.id == ItemOutput.item_id)
        .where(and_(Item.project_id == pid, Asset.consent.not_in(sorted(EXPORTABLE_CONSENT))), *scope(ItemOutput.item_id))))
    rows = []
    for item_id, external_id, prompt, confidence, gold, extra in session.execute(
            select(Item.id, Item.external_id, Item.prompt, Item.model_confidence, is_gold_sql(), Item.extra)
            .where(Item.project_id == pid, *scope(Item.id)).order_by(Item.id)):
        panel = panels.get(item_id)
        confident = confidence is not None and confidence >= project.confidence_threshold
        audited = confident and is_audited(pid, item_id, project.audit_rate)
        row = {"item_id": item_id, "external_id": external_id, "prompt": prompt, "model_confidence": confidence,
               "is_gold": bool(gold), "routed": not confident or audited, "audited": audited,
               "adjudicated": item_id in adjudicated, "flagged": item_id in flagged,
               "panel_state": panel.state if panel else None, "agreement": panel.agreement if panel else None,
               "target": panel.target if panel else project.overlap, "n_judgments": judged.get(item_id, 0),
               "n_open": opened.get(item_id, 0), "n_skipped": skipped.get(item_id, 0),
               "consent_ok": item_id not in blocked,
               "model_choice": (extra or {}).get("model_choice") if isinstance(extra, dict) else None}
        row["state"] = state_of(row)
        rows.append(row)
    return rows
