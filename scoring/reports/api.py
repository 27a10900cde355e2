"""Statistics over the API: agreement, leaderboard, consensus (the page's numbers: the same
snapshot), recompute, and the import of judgments made elsewhere.

Every statistics answer carries ``computed_at``, ``stale`` (numbers from before the latest
judgments, served while fresh ones are computed) and ``computing``. A large project with nothing
computed yet answers 202 with ``status: computing`` and a ``Retry-After`` header.
"""
from __future__ import annotations

from flask import Blueprint, current_app, request, url_for
from flask_login import current_user

from api import PREFIX, ApiError, documented, int_arg, uploaded_file
from database import db, utcnow
from raters.access import requires
from scoring.reports import data, snapshots
from scoring.reports.report import CONSENSUS_FILTERS, consensus_records
from tasks.rating import judgment_import
from tasks.catalogue.util import project_for

bp = Blueprint("scoring_api", __name__, url_prefix=PREFIX)
RETRY_AFTER_S = 5

META = {"project_id": {"type": "integer"}, "key": {"type": "string", "description": "cache key of the data"},
        "computed_at": {"type": ["string", "null"], "format": "date-time"},
        "stale": {"type": "boolean", "description": "from before the latest judgments; fresh ones are computing"},
        "computing": {"type": "boolean"}, "duration_ms": {"type": ["integer", "null"]},
        "n_judgments": {"type": ["integer", "null"]}, "error": {"type": ["string", "null"]},
        "excluded": {"type": "object", "description": "current judgments kept but left out: ``consent`` (an "
                     "output's consent withdrawn), ``rater`` (a manager excluded their rater)",
                     "properties": {"consent": {"type": "integer"}, "rater": {"type": "integer"}}}}
NUMBER = {"type": ["number", "null"]}
AGREEMENT_ROW = {"type": "object", "properties": {
    "criterion": {"type": "string"}, "label": {"type": "string"},
    "level": {"type": "string", "enum": ["nominal", "ordinal", "interval", "ratio"]},
    "alpha": NUMBER, "alpha_ci": {"type": "array", "items": NUMBER}, "alpha_ci_note": {"type": ["string", "null"]},
    "undefined_reason": {"type": ["string", "null"]}, "n_units": {"type": "integer"},
    "n_pairable_values": {"type": "integer"}, "n_raters": {"type": "integer"},
    "observed_disagreement": NUMBER, "expected_disagreement": NUMBER, "percent_agreement": NUMBER,
    "fleiss_kappa": NUMBER, "fleiss_note": {"type": ["string", "null"]}, "cohen_kappa": NUMBER,
    "cohen_weights": {"type": ["string", "null"]}, "cohen_note": {"type": ["string", "null"]},
    "alpha_ci_method": {"type": "string", "description": "units: percentile bootstrap over units"},
    "alpha_ci_pairs": {"type": "array", "items": NUMBER,
                       "description": "Krippendorff's own bootstrap (pairable value pairs, Hayes & Krippendorff 2007)"},
    "cohen": {"type": ["object", "null"], "description": "value, se, ci, n_units, weights"},
    "coefficients": {"type": "object", "description": "fleiss, gwet (AC1 nominal / AC2 quadratic weights), "
                     "brennan_prediger: name, value, se, ci, weights, n_units, observed, chance, note, warnings"},
    "warnings": {"type": "array", "items": {"type": "string"},
                 "description": "small-sample and lopsided-interval warnings (documented rules: report.rules)"}}}
MODEL_ROW = {"type": "object", "properties": {
    "rank": {"type": "integer"}, "model": {"type": "string"}, "score": {"type": "number"},
    "ci_low": NUMBER, "ci_high": NUMBER, "n_comparisons": {"type": "integer"}, "wins": {"type": "number"},
    "losses": {"type": "number"}, "ties": {"type": "number"}, "win_rate": NUMBER,
    "rank_best": NUMBER, "rank_worst": NUMBER, "warnings": {"type": "array", "items": {"type": "string"}}}}
COMPARISON = {"type": "object", "description": "rubric projects: per criterion and overall, mean score per "
              "model with bootstrap intervals, paired differences on shared prompts, and a leaderboard",
              "properties": {"criteria": {"type": "array"}, "leaderboard": {"type": "array"},
                             "leaderboard_criterion": {"type": ["string", "null"]}, "n_models": {"type": "integer"},
                             "undefined_reason": {"type": ["string", "null"]}, "method": {"type": "object"}}}
