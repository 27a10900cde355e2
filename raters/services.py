"""Writes and look-ups for accounts: users, passwords, tokens, consent, login throttling.

Services take domain objects and plain values, add and flush; the caller's request (or CLI
command) commits.
"""
from __future__ import annotations

import hashlib
import ipaddress
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import bindparam, delete, func, insert, select
from sqlalchemy.orm import Session, contains_eager

import boundary
from database import utcnow
from ops.tracing import current_request_id
from raters.inputs import AccountFields
from raters.models import (
    CONSENT_VERSION, EXPERTISE_TAGS, ROLES, ApiToken, AuditEvent, LoginAttempt, User, UserExpertise,
)

_hasher = PasswordHasher()
# A hash of a random password: verifying against it costs the same as a real check, so an
# unknown e-mail takes as long to refuse as a wrong password.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))
TOKEN_NAME_CHARS = boundary.column_length(ApiToken.name)
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
TAG_RE = re.compile(r"^[a-z][a-z0-9-]{1,39}$")
MIN_PASSWORD_LENGTH = 10
TOKEN_PREFIX = "dly_"


class AccountError(ValueError):
    """A refused account change; ``errors`` maps field → message."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def normalise_expertise(tags) -> list[str]:
    if isinstance(tags, str):
        tags = [t for t in re.split(r"[,\s]+", tags) if t]
    clean = sorted({str(t).strip().lower() for t in tags or [] if str(t).strip()})
    bad = [t for t in clean if not TAG_RE.match(t)]
    if bad:
        raise AccountError({"expertise": f"not a valid tag: {', '.join(bad)} (lower-case words, e.g. {', '.join(EXPERTISE_TAGS[:3])})"})
    return clean


def _check_password(password: str | None) -> None:
    if password is None or len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError({"password": f"at least {MIN_PASSWORD_LENGTH} characters"})
    _check_fields(password=password)


def _check_fields(**given) -> None:
    """The account's texts within their columns' bounds and without NUL (``inputs.AccountFields``)."""
    problems = boundary.problems(AccountFields, {k: v for k, v in given.items() if v is not None})
    if problems:
        raise AccountError({field.split(".")[0]: problem for field, problem in problems.items()})


def create_user(session: Session, *, email: str, name: str, role: str, password: str | None,
                expertise=(), senior: bool = False, actor: User | None = None) -> User:
    errors: dict[str, str] = {}
    _check_fields(email=email, name=name, password=password,
                  expertise=list(expertise) if isinstance(expertise, (list, tuple)) else None)
    email = (email or "").strip().lower()
    if not EMAIL_RE.match(email):
        errors["email"] = "not an e-mail address"
    elif session.scalar(select(User.id).where(User.email == email)) is not None:
        errors["email"] = "already has an account"
    if not (name or "").strip():
        errors["name"] = "required"
    if role not in ROLES:
        errors["role"] = f"one of {', '.join(ROLES)}"
    try:
        tags = normalise_expertise(expertise)
    except AccountError as exc:
        errors.update(exc.errors)
        tags = []
    try:
        _check_password(password)
    except AccountError as exc:
        errors.update(exc.errors)
    if errors:
        raise AccountError(errors)
    user = User(email=email, name=name.strip(), role=role, password_hash=hash_password(password),
                senior=senior, active=True, session_version=1)
    user.expertise_rows = [UserExpertise(tag=t) for t in tags]
    session.add(user)
    session.flush()
    audit(session, actor, "user.create", user.email, f"role={role}")
    return user


IMPORTED_DOMAIN = "imported.invalid"


def placeholder_email(ref: str) -> str:
    """The account e-mail standing for a rater known only from imported judgments: the value
    itself when it is an e-mail, else ``<id>@imported.invalid`` (characters outside
    ``[a-z0-9._+-]`` replaced, with a short hash of the original when any were)."""
    ref = ref.strip()
    if EMAIL_RE.match(ref):
        return ref.lower()
    local = re.sub(r"[^a-z0-9._+-]+", "-", ref.lower()).strip("-.")[:60] or "rater"
    if local != ref:
        local += "." + hashlib.sha256(ref.encode()).hexdigest()[:8]
    return f"{local}@{IMPORTED_DOMAIN}"


def create_placeholder_rater(session: Session, ref: str, actor: User | None = None) -> User:
    """An inactive rater account for someone who judged outside Dailies: no password, so it can
    never sign in or hold a token; an admin sees it (inactive) among the users."""
    return session.get(User, create_placeholder_raters(session, [ref], actor)[placeholder_email(ref)])


def create_placeholder_raters(session: Session, refs, actor: User | None = None) -> dict[str, int]:
    """``create_placeholder_rater`` for many refs (distinct e-mails), set-based: one INSERT of
    the accounts and one of their audit entries. Returns the new ids by e-mail."""
    first = {}
    for ref in refs:
        first.setdefault(placeholder_email(ref), ref.strip())
    if not first:
        return {}
    now = utcnow()
    rows = session.execute(insert(User).returning(User.id, User.email, sort_by_parameter_order=True), [
        {"email": email, "name": f"{ref[:100]} (imported)", "role": "rater", "password_hash": None,
         "active": False, "senior": False, "session_version": 1, "created_at": now}
        for email, ref in first.items()]).all()
    request_id = current_request_id()
    session.execute(insert(AuditEvent), [
        {"actor_id": actor.id if actor else None, "action": "user.placeholder", "subject": email[:200],
         "detail": "rater of imported judgments", "project_id": None, "request_id": request_id, "at": now}
        for _id, email in rows])
    return {email: user_id for user_id, email in rows}


def update_user(session: Session, user: User, *, name: str | None = None, role: str | None = None,
                expertise=None, senior: bool | None = None, actor: User | None = None) -> User:
    _check_fields(name=name, expertise=list(expertise) if isinstance(expertise, (list, tuple)) else None)
    errors = {}
    if role is not None and role not in ROLES:
        errors["role"] = f"one of {', '.join(ROLES)}"
    if name is not None and not name.strip():
        errors["name"] = "required"
    tags = None
    if expertise is not None:
        try:
            tags = normalise_expertise(expertise)
        except AccountError as exc:
            errors.update(exc.errors)
    if errors:
        raise AccountError(errors)
    if name is not None:
        user.name = name.strip()
    if role is not None and role != user.role:
        audit(session, actor, "user.role", user.email, f"{user.role} -> {role}")
        user.role = role
        user.session_version += 1  # a privilege change: the user signs in again
    if senior is not None and senior != user.senior:
        audit(session, actor, "user.senior", user.email, f"{user.senior} -> {senior}")
        user.senior = senior
        user.session_version += 1  # a privilege change: the user signs in again
    if tags is not None and tags != user.expertise:
        audit(session, actor, "user.expertise", user.email, f"{','.join(user.expertise) or '-'} -> {','.join(tags) or '-'}")
        user.expertise_rows = [UserExpertise(tag=t) for t in tags]
    session.flush()
    return user


def set_password(session: Session, user: User, password: str, actor: User | None = None) -> None:
    _check_password(password)
    user.password_hash = hash_password(password)
    user.session_version += 1
    audit(session, actor, "user.password", user.email, "own" if actor is not None and actor.id == user.id else "reset")
    session.flush()


def set_active(session: Session, user: User, active: bool, actor: User | None = None) -> None:
    """Deactivation ends the user's sessions and makes their tokens stop working."""
    if actor is not None and actor.id == user.id and not active:
        raise AccountError({"user": "you cannot deactivate your own account"})
    if user.active != active:
        user.active = active
        user.session_version += 1
        audit(session, actor, "user.activate" if active else "user.deactivate", user.email)
    session.flush()


