"""Queries shared by the task views and API: look-ups scoped to what the user may see."""
from __future__ import annotations

from functools import cache

from flask import abort, current_app
from flask_login import current_user
from sqlalchemy import bindparam, exists, select

from database import db
from raters.access import MEMBERSHIP_SCOPED, authorize, can
from tasks.catalogue.models import Asset, Item, ItemOutput, Project, ProjectMember, is_member_sql
from tasks.catalogue.store import MissingBytes, asset_store


def script_text(asset: Asset) -> str:
    """A script asset's text as stored ("" when its bytes are missing)."""
    try:
        return asset_store().read_bytes(asset.sha256).decode("utf-8", errors="replace")
    except MissingBytes:
        return ""


def max_asset_bytes() -> int:
    return current_app.config["MAX_UPLOAD_MB"] * 1024 * 1024


def visible_projects_query(user):
    query = select(Project).where(Project.archived.is_(False)).order_by(Project.created_at.desc(), Project.id.desc())
    if user.role == "rater":
        query = query.join(ProjectMember).where(ProjectMember.user_id == user.id)
    return query


@cache
def _project_with_membership():
    """The project and whether the user is one of its members, in one read (built once: see
    ``database.py`` on hot statements)."""
    return select(Project, is_member_sql(Project.id, bindparam("user_id"))).where(Project.id == bindparam("project_id"))


def project_for(project_id: int, action: str) -> Project:
    """The project, if it exists and the current user may perform ``action`` on it."""
    if current_user.is_authenticated and current_user.role in MEMBERSHIP_SCOPED:
        row = db.session.execute(_project_with_membership(),
                                 {"project_id": project_id, "user_id": current_user.id}).first()
        project = row[0] if row else None
        if project is not None:
            project.remember_membership(current_user.id, row[1])
    else:
        project = db.session.get(Project, project_id)
    if project is None:
        abort(404, f"There is no project {project_id}.")
    authorize(action, project)
    return project


def may_fetch_media(user, asset: Asset) -> bool:
    """Staff and researchers see all media; a rater only media of items in their projects."""
    if not can(user, "media.fetch"):
        return False
    if user.role != "rater":
        return True
    return bool(db.session.scalar(select(exists().where(
        ItemOutput.asset_id == asset.id, ItemOutput.item_id == Item.id,
        Item.project_id == ProjectMember.project_id, ProjectMember.user_id == user.id))))


def is_staff() -> bool:
    return can(current_user, "projects.edit")