PER_CRITERION = {"type": "object", "description": "pairwise projects with per-criterion comparisons "
                 "(scoring.reports.criteria); empty criteria and null winner_lost otherwise", "properties": {
    "criteria": {"type": "array", "items": {"type": "object", "properties": {
        "key": {"type": "string"}, "name": {"type": "string"}, "description": {"type": "string"},
        "n_judgments": {"type": "integer", "description": "judgments answering this criterion"},
        "agreement": {"type": "object", "description": "Krippendorff's alpha (nominal a/b/tie) with its 95% "
                      "bootstrap interval over units: alpha, alpha_ci, n_units, n_raters, percent_agreement, "
                      "undefined_reason, warnings (the agreement row of criterion criteria.<key>)"},
        "leaderboard": {"type": "object", "description": "Bradley-Terry leaderboard of this criterion's "
                        "winners, shaped like the overall one (models: MODEL_ROW, n_comparisons, …)"}}}},
    "winner_lost": {"type": ["object", "null"], "properties": {
        "n_judgments": {"type": "integer", "description": "judgments with an overall winner that answered a criterion"},
        "n_lost": {"type": "integer", "description": "of those, judgments where the overall winner lost a criterion"},
        "share": NUMBER, "by_criterion": {"type": "object", "description": "key: {n_judgments, n_lost, share}"}}},
    "method": {"type": "string"}}}
CONSENSUS_ITEM = {"type": "object", "properties": {
    "item_id": {"type": "integer"}, "external_id": {"type": "string"},
    "model_a": {"type": ["string", "null"]}, "model_b": {"type": ["string", "null"]}, "n_judgments": {"type": "integer"},
    "n_imported": {"type": "integer"}, "adjudicated": {"type": "boolean"},
    "labels": {"type": "object", "description": "by criterion: label, source (adjudication | majority | "
               "dawid_skene), posterior, majority, share, tied, ds_label, ds_posterior, adjudicated_label"}}}
COMPUTING = {"type": "object", "properties": {
    "status": {"type": "string", "enum": ["computing"]}, "message": {"type": "string"},
    "retry_after_s": {"type": "integer"}, **META}}


def _meta(project, served: snapshots.Served) -> dict:
    snap = served.snapshot
    return {"project_id": project.id, "key": served.key,
            "computed_at": snap.computed_at.isoformat() if snap else None, "stale": served.stale,
            "computing": served.computing, "duration_ms": snap.duration_ms if snap else None,
            "n_judgments": snap.n_judgments if snap else None, "error": served.error,
            "excluded": {"consent": data.consent_excluded(db.session, project),
                         "rater": data.rater_excluded(db.session, project)}}


def _computing(project, served: snapshots.Served):
    if served.error and not served.computing:
        raise ApiError(503, "statistics_failed", "Computing this project's statistics failed; "
                       f"POST {PREFIX}/projects/{project.id}/statistics/recompute to try again.",
                       {"error": served.error})
    body = {"status": "computing", "retry_after_s": RETRY_AFTER_S, **_meta(project, served),
            "message": "This project's statistics are being computed in the background; "
                       "ask again in a few seconds (no earlier numbers are cached)."}
    return body, 202, {"Retry-After": str(RETRY_AFTER_S)}


def _served(project_id: int, *, force: bool = False):
    project = project_for(project_id, "stats.recompute" if force else "stats.view")
    return project, snapshots.serve(db.session, project, snapshots.StatsConfig.from_app(), force=force)


@bp.before_request
def _serialise_imports():
    if request.endpoint == "scoring_api.import_judgments":
        db.serialise_writes()


@bp.get("/projects/<int:project_id>/agreement")
@requires("stats.view")
@documented(response={"type": "object", "properties": {
    **META, "counts": {"type": "object"}, "settings": {"type": "object"},
    "criteria": {"type": "array", "items": AGREEMENT_ROW},
    "rules": {"type": "object", "description": "small-sample thresholds and method names"}}})
