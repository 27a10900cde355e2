"""Set-based writes give what the per-item writes give: panels refreshed in batches equal panels
refreshed one by one, for pairwise and rubric projects, and the import's counters are a recount."""
from __future__ import annotations

import json
from datetime import datetime, timezone

from sqlalchemy import select

from raters.models import User
from tasks.catalogue.models import Item
from tasks.rating import judgment_import, overlap, routing
from tasks.rating.models import ItemPanel
from tests.helpers import RUBRIC
from tests.tasks.rating_factories import make_item, rating_project, wsession  # noqa: F401

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=timezone.utc)


def panels(session, item_ids):
    session.expire_all()
    return {p.item_id: (p.n_judgments, p.target, p.state, p.agreement)
            for p in session.scalars(select(ItemPanel).where(ItemPanel.item_id.in_(item_ids)))}


def test_batched_panels_equal_panels_refreshed_one_by_one(make_user, wsession):
    manager = make_user("manager")
    actor = wsession.get(User, manager.id)
    pairwise = rating_project(wsession, manager.id, overlap=2, max_overlap=3)
    rubric = rating_project(wsession, manager.id, kind="rubric", overlap=2, max_overlap=4)
    cases = []
    for project, answers in ((pairwise, [["a"], ["a", "b"], ["a", "b", "tie"], ["b", "b", "a"]]),
                             (rubric, [[1], [1, 5], [3, 3, 4], [1, 5, 3, 2]])):
        items = [make_item(wsession, project, durations=(10.0,) * project.n_outputs) for _ in answers]
        lines = []
        for item, given in zip(items, answers):
            for n, answer in enumerate(given):
                answer_field = {"choice": answer} if project.kind == "pairwise" else {
                    "scores": {c["key"]: answer for c in RUBRIC}}
                lines.append(json.dumps({"external_id": item.external_id, "rater": f"r{n}", "rationale": "why",
                                         "confidence": 3, **answer_field}))
        judgment_import.import_judgments(wsession, project, "\n".join(lines).encode(), "j.jsonl", actor=actor, now=NOW)
        cases.append((project, [i.id for i in items]))
    for project, ids in cases:
        batched = panels(wsession, ids)
        for item_id in ids:
            overlap.refresh_panel(wsession, wsession.get(Item, item_id))
        assert panels(wsession, ids) == batched and len(batched) == len(ids)
        assert {state for _n, _t, state, _a in batched.values()} >= {"collecting", "agreed"}
        wsession.expire_all()
        stored = {i.id: (i.n_judged, i.n_held, i.target, i.hold)
                  for i in wsession.scalars(select(Item).where(Item.id.in_(ids)))}
        assert stored == routing.recount(wsession, ids)


def test_a_later_import_counts_the_judgments_already_on_its_items(make_user, wsession):
    """The import's panels come from the answers it read under its locks plus its own rows (no
    read-back): a second file onto judged items, one of whose earlier judgments is superseded,
    gives the panels a one-by-one refresh gives."""
    from tasks.rating.models import Judgment

    manager = make_user("manager")
    actor = wsession.get(User, manager.id)
    for project, answer_of in ((rating_project(wsession, manager.id, overlap=2, max_overlap=4),
                                lambda v: {"choice": v}),
                               (rating_project(wsession, manager.id, kind="rubric", overlap=2, max_overlap=4),
                                lambda v: {"scores": {c["key"]: {"a": 1, "b": 5, "tie": 3}[v] for c in RUBRIC}})):
        items = [make_item(wsession, project, durations=(10.0,) * project.n_outputs) for _ in range(4)]

        def lines(answers, raters):
            return "\n".join(json.dumps({"external_id": item.external_id, "rater": rater, "rationale": "why",
                                         "confidence": 3, **answer_of(answer)})
                             for item, given in zip(items, answers) for rater, answer in zip(raters, given)).encode()
        ids = [i.id for i in items]
        judgment_import.import_judgments(wsession, project, lines([["a"], ["a"], ["b"], []], ["r1"]), "1.jsonl",
                                         actor=actor, now=NOW)
        earlier = wsession.scalar(select(Judgment).where(Judgment.item_id == ids[2]))
        earlier.superseded_at = NOW  # no longer current: the later file's panel must not count it
        wsession.flush()
        judgment_import.import_judgments(wsession, project, lines([["a"], ["b", "tie"], ["a", "a"], ["b"]],
                                                                  ["r2", "r3"]), "2.jsonl", actor=actor, now=NOW)
        batched = panels(wsession, ids)
        assert [batched[i][0] for i in ids] == [2, 3, 2, 1]
        for item_id in ids:
            overlap.refresh_panel(wsession, wsession.get(Item, item_id))
        assert panels(wsession, ids) == batched