def record_consent(session: Session, user: User) -> None:
    user.consent_version = CONSENT_VERSION
    user.consent_at = utcnow()
    audit(session, user, "user.consent", user.email, f"version={CONSENT_VERSION}")
    session.flush()


def user_by_session_id(session: Session, session_id: str) -> User | None:
    """Resolve Flask-Login's id (``"<user id>:<session version>"``)."""
    try:
        user_id, version = (int(part) for part in session_id.split(":"))
    except ValueError:
        return None
    user = session.get(User, user_id)
    if user is None or not user.active or user.session_version != version:
        return None
    return user


# -- login ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class LoginLimits:
    """Failed logins allowed inside ``window_s`` before a wait: for one account from one client,
    from one client over all accounts (guessing many accounts), and for one account over all
    clients (a distributed guess, set higher so no one can lock an account out cheaply)."""

    per_account_client: int = 5
    per_client: int = 20
    per_account: int = 50
    window_s: int = 900


def client_key(remote_addr: str | None) -> str:
    """The throttle's key for a client address: the address itself, or an IPv6 address's /64
    (one host holds a whole /64, so counting single addresses would count nothing)."""
    try:
        address = ipaddress.ip_address(remote_addr or "")
    except ValueError:
        return (remote_addr or "unknown")[:64]
    if address.version == 6:
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def login_blocked(session: Session, email: str, client: str, limits: LoginLimits) -> bool:
    """True when this account from this client, this client, or this account has failed too
    often inside the window. The answer is the same whether the account exists or not."""
    since = utcnow() - timedelta(seconds=limits.window_s)
    email = (email or "").strip().lower()[:254]
    recent = select(func.count()).select_from(LoginAttempt).where(LoginAttempt.at >= since)
    by_client = session.scalar(recent.where(LoginAttempt.remote_addr == client))
    if by_client >= limits.per_client:
        return True
    by_account = session.scalar(recent.where(LoginAttempt.email == email))
    if by_account >= limits.per_account:
        return True
    return session.scalar(recent.where(LoginAttempt.email == email, LoginAttempt.remote_addr == client)) \
        >= limits.per_account_client