def agreement(project_id: int):
    """Inter-rater agreement per criterion: Krippendorff's alpha with its 95% bootstrap intervals
    (over units, and Krippendorff's own over pairable values), Gwet's AC1/AC2, Brennan–Prediger,
    Fleiss' kappa generalised to unequal numbers of ratings and Cohen's kappa, each with its
    standard error, interval, sample size and any small-sample warning (rules in ``rules``).

    Pairwise projects: ``choice`` (nominal a/b/tie) and ``preference`` (ordinal signed strength);
    rubric projects: each criterion at its level (ordinal by default). Also the units and pairable
    values, percent agreement, Fleiss' kappa (equal raters per unit) and Cohen's kappa (exactly
    two raters; quadratic weights for ordinal criteria). An undefined statistic is null with its
    reason. A 202 answer means the numbers are being computed: ask again after ``Retry-After``."""
    project, served = _served(project_id)
    if served.snapshot is None:
        return _computing(project, served)
    report = served.snapshot.report
    return {**_meta(project, served), "counts": report["counts"], "settings": report["settings"],
            "criteria": report["agreement"], "rules": report.get("rules")}


@bp.get("/projects/<int:project_id>/leaderboard")
@requires("stats.view")
@documented(response={"type": "object", "properties": {
    **META, "models": {"type": "array", "items": MODEL_ROW}, "n_comparisons": {"type": "integer"},
    "ties": {"type": "string"}, "n_resamples": {"type": "integer"}, "confidence": {"type": "number"},
    "robustness": {"type": ["object", "null"], "description": "top, n_removed (fewest judgments found whose "
                   "removal changes the top model; null = not within max_removals), new_top, fragile, removed"},
    "comparison": COMPARISON, "rules": {"type": "object"}, "per_criterion": PER_CRITERION,
    "warnings": {"type": "array", "items": {"type": "string"}}, "undefined_reason": {"type": ["string", "null"]},
    "win_rates": {"type": "object", "properties": {
        "models": {"type": "array", "items": {"type": "string"}},
        "matrix": {"type": "array", "description": "row model's win rate against column model (ties half)"},
        "counts": {"type": "array"}}}}})
def leaderboard(project_id: int):
    """Bradley–Terry leaderboard with 95% bootstrap score and rank intervals, the top rank's
    robustness (fewest judgments whose removal changes it), and the win-rate matrix; for rubric
    projects ``comparison`` holds the mean score per model and the paired differences; for
    pairwise projects with per-criterion comparisons ``per_criterion`` holds each criterion's
    agreement (alpha with its interval) and leaderboard, and how often the overall winner lost a
    criterion.

    Scores are on the Chatbot Arena's Elo-like scale (mean 1000, 400 points = 10:1 odds); a tie
    counts as half a win for each side. Gold items and items whose two outputs come from the
    same model are left out. A 202 answer means the numbers are being computed."""
    project, served = _served(project_id)
    if served.snapshot is None:
        return _computing(project, served)
    report = served.snapshot.report
    return {**_meta(project, served), **report["leaderboard"], "win_rates": report["win_rates"],
            "comparison": report.get("models"), "rules": report.get("rules"),
            "per_criterion": report.get("criteria") or {"criteria": [], "winner_lost": None}}


@bp.get("/projects/<int:project_id>/consensus")
@requires("stats.view")
@documented(response={"type": "object", "properties": {
    **META, "criteria": {"type": "array", "items": {"type": "string"}},
    "dawid_skene": {"type": ["object", "null"], "description": "per criterion: n_iter, converged, final_change "
                    "(the largest probability change of the last iteration), max_iter, tol, log_likelihood -- the "
                    "convergence test, reported; n_profiles (the distinct item profiles EM ran over) and "
                    "started_from (majority vote, or the previous snapshot's estimates)"},
    "items": {"type": "array", "items": CONSENSUS_ITEM}, "page": {"type": "integer"},
    "per_page": {"type": "integer"}, "total": {"type": "integer"}, "next": {"type": ["string", "null"]}}},
    query={"page": {"type": "integer", "minimum": 1}, "per_page": {"type": "integer", "minimum": 1},
           "show": {"type": "string", "enum": list(CONSENSUS_FILTERS)}})
