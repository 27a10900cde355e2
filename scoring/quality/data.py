"""The one rater-quality module that reads the database: a project's current judgments as the
frame :mod:`scoring.quality.panel` takes, its items' states, rater names, and the panel's label
of each item. Queries here; figures in the pure modules."""
from __future__ import annotations

import json
from datetime import datetime

import numpy as np
import pandas as pd
import pyarrow as pa
from sqlalchemy import Text, case, cast, func, select
from sqlalchemy.orm import Session

from raters.models import User
from scoring.quality import panel as qp
from scoring.reports.data import counted_judgments, read_frame
from scoring.stats.consensus import majority_vote
from tasks.catalogue.models import Asset, Item, ItemOutput, Project
from tasks.rating import item_states, notes, presentation
from tasks.rating.models import Adjudication, Assignment, Judgment
from tasks.rating.consent import unusable_output_sql
from tasks.rating.overlap import gold_correct, tolerance
from tasks.rating.routing import is_gold_sql
from tasks.rating.standing import excluded_raters_sql


def _outputs_query(project: Project):
    return (select(ItemOutput.item_id, ItemOutput.label, ItemOutput.model, Asset.duration_s)
            .join(Asset, Asset.id == ItemOutput.asset_id).join(Item, Item.id == ItemOutput.item_id)
            .where(Item.project_id == project.id))


def _outputs(session: Session, project: Project) -> pd.DataFrame:
    """The project's outputs: ``item``, ``label``, ``model``, ``duration_s`` (NaN when unknown)."""
    return read_frame(session, _outputs_query(project), {"item": pa.int64(), "label": pa.string(),
                                                         "model": pa.string(), "duration_s": pa.float64()})


def _output_rows(session: Session, project: Project) -> pd.DataFrame:
    """:func:`_outputs` from the rows, each taken in Python (the reference of the tests)."""
    rows = session.execute(_outputs_query(project)).all()
    return pd.DataFrame.from_records(rows, columns=["item", "label", "model", "duration_s"])


