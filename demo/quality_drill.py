"""The demo's rater-quality drill: a fourth project whose history holds four careful raters and
three a manager should find — a rubber-stamper (faster than the clips, always Left, the same few
words), a left-biased rater and a rater failing the check items — so the manager's desk has
something to show and act on.

The items reuse the video demo's clips (the asset store keeps each once). The judgments are a
simulated past: written as submitted assignments with the sides shown, time on task and
playback, as live judging stores them (nothing here goes through the judging rules, which would
refuse the stamper's speed — that is the point of the history). Deterministic (fixed seed).
"""
from __future__ import annotations

import json
import random
from datetime import timedelta
from pathlib import Path
from typing import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from raters.models import User
from raters.services import create_placeholder_rater, placeholder_email
from tasks.catalogue import importing
from tasks.catalogue.models import Item, Project, ProjectMember
from tasks.catalogue.projects import create_project, set_members
from tasks.catalogue.store import asset_store
from tasks.catalogue.util import max_asset_bytes
from tasks.rating import overlap, routing
from tasks.rating.models import Assignment, Judgment

HERE = Path(__file__).resolve().parent
NAME = "Rater quality drill — alley takes"
N_ITEMS, N_GOLD, N_UNTOUCHED = 80, 8, 12
PANEL = {  # ref: (name, accuracy on regular items, accuracy on gold, behaviour)
    "drill-noor": ("Noor Haddad", 0.85, 0.9, "careful"), "drill-tomas": ("Tomás Reyes", 0.8, 0.9, "careful"),
    "drill-aiko": ("Aiko Mori", 0.88, 1.0, "careful"), "drill-bea": ("Bea Lindqvist", 0.78, 0.85, "careful"),
    "drill-rex": ("Rex Quinn", 0.5, 0.5, "stamper"), "drill-lou": ("Lou Carver", 0.7, 0.85, "left"),
    "drill-gil": ("Gil Moss", 0.6, 0.2, "careful"),
}
SETTINGS = {"name": NAME, "kind": "pairwise", "modality": "video", "rubric": [], "overlap": 3, "max_overlap": 5,
            "agreement_target": 0.67, "confidence_threshold": 0.9, "audit_rate": 0.3, "gold_rate": 0.1,
            "min_rationale_words": 12, "min_media_fraction": 0.8,
            "instructions": "A drill project for the manager's desk: its history was judged by a simulated panel. "
                            "Watch both takes, pick the one you would send to the edit, and say why."}
CLAUSES = (
    "take {w} keeps the neon source fixed while take {l} lets it drift after frame {f}",
    "the push-in on take {w} lands on the doorway where the brief asks for it",
    "take {l} smears the runner into a ghost around frame {f}",
    "grain crawls over the wall in take {l}, take {w} stays clean without looking plastic",
    "the handheld sway in take {l} fights the locked-off frame the brief describes",
    "colour holds from first to last frame in take {w}",
    "take {l} stutters twice in the middle third, near frame {f}",
    "take {w} reads as one continuous move with no jump cuts",
    "puddle reflections in take {w} follow the signs, in take {l} they lag by a few frames",
    "the vignette on take {w} pulls the eye to the runner without crushing the shadows",
    "banding in the sky of take {l} is visible from frame {f} on",
    "edges of the fire escape warp in take {l} as the camera moves",
    "take {w} matches the cyan and pink palette of the brief",
    "the caption area of take {l} flickers, which would show in the cut",
    "motion blur on take {w} feels like a real shutter",
    "the light in take {l} jumps between frames {f} and {g}",
)
STAMPS = ("looks good to me, the left one is better overall and fine",
          "left take is better overall, good pacing and good look",
          "the left one is fine and better overall than the other")


def _rationale(rng: random.Random, winner: str, loser: str) -> str:
    parts = rng.sample(CLAUSES, 3)
    f = rng.randint(8, 80)
    return "; ".join(p.format(w=winner.upper(), l=loser.upper(), f=f, g=f + rng.randint(1, 6)) for p in parts) + "."


