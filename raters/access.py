"""Who may do what: the one place access is decided.

Every view declares an action with ``@requires("action")`` (or ``@public``). The action's roles
live in ``PERMISSIONS``; actions on a project additionally need a rater to be one of the project's
members, which views check with ``authorize(action, project)``. ``init_app`` refuses any route
that declares nothing, so a forgotten check fails closed.
"""
from __future__ import annotations

from functools import wraps
from typing import Callable, Protocol

from flask import Flask, current_app, request
from flask_login import current_user
from werkzeug.exceptions import Forbidden, Unauthorized

ALL_ROLES = frozenset({"admin", "manager", "researcher", "rater"})
STAFF = frozenset({"admin", "manager"})
READERS = frozenset({"admin", "manager", "researcher"})
# Not a role of its own: a rater whose account is marked senior holds it beside "rater".
SENIOR_RATER = "senior_rater"

PERMISSIONS: dict[str, frozenset[str]] = {
    "account.self": ALL_ROLES,  # own tokens, own consent, home page
    "users.manage": frozenset({"admin"}),
    "audit.view": frozenset({"admin"}),  # the audit log of privileged acts (page and API)
    "projects.list": ALL_ROLES,  # raters see only projects they are members of
    "projects.view": ALL_ROLES,  # raters: members only
    "projects.create": STAFF,
    "projects.edit": STAFF,
    "items.view": READERS,
    "items.import": STAFF,
    "assets.view": READERS,
    "assets.upload": STAFF,
    "assets.edit": STAFF,
    "media.fetch": ALL_ROLES,  # raters: only media of items in their projects
    "rating.work": frozenset({"rater"}),  # next, judge, draft, skip, flag: members, own assignments only
    "flags.manage": STAFF,  # see and resolve raters' reports of broken or unsafe media
    "adjudication.decide": STAFF | {SENIOR_RATER},  # the queue and decisions; senior raters: members only
    "stats.view": READERS,  # agreement, leaderboard (model names), consensus; never raters
    "stats.recompute": READERS,  # refresh the cached statistics on demand
    "judgments.import": READERS,  # researchers bring judgments made elsewhere, as staff do
    "judgments.list": READERS,  # the judgments as rows (pseudonymous raters); never raters
    "exports.view": READERS,  # a project's exports, their state and manifests
    "exports.create": READERS,  # ask for (or retry) an export; raters never export
    "exports.download": READERS,  # released versions; drafts only with exports.release (views check)
    "exports.release": STAFF,  # the release gate; releasing itself: the project's owner or an admin
    # Rater quality, progress, items browser, gate calibration; never raters (a rater sees only
    # their own agreement and gold accuracy, on their home page).
    "quality.view": READERS,
    # Pause, resume, remove raters; exclude and re-include their judgments (tasks.rating.standing).
    "raters.manage": STAFF,
    # A project's quality thresholds and auto-pause rules.
    "quality.settings": STAFF,
}

# Roles that see a project only when they are one of its members.
MEMBERSHIP_SCOPED = frozenset({"rater"})


class ProjectLike(Protocol):
    def has_member(self, user) -> bool: ...


class ConsentRequired(Forbidden):
    description = "Sign the data-use consent before rating."
    api_code = "consent_required"


def roles_of(user) -> frozenset[str]:
    """The user's role, plus ``senior_rater`` for a rater marked senior."""
    if user.role == "rater" and getattr(user, "senior", False):
        return frozenset({user.role, SENIOR_RATER})
    return frozenset({user.role})


def can(user, action: str, project: ProjectLike | None = None) -> bool:
    """True when ``user`` may perform ``action`` (on ``project``, when given)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if not roles_of(user) & PERMISSIONS[action]:
        return False
    if project is not None and user.role in MEMBERSHIP_SCOPED:
        return project.has_member(user)
    return True


def authorize(action: str, project: ProjectLike | None = None) -> None:
    """Abort with 401/403 unless the current user may perform ``action``."""
    if not current_user.is_authenticated:
        raise Unauthorized()
    if not can(current_user, action, project):
        raise Forbidden(f"Your role ({current_user.role}) may not do this here.")


def requires(action: str, *, consent: bool = True) -> Callable:
    """Declare and enforce the action a view performs. ``consent=False`` lets a rater in
    before signing the data-use consent (the consent page itself, logout, own account)."""
    if action not in PERMISSIONS:
        raise KeyError(f"unknown action {action!r}")

    def decorate(view):
        @wraps(view)
        def checked(*args, **kwargs):
            authorize(action)
            if consent and current_user.role == "rater" and not current_user.has_consented:
                raise ConsentRequired()
            return view(*args, **kwargs)

        checked.access = action
        return checked

    return decorate


def public(view):
    """Declare a view open to anyone (login page, health check)."""
    view.access = "public"
    return view


def init_app(app: Flask) -> None:
    @app.before_request
    def _every_route_declares_access():
        if request.endpoint is None or request.endpoint == "static":
            return
        view = current_app.view_functions[request.endpoint]
        if not hasattr(view, "access"):
            raise Forbidden(f"Route {request.endpoint} declares no access rule.")


def undeclared_endpoints(app: Flask) -> list[str]:
    """Endpoints that declare no access rule (the test suite asserts there are none)."""
    return sorted(
        name for name, view in app.view_functions.items()
        if name != "static" and not hasattr(view, "access")
    )
