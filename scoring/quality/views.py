"""The manager's pages: the panel of raters, one rater, progress and the funnel, the items
browser and the confidence gate's calibration (managers, admins and researchers; never raters);
and the acts on them (managers and admins): a rater's standing, the project's thresholds."""
from __future__ import annotations

import json

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from boundary import PageQuery, parse_query
from database import db, utcnow
from raters.access import can, requires
from scoring.quality import desk, figures
from tasks.rating import standing
from raters.models import User
from tasks.catalogue.util import asset_store, project_for
from tasks.rating.item_states import STATES

bp = Blueprint("quality", __name__)


@bp.before_request
def _serialise_writes():
    if request.method in ("POST", "PUT"):  # acts and settings write (SQLite: as a writer from the start)
        db.serialise_writes()
ITEMS_PER_PAGE = 100
FIGURES = {"time": "Time on task", "gold": "Gold", "agreement": "Agreement", "position": "Position",
           "ties": "Ties", "straight_lining": "Straight-lining", "rationale": "Rationales", "anomaly": "Anomalies"}


@bp.app_template_global("own_quality")
def own_quality(project):
    """The signed-in rater's agreement and gold accuracy in ``project`` (their home page shows it
    once they have ``desk.OWN_FIGURES_MIN_JUDGMENTS`` judgments; None before)."""
    if not current_user.is_authenticated or current_user.role != "rater":
        return None
    return desk.own_figures(db.session, project, current_user.id)


def _plots(**named) -> dict:
    return {name: json.dumps(fig, separators=(",", ":")) for name, fig in named.items() if fig is not None}


@bp.get("/projects/<int:project_id>/raters")
@requires("quality.view")
def panel(project_id: int):
    project = project_for(project_id, "quality.view")
    overview = desk.panel_overview(db.session, project)
    rows = overview["raters"]
    plots = _plots(scatter=figures.panel_scatter(rows), time=figures.time_scatter(rows))
    return render_template("quality/panel.html", project=project, overview=overview, rows=rows, plots=plots,
                           figures=FIGURES, flagged=sum(1 for r in rows if r["flags"]),
                           can_manage=can(current_user, "raters.manage", project),
                           can_tune=can(current_user, "quality.settings", project), acts=ACTS)


@bp.get("/projects/<int:project_id>/raters/<int:rater_id>")
@requires("quality.view")
def rater(project_id: int, rater_id: int):
    project = project_for(project_id, "quality.view")
    detail = desk.rater_detail(db.session, project, rater_id)
    if detail is None:
        abort(404, f"This rater has no judgments in {project.name}.")
    return render_template("quality/rater.html", project=project, r=detail, figures=FIGURES,
                           plots=_plots(drift=figures.drift_figure(detail["weekly"])),
                           can_manage=can(current_user, "raters.manage", project), acts=ACTS)


# What each act is called on the pages, and when it applies (standing -> shown or not).
ACTS = {"pause": ("Pause", lambda s: s["status"] not in ("paused", "removed")),
        "resume": ("Resume", lambda s: s["status"] != "active"),
        "remove": ("Remove", lambda s: s["status"] != "removed"),
        "exclude": ("Exclude judgments", lambda s: not s["excluded"]),
        "include": ("Re-include judgments", lambda s: s["excluded"])}


@bp.post("/projects/<int:project_id>/raters/<int:rater_id>/standing")
@requires("raters.manage")
def set_standing(project_id: int, rater_id: int):
    """Pause, resume, remove, exclude or re-include a rater, with a note (from the panel or the
    rater's page; back to where it came from)."""
    project = project_for(project_id, "raters.manage")
    back = url_for("quality.rater", project_id=project.id, rater_id=rater_id) \
        if request.form.get("back") == "rater" else url_for("quality.panel", project_id=project.id) + "#raters"
    try:
        standing.act(db.session, project, rater_id, request.form.get("act", ""), request.form.get("note"),
                     current_user, utcnow())
    except standing.StandingRefused as exc:
        db.session.rollback()
        if exc.status == 404:
            abort(404, exc.message)
        flash(exc.message, "error")
        return redirect(back)
    db.session.commit()
    flash(f"Done: {ACTS[request.form['act']][0].lower()} — {request.form.get('note', '').strip()[:80]}", "success")
    return redirect(back)