def consensus(project_id: int):
    """Consensus label of each judged item, per criterion, in pages.

    ``label`` is the adjudicated decision when there is one, else the majority label, else (tied
    majority) the Dawid–Skene label; ``source`` says which. ``posterior`` is the Dawid–Skene
    probability of that label, ``share`` the majority share of the panel. ``show``: ``all``,
    ``contested`` (tied, or below the project's agreement target), ``adjudicated``, ``imported``."""
    project, served = _served(project_id)
    per_page = int_arg("per_page", current_app.config["API_PAGE_SIZE"], lo=1,
                       hi=current_app.config["API_MAX_PAGE_SIZE"])
    page = int_arg("page", 1, lo=1, hi=10**9)
    show = request.args.get("show", "all")
    if show not in CONSENSUS_FILTERS:
        raise ApiError(400, "invalid_parameter", f"show must be one of {', '.join(CONSENSUS_FILTERS)}.",
                       {"show": show})
    if served.snapshot is None:
        return _computing(project, served)
    section, chunk, total = data.consensus_page(db.session, served.snapshot, show, project.agreement_target,
                                                (page - 1) * per_page, per_page)
    has_next = page * per_page < total
    return {**_meta(project, served), "criteria": section["criteria"],
            "dawid_skene": served.snapshot.report.get("dawid_skene"),
            "items": consensus_records(section, chunk), "page": page, "per_page": per_page, "total": total,
            "next": url_for("scoring_api.consensus", project_id=project.id, page=page + 1, per_page=per_page,
                            show=show) if has_next else None}


@bp.post("/projects/<int:project_id>/statistics/recompute")
@requires("stats.recompute")
@documented(response={"type": "object", "properties": META})
def recompute(project_id: int):
    """Recompute the statistics now (small projects; 200) or queue it (large ones; 202)."""
    project, served = _served(project_id, force=True)
    if served.computing:
        body, _, headers = _computing(project, served)
        if served.snapshot is not None:
            body["message"] = "Recomputing in the background; the current numbers are served meanwhile."
        return body, 202, headers
    return _meta(project, served)


@bp.post("/projects/<int:project_id>/judgments/import")
@requires("judgments.import")
@documented(body={"application/x-ndjson": {"schema": {"type": "string"}},
                  "text/csv": {"schema": {"type": "string"}},
                  "multipart/form-data": {"schema": {"type": "object", "properties": {
                      "file": {"type": "string", "format": "binary"}}}}},
            response={"type": "object", "properties": {
                "n_judgments": {"type": "integer"}, "n_items": {"type": "integer"},
                "n_raters": {"type": "integer"}, "new_raters": {"type": "array", "items": {"type": "string"}},
                "sha256": {"type": "string"}}}, status=201)
def import_judgments(project_id: int):
    """Import judgments made elsewhere (JSONL or CSV, the body or a multipart ``file``); all or nothing.

    One judgment a line: ``external_id``, ``rater`` (an e-mail or an external rater id),
    ``choice`` (a, b, tie in item labels) and optional ``strength`` (1–3), or ``scores`` (every
    criterion) for rubric projects; ``rationale``, ``confidence`` (1–5), optional ``created_at``
    (ISO 8601 with a zone). Optional, in item labels (CSV: JSON text): ``criteria`` (pairwise
    projects with criteria: none, or every key, ``{"choice": "a"|"b"|"tie", "strength": 1-3}``, no strength
    on a tie) and ``notes`` (``[{"label": "a"|"b", "t_in", "t_out", "text"}]``; scripts ``line_in``,
    ``line_out``, ``char_in``, ``char_out``, ``quote``; at most 50, within the media's duration).
    Stored as imported: no assignment, no dwell-time or playback rules.
    Raters without an account get an inactive placeholder account (listed in ``new_raters``).
    A refused file answers 422 with ``details.errors``: every ``line N: …`` problem."""
    project = project_for(project_id, "judgments.import")
    data, filename = uploaded_file("judgments")
    try:
        result = judgment_import.import_judgments(db.session, project, data, filename, actor=current_user,
                                                  now=utcnow())
    except judgment_import.ImportRejected as exc:
        raise ApiError(422, "import_rejected", f"{exc} — nothing was imported.", {"errors": exc.errors}) from None
    return {"n_judgments": result.n_judgments, "n_items": result.n_items, "n_raters": result.n_raters,
            "new_raters": result.new_raters, "sha256": result.sha256}, 201