def authenticate(session: Session, email: str, password: str, client: str) -> User | None:
    """The active user with these credentials, or None (and the failure is recorded against
    the e-mail and ``client_key`` of the client). Callers check ``login_blocked`` first."""
    email = (email or "").strip().lower()
    user = session.scalar(select(User).where(User.email == email))
    ok = False
    try:
        ok = _hasher.verify(user.password_hash if user and user.password_hash else _DUMMY_HASH, password or "")
    except (VerificationError, InvalidHashError):
        ok = False
    if not ok or user is None or not user.active:
        session.add(LoginAttempt(email=email[:254], remote_addr=client[:64]))
        session.flush()
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    # This client's failures on this account are forgiven; others' guesses keep counting.
    session.execute(delete(LoginAttempt).where(LoginAttempt.email == email, LoginAttempt.remote_addr == client))
    session.flush()
    return user


# -- API tokens -------------------------------------------------------------------------------

def _token_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_token(session: Session, user: User, name: str, actor: User | None = None) -> tuple[ApiToken, str]:
    """A new token; returns it with its secret, which is shown once and never stored."""
    name = (name or "").strip() if isinstance(name, str) else ""
    if not name or len(name) > TOKEN_NAME_CHARS or "\x00" in name:
        raise AccountError({"name": f"a name of 1–{TOKEN_NAME_CHARS} characters, e.g. where the token is used"})
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user=user, name=name, token_hash=_token_hash(secret), prefix=secret[:10])
    session.add(token)
    session.flush()
    audit(session, actor or user, "token.create", user.email, name)
    return token, secret


def revoke_token(session: Session, token: ApiToken, actor: User | None = None) -> None:
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        audit(session, actor, "token.revoke", token.user.email, token.name)
    session.flush()


@cache
def _token_with_user():
    """One read: the token with its user (every API request starts here). Built once: see
    ``database.py`` on hot statements."""
    return (select(ApiToken).join(ApiToken.user).options(contains_eager(ApiToken.user))
            .where(ApiToken.token_hash == bindparam("token_hash")))


def user_for_token(session: Session, secret: str) -> User | None:
    """The active user owning an unrevoked token with this secret."""
    if not secret or not secret.startswith(TOKEN_PREFIX):
        return None
    token = session.scalar(_token_with_user(), {"token_hash": _token_hash(secret)})
    if token is None or token.revoked_at is not None or not token.user.active:
        return None
    now = utcnow()
    # Record use at most every few minutes, not a write on every request.
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=5):
        token.last_used_at = now
        session.flush()
    return token.user


def audit(session: Session, actor: User | None, action: str, subject: str, detail: str = "", *,
          project_id: int | None = None) -> None:
    """Record a privileged act in the caller's transaction (it commits with the act or not at
    all), with the request's id when there is a request."""
    session.add(AuditEvent(actor_id=actor.id if actor else None, action=action, subject=subject[:200],
                           detail=detail, project_id=project_id, request_id=current_request_id()))
