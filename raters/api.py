"""Accounts over the API: who am I, my tokens, and (admins) users."""
from __future__ import annotations

from flask import Blueprint
from flask_login import current_user
from sqlalchemy import select

from api import ApiError, PREFIX, documented, paginate
from boundary import parse
from database import db
from raters import inputs, services
from raters.access import requires
from raters.models import ApiToken, User

bp = Blueprint("raters_api", __name__, url_prefix=PREFIX)

USER_SCHEMA = {"type": "object", "properties": {
    "id": {"type": "integer"}, "email": {"type": "string"}, "name": {"type": "string"},
    "role": {"type": "string", "enum": ["admin", "manager", "researcher", "rater"]},
    "expertise": {"type": "array", "items": {"type": "string"}}, "active": {"type": "boolean"},
    "senior": {"type": "boolean"}, "consent_version": {"type": ["string", "null"]}}}
TOKEN_SCHEMA = {"type": "object", "properties": {
    "id": {"type": "integer"}, "name": {"type": "string"}, "prefix": {"type": "string"},
    "created_at": {"type": "string"}, "last_used_at": {"type": ["string", "null"]},
    "revoked_at": {"type": ["string", "null"]}}}


def user_json(user: User) -> dict:
    return {"id": user.id, "email": user.email, "name": user.name, "role": user.role,
            "expertise": user.expertise, "active": user.active, "senior": user.senior,
            "consent_version": user.consent_version}


def token_json(token: ApiToken) -> dict:
    iso = lambda t: t.isoformat() if t else None  # noqa: E731
    return {"id": token.id, "name": token.name, "prefix": token.prefix,
            "created_at": iso(token.created_at), "last_used_at": iso(token.last_used_at),
            "revoked_at": iso(token.revoked_at)}


def _account_error(exc: services.AccountError) -> ApiError:
    return ApiError(422, "validation_failed", "The account data is not valid.", exc.errors)


@bp.get("/me")
@requires("account.self", consent=False)
@documented(response=USER_SCHEMA)
def me():
    """The user this token belongs to."""
    return user_json(current_user)


@bp.get("/tokens")
@requires("account.self", consent=False)
@documented(response={"type": "object", "properties": {"items": {"type": "array", "items": TOKEN_SCHEMA}}})
def list_tokens():
    """Your API tokens (secrets are never shown again)."""
    return {"items": [token_json(t) for t in current_user.tokens]}


@bp.post("/tokens")
@requires("account.self", consent=False)
@documented(body=inputs.NewToken, response={"type": "object", "properties": {"token": TOKEN_SCHEMA, "secret": {"type": "string"}}},
            status=201)
def create_token():
    """Create a token for yourself; the secret is in this response only."""
    name = parse(inputs.NewToken).name
    try:
        token, secret = services.create_token(db.session, current_user, name)
    except services.AccountError as exc:
        raise _account_error(exc) from None
    return {"token": token_json(token), "secret": secret}, 201


@bp.delete("/tokens/<int:token_id>")
@requires("account.self", consent=False)
@documented(response=TOKEN_SCHEMA)
def revoke_token(token_id: int):
    """Revoke one of your tokens."""
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != current_user.id:
        raise ApiError(404, "not_found", f"You have no token {token_id}.")
    services.revoke_token(db.session, token, actor=current_user)
    return token_json(token)


@bp.get("/users")
@requires("users.manage")
@documented(response={"type": "object", "properties": {"items": {"type": "array", "items": USER_SCHEMA}}},
            query={"page": {"type": "integer", "minimum": 1, "maximum": 10**9},
                   "per_page": {"type": "integer", "minimum": 1, "maximum": 500}})
def list_users():
    """All users (admins)."""
    return paginate(select(User).order_by(User.id), user_json)


@bp.post("/users")
@requires("users.manage")
@documented(body=inputs.NewUser, response=USER_SCHEMA, status=201)
def create_user():
    """Create a user (admins)."""
    data = parse(inputs.NewUser)
    try:
        user = services.create_user(
            db.session, email=data.email, name=data.name, role=data.role, password=data.password,
            expertise=data.expertise, senior=data.senior, actor=current_user)
    except services.AccountError as exc:
        raise _account_error(exc) from None
    return user_json(user), 201
