"""What the manager's pages and the API show, as JSON-able dicts: load (``data``), compute (the
pure modules), name the raters, add their standing (``tasks.rating.standing``); and the one write
of the desk, a project's threshold overrides. Views and API routes only pick a function and
serialise."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pandas as pd
from sqlalchemy.orm import Session

from scoring.quality import data, pipeline
from scoring.quality import panel as qp
from raters.services import audit
from scoring.quality import thresholds
from scoring.quality.thresholds import Thresholds
from tasks.catalogue.models import EXPORTABLE_CONSENT, Project
from tasks.rating.models import Judgment
from tasks.rating import presentation, standing
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
    """The thresholds a project's flags use: the documented defaults with its overrides."""
    return Thresholds.from_overrides(project.quality_thresholds)


class ThresholdsInvalid(ValueError):
    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


def thresholds_settings(project: Project) -> dict:
    """Every threshold: its default, the project's value, whether overridden, what it means."""
    current, defaults, meaning = thresholds_for(project).as_dict(), Thresholds().as_dict(), thresholds.descriptions()
    return {"project_id": project.id, "thresholds": [
        {"name": name, "default": defaults[name], "value": current[name], "overridden": current[name] != defaults[name],
         "whole": name in thresholds.WHOLE, "meaning": meaning.get(name, "")} for name in Thresholds.names()]}


def save_thresholds(session: Session, project: Project, overrides, actor) -> dict:
    """Store a project's overrides (a value equal to its default, or null, drops the override);
    audited. Raises ``ThresholdsInvalid`` and writes nothing when any value is wrong."""
    errors = thresholds.problems(overrides)
    if errors:
        raise ThresholdsInvalid(errors)
    defaults = Thresholds().as_dict()
    merged = {**(project.quality_thresholds or {}), **overrides}
    stored = {k: v for k, v in merged.items() if v is not None and v != defaults[k]}
    project.quality_thresholds = stored or None
    audit(session, actor, "project.quality_thresholds", f"project:{project.id}",
          ", ".join(f"{k}={v}" for k, v in sorted(stored.items())) or "defaults", project_id=project.id)
    session.flush()
    return thresholds_settings(project)


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
    standings = standing.standing_by_rater(session, project)
    rows = [_named(r, loaded.names) | {"standing": standings.get(int(r["rater"]))} for r in qp.rater_rows(loaded.panel, t)]
    return {"project_id": project.id, "kind": project.kind, "thresholds": t.as_dict(), "raters": rows,
            "panel": {"n_judgments": int(len(loaded.panel.frame)), "tie_share": loaded.panel.tie_share,
                      "score_variance": loaded.panel.score_variance, "mace": loaded.panel.mace_fit,
                      "dawid_skene": loaded.panel.ds_fit}}


def flagged_raters(session: Session, project: Project) -> set[int]:
    """Raters whose figures raise any flag (the raters page's highlighted rows)."""
    loaded = load(session, project)
    t = thresholds_for(project)
    return {int(r["rater"]) for r in qp.rater_rows(loaded.panel, t) if r["flags"]}


