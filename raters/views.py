"""Account pages (own tokens, password) and the admins' user management."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from boundary import Invalid, accepts, parse_form
from database import db
from raters import inputs, services
from raters.auth import Throttled, check_password, start_session
from raters.access import requires
from raters.models import EXPERTISE_TAGS, ROLES, ApiToken, AuditEvent, User

bp = Blueprint("raters", __name__)


@bp.get("/account")
@requires("account.self", consent=False)
def account():
    return _account_page()


def _account_page(errors: dict | None = None, status: int = 200, **shown):
    """The account page; ``errors``: a refused form's messages, each beside its field."""
    shown.setdefault("new_secret", None)
    return render_template("raters/account.html", tokens=current_user.tokens, errors=errors or {}, **shown), status


@bp.post("/account/tokens")
@requires("account.self", consent=False)
@accepts(form=inputs.TokenForm)
def create_token():
    try:
        token, secret = services.create_token(db.session, current_user, parse_form(inputs.TokenForm).name)
    except Invalid as exc:
        return _account_page(exc.details, exc.status)
    except services.AccountError as exc:
        flash(exc.errors["name"], "error")
        return redirect(url_for("raters.account"))
    # Rendered directly, never stored in the session or a flash: shown this one time.
    return _account_page(new_secret=secret, new_token=token)


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
@accepts(form=inputs.PasswordForm)
def change_password():
    try:
        fields = parse_form(inputs.PasswordForm)
    except Invalid as exc:
        return _account_page(exc.details, exc.status)
    new = fields.new_password
    try:
        user = check_password(current_user.email, fields.current_password)
    except Throttled as exc:
        flash(str(exc), "error")
        return redirect(url_for("raters.account"))
    if user is None:
        flash("Your current password is not right.", "error")
        return redirect(url_for("raters.account"))
    if new != fields.confirm_password:
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


def _user_fields(form: inputs.UserForm) -> dict:
    return {"name": form.name, "expertise": form.expertise + [form.extra_expertise], "senior": form.senior == "on"}


@bp.post("/admin/users")
@requires("users.manage")
@accepts(form=inputs.NewUserForm)
def create_user():
    try:
        fields = parse_form(inputs.NewUserForm)
        user = services.create_user(db.session, email=fields.email, role=fields.role,
                                    password=fields.password or None, actor=current_user, **_user_fields(fields))
    except (Invalid, services.AccountError) as exc:
        rows = db.session.scalars(select(User).order_by(User.role, User.email)).all()
        errors, status = (exc.details, exc.status) if isinstance(exc, Invalid) else (exc.errors, 400)
        return render_template("raters/users.html", users=rows, roles=ROLES, tags=EXPERTISE_TAGS,
                               form=request.form, errors=errors, events=[]), status
    flash(f"Created {user.email} ({user.role}).", "success")
    return redirect(url_for("raters.users"))


@bp.route("/admin/users/<int:user_id>", methods=["GET", "POST"])
@requires("users.manage")
@accepts(form=inputs.UserForm)
def edit_user(user_id: int):
    user = db.session.get(User, user_id) or abort(404)
    errors, status = {}, 200
    if request.method == "POST":
        try:
            fields = parse_form(inputs.UserForm)
            services.update_user(db.session, user, role=fields.role or None, actor=current_user,
                                 **_user_fields(fields))
            if fields.password:
                services.set_password(db.session, user, fields.password, actor=current_user)
        except Invalid as exc:
            errors, status = exc.details, exc.status
        except services.AccountError as exc:
            errors, status = exc.errors, 400
        else:
            flash(f"Saved {user.email}.", "success")
            return redirect(url_for("raters.users"))
    return render_template("raters/user_edit.html", user=user, roles=ROLES, tags=EXPERTISE_TAGS,
                           errors=errors), status


@bp.post("/admin/users/<int:user_id>/active")
@requires("users.manage")
@accepts(form=inputs.ActiveForm)
def set_active(user_id: int):
    user = db.session.get(User, user_id) or abort(404)
    active = parse_form(inputs.ActiveForm).active == "1"  # malformed: 422 naming the field
    try:
        services.set_active(db.session, user, active, actor=current_user)
    except services.AccountError as exc:
        flash(exc.errors["user"], "error")
        return redirect(url_for("raters.users"))
    flash(f"{user.email} {'reactivated' if active else 'deactivated'}.", "success")
    return redirect(url_for("raters.users"))
