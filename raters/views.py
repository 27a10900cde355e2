"""Account pages (own tokens, password) and the admins' user management."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from database import db
from raters import services
from raters.auth import Throttled, check_password, start_session
from raters.access import requires
from raters.models import EXPERTISE_TAGS, ROLES, ApiToken, AuditEvent, User

bp = Blueprint("raters", __name__)


@bp.get("/account")
@requires("account.self", consent=False)
def account():
    return render_template("raters/account.html", tokens=current_user.tokens, new_secret=None)


@bp.post("/account/tokens")
@requires("account.self", consent=False)
def create_token():
    try:
        token, secret = services.create_token(db.session, current_user, request.form.get("name", ""))
    except services.AccountError as exc:
        flash(exc.errors["name"], "error")
        return redirect(url_for("raters.account"))
    # Rendered directly, never stored in the session or a flash: shown this one time.
    return render_template("raters/account.html", tokens=current_user.tokens, new_secret=secret,
                           new_token=token)


@bp.post("/account/tokens/<int:token_id>/revoke")
@requires("account.self", consent=False)
def revoke_token(token_id: int):
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != current_user.id:
        abort(404)
    services.revoke_token(db.session, token, actor=current_user)
    flash(f"Token “{token.name}” revoked.", "success")
    return redirect(url_for("raters.account"))


@bp.post("/account/password")
@requires("account.self", consent=False)
def change_password():
    current = request.form.get("current_password", "")
    new = request.form.get("new_password", "")
    try:
        user = check_password(current_user.email, current)
    except Throttled as exc:
        flash(str(exc), "error")
        return redirect(url_for("raters.account"))
    if user is None:
        flash("Your current password is not right.", "error")
        return redirect(url_for("raters.account"))
    if new != request.form.get("confirm_password"):
        flash("The new passwords differ.", "error")
        return redirect(url_for("raters.account"))
    try:
        services.set_password(db.session, user, new, actor=current_user)
    except services.AccountError as exc:
        flash(f"Password: {exc.errors['password']}.", "error")
        return redirect(url_for("raters.account"))
    start_session(user)  # the session version changed: a fresh session here, the others end
    flash("Password changed. Other sessions are signed out.", "success")
    return redirect(url_for("raters.account"))


@bp.get("/admin/users")
@requires("users.manage")
def users():
    rows = db.session.scalars(select(User).order_by(User.role, User.email)).all()
    events = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(20)).all()
    return render_template("raters/users.html", users=rows, roles=ROLES, tags=EXPERTISE_TAGS,
                           form={}, errors={}, events=events)


@bp.post("/admin/users")
@requires("users.manage")
def create_user():
    form = request.form
    try:
        user = services.create_user(
            db.session, email=form.get("email", ""), name=form.get("name", ""),
            role=form.get("role", ""), password=form.get("password") or None,
            expertise=form.getlist("expertise") + [form.get("extra_expertise", "")],
            senior=form.get("senior") == "on", actor=current_user)
    except services.AccountError as exc:
        rows = db.session.scalars(select(User).order_by(User.role, User.email)).all()
        return render_template("raters/users.html", users=rows, roles=ROLES, tags=EXPERTISE_TAGS,
                               form=form, errors=exc.errors, events=[]), 400
    flash(f"Created {user.email} ({user.role}).", "success")
    return redirect(url_for("raters.users"))


@bp.route("/admin/users/<int:user_id>", methods=["GET", "POST"])
@requires("users.manage")
def edit_user(user_id: int):
    user = db.session.get(User, user_id) or abort(404)
    errors = {}
    if request.method == "POST":
        form = request.form
        try:
            services.update_user(db.session, user, name=form.get("name", ""), role=form.get("role"),
                                 expertise=form.getlist("expertise") + [form.get("extra_expertise", "")],
                                 senior=form.get("senior") == "on", actor=current_user)
            if form.get("password"):
                services.set_password(db.session, user, form["password"], actor=current_user)
        except services.AccountError as exc:
            errors = exc.errors
        else:
            flash(f"Saved {user.email}.", "success")
            return redirect(url_for("raters.users"))
    return render_template("raters/user_edit.html", user=user, roles=ROLES, tags=EXPERTISE_TAGS,
                           errors=errors), 400 if errors else 200


@bp.post("/admin/users/<int:user_id>/active")
@requires("users.manage")
def set_active(user_id: int):
    user = db.session.get(User, user_id) or abort(404)
    active = request.form.get("active") == "1"
    try:
        services.set_active(db.session, user, active, actor=current_user)
    except services.AccountError as exc:
        flash(exc.errors["user"], "error")
        return redirect(url_for("raters.users"))
    flash(f"{user.email} {'reactivated' if active else 'deactivated'}.", "success")
    return redirect(url_for("raters.users"))
