"""The desk's loaders read columns (``scoring.reports.data.read_frame``: COPY and pyarrow on
PostgreSQL) and parse the stored rationale features for all judgments at once; the pages they
feed equal those built from the old row-by-row loaders, whatever the data: text COPY must escape
or could read as NULL, missing and stale features, odd playback and notes, unknown durations,
items without outputs, gold items, superseded judgments and excluded raters."""
from __future__ import annotations

import json
import math
import secrets
from datetime import timedelta

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import update

from database import utcnow
from scoring.quality import data, desk, measures
from tasks.catalogue.models import Asset, Item, ItemOutput, ProjectMember
from tasks.rating import overlap
from tasks.rating.answers import rationale_features
from tasks.rating.models import Judgment
from tests.scoring.stats_factories import adjudicate, judge, rater, revise, stats_project

AWKWARD = ["tab\there", "line\nbreak", 'quote " and , comma', "back\\slash \\N", "\\N", "", "ünïcode ✓ at 0:12",
           "NA", "null", "para\u2028graph sep", "  leading and trailing  ", "frame 40 shows the seam"]


@pytest.fixture
def manager(make_user):
    return make_user("manager")


def _item(session, project, durations, *, gold=None, extra=None, confidence=None):
    """An item whose outputs last ``durations`` (label -> seconds or None; empty: no outputs)."""
    row = Item(project_id=project.id, external_id=f"it-{secrets.token_hex(3)}\t\"x\"", prompt="Brief\n\\N",
               gold=gold, extra=extra, model_confidence=confidence)
    for label, seconds in durations.items():
        asset = Asset(sha256=secrets.token_hex(32), public_id=secrets.token_urlsafe(18), media_kind="video",
                      mime_type="video/mp4", size_bytes=1, duration_s=seconds, original_name="x", consent="granted")
        row.outputs.append(ItemOutput(label=label, model=f"gen-{label}\\", asset=asset))
    session.add(row)
    session.flush()
    return row


PLAYBACKS = [{"a": 4.0, "b": 9.5}, {"a": 0}, None, {"a": None, "b": 3.25}, {}, {"b": 20.0}]
NOTES = [None, [], [{"label": "a", "t_in": 1.0}, {"label": "b", "t_in": 2.5}], [{"label": "a", "t_in": 0.0}]]


def _awkward_panel(session, project, *, scores_of=None):
    """Judgments of four raters (one excluded) on items of every kind, with awkward text, playback,
    notes and features; returns the raters."""
    raters = [rater(session, name) for name in ("Ana\t", "Bo\\N", "Çem", "Dee")]
    session.add(ProjectMember(project_id=project.id, user_id=raters[3].id, excluded=True))
    pairwise = project.kind == "pairwise"
    labels = ("a", "b") if pairwise else ("a",)
    items = [_item(session, project, dict(zip(labels, d)))
             for d in ((8.0, 12.5), (None, 6.0), (0.0, 0.0), (None, None), (3.0, 3.0), (10.0, 10.0))]
    items.append(_item(session, project, {}))  # no outputs
    gold_answer = {"choice": "a"} if pairwise else {"scores": {"coherence": 4}}
    items.append(_item(session, project, dict(zip(labels, (5.0, 5.0))), gold=gold_answer))
    items.append(_item(session, project, dict(zip(labels, (5.0, 5.0))), extra={"model_choice": "b"}, confidence=0.95))
    adjudicate(session, items[4], choice="b" if pairwise else None, scores=None if pairwise else {"coherence": 2})
    when = utcnow().replace(microsecond=123457)
    k = 0
    for it in items:
        for r, who in enumerate(raters):
            k += 1
            choice = ["a", "b", "tie"][(k + r) % 3] if pairwise else None
            scores = None if pairwise else (scores_of or (lambda k: {"coherence": 1 + k % 5, "dialogue": 1 + k % 3}))(k)
            j = judge(session, it, who, choice, scores=scores, source="live" if k % 3 else "imported",
                      when=when - timedelta(days=k % 9, microseconds=k * 7919))
            j.rationale = AWKWARD[k % len(AWKWARD)] + ("" if k % 5 else " at 0:07")
            j.time_on_task_ms = None if j.source == "imported" else 1000 * (3 + k % 11) + k
            j.playback = PLAYBACKS[k % len(PLAYBACKS)]
            j.notes = NOTES[k % len(NOTES)]
            j.rationale_features = rationale_features(j.rationale)
            if k % 7 == 0:
                revise(session, j, "b" if pairwise else None, scores=None if pairwise else {"coherence": 3, "dialogue": 3})
    session.flush()
    ids = sorted(session.scalars(Judgment.__table__.select().with_only_columns(Judgment.id)
                                 .where(Judgment.project_id == project.id)))
    # Features missing (a row written past the ORM), of another version, or a playback not an object.
    session.execute(update(Judgment).where(Judgment.id.in_(ids[::5])).values(rationale_features=None))
    session.execute(update(Judgment).where(Judgment.id.in_(ids[1::11])).values(
        rationale_features={"v": 0, "words": 99, "shingles": [1]}))
    session.execute(update(Judgment).where(Judgment.id.in_(ids[2::13])).values(playback=[1, 2]))
    overlap.refresh_project(session, project)  # the items' panel states and agreement
    session.commit()
    return raters


