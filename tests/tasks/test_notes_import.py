"""Judgment import with per-criterion choices and time-coded notes (item labels): written whole,
or — any bad line — nothing, with the line and the reason; CSV carries both as JSON text."""
from __future__ import annotations

import csv
import io
import json

import pytest
from sqlalchemy import func, select

from tasks.rating.models import Judgment
from tests.helpers import jsonl
from tests.scoring.stats_factories import item, stats_project

URL = "/api/v1/projects/{}/judgments/import"
CRITERIA = [{"key": "motion", "name": "Motion coherence", "description": ""},
            {"key": "sync", "name": "Sound sync", "description": ""}]


@pytest.fixture
def project(session, make_user):
    manager = make_user("manager")
    project = stats_project(session, manager.id, overlap=2, max_overlap=3, pairwise_criteria=CRITERIA)
    item(session, project, external_id="alley-017")  # 1 s clips, no frame rate known
    session.commit()
    return project


def row(**fields) -> dict:
    base = {"external_id": "alley-017", "rater": "ana@studio.example", "choice": "a", "strength": 2,
            "rationale": "The left take keeps the reflections steady.", "confidence": 4,
            "criteria": {"motion": {"choice": "a", "strength": 3}, "sync": {"choice": "tie"}},
            "notes": [{"label": "b", "t_in": 0.25, "t_out": 0.5, "text": "ghosting on the turn"}]}
    return {k: v for k, v in {**base, **fields}.items() if v is not ...}


def test_criteria_and_notes_are_imported_in_item_labels(api, session, project):
    client, _ = api("researcher")
    response = client.post(URL.format(project.id), data=jsonl(row()), content_type="application/x-ndjson")
    assert response.status_code == 201, response.json
    stored = session.scalar(select(Judgment))
    assert stored.criteria == {"motion": {"choice": "a", "strength": 3}, "sync": {"choice": "tie", "strength": None}}
    assert stored.notes == [{"label": "b", "t_in": 0.25, "t_out": 0.5, "frame_in": None, "frame_out": None,
                             "text": "ghosting on the turn"}]


def test_csv_carries_criteria_and_notes_as_json_text(api, session, project):
    client, _ = api("researcher")
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(row()))
    record = row()
    writer.writeheader()
    writer.writerow({**record, "criteria": json.dumps(record["criteria"]), "notes": json.dumps(record["notes"])})
    response = client.post(URL.format(project.id), data={"file": (io.BytesIO(buffer.getvalue().encode()), "j.csv")},
                           content_type="multipart/form-data")
    assert response.status_code == 201, response.json
    assert session.scalar(select(Judgment)).notes[0]["label"] == "b"


def test_judgments_made_without_criteria_may_come_without_them(api, session, project):
    client, _ = api("researcher")
    response = client.post(URL.format(project.id), data=jsonl(row(criteria=..., notes=...)),
                           content_type="application/x-ndjson")
    assert response.status_code == 201, response.json
    stored = session.scalar(select(Judgment))
    assert stored.criteria is None and stored.notes is None


@pytest.mark.parametrize("fields, message", [
    ({"criteria": {"motion": {"choice": "a"}}}, "line 2: criteria.sync: Sound sync: choose a, b or tie"),
    ({"criteria": {"motion": {"choice": "left", "strength": 1}, "sync": {"choice": "tie"}}}, "criteria.motion: Motion coherence: choose a, b or tie"),
    ({"criteria": {"motion": {"choice": "tie", "strength": 2}, "sync": {"choice": "tie"}}}, "a tie has no strength"),
    ({"criteria": {"motion": {"choice": "a"}, "sync": {"choice": "b"}, "pace": {"choice": "a"}}}, "unknown criterion: pace"),
    ({"notes": [{"label": "b", "t_in": 2.0, "text": "x"}]}, "line 2: notes: note 1: 2 s is past the end of the media (1 s)"),
    ({"notes": [{"label": "left", "t_in": 0.1, "text": "x"}]}, "notes: note 1: label must be one of a, b"),
    ({"notes": [{"label": "a", "t_in": 0.1, "text": ""}]}, "notes: note 1: text is empty"),
    ({"notes": {"label": "a"}}, "notes: notes must be a list of notes"),
])
def test_a_bad_criterion_or_note_rejects_the_whole_file(api, session, project, fields, message):
    client, _ = api("researcher")
    response = client.post(URL.format(project.id), data=jsonl(row(rater="lee"), row(**fields)),
                           content_type="application/x-ndjson")
    assert response.status_code == 422
    errors = response.json["error"]["details"]["errors"]
    assert any(message in e for e in errors), errors
    assert session.scalar(select(func.count()).select_from(Judgment)) == 0
