"""Exports carry the raters' time-coded notes (item labels, frames, timecodes, pseudonymous
author) and per-criterion choices: per judgment in ``ratings``, the panel's winners relative to
the pair in ``preferences`` — and the dataset card says what they mean."""
from __future__ import annotations

import pyarrow.parquet as pq
import pytest
from sqlalchemy import select

from tasks.catalogue.models import Asset
from tests.exports.factories import item, judge, project, rater

CRITERIA = [{"key": "motion", "name": "Motion coherence", "description": ""},
            {"key": "sync", "name": "Sound sync", "description": ""}]


@pytest.fixture
def clips(app, session, make_user):
    manager = make_user("manager")
    proj = project(session, manager.id, modality="video", pairwise_criteria=CRITERIA)
    it = item(session, app, proj, external_id="win")
    for media in session.scalars(select(Asset)):
        media.frame_rate = 25.0
    raters = [rater(session) for _ in range(3)]
    answers = [("a", {"motion": "a", "sync": "b"}), ("a", {"motion": "a", "sync": "b"}), ("b", {"motion": "tie", "sync": "b"})]
    for who, (choice, crit) in zip(raters, answers):
        j = judge(session, it, who, choice)
        j.criteria = {k: {"choice": v, "strength": None if v == "tie" else 1} for k, v in crit.items()}
    j.notes = [{"label": "b", "t_in": 1.2, "t_out": 2.0, "frame_in": 30, "frame_out": 50, "text": "lip sync drifts"}]
    session.commit()
    return proj


def table(folder, name):
    return pq.read_table(next((folder / "data" / name).glob("*.parquet"))).to_pylist()


def test_ratings_carry_each_judgments_notes_and_criteria(build, clips):
    _export, folder = build(clips.id, kind="ratings")
    rows = table(folder, "ratings")
    noted = [r for r in rows if r["notes"]]
    assert len(rows) == 3 and len(noted) == 1
    note = noted[0]["notes"][0]
    assert note == {"author": noted[0]["rater"], "label": "b", "model": "gen-b", "t_in": 1.2, "t_out": 2.0,
                    "frame_in": 30, "frame_out": 50, "timecode_in": "00:00:01:05", "timecode_out": "00:00:02:00",
                    "line_in": None, "line_out": None, "char_in": None, "char_out": None, "quote": None,
                    "text": "lip sync drifts", "created_at": note["created_at"]}
    assert noted[0]["criteria"] == [{"key": "motion", "choice": "tie", "strength": None},
                                    {"key": "sync", "choice": "b", "strength": 1}]


def test_preferences_carry_the_panels_per_criterion_winners_and_all_notes(build, clips):
    _export, folder = build(clips.id, kind="preferences")
    (row,) = table(folder, "preferences")
    assert row["chosen_model"] == "gen-a" and len(row["notes"]) == 1
    assert row["criteria"] == [
        {"key": "motion", "winner": "chosen", "winner_model": "gen-a", "share": pytest.approx(2 / 3), "n_judgments": 3},
        {"key": "sync", "winner": "rejected", "winner_model": "gen-b", "share": 1.0, "n_judgments": 3}]
    card = (folder / "README.md").read_text()
    assert "time-coded notes" in card and "winner (chosen / rejected / tie" in card


def test_one_row_per_judgment_has_that_judgments_own_criteria(build, clips):
    _export, folder = build(clips.id, kind="preferences", mode="judgments")
    rows = table(folder, "preferences")
    by_choice = sorted((r["chosen_model"], [c["winner"] for c in r["criteria"]]) for r in rows)
    assert by_choice == [("gen-a", ["chosen", "rejected"]), ("gen-a", ["chosen", "rejected"]), ("gen-b", ["tie", "chosen"])]
