"""The manager's pages: the panel of raters, one rater, progress and the funnel, the items
browser and the confidence gate's calibration. Managers, admins and researchers; never raters."""
from __future__ import annotations

import json

from flask import Blueprint, abort, render_template, request
from flask_login import current_user

from boundary import PageQuery, parse_query
from database import db, utcnow
from raters.access import requires
from scoring.quality import desk, figures
from tasks.catalogue.util import project_for
from tasks.rating.item_states import STATES

bp = Blueprint("quality", __name__)
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
                           figures=FIGURES, flagged=sum(1 for r in rows if r["flags"]))


@bp.get("/projects/<int:project_id>/raters/<int:rater_id>")
@requires("quality.view")
def rater(project_id: int, rater_id: int):
    project = project_for(project_id, "quality.view")
    detail = desk.rater_detail(db.session, project, rater_id)
    if detail is None:
        abort(404, f"This rater has no judgments in {project.name}.")
    return render_template("quality/rater.html", project=project, r=detail, figures=FIGURES,
                           plots=_plots(drift=figures.drift_figure(detail["weekly"])))


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
