"""Rationale effort: every rubber-stamp pattern of issue 7 is refused with its rule named, the
honest suite written for the demo items all passes, and the rates on both (and on the demo's
imported judgments) are measured. The same rules through the service: the page and the API."""
from __future__ import annotations

import collections
import json
from pathlib import Path

import pytest

from tasks.rating import answers
from tests.tasks.rationale_suites import BRIEF, HONEST, HONEST_WITH_NOTES, NOTE_STAMPS, RUBBER_STAMPS

DEMO = Path(__file__).resolve().parents[2] / "demo"


def demo_items() -> dict:
    items = {}
    for name in ("video", "audio", "scripts"):
        for line in (DEMO / "items" / f"{name}.jsonl").read_text().splitlines():
            row = json.loads(line)
            items[row["external_id"]] = row
    return items


def rubric_levels() -> list[str]:
    projects = json.loads((DEMO / "projects.json").read_text())
    return [text for p in projects for c in p["rubric"] for text in c["levels"].values()]


def check(text, item, *, earlier=(), others=(), notes=()):
    levels = rubric_levels() if item["external_id"].startswith("script") else ()
    return answers.rationale_problem(text, min_words=12, brief=item["prompt"], earlier=earlier, others=others,
                                     levels=levels, side_words=[o["model"] for o in item["outputs"]], notes=notes)


def honest_refusals() -> list[tuple]:
    """Each honest rationale checked against its rater's earlier ones and the others on its item."""
    items, refused = demo_items(), []
    by_rater, by_item = collections.defaultdict(list), collections.defaultdict(list)
    for rater, ext, text in HONEST:
        problem = check(text, items[ext], earlier=by_rater[rater], others=by_item[ext])
        if problem:
            refused.append((rater, ext, problem))
        by_rater[rater].append(text)
        by_item[ext].append(text)
    return refused


def test_the_honest_suite_is_large_varied_and_written_for_the_demo_items():
    items = demo_items()
    assert len(HONEST) >= 30
    assert {ext for _, ext, _ in HONEST} <= set(items)
    assert {ext.split("-")[0] for _, ext, _ in HONEST} == {"alley", "narr", "script"}  # every demo project
    assert len({rater for rater, _, _ in HONEST}) >= 5
    assert len({text for _, _, text in HONEST}) == len(HONEST)


def test_every_honest_rationale_is_accepted():
    assert honest_refusals() == []


@pytest.mark.parametrize("name, text, earlier, others", RUBBER_STAMPS, ids=[r[0] for r in RUBBER_STAMPS])
def test_every_rubber_stamp_is_refused_naming_its_rule(name, text, earlier, others):
    levels = rubric_levels()
    problem = answers.rationale_problem(text, min_words=12, brief=BRIEF, earlier=earlier, others=others,
                                        levels=levels, side_words=["gen-a", "gen-b"])
    assert problem, name
    rule = problem.split(":")[0]
    assert rule in {"Too short", "Filler", "Mostly the brief", "Mostly the rubric", "Near-copy", "Copy"}


def test_a_short_summary_with_precise_notes_is_accepted():
    """Each rater's notes-based judgments checked against their earlier explanations (both suites)."""
    items, by_rater = demo_items(), collections.defaultdict(list)
    for rater, ext, text in HONEST:
        by_rater[rater].append(text)
    refused = []
    for rater, ext, summary, notes in HONEST_WITH_NOTES:
        assert answers.count_words(summary) < 12  # the summary alone would be too short
        problem = check(summary, items[ext], earlier=by_rater[rater], notes=notes)
        if problem:
            refused.append((ext, problem))
        by_rater[rater].append(answers.explanation(summary, notes))
    assert refused == []


@pytest.mark.parametrize("name, summary, notes", NOTE_STAMPS, ids=[r[0] for r in NOTE_STAMPS])
def test_notes_that_only_pretend_to_explain_are_refused(name, summary, notes):
    problem = answers.rationale_problem(summary, min_words=12, brief=BRIEF, earlier=[], notes=notes,
                                        side_words=["gen-a", "gen-b"])
    assert problem and problem.split(":")[0] in {"Too short", "Filler", "Mostly the brief"}, name


def test_a_repeated_note_counts_once_and_the_others_are_read_with_the_rationale():
    pasted = answers.explanation("Right.", ["Bad motion on the left.", "bad motion on the LEFT", "A new point."])
    assert pasted == "Right.\nBad motion on the left.\nA new point."
    swapped = answers.explanation("", ["the right one stutters", "the left one stutters"], ["gen-a"])
    assert swapped == "the right one stutters"


def test_refusals_say_which_rule_and_why():
    assert answers.rationale_problem("good " * 12, min_words=12, brief="", earlier=[]).startswith(
        "Filler: only 1 different words; a rationale of 12 words needs at least 8")
    run = answers.rationale_problem("the left one is fine fine fine and the right is soft and blurry", min_words=12,
                                    brief="", earlier=[])
    assert run == "Filler: “fine” is repeated 3 times in a row. Say what you saw."


def test_side_words_and_model_names_are_normalised():
    assert answers.normalise("Left beats gen-B", ["gen-b"]) == [answers.SIDE_TOKEN, "beats", answers.SIDE_TOKEN]


def test_measured_rates(capsys):
    """The numbers reported in the closing note: false refusals on honest and on the demo's
    imported rationales, refusals on the rubber-stamp suite."""
    honest_false = len(honest_refusals())
    stamps = sum(bool(answers.rationale_problem(t, min_words=12, brief=BRIEF, earlier=e, others=o,
                                                levels=rubric_levels(), side_words=["gen-a", "gen-b"]))
                 for _, t, e, o in RUBBER_STAMPS)
    items, rows = demo_items(), []
    for name in ("video", "audio", "scripts"):
        rows += [json.loads(line) for line in (DEMO / "judgments" / f"{name}.jsonl").read_text().splitlines()]
    rows.sort(key=lambda r: r["created_at"])
    by_rater, by_item, imported = collections.defaultdict(list), collections.defaultdict(list), collections.Counter()
    for row in rows:
        problem = check(row["rationale"], items[row["external_id"]], earlier=by_rater[row["rater"], row["external_id"][:4]],
                        others=by_item[row["external_id"]])
        imported[problem.split(":")[0] if problem else "accepted"] += 1
        by_rater[row["rater"], row["external_id"][:4]].append(row["rationale"])
        by_item[row["external_id"]].append(row["rationale"])
    with capsys.disabled():
        print(f"\nhonest: {honest_false}/{len(HONEST)} refused; rubber stamps: {stamps}/{len(RUBBER_STAMPS)} refused; "
              f"demo imported judgments: {dict(imported)}")
    assert honest_false == 0 and stamps == len(RUBBER_STAMPS)
    # The imported panel's rationales are drawn from four sentences per modality: every refusal
    # among them is a copy rule firing on a literal repeat, never the filler, brief or rubric rules.
    assert set(imported) <= {"accepted", "Near-copy", "Copy"}
