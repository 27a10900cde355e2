"""Builders for the statistics tests: items with chosen models, raters, and judgments written
straight into the tables (live ones with their assignment, imported ones without), so each test
states exactly which judgments exist."""
from __future__ import annotations

import itertools
import secrets
from datetime import timedelta

from database import utcnow
from raters.models import User
from tasks.catalogue.models import Asset, Item, ItemOutput, Project
from tasks.rating.models import Adjudication, Assignment, Judgment
from tests.helpers import make_project

_n = itertools.count(1)
RUBRIC3 = [{"key": "coherence", "label": "Coherence", "min": 1, "max": 5, "levels": {"1": "no", "5": "yes"}},
           {"key": "dialogue", "label": "Dialogue", "min": 1, "max": 5, "levels": {"1": "no", "5": "yes"}}]


def stats_project(session, owner_id: int, *, kind="pairwise", **settings) -> Project:
    owner = session.get(User, owner_id)
    settings.setdefault("name", f"stats-{kind}-{next(_n)}")
    if kind == "rubric":
        settings.setdefault("rubric", RUBRIC3)
    return make_project(session, owner, kind=kind, modality="video", **settings)


def rater(session, name: str | None = None) -> User:
    n = next(_n)
    user = User(email=f"{name or 'r'}{n}@raters.example", name=name or f"Rater {n}", role="rater",
                password_hash=None, active=True, senior=False, session_version=1)
    session.add(user)
    session.flush()
    return user


def item(session, project: Project, models=("gen-a", "gen-b"), *, external_id=None, gold=None,
         prompt=None) -> Item:
    n = next(_n)
    row = Item(project_id=project.id, external_id=external_id or f"it-{n}", prompt=prompt or f"Brief {n}",
               gold=gold)
    labels = "ab" if project.kind == "pairwise" else "a"
    for label, model in zip(labels, models):
        asset = Asset(sha256=secrets.token_hex(32), public_id=secrets.token_urlsafe(18), media_kind="video",
                      mime_type="video/mp4", size_bytes=1, duration_s=1.0, original_name="x", consent="granted")
        row.outputs.append(ItemOutput(label=label, model=model, asset=asset))
    session.add(row)
    session.flush()
    return row


def judge(session, it: Item, who: User, choice=None, strength=None, scores=None, *, source="imported",
          when=None) -> Judgment:
    """A current judgment; ``source='live'`` also writes its submitted assignment."""
    now = when or utcnow()
    assignment_id = None
    if source == "live":
        assignment = Assignment(project_id=it.project_id, item_id=it.id, rater_id=who.id, served_at=now - timedelta(minutes=5),
                                expires_at=now + timedelta(minutes=25), left_label="a", status="submitted",
                                submitted_at=now, closed_at=now)
        session.add(assignment)
        session.flush()
        assignment_id = assignment.id
    if choice == "tie":
        strength = None
    elif choice is not None and strength is None:
        strength = 2
    judgment = Judgment(project_id=it.project_id, item_id=it.id, rater_id=who.id, assignment_id=assignment_id,
                        choice=choice, strength=strength, scores=scores, rationale=f"because {next(_n)}",
                        confidence=4, source=source, created_at=now)
    session.add(judgment)
    session.flush()
    return judgment


def revise(session, old: Judgment, choice=None, strength=None, scores=None) -> Judgment:
    """Supersede ``old`` with a new answer (what a revision does)."""
    now = utcnow()
    old.superseded_at = now
    session.flush()
    new = Judgment(project_id=old.project_id, item_id=old.item_id, rater_id=old.rater_id,
                   assignment_id=old.assignment_id, choice=choice, strength=strength if choice != "tie" else None,
                   scores=scores, rationale="revised", confidence=3, source=old.source, supersedes_id=old.id,
                   created_at=now)
    session.add(new)
    session.flush()
    return new


def adjudicate(session, it: Item, choice=None, scores=None) -> Adjudication:
    row = Adjudication(project_id=it.project_id, item_id=it.id, choice=choice, scores=scores,
                       rationale="decided after review")
    session.add(row)
    session.flush()
    return row


def pairwise_panel(session, project: Project, table: dict[str, list], raters: list[User] | None = None,
                   models=("gen-a", "gen-b")) -> tuple[list[Item], list[User]]:
    """Items judged by raters: ``table`` maps an external id to one choice per rater (None:
    that rater did not judge it)."""
    width = max(len(v) for v in table.values())
    raters = raters or [rater(session) for _ in range(width)]
    items = []
    for external_id, choices in table.items():
        it = item(session, project, models, external_id=external_id)
        for who, choice in zip(raters, choices):
            if choice is not None:
                judge(session, it, who, choice)
        items.append(it)
    return items, raters