def _old_loaders(monkeypatch):
    monkeypatch.setattr(data, "judgments_frame", data.judgments_frame_from_rows)
    monkeypatch.setattr(data, "votes_frame", data.votes_frame_from_rows)
    monkeypatch.setattr(data, "_outputs", data._output_rows)
    monkeypatch.setattr(measures, "stored_features", measures.stored_features_from_rows)


def _pages(session, project, raters, now):
    out = {"panel": desk.panel_overview(session, project),
           "progress": desk.progress(session, project, now), "calibration": desk.calibration(session, project, now),
           "items": desk.items_page(session, project, now, state=None, query=None)}
    for who in raters:
        out[f"detail {who.id}"] = desk.rater_detail(session, project, who.id)
        out[f"own {who.id}"] = desk.own_figures(session, project, who.id)
    return out


def _same(a, b, path="") -> None:
    """Equal dicts/lists, NaN equal to NaN, floats to rounding."""
    if isinstance(a, dict) and isinstance(b, dict):
        assert a.keys() == b.keys(), path
        for key in a:
            _same(a[key], b[key], f"{path}.{key}")
    elif isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b)):
            _same(x, y, f"{path}[{i}]")
    elif isinstance(a, float) and isinstance(b, float):
        assert (math.isnan(a) and math.isnan(b)) or a == pytest.approx(b, rel=1e-12, abs=1e-12), path
    else:
        assert type(a) is type(b) and a == b, (path, a, b)


@pytest.mark.parametrize("kind", ["pairwise", "rubric"])
def test_the_desk_pages_equal_those_of_the_row_by_row_loaders_whatever_the_data(session, manager, monkeypatch, kind):
    project = stats_project(session, manager.id, kind=kind, confidence_threshold=0.9, audit_rate=0.0)
    raters = _awkward_panel(session, project)
    now = utcnow()
    frame, rows = data.judgments_frame(session, project), data.judgments_frame_from_rows(session, project)
    pd.testing.assert_frame_equal(frame, rows)
    assert frame["features"].isna().any() and frame["watched"].notna().any() and frame["is_gold"].any()
    assert set(AWKWARD) <= {r.removesuffix(" at 0:07") for r in frame["rationale"]}
    for who in raters:
        pd.testing.assert_frame_equal(data.judgments_frame(session, project, items_of=who.id),
                                      data.judgments_frame_from_rows(session, project, items_of=who.id))
    pd.testing.assert_frame_equal(data.votes_frame(session, project), data.votes_frame_from_rows(session, project))
    pd.testing.assert_frame_equal(data._outputs(session, project), data._output_rows(session, project),
                                  check_dtype=False)
    texts = [t or "" for t in frame["rationale"]]
    for new, old in zip(measures.stored_features(texts, frame["features"]),
                        measures.stored_features_from_rows(texts, frame["features"])):
        assert new.dtype == old.dtype and np.array_equal(new, old)
    pages = _pages(session, project, raters, now)
    with monkeypatch.context() as patched:
        _old_loaders(patched)
        before = _pages(session, project, raters, now)
    _same(pages, before)
    rows = [{k: None if isinstance(v, float) and v != v else v for k, v in row.items()}  # the items page as it was
            for row in data.items_frame(session, project, now).to_dict("records")]
    _same(pages["items"], [{k: row[k] for k in desk.ITEM_FIELDS} for row in rows])
    assert {row["model_confidence"] for row in pages["items"]} == {None, 0.95}
    assert any(isinstance(row["agreement"], float) for row in pages["items"])
    assert pages["panel"]["raters"] and pages[f"detail {raters[0].id}"]["judgments"]


def test_an_empty_project_loads_the_same_empty_frames(session, manager):
    project = stats_project(session, manager.id)
    _item(session, project, {"a": 1.0, "b": 1.0})
    session.commit()
    pd.testing.assert_frame_equal(data.judgments_frame(session, project), data.judgments_frame_from_rows(session, project))
    pd.testing.assert_frame_equal(data.votes_frame(session, project), data.votes_frame_from_rows(session, project))


def test_stored_features_are_read_at_once_and_the_rest_computed_from_the_text():
    """The stored layout is parsed without a Python call per text (equal to the one-by-one
    reading); a dict, None, another version, a garbled or a past-63-bit hash list is recomputed
    from its text, never misread."""
    texts = ["the left clip stutters at 0:12 near the end", "the left clip stutters at 0:12 near the end",
             "a b", "", "one two three four", "short"]
    good = [json.dumps(rationale_features(t)) for t in texts]
    stored = [good[0], None, rationale_features(texts[2]), good[3],
              good[4].replace('"shingles": [', '"shingles": [9300000000000000000, '),
              '{"v": 1, "words": 1, "moment": false, "shingles": [1,,2]}']
    words, moment, flat, sizes = measures.stored_features(texts, stored)
    expected = [rationale_features(t) for t in texts]
    assert words.tolist() == [f["words"] for f in expected] and moment.tolist() == [f["moment"] for f in expected]
    assert sizes.tolist() == [len(f["shingles"]) for f in expected]
    assert flat.tolist() == [h for f in expected for h in f["shingles"]]
    assert [a.tolist() for a in measures.stored_features(texts, good)] == [words.tolist(), moment.tolist(),
                                                                           flat.tolist(), sizes.tolist()]
