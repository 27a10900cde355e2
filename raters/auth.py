"""Login, logout and the raters' data-use consent."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user

from boundary import Invalid, accepts, parse_form
from database import db
from raters import inputs, services
from raters.access import public, requires
from raters.models import CONSENT_VERSION
from security import safe_next

bp = Blueprint("auth", __name__)


class Throttled(Exception):
    """Too many failed password checks: the wait's message, the same for every account."""


def check_password(email: str, password: str):
    """The active user with these credentials or None, through the login throttle: every
    password check (login, password change) counts against the account and the real client
    (``request.remote_addr`` after ``TRUSTED_PROXY_HOPS`` of ProxyFix). Raises ``Throttled``."""
    config = current_app.config
    limits = services.LoginLimits(per_account_client=config["LOGIN_MAX_FAILURES"],
                                  per_client=config["LOGIN_CLIENT_MAX_FAILURES"],
                                  per_account=config["LOGIN_ACCOUNT_MAX_FAILURES"],
                                  window_s=config["LOGIN_WINDOW_S"])
    client = services.client_key(request.remote_addr)
    if services.login_blocked(db.session, email, client, limits):
        minutes = max(1, limits.window_s // 60)
        raise Throttled(f"Too many failed attempts. Try again in {minutes} minutes.")
    return services.authenticate(db.session, email, password, client)


def start_session(user, *, remember: bool = False) -> None:
    """Sign ``user`` in on a fresh session: nothing from before (a planted value, the old CSRF
    token) carries over."""
    session.clear()
    login_user(user, remember=remember)


FIELD_NAMES = {"email": "E-mail", "password": "Password", "remember": "Remember me", "next": "Next page",
               "agree": "Agreement"}


def _said(exc: Invalid) -> str:
    """A refused form's problems in words, each naming its field."""
    return " ".join(f"{FIELD_NAMES.get(name, name)}: {problem}." for name, problem in exc.details.items())


@bp.route("/login", methods=["GET", "POST"])
@public
@accepts(form=inputs.LoginForm)
def login():
    next_url = safe_next(request.values.get("next"), url_for("tasks.home"))
    if current_user.is_authenticated:
        return redirect(next_url)
    error = None
    status = 200
    email = ""
    if request.method == "POST":
        try:
            form = parse_form(inputs.LoginForm)
        except Invalid as exc:  # refused before any password is checked: no attempt counted
            error, status = _said(exc), exc.status
        else:
            email = form.email.strip()
            try:
                user = check_password(email, form.password)
            except Throttled as exc:
                error, status = str(exc), 429
            else:
                if user is not None:
                    start_session(user, remember=bool(form.remember))
                    return redirect(next_url)
                error = "Wrong e-mail or password."
    demo_logins = current_app.config.get("DEMO_LOGINS") if current_app.config["DEMO"] else None
    return render_template("raters/login.html", error=error, email=email, next=next_url,
                           demo_logins=demo_logins), status


@bp.post("/logout")
@requires("account.self", consent=False)
def logout():
    logout_user()
    session.clear()
    flash("You are signed out.", "info")
    return redirect(url_for("auth.login"))


@bp.route("/consent", methods=["GET", "POST"])
@requires("account.self", consent=False)
@accepts(form=inputs.ConsentForm)
def consent():
    if request.method == "POST":
        try:
            form = parse_form(inputs.ConsentForm)
        except Invalid as exc:
            flash(_said(exc), "error")
            return render_template("raters/consent.html", version=CONSENT_VERSION), exc.status
        if form.agree != "yes":
            flash("Tick the box to agree, or sign out.", "error")
            return render_template("raters/consent.html", version=CONSENT_VERSION), 400
        services.record_consent(db.session, current_user)
        flash("Thank you. Your consent is recorded.", "success")
        return redirect(safe_next(form.next, url_for("tasks.home")))
    return render_template("raters/consent.html", version=CONSENT_VERSION)
