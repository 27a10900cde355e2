"""The statistics page: agreement, leaderboard, win rates and consensus of a project, its
recompute button and poll, and the upload of judgments made elsewhere."""
from __future__ import annotations

import json

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from boundary import PageQuery, parse_query
from database import db, utcnow
from raters.access import can, requires
from scoring.reports import data, figures, snapshots
from scoring.reports.report import CONSENSUS_FILTERS, consensus_records
from tasks.rating import judgment_import
from tasks.catalogue.importing import read_upload
from tasks.catalogue.util import project_for

bp = Blueprint("scoring", __name__)
CONSENSUS_PER_PAGE = 50
WRITER_ENDPOINTS = frozenset({"scoring.import_judgments"})


@bp.before_request
def _serialise_imports():
    if request.endpoint in WRITER_ENDPOINTS:
        db.serialise_writes()


def consensus_page(served: snapshots.Served, show: str, page: int, per_page: int, target: float) -> dict:
    """One page of the served snapshot's consensus, as records, with the paging facts; reads only
    that page's rows."""
    empty = {"criteria": [], "items": [], "total": 0, "page": 1, "pages": 1}
    if not served.snapshot:
        return empty
    page = max(1, page)
    header, rows, total = data.consensus_page(db.session, served.snapshot, show, target,
                                              (page - 1) * per_page, per_page)
    if not header["columns"]:
        return empty
    pages = max(1, -(-total // per_page))
    if page > pages:  # past the end: show the last page
        page = pages
        header, rows, total = data.consensus_page(db.session, served.snapshot, show, target,
                                                  (page - 1) * per_page, per_page)
    return {"criteria": header["criteria"], "items": consensus_records(header, rows), "total": total,
            "page": page, "pages": pages}


def agreement_notes(rows: list[dict]) -> list[str]:
    """Why a statistic is missing, once per distinct reason, naming the criteria it concerns."""
    grouped: dict[tuple[str, str], list[str]] = {}
    for row in rows:
        for what, note in (("α undefined", row["undefined_reason"]), ("No interval", row["alpha_ci_note"]),
                           ("No Fleiss κ", row["fleiss_note"] if row["n_units"] else None),
                           ("No Cohen κ", row["cohen_note"] if row["n_units"] else None)):
            if note:
                grouped.setdefault((what, note), []).append(row["label"].lower())
    notes = []
    for (what, note), names in grouped.items():
        listed = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"
        notes.append(f"{what} for {listed}: {note}.")
    return notes


def _models_figure(report: dict):
    comparison = report.get("models") or {}
    key = comparison.get("leaderboard_criterion")
    section = next((c for c in comparison.get("criteria", []) if c["criterion"] == key), None)
    return figures.model_means_figure(section) if section else None


def _render(project, served: snapshots.Served, *, import_errors=None, import_filename=None, status=200):
    report = served.snapshot.report if served.snapshot else None
    show = request.args.get("show", "all")
    show = show if show in CONSENSUS_FILTERS else "all"
    consensus = consensus_page(served, show, parse_query(PageQuery).page, CONSENSUS_PER_PAGE,
                               project.agreement_target)
    plots = {}
    if report and report["counts"]["judgments"]:
        plots = {name: json.dumps(fig, separators=(",", ":")) for name, fig in (
            ("agreement", figures.agreement_figure(report["agreement"])),
            ("leaderboard", figures.leaderboard_figure(report["leaderboard"])),
            ("win_rates", figures.win_rate_figure(report["win_rates"])),
            ("models", _models_figure(report))) if fig is not None}
    criteria = {c["key"]: c for c in project.rubric or []}
    return render_template(
        "scoring/statistics.html", project=project, served=served, report=report, plots=plots,
        consensus=consensus, show=show, notes=agreement_notes(report["agreement"]) if report else [], filters=CONSENSUS_FILTERS, criteria=criteria,
        can_import=can(current_user, "judgments.import", project),
        can_recompute=can(current_user, "stats.recompute", project),
        consent_excluded=data.consent_excluded(db.session, project),
        rater_excluded=data.rater_excluded(db.session, project),
        import_errors=import_errors, import_filename=import_filename), status


@bp.get("/projects/<int:project_id>/statistics")
@requires("stats.view")
def statistics(project_id: int):
    project = project_for(project_id, "stats.view")
    return _render(project, snapshots.serve(db.session, project, snapshots.StatsConfig.from_app()))


@bp.get("/projects/<int:project_id>/statistics/status")
@requires("stats.view")
def status(project_id: int):
    """Whether fresh statistics are ready (the page polls this while they are computed)."""
    project = project_for(project_id, "stats.view")
    return snapshots.status(db.session, project, snapshots.StatsConfig.from_app())


@bp.post("/projects/<int:project_id>/statistics/recompute")
@requires("stats.recompute")
def recompute(project_id: int):
    project = project_for(project_id, "stats.recompute")
    served = snapshots.serve(db.session, project, snapshots.StatsConfig.from_app(), force=True)
    if served.computing:
        flash("Recomputing in the background: the page refreshes when the new numbers are ready.", "info")
    else:
        flash(f"Statistics recomputed in {served.snapshot.duration_ms} ms.", "success")
    return redirect(url_for("scoring.statistics", project_id=project.id))


@bp.post("/projects/<int:project_id>/judgments/import")
@requires("judgments.import")
def import_judgments(project_id: int):
    project = project_for(project_id, "judgments.import")
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        flash("Choose a JSONL or CSV file of judgments to import.", "error")
        return redirect(url_for("scoring.statistics", project_id=project.id, _anchor="import"))
    try:
        data = read_upload(upload, current_app.config["MAX_IMPORT_MB"])
        result = judgment_import.import_judgments(db.session, project, data, upload.filename,
                                                  actor=current_user, now=utcnow())
    except judgment_import.ImportRejected as exc:
        db.session.rollback()
        flash(f"{upload.filename}: nothing was imported — fix these and upload again.", "error")
        return _render(project, snapshots.peek(db.session, project, snapshots.StatsConfig.from_app()),
                       import_errors=exc.errors, import_filename=upload.filename, status=422)
    made = f", {len(result.new_raters)} new placeholder raters" if result.new_raters else ""
    flash(f"Imported {result.n_judgments} judgments on {result.n_items} items from {upload.filename}{made}.",
          "success")
    return redirect(url_for("scoring.statistics", project_id=project.id))