def item_facts(session: Session, project: Project, outputs: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per item: ``model_a``, ``model_b``, ``media_s`` (the judging rule's duration: the longer
    clip, or both scripts' reading time) and ``gold`` (the expected answer, or None)."""
    outputs = _outputs(session, project) if outputs is None else outputs
    gold = dict(session.execute(select(Item.id, Item.gold).where(Item.project_id == project.id, is_gold_sql())).all())
    if outputs.empty:
        return pd.DataFrame(columns=["model_a", "model_b", "media_s", "gold"])
    models = outputs.pivot(index="item", columns="label", values="model").reindex(columns=["a", "b"])
    # The judging rule's duration (tasks.rating.judging.required_dwell_s at fraction 1): the
    # longer clip, or the sum of two scripts' reading times; unknown durations left out.
    durations = outputs.groupby("item")["duration_s"]
    media = durations.sum(min_count=1) if project.modality == "script" else durations.max()
    facts = pd.DataFrame({"model_a": models["a"], "model_b": models["b"]})
    facts["media_s"] = media.reindex(facts.index).where(lambda d: d > 0)
    facts["gold"] = facts.index.map(gold.get)
    return facts


def _json_type(session: Session, column):
    """The JSON type name of a JSON column's value (``object``, ``array``, …; NULL for NULL)."""
    return (func.json_typeof if session.get_bind().dialect.name == "postgresql" else func.json_type)(column)


def judgments_frame(session: Session, project: Project, *, items_of: int | None = None) -> pd.DataFrame:
    """Every current judgment of the project in :data:`scoring.quality.panel.COLUMNS` form
    (``items_of``: only those on items this rater judged — enough for their own figures), read
    straight into columns (:func:`scoring.reports.data.read_frame`: on PostgreSQL one ``COPY``
    parsed by pyarrow): the notes counted and the played seconds of each label extracted by the
    database, the stored rationale features kept as their JSON text (parsed for all judgments at
    once by :func:`scoring.quality.measures.stored_features`), the rest per item joined as arrays.
    Only rubric scores (a dict a judgment) and gold answers are read in Python. Equal to
    :func:`judgments_frame_from_rows` (tested)."""
    j, a = Judgment.__table__.c, Assignment.__table__.c
    notes = case((_json_type(session, j.notes) == "array", func.json_array_length(j.notes)), else_=0)
    playback_object = case((_json_type(session, j.playback) == "object", 1), else_=0)
    played = [Judgment.playback[label].as_float() for label in ("a", "b")]
    statement = _current_judgments(
        project, items_of, j.id, j.item_id, j.rater_id, j.source, j.created_at, j.choice, cast(j.scores, Text),
        j.rationale, j.time_on_task_ms, a.left_label, notes, playback_object, *played, cast(j.rationale_features, Text))
    f = read_frame(session, statement, {
        "judgment": pa.int64(), "item": pa.int64(), "rater": pa.int64(), "source": pa.string(),
        "created_at": pa.timestamp("us", tz="UTC"), "choice": pa.string(), "scores": pa.string(),
        "rationale": pa.string(), "time_ms": pa.float64(), "left_label": pa.string(), "notes": pa.int64(),
        "playback_object": pa.int64(), "played_a": pa.float64(), "played_b": pa.float64(),
        "features": pa.string()})
    if f.empty:
        return qp.empty_frame()
    f["scores"] = [json.loads(s) if s is not None else None for s in f["scores"]]
    f["time_s"] = pd.to_numeric(f.pop("time_ms"), errors="coerce") / 1000.0
    for column in ("choice", "left_label", "rationale", "features"):  # missing is None, as the rows have it
        f[column] = f[column].astype(object).where(f[column].notna(), None)
    if project.kind == "rubric":
        f["left_label"] = None
    f["notes"] = f["notes"].astype(np.int64)
    outputs = _outputs(session, project)
    items = f["item"].to_numpy()
    f["watched"] = _watched(f, outputs, items)
    facts = item_facts(session, project, outputs).reindex(items)
    for column in ("model_a", "model_b", "media_s"):
        f[column] = facts[column].to_numpy()
    gold = facts["gold"].to_numpy()
    f["is_gold"] = pd.notna(gold)
    gold_correct_ = np.full(len(f), None, dtype=object)
    tolerances = {c["key"]: tolerance(c["min"], c["max"]) for c in project.rubric or []}
    choices, scores = f["choice"].to_numpy(object), f["scores"].to_numpy(object)
    for i in np.flatnonzero(f["is_gold"].to_numpy()).tolist():  # the gold items' judgments: a few
        gold_correct_[i] = gold_correct(project.kind, choices[i], scores[i], gold[i], tolerances)
    f["gold_correct"] = gold_correct_
    return f[[*qp.COLUMNS, "watched", "features"]]


def _current_judgments(project: Project, items_of: int | None, *columns):
    """``columns`` of the project's current judgments (with their assignment's, outer-joined), in
    id order; ``items_of``: only on the items that rater judged."""
    j, a = Judgment.__table__.c, Assignment.__table__.c
    statement = (select(*columns)
                 .select_from(Judgment.__table__.outerjoin(Assignment.__table__, a.id == j.assignment_id))
                 .where(j.project_id == project.id, j.superseded_at.is_(None))
                 .order_by(j.id))
    if items_of is not None:
        statement = statement.where(j.item_id.in_(select(j.item_id).where(
            j.project_id == project.id, j.rater_id == items_of, j.superseded_at.is_(None))))
    return statement


def _watched(f: pd.DataFrame, outputs: pd.DataFrame, items: np.ndarray) -> np.ndarray:
    """:func:`watched_shares` as arrays: per judgment, the least of ``played / duration`` over its
    item's outputs of known duration, an unplayed label reading as 0; NaN unless the judgment is
    live with a playback object and its item has an output of known duration."""
    known = outputs[(outputs["duration_s"] > 0) & outputs["label"].isin(["a", "b"])]
    shares = []
    for label in ("a", "b"):
        duration = known.loc[known["label"] == label].set_index("item")["duration_s"]
        length = duration.reindex(items).to_numpy(dtype=float)
        played = np.nan_to_num(f[f"played_{label}"].to_numpy(dtype=float, na_value=np.nan), nan=0.0)
        with np.errstate(invalid="ignore", divide="ignore"):
            shares.append(np.where(np.isfinite(length), played / length, np.inf))
    least = np.minimum(*shares)
    usable = (f["source"].to_numpy(object) == "live") & (f["playback_object"].to_numpy() == 1) & np.isfinite(least)
    return np.where(usable, least, np.nan)


def judgments_frame_from_rows(session: Session, project: Project, *, items_of: int | None = None) -> pd.DataFrame:
    """:func:`judgments_frame` from every judgment's row, each value taken from its row in Python
    (the reference its tests compare with)."""
    j, a = Judgment.__table__.c, Assignment.__table__.c  # plain columns: rows as tuples, no ORM loading
    statement = _current_judgments(  # the stored rationale features as their JSON text, as above
        project, items_of, j.id, j.item_id, j.rater_id, j.source, j.created_at, j.choice, j.scores, j.rationale,
        j.time_on_task_ms, a.left_label, j.playback, cast(j.rationale_features, Text), j.notes)
    rows = session.execute(statement).all()
    if not rows:
        return qp.empty_frame()
    f = pd.DataFrame.from_records(rows, columns=["judgment", "item", "rater", "source", "created_at", "choice",
                                                 "scores", "rationale", "time_ms", "left_label", "playback", "features",
                                                 "notes"])
    f["created_at"] = pd.to_datetime(f["created_at"], utc=True, cache=False)  # no uniqueness scan: one per judgment
    f["time_s"] = pd.to_numeric(f.pop("time_ms"), errors="coerce") / 1000.0
    if project.kind == "rubric":
        f["left_label"] = None
    f["notes"] = [len(n) if isinstance(n, list) else 0 for n in f["notes"]]  # time-coded notes per judgment
    outputs = _output_rows(session, project)
    f["watched"] = watched_shares(f, _durations(outputs))
    facts = item_facts(session, project, outputs).reindex(f["item"].to_numpy())
    for column in ("model_a", "model_b", "media_s"):
        f[column] = facts[column].to_numpy()
    gold = facts["gold"].to_numpy()
    f["is_gold"] = [g is not None and g == g for g in gold]
    tolerances = {c["key"]: tolerance(c["min"], c["max"]) for c in project.rubric or []}
    f["gold_correct"] = [gold_correct(project.kind, c, s, g, tolerances) if ok else None
                         for c, s, g, ok in zip(f["choice"], f["scores"], gold, f["is_gold"])]
    return f[[*qp.COLUMNS, "watched", "features"]]


def _durations(outputs: pd.DataFrame) -> dict[int, dict[str, float]]:
    """item id -> {label: seconds} for the outputs of known duration."""
    out: dict[int, dict[str, float]] = {}
    for item_id, label, duration in zip(outputs["item"], outputs["label"], outputs["duration_s"]):
        if duration and duration > 0:
            out.setdefault(int(item_id), {})[label] = float(duration)
    return out


def watched_shares(f: pd.DataFrame, durations: dict) -> list[float]:
    """Per judgment, the least-played output's share of its duration in the playback stored with
    a *live* judgment (what the server observed at submission); NaN for imported judgments (their
    playback is a claim from elsewhere), scripts and unknown durations."""
    out = []
    for source, item, played in zip(f["source"], f["item"], f["playback"]):
        lengths = durations.get(item)
        if source != "live" or not isinstance(played, dict) or not lengths:
            out.append(float("nan"))
            continue
        out.append(min(float(played.get(label) or 0.0) / length for label, length in lengths.items()))
    return out


def _votes_query(project: Project):
    return (select(Judgment.item_id, Judgment.rater_id, Judgment.source, Judgment.created_at, Judgment.choice,
                   is_gold_sql())
            .join(Item, Item.id == Judgment.item_id)
            .where(Judgment.project_id == project.id, Judgment.superseded_at.is_(None)))


def votes_frame(session: Session, project: Project) -> pd.DataFrame:
    """The current judgments' ``item``, ``rater``, ``source``, ``created_at``, ``choice`` and
    ``is_gold``: all that progress and calibration need (no text, no timing), read straight into
    columns (:func:`scoring.reports.data.read_frame`). Equal to :func:`votes_frame_from_rows`."""
    frame = read_frame(session, _votes_query(project), {
        "item": pa.int64(), "rater": pa.int64(), "source": pa.string(), "created_at": pa.timestamp("us", tz="UTC"),
        "choice": pa.string(), "is_gold": pa.bool_()})
    if frame.empty:
        return votes_frame_from_rows(session, project)  # the empty frame's dtypes, as ever
    frame["choice"] = frame["choice"].astype(object).where(frame["choice"].notna(), None)
    frame["is_gold"] = frame["is_gold"].astype(bool)
    return frame


def votes_frame_from_rows(session: Session, project: Project) -> pd.DataFrame:
    """:func:`votes_frame` from the rows, each taken in Python (the reference of the tests)."""
    rows = session.execute(_votes_query(project)).all()
    frame = pd.DataFrame.from_records(rows, columns=["item", "rater", "source", "created_at", "choice", "is_gold"])
    frame["created_at"] = pd.to_datetime(frame["created_at"], utc=True)
    frame["is_gold"] = frame["is_gold"].astype(bool)
    return frame


def rater_names(session: Session, ids) -> dict:
    ids = [int(i) for i in ids]
    if not ids:
        return {}
    return {uid: (name, email) for uid, name, email in
            session.execute(select(User.id, User.name, User.email).where(User.id.in_(ids)))}


def items_frame(session: Session, project: Project, now: datetime) -> pd.DataFrame:
    rows = item_states.item_rows(session, project, now)
    columns = ["item_id", "external_id", "prompt", "model_confidence", "is_gold", "routed", "audited",
               "adjudicated", "flagged", "panel_state", "agreement", "target", "n_judgments", "n_open",
               "n_skipped", "consent_ok", "model_choice", "state"]
    return pd.DataFrame.from_records(rows, columns=columns)


def item_consensus(session: Session, judgments: pd.DataFrame, project: Project) -> dict:
    """item id -> the panel's pairwise label: the adjudicated one, else a clear majority."""
    out = {}
    picked = judgments[~judgments["is_gold"].astype(bool) & judgments["choice"].notna()]
    if len(picked):
        votes = majority_vote(picked[["item", "rater", "choice"]].rename(columns={"choice": "label"}))
        out = dict(zip(votes.loc[~votes["tied"], "item"], votes.loc[~votes["tied"], "label"]))
    for item_id, choice in session.execute(select(Adjudication.item_id, Adjudication.choice)
                                           .where(Adjudication.project_id == project.id)):
        if choice is not None:
            out[item_id] = choice
    return out


def excluded_by_item(session: Session, project: Project) -> dict[int, int]:
    """item id -> its current judgments by raters a manager excluded from statistics."""
    return dict(session.execute(
        select(Judgment.item_id, func.count()).where(
            Judgment.project_id == project.id, Judgment.superseded_at.is_(None),
            Judgment.rater_id.in_(excluded_raters_sql(project.id))).group_by(Judgment.item_id)).all())


def judgment_counts(session: Session, project: Project, excluded: dict[int, int]) -> dict:
    """The project's current judgments and what the statistics count of them
    (``scoring.reports.data.counted_judgments``, the one selection they use), with why the rest
    are left out: their rater was excluded (``excluded``: :func:`excluded_by_item`), or an output
    of their item lacks consent (judgments of raters not excluded)."""
    def n(*where) -> int:
        return int(session.scalar(select(func.count()).select_from(Judgment).where(*where)))
    current = [Judgment.project_id == project.id, Judgment.superseded_at.is_(None)]
    withdrawn = select(Item.id).where(Item.project_id == project.id, unusable_output_sql())
    return {"current": n(*current), "counted": n(*counted_judgments(project)),
            "excluded_rater": int(sum(excluded.values())),
            "consent": n(*current, Judgment.item_id.in_(withdrawn),
                         Judgment.rater_id.not_in(excluded_raters_sql(project.id)))}


def shown_notes(session: Session, project: Project, judgment_ids) -> dict[int, list[dict]]:
    """judgment id -> its time-coded notes as its rater saw them (``tasks.rating.notes.note_json``
    with the side of their screen from the stored presentation — None for an imported judgment —
    and timecodes at each output's frame rate) and each note's ``anchor`` in the rating page's
    words; judgments without notes left out."""
    ids = [int(i) for i in judgment_ids]
    if not ids:
        return {}
    rows = session.execute(
        select(Judgment.id, Judgment.item_id, Judgment.notes, Judgment.source, Assignment.left_label)
        .outerjoin(Assignment, Assignment.id == Judgment.assignment_id)
        .where(Judgment.project_id == project.id, Judgment.id.in_(ids), Judgment.notes.isnot(None))).all()
    rows = [r for r in rows if isinstance(r.notes, list) and r.notes]
    rates: dict[int, dict[str, float | None]] = {}
    if rows:
        for item_id, label, rate in session.execute(
                select(ItemOutput.item_id, ItemOutput.label, Asset.frame_rate).join(Asset, Asset.id == ItemOutput.asset_id)
                .where(ItemOutput.item_id.in_({r.item_id for r in rows}))):
            rates.setdefault(item_id, {})[label] = rate
    out = {}
    for r in rows:
        shown = presentation.sides(project.kind, r.left_label, None) if r.source == "live" else None
        side_of = {v["label"]: k for k, v in shown.items()}.get if shown else None
        out[r.id] = [{**n, "anchor": notes.anchor_text(n)}
                     for n in (notes.note_json(note, side_of, rates.get(r.item_id, {})) for note in r.notes)]
    return out
