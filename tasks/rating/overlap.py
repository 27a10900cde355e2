"""Adaptive overlap and adjudication: how far a panel agrees, how many judgments an item needs,
and the queue of items the panel could not settle.

Agreement (pure functions):
- pairwise: the **majority share**, the largest share of the panel giving the same answer
  (``a``, ``b`` or ``tie``);
- rubric: per criterion, the share of scores within ±``tolerance`` of that criterion's median,
  ``tolerance = (max − min) // 4`` (±1 on 5- to 8-point scales, exact on 2- to 4-point ones,
  where ±1 would span most of the scale); the item's agreement is its **lowest** criterion.

The panel (``panel_state``): below ``overlap`` judgments it is *collecting*; at or above, it is
*agreed* when agreement ≥ ``agreement_target`` (compared at the setting's two-decimal precision,
so a target of 0.67 accepts two raters of three), else *extended* (one more rater, target n + 1)
until ``max_overlap``, where a still-split panel is *split*: the adjudication queue. The state is
recomputed from the current judgments after every write (``refresh_panel``) and kept in
``item_panels`` so routing can filter in SQL. Gold items have no panel: they are checks.
"""
from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Callable

from sqlalchemy import exists, func, select, text
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from database import one_of, utcnow
from raters.models import User
from raters.services import audit
from tasks.rating import routing
from tasks.rating.routing import is_gold_sql
from tasks.rating.answers import count_words, is_whole, scores_problems
from tasks.catalogue.models import Item, Project
from tasks.rating.consent import unusable_output_sql
from tasks.rating.models import Adjudication, AnswerInvalid, ItemPanel, Judgment, RatingError


# -- agreement: pure ------------------------------------------------------------------------

def majority_share(choices: Sequence[str]) -> float | None:
    """The largest share of identical answers (None for no answers)."""
    if not choices:
        return None
    return Counter(choices).most_common(1)[0][1] / len(choices)


def tolerance(low: int, high: int) -> int:
    return (high - low) // 4


def near_median_share(levels: Sequence[float], within: int) -> float | None:
    """The share of ``levels`` within ±``within`` of their median (None for no levels)."""
    if not levels:
        return None
    median = statistics.median(levels)
    return sum(abs(v - median) <= within for v in levels) / len(levels)


def pairwise_agreement(answers: Sequence[dict], rubric: list[dict]) -> float | None:
    return majority_share([a["choice"] for a in answers if a.get("choice")])


def rubric_agreement(answers: Sequence[dict], rubric: list[dict]) -> float | None:
    """The lowest, over criteria, of the share of scores near that criterion's median."""
    shares = []
    for crit in rubric:
        levels = [a["scores"][crit["key"]] for a in answers
                  if isinstance(a.get("scores"), dict) and crit["key"] in a["scores"]]
        share = near_median_share(levels, tolerance(crit["min"], crit["max"]))
        if share is not None:
            shares.append(share)
    return min(shares) if shares else None


# Settings have two decimals: 0.67 means "two thirds" (0.666…), not "more than two thirds".
AGREEMENT_SLACK = 0.005

# How agreement is measured, per project kind (answers: dicts with "choice" or "scores").
AGREEMENT: dict[str, Callable[[Sequence[dict], list[dict]], float | None]] = {
    "pairwise": pairwise_agreement,
    "rubric": rubric_agreement,
}


@dataclass(frozen=True)
class PanelState:
    n: int
    target: int
    state: str  # collecting | extended | agreed | split
    agreement: float | None


def panel_state(n: int, agreement: float | None, *, overlap: int, max_overlap: int,
                agreement_target: float) -> PanelState:
    """How many judgments the item needs now, and where its panel stands."""
    if n < overlap:
        return PanelState(n, overlap, "collecting", agreement)
    if agreement is not None and agreement >= agreement_target - AGREEMENT_SLACK:
        return PanelState(n, n, "agreed", agreement)
    if n < max_overlap:
        return PanelState(n, n + 1, "extended", agreement)
    return PanelState(n, n, "split", agreement)


# -- the stored panel -----------------------------------------------------------------------

PANEL_BATCH = 1000

def current_judgments(session: Session, item_id: int) -> list[Judgment]:
    return list(session.scalars(select(Judgment).where(
        Judgment.item_id == item_id, Judgment.superseded_at.is_(None)).order_by(Judgment.id)))