def _item_rows(rng: random.Random) -> tuple[list[dict], dict[str, str]]:
    base = [json.loads(line) for line in (HERE / "items" / "video.jsonl").read_text().splitlines() if line.strip()]
    # Only clips with consent: a revoked asset may not be used in new items.
    base = [row for row in base if all(o["provenance"].get("consent") == "granted" for o in row["outputs"])]
    rows, truth = [], {}
    for i in range(N_ITEMS + N_GOLD):
        row = json.loads(json.dumps(base[i % len(base)]))
        if (i // len(base)) % 2:
            row["outputs"].reverse()  # the other model on the left of the file, for variety
        external_id = f"drill-{i + 1:03d}"
        truth[external_id] = rng.choice("ab")
        confidence = round(min(1.0, rng.uniform(0.3, 1.05)), 2)
        model_right = rng.random() < confidence - 0.12  # a gate somewhat too sure of itself
        row.update({"external_id": external_id, "expertise": [], "model_confidence": confidence,
                    "metadata": {"model_choice": truth[external_id] if model_right else
                                 ("b" if truth[external_id] == "a" else "a"), "drill": True}})
        row.pop("gold", None)
        if i >= N_ITEMS:
            row["gold"] = {"choice": truth[external_id]}
            row["model_confidence"] = None
        rows.append(row)
    return rows, truth


def _answer(rng: random.Random, behaviour: str, accuracy: float, truth: str, left: str) -> str:
    if behaviour == "stamper":
        return left
    if behaviour == "left" and rng.random() < 0.75:
        return left
    if rng.random() < accuracy:
        return truth
    return rng.choice(["tie", "b" if truth == "a" else "a"])


def seed_drill(session: Session, manager: User, raters: list[User], now, echo: Callable[[str], None]) -> None:
    if session.scalar(select(Project).where(Project.name == NAME)) is not None:
        echo(f"  project “{NAME}” already there")
        return
    rng = random.Random(20261201)
    project = create_project(session, dict(SETTINGS), manager)
    set_members(session, project, [u.id for u in raters], manager)
    rows, truth = _item_rows(rng)
    data = "\n".join(json.dumps(r) for r in rows).encode()
    importing.import_items(session, project, data, "drill.jsonl", actor=manager, store=asset_store(),
                           media_root=str(HERE / "media"), max_asset_bytes=max_asset_bytes())
    panel = {}
    for ref, (name, *_rest) in PANEL.items():
        panel[ref] = session.scalar(select(User).where(User.email == placeholder_email(ref))) \
            or create_placeholder_rater(session, ref, manager)
        panel[ref].name = f"{name} (drill panel)"
        # Members, so a manager can pause or exclude them from the desk (placeholders never sign in).
        project.member_rows.append(ProjectMember(user_id=panel[ref].id, user=panel[ref], qualified_at=now))
    items = session.scalars(select(Item).where(Item.project_id == project.id).order_by(Item.id)).all()
    n = 0
    for k, item in enumerate(items):
        regular = item.gold is None
        if regular and (k >= N_ITEMS - N_UNTOUCHED or not routing.routed(project, item)):
            continue  # left for the demo raters, or auto-accepted by the gate
        refs = list(PANEL) if not regular else rng.sample(list(PANEL), 5)
        duration = max(o.asset.duration_s or 3.0 for o in item.outputs)
        for ref in refs:
            _name, accuracy, gold_accuracy, behaviour = PANEL[ref]
            left = rng.choice("ab")
            choice = _answer(rng, behaviour, accuracy if regular else gold_accuracy, truth[item.external_id], left)
            seconds = duration * (rng.uniform(0.82, 0.97) if behaviour == "stamper" else rng.lognormvariate(1.0, 0.3))
            when = now - timedelta(days=rng.uniform(1, 27))
            loser = "b" if choice == "a" else "a"
            winner = choice if choice in ("a", "b") else "a"
            sides = {left: "left", ("b" if left == "a" else "a"): "right"}
            text = rng.choice(STAMPS) if behaviour == "stamper" else _rationale(
                rng, sides[winner], sides["b" if winner == "a" else "a"])
            _write(session, project, item, panel[ref], choice=choice, left=left, seconds=seconds, when=when,
                   rationale=text, played={o.label: (o.asset.duration_s or 3.0) * (0.85 if behaviour == "stamper" else 1.0)
                                           for o in item.outputs}, strength=None if choice == "tie" else rng.randint(1, 3))
            n += 1
    session.flush()
    overlap.refresh_project(session, project)
    echo(f"  project “{NAME}”: {len(items)} items, {n} simulated judgments by a panel of {len(PANEL)}")


def _write(session, project, item, who, *, choice, left, seconds, when, rationale, played, strength) -> None:
    served = when - timedelta(seconds=seconds)
    assignment = Assignment(project_id=project.id, item_id=item.id, rater_id=who.id, served_at=served,
                            expires_at=served + routing.DEFAULT_TTL, left_label=left, status="submitted",
                            submitted_at=when, closed_at=when,
                            is_audit=item.model_confidence is not None and item.model_confidence >= project.confidence_threshold)
    session.add(assignment)
    session.flush()
    session.add(Judgment(project_id=project.id, item_id=item.id, rater_id=who.id, assignment_id=assignment.id,
                         choice=choice, strength=strength, rationale=rationale, confidence=rng_confidence(seconds),
                         time_on_task_ms=int(seconds * 1000), playback=played, source="live", created_at=when,
                         idempotency_key=f"drill-{assignment.id}"))


def rng_confidence(seconds: float) -> int:
    """A plausible self-reported confidence: longer looks, surer answers."""
    return max(1, min(5, int(seconds // 4) + 2))
