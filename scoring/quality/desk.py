"""What the manager's pages and the API show, as JSON-able dicts: load (``data``), compute (the
pure modules), name the raters. Views and API routes only pick a function and serialise."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pandas as pd
from sqlalchemy.orm import Session

from scoring.quality import data, pipeline
from scoring.quality import panel as qp
from scoring.quality.thresholds import Thresholds
from tasks.catalogue.models import Project
from tasks.rating.item_states import STATES

# A rater sees their own agreement and gold accuracy from this many judgments on.
OWN_FIGURES_MIN_JUDGMENTS = 10
RECENT_JUDGMENTS = 200  # rater detail: the newest judgments listed


@dataclass(frozen=True)
class Loaded:
    project: Project
    panel: qp.Panel
    names: dict


def thresholds_for(project: Project) -> Thresholds:
    """The thresholds a project's flags use (the documented defaults: no per-project overrides
    are stored yet)."""
    return Thresholds()


def load(session: Session, project: Project) -> Loaded:
    frame = data.judgments_frame(session, project)
    panel = qp.build(frame, project.kind, project.rubric or [])
    return Loaded(project, panel, data.rater_names(session, frame["rater"].unique()))


def _named(row: dict, names: dict) -> dict:
    name, email = names.get(int(row["rater"]), ("?", "?"))
    out = {k: v for k, v in row.items() if k != "rater"} | {"rater_id": int(row["rater"]), "name": name,
                                                            "email": email}
    for key in ("first_at", "last_at"):
        out[key] = out[key].isoformat() if isinstance(out[key], pd.Timestamp) else None
    return out


def panel_overview(session: Session, project: Project) -> dict:
    loaded = load(session, project)
    t = thresholds_for(project)
    rows = [_named(r, loaded.names) for r in qp.rater_rows(loaded.panel, t)]
    return {"project_id": project.id, "kind": project.kind, "thresholds": t.as_dict(), "raters": rows,
            "panel": {"n_judgments": int(len(loaded.panel.frame)), "tie_share": loaded.panel.tie_share,
                      "score_variance": loaded.panel.score_variance}}


def _presented(row, kind: str) -> dict | None:
    """The sides as the rater saw them (live pairwise judgments), with the models behind them."""
    if kind != "pairwise" or row.left_label not in ("a", "b"):
        return None
    right = "b" if row.left_label == "a" else "a"
    model = {"a": row.model_a, "b": row.model_b}
    return {"left": {"label": row.left_label, "model": model[row.left_label]},
            "right": {"label": right, "model": model[right]}}


def _judgment_json(row, kind: str) -> dict:
    presented = _presented(row, kind)
    side = None
    if presented and row.choice in ("a", "b"):
        side = "left" if row.choice == row.left_label else "right"
    return {"judgment_id": int(row.judgment), "item_id": int(row.item), "created_at": row.created_at.isoformat(),
            "source": row.source, "choice": row.choice, "side": side, "scores": row.scores,
            "rationale": row.rationale, "notes": int(row.notes), "presented": presented,
            "time_s": None if pd.isna(row.time_s) else float(row.time_s),
            "media_s": None if pd.isna(row.media_s) else float(row.media_s),
            "is_gold": bool(row.is_gold), "gold_correct": None if row.gold_correct is None else bool(row.gold_correct),
            "agrees_with_panel": None if pd.isna(row.agrees) else float(row.agrees)}


def rater_detail(session: Session, project: Project, rater_id: int) -> dict | None:
    loaded = load(session, project)
    rows = loaded.panel.frame[loaded.panel.frame["rater"] == rater_id]
    if rows.empty:
        return None
    figures = qp.rater_figures(loaded.panel, rater_id, thresholds_for(project))
    newest = rows.iloc[::-1].head(RECENT_JUDGMENTS)
    return {**_named(figures, loaded.names), "weekly": qp.weekly(loaded.panel, rater_id),
            "judgments": [_judgment_json(r, project.kind) for r in newest.itertuples()],
            "gold_results": [_judgment_json(r, project.kind) for r in rows[rows["is_gold"]].itertuples()]}


def own_figures(session: Session, project: Project, rater_id: int) -> dict | None:
    """A rater's agreement and gold accuracy for their home page (None below the minimum).
    Reads only the items they judged: the others' consensus there is all it needs."""
    frame = data.judgments_frame(session, project, items_of=rater_id)
    rows = frame[frame["rater"] == rater_id]
    if len(rows) < OWN_FIGURES_MIN_JUDGMENTS:
        return None
    panel = qp.build(frame, project.kind, project.rubric or [])
    figures = qp.rater_figures(panel, rater_id, thresholds_for(project))
    return {"n": figures["n"], "agreement": figures["agreement"], "gold": figures["gold"]}


def items_page(session: Session, project: Project, now: datetime, *, state: str | None, query: str | None) -> list[dict]:
    items = data.items_frame(session, project, now)
    if state:
        items = items[items["state"] == state]
    if query:
        q = query.lower()
        items = items[items["external_id"].str.lower().str.contains(q, regex=False)
                      | items["prompt"].str.lower().str.contains(q, regex=False)]
    return [_item_json(r) for r in items.to_dict("records")]


def _item_json(row: dict) -> dict:
    row = {k: (None if isinstance(v, float) and v != v else v) for k, v in row.items()}
    return {k: row[k] for k in ("item_id", "external_id", "prompt", "state", "model_confidence", "n_judgments",
                                "target", "n_open", "n_skipped", "agreement", "consent_ok", "audited")}


def progress(session: Session, project: Project, now: datetime) -> dict:
    items = data.items_frame(session, project, now)
    out = pipeline.progress(items, data.votes_frame(session, project), pd.Timestamp(now))
    return {"project_id": project.id, "states_order": list(STATES), **out, "funnel": pipeline.funnel(items)}


def calibration(session: Session, project: Project, now: datetime) -> dict:
    items = data.items_frame(session, project, now)
    out = {"project_id": project.id, "kind": project.kind, "supported": project.kind == "pairwise"}
    if project.kind != "pairwise":
        return {**out, "reason": "the confidence gate is calibrated against a model's preferred output, "
                                 "which only pairwise items have"}
    consensus = data.item_consensus(session, data.votes_frame(session, project), project)
    return {**out, **pipeline.calibration(items, consensus, threshold=project.confidence_threshold,
                                           overlap=project.overlap)}