def refresh_panel(session: Session, item: Item, *, answers: list[dict] | None = None) -> PanelState | None:
    """Recompute the item's panel from its current judgments (call with the item row locked,
    after every judgment written, revised or imported): one read and one upsert. ``answers``:
    the current judgments' ``{"choice", "scores"}`` when the caller read them under the same
    lock (a submit does, with the rationales it compares): then only the upsert. Gold items have
    none (None)."""
    if item.is_gold:
        return None
    project = item.project
    if answers is None:
        answers = [{"choice": choice, "scores": scores} for choice, scores in session.execute(
            select(Judgment.choice, Judgment.scores).where(Judgment.item_id == item.id,
                                                           Judgment.superseded_at.is_(None)).order_by(Judgment.id))]
    state = panel_state(len(answers), AGREEMENT[project.kind](answers, project.rubric or []),
                        overlap=project.overlap, max_overlap=project.max_overlap,
                        agreement_target=project.agreement_target)
    _upsert_panels(session, [{"item_id": item.id, "project_id": item.project_id, "n_judgments": state.n,
                              "target": state.target, "state": state.state, "agreement": state.agreement,
                              "updated_at": utcnow()}])
    loaded = session.identity_map.get(identity_key(ItemPanel, item.id))
    if loaded is not None:  # a loaded panel re-reads what was written
        session.expire(loaded)
    return state


def current_answers(session: Session, item_ids) -> dict[int, list[dict]]:
    """The ``{"choice", "scores"}`` of the items' current judgments, by item (items without any
    are absent), in judgment order: one read per ``PANEL_BATCH`` items."""
    ids = sorted(set(item_ids))
    answers: dict[int, list[dict]] = {}
    for start in range(0, len(ids), PANEL_BATCH):
        for item_id, choice, scores in session.execute(
                select(Judgment.item_id, Judgment.choice, Judgment.scores)
                .where(one_of(session, Judgment.item_id, ids[start:start + PANEL_BATCH]),
                       Judgment.superseded_at.is_(None)).order_by(Judgment.id)):
            answers.setdefault(item_id, []).append({"choice": choice, "scores": scores})
    return answers


def refresh_panels(session: Session, project: Project, item_ids, *, now: datetime,
                   answers: dict[int, list[dict]] | None = None) -> int:
    """``refresh_panel`` for many items of the project (locked by the caller), set-based: per
    batch of ``PANEL_BATCH`` items one read of their current judgments (``current_answers``) and
    one upsert of their panels. ``answers``: every item's current answers when the caller knows
    them (the import: those read under its locks before writing, plus its own rows): then only
    the upserts. Gold items get none. Returns how many panels were written."""
    ids = sorted(set(item_ids))
    measure = AGREEMENT[project.kind]
    written = 0
    for start in range(0, len(ids), PANEL_BATCH):
        chunk = session.scalars(select(Item.id).where(one_of(session, Item.id, ids[start:start + PANEL_BATCH]),
                                                      Item.project_id == project.id, ~is_gold_sql())).all()
        if not chunk:
            continue
        given_by_item = current_answers(session, chunk) if answers is None else answers
        rows = []
        for item_id in chunk:
            given = given_by_item.get(item_id, [])
            state = panel_state(len(given), measure(given, project.rubric or []), overlap=project.overlap,
                                max_overlap=project.max_overlap, agreement_target=project.agreement_target)
            rows.append({"item_id": item_id, "project_id": project.id, "n_judgments": state.n,
                         "target": state.target, "state": state.state, "agreement": state.agreement,
                         "updated_at": now})
        _upsert_panels(session, rows)
        written += len(rows)
    for obj in list(session.identity_map.values()):  # loaded panels re-read what was written
        if isinstance(obj, ItemPanel):
            session.expire(obj)
    return written


PANEL_COLUMNS = ("item_id", "project_id", "n_judgments", "target", "state", "agreement", "updated_at")
# One upsert of a batch of panels: PostgreSQL takes the batch as arrays (one statement whatever its
# size, nothing to compile per row); SQLite runs the same upsert for each row.
PG_UPSERT = text("""
INSERT INTO item_panels (item_id, project_id, n_judgments, target, state, agreement, updated_at)
SELECT * FROM unnest(CAST(:item_id AS integer[]), CAST(:project_id AS integer[]), CAST(:n_judgments AS integer[]),
                     CAST(:target AS integer[]), CAST(:state AS varchar[]), CAST(:agreement AS double precision[]),
                     CAST(:updated_at AS timestamptz[]))
ON CONFLICT (item_id) DO UPDATE SET n_judgments = excluded.n_judgments, target = excluded.target,
    state = excluded.state, agreement = excluded.agreement, updated_at = excluded.updated_at""")


def _upsert_panels(session: Session, rows: list[dict]) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(PG_UPSERT, {c: [r[c] for r in rows] for c in PANEL_COLUMNS})
        return
    upsert = sqlite_insert(ItemPanel.__table__)
    session.execute(upsert.on_conflict_do_update(index_elements=["item_id"], set_={
        c: upsert.excluded[c] for c in PANEL_COLUMNS[2:]}), rows)


