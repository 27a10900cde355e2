"""Media reports (flags): a rater reports an output as broken or unsafe; a manager acts on it.

A report names the output (the screen side the rater chose, stored as the item label and its
model) and holds the item out of routing until resolved (``routing._eligible_for``). A manager
resolves it with one of ``FLAG_ACTIONS``, each audited:
- ``returned``: nothing to change, the item goes back to routing;
- ``dropped``: the item leaves the project's work for good (``Item.dropped_at``; open
  assignments on it are closed with the reason); its judgments stay;
- ``replaced``: the reported output gets another asset (same kind, usable consent), and the
  item goes back to routing. Judgments made on the old asset stay as they were.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from raters.models import User
from raters.services import audit
from tasks.catalogue.models import Asset, Item
from tasks.rating import routing
from tasks.rating.judging import MAX_REASON_CHARS, is_expired
from tasks.rating.models import FLAG_ACTIONS, FLAG_KINDS, AnswerInvalid, Assignment, Flag, RatingError

DROPPED_REASON = "Closed: a manager withdrew this item after a media report."


def flag_assignment(session: Session, assignment: Assignment, kind, reason, *, now: datetime,
                    side: str | None = None) -> Flag:
    """Report broken or unsafe media of the assignment's item to the project's managers; ``side``
    (``left``/``right``/``output``) names the output. The item leaves routing until a manager
    resolves the flag; an open assignment is skipped with it."""
    problems = {}
    if kind not in FLAG_KINDS:
        problems["kind"] = f"one of {', '.join(FLAG_KINDS)}"
    if not isinstance(reason, str) or not reason.strip() or len(reason) > MAX_REASON_CHARS:
        problems["reason"] = f"describe the problem (at most {MAX_REASON_CHARS} characters)"
    sides = ("left", "right") if assignment.project.kind == "pairwise" else ("output",)
    if side not in (None, "", "both", *sides):
        problems["side"] = f"which output: {', '.join(sides)} (or both)"
    if problems:
        raise AnswerInvalid("The flag is not valid.", problems)
    session.refresh(assignment, with_for_update={"of": Assignment})  # OF: it may carry eager joins
    label = assignment.label_of(side) if side in sides else None
    model = next((o.model for o in assignment.item.outputs if o.label == label), None)
    flag = Flag(project_id=assignment.project_id, item_id=assignment.item_id, assignment_id=assignment.id,
                reported_by_id=assignment.rater_id, kind=kind, reason=reason.strip(), label=label, model=model,
                created_at=now)
    session.add(flag)
    if assignment.status == "open" and not is_expired(assignment, now):
        assignment.status, assignment.closed_at = "skipped", now
        assignment.skip_reason = f"flagged as {kind}: {reason.strip()}"
    session.flush()
    routing.refresh_items(session, [assignment.item_id])
    return flag


def resolve_flag(session: Session, flag: Flag, actor: User, resolution, *, now: datetime,
                 action: str = "returned", asset: Asset | None = None) -> Flag:
    """Close a flag with what was done (``FLAG_ACTIONS``) and why; audited."""
    if flag.resolved_at is not None:
        raise RatingError("This flag is already resolved.", code="already_resolved")
    problems = {}
    if not isinstance(resolution, str) or not resolution.strip():
        problems["resolution"] = "say what was done about the report"
    if action not in FLAG_ACTIONS:
        problems["action"] = f"one of {', '.join(FLAG_ACTIONS)}"
    if action == "replaced":
        problems.update(_replacement_problems(flag, asset))
    if problems:
        raise AnswerInvalid("Say what was done about the report.", problems)
    item = session.scalar(select(Item).where(Item.id == flag.item_id).with_for_update())
    detail = f"{flag.kind} report on {item.external_id}"
    if flag.label:
        detail += f" output {flag.label} ({flag.model})"
    if action == "dropped":
        item.dropped_at = now
        closed = _close_open_assignments(session, item, now)
        detail += f": item dropped, {closed} open assignment(s) closed"
    elif action == "replaced":
        output = next(o for o in item.outputs if o.label == flag.label)
        detail += f": asset {output.asset_id} replaced by asset {asset.id}"
        output.asset_id = asset.id
        item.project.revision += 1
    else:
        detail += ": returned to routing"
    flag.resolved_at, flag.resolved_by_id, flag.resolution, flag.action = now, actor.id, resolution.strip(), action
    audit(session, actor, f"flag.{action}", f"flag:{flag.id}", f"{detail}. {resolution.strip()}",
          project_id=flag.project_id)
    session.flush()
    routing.refresh_items(session, [flag.item_id])  # returned, dropped or replaced: routing follows
    return flag


def _replacement_problems(flag: Flag, asset: Asset | None) -> dict[str, str]:
    if flag.label is None:
        return {"action": "the report names no output: return or drop the item instead"}
    if asset is None:
        return {"asset_id": "the id of an uploaded asset to use instead"}
    kind = flag.item.project.modality
    if asset.media_kind != kind:
        return {"asset_id": f"asset {asset.id} is {asset.media_kind}; this project needs {kind}"}
    if not asset.exportable:
        return {"asset_id": f"asset {asset.id} has consent {asset.consent}: it cannot be shown to raters"}
    return {}


def _close_open_assignments(session: Session, item: Item, now: datetime) -> int:
    rows = session.scalars(select(Assignment).where(Assignment.item_id == item.id, Assignment.status == "open")
                           .with_for_update()).all()
    for assignment in rows:
        assignment.status, assignment.closed_at, assignment.skip_reason = "expired", now, DROPPED_REASON
    return len(rows)
