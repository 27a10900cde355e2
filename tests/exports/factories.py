"""Builders for the export tests: items whose assets' bytes are really in the asset store (the
export copies or reads them), raters and judgments written straight into the tables."""
from __future__ import annotations

import hashlib
import io
import itertools
import secrets
from datetime import timedelta

from database import utcnow
from raters.models import User
from tasks.catalogue.store import asset_store
from tasks.catalogue.models import Asset, Item, ItemOutput, Project
from tasks.rating.models import Adjudication, Assignment, Judgment
from tests.helpers import make_project

_n = itertools.count(1)
RUBRIC = [{"key": "coherence", "label": "Coherence", "min": 1, "max": 5, "levels": {"1": "no", "5": "yes"}},
          {"key": "dialogue", "label": "Dialogue", "min": 1, "max": 5, "levels": {"1": "no", "5": "yes"}}]
MIME = {"video": "video/mp4", "audio": "audio/wav", "script": "text/plain"}


def project(session, owner_id: int, *, kind="pairwise", modality="script", **settings) -> Project:
    owner = session.get(User, owner_id)
    settings.setdefault("name", f"export-{kind}-{modality}-{next(_n)}")
    if kind == "rubric":
        settings.setdefault("rubric", RUBRIC)
    return make_project(session, owner, kind=kind, modality=modality, **settings)


def rater(session, *, active=True) -> User:
    n = next(_n)
    user = User(email=f"r{n}@raters.example", name=f"Rater {n}", role="rater", password_hash=None,
                active=active, senior=False, session_version=1)
    session.add(user)
    session.flush()
    return user


def asset(session, app, modality: str, content: str, consent="granted", license="CC-BY-4.0") -> Asset:
    data = content.encode()
    sha = hashlib.sha256(data).hexdigest()
    asset_store(app).put(io.BytesIO(data), "content", len(data))
    row = Asset(sha256=sha, public_id=secrets.token_urlsafe(18), media_kind=modality, mime_type=MIME[modality],
                size_bytes=len(data), duration_s=None if modality == "script" else 4.0, original_name="x",
                consent=consent, license=license)
    session.add(row)
    session.flush()
    return row


def item(session, app, proj: Project, models=("gen-a", "gen-b"), *, consent=("granted", "granted"),
         external_id=None, gold=None) -> Item:
    n = next(_n)
    row = Item(project_id=proj.id, external_id=external_id or f"it-{n}", prompt=f"Write scene {n}.", gold=gold)
    labels = "ab" if proj.kind == "pairwise" else "a"
    for label, model, state in zip(labels, models, consent):
        media = asset(session, app, proj.modality, f"{model} output {label} of item {n}", consent=state)
        row.outputs.append(ItemOutput(label=label, model=model, asset=media))
    session.add(row)
    session.flush()
    return row


def judge(session, it: Item, who: User, choice=None, strength=None, scores=None, *, live=True, left="b",
          playback=None, when=None) -> Judgment:
    now = when or utcnow()
    assignment_id = None
    if live:
        assignment = Assignment(project_id=it.project_id, item_id=it.id, rater_id=who.id,
                                served_at=now - timedelta(minutes=5), expires_at=now + timedelta(minutes=25),
                                left_label=left if choice is not None else "a", status="submitted",
                                submitted_at=now, closed_at=now)
        session.add(assignment)
        session.flush()
        assignment_id = assignment.id
    if choice in ("a", "b") and strength is None:
        strength = 2
    row = Judgment(project_id=it.project_id, item_id=it.id, rater_id=who.id, assignment_id=assignment_id,
                   choice=choice, strength=strength, scores=scores, rationale=f"reason {next(_n)}", confidence=4,
                   time_on_task_ms=60_000 if live else None, playback=playback, source="live" if live else "imported",
                   created_at=now)
    session.add(row)
    session.flush()
    return row


def adjudicate(session, it: Item, choice=None, scores=None) -> Adjudication:
    row = Adjudication(project_id=it.project_id, item_id=it.id, choice=choice, scores=scores, rationale="decided")
    session.add(row)
    session.flush()
    return row