def refresh_project(session: Session, project: Project) -> int:
    """Recompute every panel of the project (after its overlap or agreement settings change)."""
    items = session.scalars(select(Item).where(
        Item.project_id == project.id, exists().where(Judgment.item_id == Item.id))
        .order_by(Item.id).with_for_update(of=Item)).all()
    return sum(refresh_panel(session, item) is not None for item in items)


# -- adjudication ---------------------------------------------------------------------------

def queue_query(project: Project):
    """Items of the project whose panel is split at ``max_overlap``, not yet adjudicated, and
    with every output's consent usable (a withdrawn one leaves the queue with its statistics)."""
    return (select(Item).join(ItemPanel, ItemPanel.item_id == Item.id)
            .where(Item.project_id == project.id, ItemPanel.state == "split",
                   ~exists().where(Adjudication.item_id == Item.id), ~unusable_output_sql())
            .order_by(Item.id))


def item_state(session: Session, item: Item) -> str:
    """``adjudicated``, or the panel's state (``collecting`` before any judgment; ``gold``)."""
    if item.is_gold:
        return "gold"
    if session.scalar(select(exists().where(Adjudication.item_id == item.id))):
        return "adjudicated"
    panel = session.get(ItemPanel, item.id)
    return panel.state if panel else "collecting"


def adjudicate(session: Session, item: Item, actor: User, decision: dict, *, now: datetime) -> Adjudication:
    """Record the final decision on a split item, beside (never over) the panel's judgments.

    ``decision``: pairwise ``{"choice": "a"|"b"|"tie", "strength"?: 1–3, "rationale"}``, rubric
    ``{"scores": {…}, "rationale"}`` — in the item's labels. Raises ``RatingError`` (409:
    ``already_adjudicated``, ``not_in_queue``, ``own_panel``) or ``AnswerInvalid`` (422)."""
    session.scalar(select(Item.id).where(Item.id == item.id).with_for_update())
    project = item.project
    if session.scalar(select(exists().where(Adjudication.item_id == item.id))):
        raise RatingError("This item has already been adjudicated.", code="already_adjudicated")
    panel = session.get(ItemPanel, item.id)
    if panel is None or panel.state != "split":
        raise RatingError("Only items whose panel stayed split at the maximum overlap are adjudicated.",
                          code="not_in_queue")
    if session.scalar(select(func.count()).select_from(Judgment).where(
            Judgment.item_id == item.id, Judgment.rater_id == actor.id)):
        raise RatingError("You judged this item yourself: another adjudicator must decide it.", code="own_panel")
    choice, strength, scores, rationale = _clean_decision(project, decision)
    record = Adjudication(project_id=project.id, item_id=item.id, decided_by_id=actor.id, choice=choice,
                          strength=strength, scores=scores, rationale=rationale, created_at=now)
    session.add(record)
    session.flush()
    audit(session, actor, "item.adjudicate", f"item:{item.id}", f"choice={choice} scores={scores}",
          project_id=project.id)
    routing.refresh_items(session, [item.id])
    return record


def _clean_decision(project: Project, decision: dict):
    problems: dict[str, str] = {}
    allowed = {"rationale", "choice", "strength"} if project.kind == "pairwise" else {"rationale", "scores"}
    unknown = sorted(set(decision) - allowed)
    if unknown:
        problems["fields"] = f"unknown field(s): {', '.join(unknown)}"
    rationale = decision.get("rationale")
    need = max(1, project.min_rationale_words)
    if not isinstance(rationale, str) or count_words(rationale) < need:
        problems["rationale"] = f"explain the decision in at least {need} words"
    choice = strength = scores = None
    if project.kind == "pairwise":
        choice = decision.get("choice")
        if choice not in ("a", "b", "tie"):
            problems["choice"] = "one of a, b, tie (the item's own labels)"
        strength = decision.get("strength")
        if choice == "tie":
            strength = None
        elif strength is not None and not is_whole(strength, 1, 3):
            problems["strength"] = "1 (slightly), 2 (clearly) or 3 (much better)"
    else:
        scores = decision.get("scores")
        problems.update(scores_problems(scores, project.rubric or []))
    if problems:
        raise AnswerInvalid("The decision is not valid.", problems)
    return choice, strength, scores, rationale.strip()


def gold_correct(kind: str, choice, scores, gold, tolerances: dict) -> bool | None:
    """Whether an answer matches a gold item's expected one (rubric: every expected criterion
    within the overlap rule's tolerance of its scale); None when there is nothing to compare."""
    if not isinstance(gold, dict):
        return None
    if kind == "pairwise":
        return choice == gold.get("choice") if gold.get("choice") else None
    expected = gold.get("scores") or {}
    if not expected or not isinstance(scores, dict):
        return None
    return all(k in scores and abs(scores[k] - v) <= tolerances.get(k, 0) for k, v in expected.items())