def _judgment_json(row, kind: str, shown_notes: dict | None = None) -> dict:
    presented = None
    if row.source == "live":  # imported judgments: what was shown is not known
        presented = presentation.sides(kind, row.left_label, {"a": row.model_a, "b": row.model_b})
    side = None
    if presented and "left" in presented and row.choice in ("a", "b"):
        side = "left" if row.choice == row.left_label else "right"
    return {"judgment_id": int(row.judgment), "item_id": int(row.item), "created_at": row.created_at.isoformat(),
            "source": row.source, "choice": row.choice, "side": side, "scores": row.scores,
            "rationale": row.rationale, "notes": int(row.notes), "presented": presented,
            "notes_shown": (shown_notes or {}).get(int(row.judgment), []),
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
    member = standing.membership(session, project, rater_id)
    gold = rows[rows["is_gold"]]
    shown = data.shown_notes(session, project, [*newest["judgment"], *gold["judgment"]])
    return {**_named(figures, loaded.names), "standing": standing.standing_json(project, member) if member else None,
            "weekly": qp.weekly(loaded.panel, rater_id),
            "judgments": [_judgment_json(r, project.kind, shown) for r in newest.itertuples()],
            "gold_results": [_judgment_json(r, project.kind, shown) for r in gold.itertuples()]}


def judgment_as_shown(session: Session, project: Project, rater_id: int, judgment_id: int, store) -> dict | None:
    """One judgment exactly as its rater saw it: the item's outputs in the rater's screen order
    (``tasks.rating.presentation``: the sides of their assignment; label order, said so, for an
    imported judgment), the side they chose, their rationale, confidence, time on task, the
    playback the server observed, and the gold answer when it was a check item."""
    judgment = session.get(Judgment, judgment_id)
    if judgment is None or judgment.project_id != project.id or judgment.rater_id != rater_id:
        return None
    item = judgment.item
    assignment = judgment.assignment
    shown = presentation.presented(assignment, models=True)
    outputs = {o.label: o for o in item.outputs}
    order = ([shown["left"]["label"], shown["right"]["label"]] if shown and "left" in shown
             else sorted(outputs)) if project.kind == "pairwise" else ["a"]
    sides = ("left", "right") if project.kind == "pairwise" else ("output",)
    played = judgment.playback if judgment.source == "live" and isinstance(judgment.playback, dict) else {}
    panes = []
    for side, label in zip(sides, order):
        output = outputs[label]
        asset = output.asset
        text = None
        if asset.media_kind == "script":
            path = store.path_for(asset.sha256)
            text = path.read_text("utf-8", errors="replace") if path.is_file() else ""
        panes.append({"side": side, "label": label, "model": output.model, "public_id": asset.public_id,
                      "mime_type": asset.mime_type, "duration_s": asset.duration_s, "text": text,
                      "observed_s": played.get(label), "chosen": judgment.choice == label,
                      "consent_ok": asset.consent in EXPORTABLE_CONSENT})
    gold = item.gold if isinstance(item.gold, dict) else None
    return {"judgment_id": judgment.id, "item_id": item.id, "external_id": item.external_id, "prompt": item.prompt,
            "source": judgment.source, "created_at": judgment.created_at, "superseded": judgment.superseded_at is not None,
            "sides_known": shown is not None, "panes": panes, "choice": judgment.choice, "strength": judgment.strength,
            "scores": judgment.scores, "rationale": judgment.rationale, "confidence": judgment.confidence,
            "time_s": judgment.time_on_task_ms / 1000 if judgment.time_on_task_ms is not None else None,
            "gold": gold, "served_at": assignment.served_at if assignment else None,
            "notes": data.shown_notes(session, project, [judgment.id]).get(judgment.id, [])}


def own_figures(session: Session, project: Project, rater_id: int) -> dict | None:
    """A rater's agreement and gold accuracy for their home page (None below the minimum).
    Reads only the items they judged: the others' consensus there is all it needs."""
    frame = data.judgments_frame(session, project, items_of=rater_id)
    rows = frame[frame["rater"] == rater_id]
    if len(rows) < OWN_FIGURES_MIN_JUDGMENTS:
        return None
    panel = qp.build(frame, project.kind, project.rubric or [], panel_models=False)
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
    columns = [items[k].astype(object).where(items[k].notna(), None).tolist() for k in ITEM_FIELDS]  # NaN: None
    return [dict(zip(ITEM_FIELDS, row)) for row in zip(*columns)]


ITEM_FIELDS = ("item_id", "external_id", "prompt", "state", "model_confidence", "n_judgments", "target", "n_open",
               "n_skipped", "agreement", "consent_ok", "audited")


def progress(session: Session, project: Project, now: datetime) -> dict:
    items = data.items_frame(session, project, now)
    out = pipeline.progress(items, data.votes_frame(session, project), pd.Timestamp(now))
    excluded = data.excluded_by_item(session, project)
    items["n_excluded"] = [excluded.get(i, 0) for i in items["item_id"]]
    return {"project_id": project.id, "states_order": list(STATES), **out,
            "funnel": pipeline.funnel(items, data.judgment_counts(session, project, excluded))}


def calibration(session: Session, project: Project, now: datetime) -> dict:
    items = data.items_frame(session, project, now)
    out = {"project_id": project.id, "kind": project.kind, "supported": project.kind == "pairwise"}
    if project.kind != "pairwise":
        return {**out, "reason": "the confidence gate is calibrated against a model's preferred output, "
                                 "which only pairwise items have"}
    consensus = data.item_consensus(session, data.votes_frame(session, project), project)
    return {**out, **pipeline.calibration(items, consensus, threshold=project.confidence_threshold,
                                           overlap=project.overlap)}