@bp.route("/projects/<int:project_id>/quality/settings", methods=["GET", "POST"])
@requires("quality.settings")
def settings(project_id: int):
    """The project's quality thresholds and auto-pause rules, each with its default."""
    project = project_for(project_id, "quality.settings")
    errors, status = {}, 200
    if request.method == "POST":
        try:
            desk.save_thresholds(db.session, project, parse_thresholds_form(request.form), current_user)
        except desk.ThresholdsInvalid as exc:
            db.session.rollback()
            errors, status = exc.errors, 400
        else:
            db.session.commit()
            flash("Quality thresholds saved.", "success")
            return redirect(url_for("quality.settings", project_id=project.id))
    return render_template("quality/settings.html", project=project, settings=desk.thresholds_settings(project),
                           errors=errors, form=request.form if errors else {}), status


def parse_thresholds_form(form) -> dict:
    """The form's fields as overrides: empty resets to the default; numbers as numbers (what is
    not a number is passed on, for ``thresholds.problems`` to name)."""
    out = {}
    for name in desk.Thresholds.names():
        raw = (form.get(name) or "").strip()
        if not raw:
            out[name] = None
            continue
        try:
            value = float(raw)
        except ValueError:
            out[name] = raw
            continue
        out[name] = int(value) if value.is_integer() and name in desk.thresholds.WHOLE else value
    return out


@bp.get("/projects/<int:project_id>/raters/<int:rater_id>/judgments/<int:judgment_id>")
@requires("quality.view")
def judgment(project_id: int, rater_id: int, judgment_id: int):
    """One of a rater's judgments opened exactly as it was shown to them."""
    project = project_for(project_id, "quality.view")
    shown = desk.judgment_as_shown(db.session, project, rater_id, judgment_id, asset_store())
    if shown is None:
        abort(404, "This rater has no such judgment in this project.")
    rater_user = db.session.get(User, rater_id)
    return render_template("quality/judgment.html", project=project, j=shown, rater=rater_user)


@bp.get("/projects/<int:project_id>/progress")
@requires("quality.view")
def progress(project_id: int):
    project = project_for(project_id, "quality.view")
    report = desk.progress(db.session, project, utcnow())
    plots = _plots(states=figures.states_figure(report["states"], report["states_order"]),
                   per_day=figures.per_day_figure(report["per_day"]), funnel=figures.funnel_figure(report["funnel"]))
    return render_template("quality/progress.html", project=project, report=report, plots=plots)


@bp.get("/projects/<int:project_id>/calibration")
@requires("quality.view")
def calibration(project_id: int):
    project = project_for(project_id, "quality.view")
    report = desk.calibration(db.session, project, utcnow())
    plots = _plots(reliability=figures.reliability_figure(report)) if report["supported"] else {}
    return render_template("quality/calibration.html", project=project, cal=report, plots=plots)


@bp.get("/projects/<int:project_id>/items")
@requires("quality.view")
def items(project_id: int):
    project = project_for(project_id, "quality.view")
    state = request.args.get("state") or None
    state = state if state in STATES else None
    query = (request.args.get("q") or "").replace("\x00", "")[:200]
    rows = desk.items_page(db.session, project, utcnow(), state=None, query=query or None)
    counts = {s: sum(1 for r in rows if r["state"] == s) for s in STATES}
    shown = [r for r in rows if state is None or r["state"] == state]
    pages = max(1, -(-len(shown) // ITEMS_PER_PAGE))
    page = min(parse_query(PageQuery).page, pages)
    return render_template("quality/items.html", project=project, rows=shown[(page - 1) * ITEMS_PER_PAGE:page * ITEMS_PER_PAGE],
                           total=len(shown), counts=counts, states=STATES, state=state, q=query, page=page, pages=pages)
