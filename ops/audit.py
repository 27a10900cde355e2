"""The audit log, read-only: an admin page and ``GET /api/v1/audit``, both filtered the same way.

Entries are written by ``raters.services.audit`` in the transaction of the act they record;
nothing here (or anywhere) changes or deletes one.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, time, timezone
from typing import Annotated, Optional

from flask import Blueprint, render_template, request
from pydantic import Field
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from api import PREFIX, ApiError, documented, paginate
from boundary import ColumnText, Form, FormNumber, Id, Invalid, accepts, multidict, validate
from database import db
from raters.access import requires
from raters.models import AuditEvent, User

bp = Blueprint("audit", __name__)
api_bp = Blueprint("audit_api", __name__, url_prefix=PREFIX)

PAGE_SIZE = 100
FILTERS = {
    "actor": "the actor's e-mail",
    "action": "an action (e.g. user.role), or a family ending in a dot (user.)",
    "project": "a project id",
    "subject": "the subject exactly (an e-mail, project:3, asset:12, item:40)",
    "request_id": "the X-Request-ID of the request that did it",
    "since": "from this date or time (ISO 8601, UTC when no offset)",
    "until": "up to this date (the whole day) or time",
}
ENTRY_SCHEMA = {"type": "object", "properties": {
    "id": {"type": "integer"}, "at": {"type": "string", "format": "date-time"},
    "actor": {"type": ["object", "null"], "properties": {"id": {"type": "integer"}, "email": {"type": "string"}}},
    "action": {"type": "string"}, "subject": {"type": "string"}, "detail": {"type": "string"},
    "project_id": {"type": ["integer", "null"]}, "request_id": {"type": ["string", "null"]}}}
PAGE_SCHEMA = {"type": "object", "properties": {
    "items": {"type": "array", "items": ENTRY_SCHEMA}, "page": {"type": "integer"},
    "per_page": {"type": "integer"}, "total": {"type": "integer"}, "next": {"type": ["string", "null"]}}}


class AuditQuery(Form):
    """The filters (``FILTERS``) and the page, as the page's form and the API's query string send them."""
    actor: ColumnText(User.email, strip=True) = Field("", description=FILTERS["actor"])
    action: ColumnText(AuditEvent.action, strip=True) = Field("", description=FILTERS["action"])
    project: Annotated[Optional[Id], FormNumber] = Field(None, description=FILTERS["project"])
    subject: ColumnText(AuditEvent.subject, strip=True) = Field("", description=FILTERS["subject"])
    request_id: ColumnText(AuditEvent.request_id, strip=True) = Field("", description=FILTERS["request_id"])
    since: ColumnText(max_length=40, strip=True) = Field("", description=FILTERS["since"])
    until: ColumnText(max_length=40, strip=True) = Field("", description=FILTERS["until"])
    page: Annotated[int, Field(ge=1, le=10**9), FormNumber] = 1
    per_page: Annotated[Optional[int], Field(ge=1, le=500), FormNumber] = None


class FilterError(ValueError):
    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


def _when(raw: str, *, end_of_day: bool) -> datetime:
    if len(raw) == 10:  # a date
        day = datetime.fromisoformat(raw).date()
        value = datetime.combine(day, time.max if end_of_day else time.min)
    else:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


@dataclass(frozen=True)
class AuditFilters:
    values: dict[str, str]
    page: int = 1

    @classmethod
    def from_args(cls, args) -> "AuditFilters":
        """The filters given in a query string (``AuditQuery``); ``FilterError`` names each bad one."""
        try:
            fields = validate(AuditQuery, multidict(args))
        except Invalid as exc:
            raise FilterError(exc.details) from None
        values = {k: str(v) for k, v in fields.model_dump(include=set(FILTERS)).items() if v not in ("", None)}
        errors = {}
        for key in ("since", "until"):
            if key in values:
                try:
                    _when(values[key], end_of_day=key == "until")
                except ValueError:
                    errors[key] = "a date (2026-12-01) or time (2026-12-01T14:30:00Z)"
        if errors:
            raise FilterError(errors)
        return cls(values, fields.page)

    def statement(self):
        """The matching entries, newest first."""
        query = select(AuditEvent).options(joinedload(AuditEvent.actor)).order_by(AuditEvent.id.desc())
        v = self.values
        if "actor" in v:
            query = query.join(User, AuditEvent.actor_id == User.id).where(User.email == v["actor"].lower())
        if "action" in v:
            action = v["action"]
            query = query.where(AuditEvent.action.startswith(action, autoescape=True) if action.endswith(".")
                                else AuditEvent.action == action)
        if "project" in v:
            query = query.where(AuditEvent.project_id == int(v["project"]))
        if "subject" in v:
            query = query.where(AuditEvent.subject == v["subject"])
        if "request_id" in v:
            query = query.where(AuditEvent.request_id == v["request_id"])
        if "since" in v:
            query = query.where(AuditEvent.at >= _when(v["since"], end_of_day=False))
        if "until" in v:
            query = query.where(AuditEvent.at <= _when(v["until"], end_of_day=True))
        return query


def entry_json(event: AuditEvent) -> dict:
    return {"id": event.id, "at": event.at.isoformat(),
            "actor": {"id": event.actor.id, "email": event.actor.email} if event.actor else None,
            "action": event.action, "subject": event.subject, "detail": event.detail,
            "project_id": event.project_id, "request_id": event.request_id}


@bp.get("/admin/audit")
@requires("audit.view")
@accepts(query=AuditQuery)
def audit_log():
    errors, rows, total, page, pages = {}, [], 0, 1, 1
    try:
        filters = AuditFilters.from_args(request.args)
    except FilterError as exc:
        errors, filters = exc.errors, None
    if filters is not None:
        statement = filters.statement()
        total = db.session.scalar(select(func.count()).select_from(statement.order_by(None).subquery()))
        pages = max(1, math.ceil(total / PAGE_SIZE))
        page = min(filters.page, pages)
        rows = db.session.scalars(statement.limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).unique().all()
    actions = db.session.scalars(select(AuditEvent.action).distinct().order_by(AuditEvent.action)).all()
    return render_template("ops/audit.html", rows=rows, total=total, page=page, pages=pages,
                           values=filters.values if filters else request.args, errors=errors,
                           labels=FILTERS, actions=actions), 400 if errors else 200


@api_bp.get("/audit")
@requires("audit.view")
@documented(response=PAGE_SCHEMA, query=AuditQuery)
def audit_entries():
    """The audit log of privileged acts, newest first (admins).

    Filters: actor, action (or a family such as ``user.``), project, subject, request_id,
    since, until. Paginated with ``page`` and ``per_page``."""
    try:
        filters = AuditFilters.from_args(request.args)
    except FilterError as exc:
        raise ApiError(400, "invalid_parameter", "A filter is not valid.", exc.errors) from None
    return paginate(filters.statement(), entry_json)
