"""Builders for the rating tests: projects, synthetic items (asset rows with a set duration, no
real media), raters, and a writer session (SQLite ``BEGIN IMMEDIATE``) for the services.

Test modules import the fixtures they use (``from tests.tasks.rating_factories import wsession``).
With SQLite a writer session holds the write lock from its first statement to its commit: create
users (``make_user``, its own session) before using ``wsession``, or commit it first.
"""
from __future__ import annotations

import io
import itertools
import random
import secrets
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy.orm import object_session

from raters.models import User
from tasks.catalogue.store import asset_store
from tasks.catalogue.models import Asset, Item, ItemExpertise, ItemOutput, Project
from tasks.rating import routing
from tasks.rating.models import PlaybackObservation
from tests.helpers import make_project

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=timezone.utc)
MIME = {"video": "video/mp4", "audio": "audio/ogg", "script": "text/plain; charset=utf-8"}
_counter = itertools.count(1)
# Long enough (≥ 12 words), different enough from each other and from any brief.
VOCAB = ("grading pacing framing rhythm contrast continuity motion blocking texture lighting tempo "
         "clarity staging silhouettes reflections highlights shadows cadence transitions edits "
         "sound mix dialogue ambience horizon camera lens focus depth colour palette grain").split()


def rationale(seed: int, n_words: int = 16) -> str:
    """A distinct rationale per seed: its word 3-shingles barely overlap another seed's."""
    rng = random.Random(seed)
    picked = rng.sample(VOCAB, min(n_words, len(VOCAB)))  # no word repeated: not filler
    return " ".join(picked + [rng.choice(VOCAB) for _ in range(n_words - len(picked))]) + f" note {seed}"


@pytest.fixture
def wsession(app):
    """A writer session for calling the rating services directly."""
    own = app.extensions["database"].writer_sessionmaker()
    yield own
    own.rollback()
    own.close()


def rating_project(session, owner_id: int, *, kind="pairwise", modality="video", members=(), **settings) -> Project:
    owner = session.get(User, owner_id)
    defaults = {"min_rationale_words": 12, "min_media_fraction": 0.8, "gold_rate": 0.0, "audit_rate": 0.0,
                "confidence_threshold": 0.9, "overlap": 3, "max_overlap": 5}
    settings = {**defaults, **settings}
    settings.setdefault("name", f"{kind}-{modality}-{next(_counter)}")
    return make_project(session, owner, kind=kind, modality=modality,
                        members=[session.get(User, m.id) for m in members], **settings)


def make_asset(session, modality: str, duration_s: float | None, *, store=None, text: str | None = None) -> Asset:
    sha = secrets.token_hex(32)
    if text is not None and store is not None:
        stored = store.put(io.BytesIO(text.encode()), "script.txt", 2 * 1024 * 1024)
        sha = stored.sha256
    asset = Asset(sha256=sha, public_id=secrets.token_urlsafe(18), media_kind=modality, mime_type=MIME[modality],
                  size_bytes=1, duration_s=duration_s, duration_source="declared", original_name="synthetic",
                  source_model="secret-model-x", consent="granted")
    session.add(asset)
    session.flush()
    return asset


def make_item(session, project: Project, *, confidence: float | None = None, durations=(10.0, 10.0),
              expertise=(), gold: dict | None = None, prompt: str | None = None, texts=None, store=None,
              commit: bool = True) -> Item:
    """An item with synthetic outputs from models ``gen-alpha``/``gen-beta``."""
    n = next(_counter)
    item = Item(project_id=project.id, external_id=f"it-{n}", prompt=prompt or f"Brief {n}: a quiet harbour at dawn, boats drifting out through thin mist while gulls circle",
                model_confidence=confidence, gold=gold)
    item.expertise_rows = [ItemExpertise(tag=t) for t in expertise]
    labels = "ab" if project.kind == "pairwise" else "a"
    for i, label in enumerate(labels):
        text = texts[i] if texts else None
        asset = make_asset(session, project.modality, durations[i], store=store, text=text)
        item.outputs.append(ItemOutput(label=label, model=f"gen-{'alpha' if label == 'a' else 'beta'}", asset=asset))
    session.add(item)
    session.flush()
    routing.refresh_items(session, [item.id])
    if commit:
        session.commit()
    return item


def observe(session, assignment, seconds_by_side: dict) -> None:
    """Record that the server observed this much playback (seconds by screen side), as the
    page's heartbeats or an API client's media fetches would have."""
    for side, seconds in seconds_by_side.items():
        label = assignment.label_of(side)
        row = session.get(PlaybackObservation, (assignment.id, label))
        if row is None:
            row = PlaybackObservation(assignment_id=assignment.id, label=label, playing=False, bytes_seen=0)
            session.add(row)
        row.heard_s = float(seconds)
    session.flush()


def answer(assignment, *, choice="left", seed=None, playback=None, observed=True, **extra) -> dict:
    """A valid client answer (screen terms) for this assignment: long enough, fully played.
    With ``observed`` the claimed playback is also recorded as observed by the server (in the
    assignment's own session)."""
    durations = {o.label: o.asset.duration_s or 0 for o in assignment.item.outputs}
    if assignment.project.kind == "pairwise":
        data = {"choice": choice, "strength": 2}
        sides = {"left": durations[assignment.left_label], "right": durations[assignment.right_label]}
    else:
        data = {"scores": {c["key"]: c["max"] for c in assignment.project.rubric}}
        sides = {"output": durations["a"]}
    data.update({"confidence": 4, "rationale": rationale(assignment.id if seed is None else seed),
                 "playback": sides if playback is None else playback})
    data.update(extra)
    if observed and isinstance(data["playback"], dict) and assignment.project.modality != "script":
        observe(object_session(assignment), assignment, data["playback"])
    return data


def after(assignment, seconds: float = 600) -> datetime:
    return assignment.served_at + timedelta(seconds=seconds)


def store_for(app):
    return asset_store(app)
