"""Login, logout and the raters' data-use consent."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_user, logout_user

from database import db
from raters import services
from raters.access import public, requires
from raters.models import CONSENT_VERSION
from security import safe_next

bp = Blueprint("auth", __name__)


@bp.route("/login", methods=["GET", "POST"])
@public
def login():
    next_url = safe_next(request.values.get("next"), url_for("tasks.home"))
    if current_user.is_authenticated:
        return redirect(next_url)
    error = None
    status = 200
    email = ""
    if request.method == "POST":
        email = request.form.get("email", "").strip()
        remote = request.remote_addr or "unknown"
        if services.login_blocked(db.session, email, remote,
                                  max_failures=current_app.config["LOGIN_MAX_FAILURES"],
                                  window_s=current_app.config["LOGIN_WINDOW_S"]):
            minutes = max(1, current_app.config["LOGIN_WINDOW_S"] // 60)
            error = f"Too many failed attempts. Try again in {minutes} minutes."
            status = 429
        else:
            user = services.authenticate(db.session, email, request.form.get("password", ""), remote)
            if user is not None:
                login_user(user, remember=bool(request.form.get("remember")))
                return redirect(next_url)
            error = "Wrong e-mail or password."
    demo_logins = current_app.config.get("DEMO_LOGINS") if current_app.config["DEMO"] else None
    return render_template("raters/login.html", error=error, email=email, next=next_url,
                           demo_logins=demo_logins), status


@bp.post("/logout")
@requires("account.self", consent=False)
def logout():
    logout_user()
    flash("You are signed out.", "info")
    return redirect(url_for("auth.login"))


@bp.route("/consent", methods=["GET", "POST"])
@requires("account.self", consent=False)
def consent():
    if request.method == "POST":
        if request.form.get("agree") != "yes":
            flash("Tick the box to agree, or sign out.", "error")
            return render_template("raters/consent.html", version=CONSENT_VERSION), 400
        services.record_consent(db.session, current_user)
        flash("Thank you. Your consent is recorded.", "success")
        return redirect(safe_next(request.form.get("next"), url_for("tasks.home")))
    return render_template("raters/consent.html", version=CONSENT_VERSION)
