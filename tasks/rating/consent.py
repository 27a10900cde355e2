"""What an asset's consent does to rating, at once, and what restoring it gives back.

An asset is *usable* while its consent is in ``EXPORTABLE_CONSENT`` (``granted``,
``not_required``). Most effects follow from that state wherever it is read, so they change in the
same transaction as the consent itself, and come back when it is restored:
- routing skips every item with an output whose asset is not usable
  (``tasks.rating.routing._eligible_for``);
- the media is refused to raters (``/media/<id>`` answers 451; staff still see it);
- statistics leave out the judgments of those items and count them as "excluded: consent"
  (``scoring.reports.data``); each affected project's ``revision`` is bumped so cached reports
  are recomputed.
The one effect that is a write: open assignments on the affected items are closed (``expired``,
with the reason in ``skip_reason``, which the rater's page and the API show). Restoring consent
does not reopen them (the rater may ask for the next item; the item is routed again). Nothing is
deleted. Every change is audited with what it touched.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, exists, func, select
from sqlalchemy.orm import Session

from raters.models import User
from raters.services import audit
from tasks.catalogue.models import EXPORTABLE_CONSENT, Asset, Item, ItemOutput, Project
from tasks.rating import routing
from tasks.rating.models import Assignment, Judgment

WITHDRAWN_REASON = "Closed: the consent for this item's media was withdrawn. Nothing you wrote is lost."


def unusable_output_sql():
    """An EXISTS clause: the item (``Item``) has an output whose asset's consent is not usable."""
    return exists().where(ItemOutput.item_id == Item.id, ItemOutput.asset_id == Asset.id,
                          Asset.consent.not_in(EXPORTABLE_CONSENT))


def affected_items(session: Session, asset: Asset) -> list[Item]:
    return list(session.scalars(select(Item).join(ItemOutput, ItemOutput.item_id == Item.id)
                                .where(ItemOutput.asset_id == asset.id).order_by(Item.project_id, Item.id)))


def affected(session: Session, asset: Asset) -> list[dict]:
    """Per affected item: its project, the output, and its judgments (with their raters)."""
    rows = session.execute(
        select(Project, Item, ItemOutput).join(Item, Item.project_id == Project.id)
        .join(ItemOutput, ItemOutput.item_id == Item.id).where(ItemOutput.asset_id == asset.id)
        .order_by(Project.name, Item.external_id)).all()
    out = []
    for project, item, output in rows:
        judgments = session.scalars(select(Judgment).where(Judgment.item_id == item.id)
                                    .order_by(Judgment.id)).all()
        out.append({"project": project, "item": item, "output": output, "judgments": judgments})
    return out


def consent_changed(session: Session, asset: Asset, old: str, actor: User | None, *, note: str,
                    now: datetime) -> dict:
    """Apply the effects of ``asset``'s consent having changed from ``old`` (already stored)."""
    was, usable = old in EXPORTABLE_CONSENT, asset.consent in EXPORTABLE_CONSENT
    if was == usable:
        return {}
    items = affected_items(session, asset)
    item_ids = [i.id for i in items]
    for project_id in sorted({i.project_id for i in items}):
        project = session.get(Project, project_id)
        project.revision += 1
    closed = 0
    if not usable and item_ids:
        for assignment in session.scalars(select(Assignment).where(
                Assignment.item_id.in_(item_ids), Assignment.status == "open").with_for_update()):
            assignment.status, assignment.closed_at, assignment.skip_reason = "expired", now, WITHDRAWN_REASON
            closed += 1
    n_judgments = session.scalar(select(func.count()).select_from(Judgment).where(
        Judgment.item_id.in_(item_ids or [-1]), Judgment.superseded_at.is_(None))) or 0
    summary = {"items": len(item_ids), "projects": len({i.project_id for i in items}),
               "open_assignments_closed": closed, "judgments": n_judgments}
    action = "asset.consent_restored" if usable else "asset.consent_withdrawn"
    audit(session, actor, action, f"asset:{asset.id}",
          f"{old} → {asset.consent}: {summary['items']} item(s) in {summary['projects']} project(s), "
          f"{n_judgments} current judgment(s) {'counted again' if usable else 'excluded from statistics'}, "
          f"{closed} open assignment(s) closed. Note: {note}")
    session.flush()
    routing.refresh_items(session, item_ids)  # the items leave or re-enter routing's index
    return summary


def excluded_judgment_ids_sql(project_id: int):
    """Current judgments of the project on items with an unusable asset (statistics exclude them)."""
    return select(Judgment.id).join(Item, Item.id == Judgment.item_id).where(
        and_(Judgment.project_id == project_id, Judgment.superseded_at.is_(None), unusable_output_sql()))
