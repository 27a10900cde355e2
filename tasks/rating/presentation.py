"""What a rater saw: which output (item label, model) was on the left and which on the right.

Choices are stored in item labels; a rationale speaks in screen sides ("the left one stutters").
Everywhere a rationale is shown to someone other than its author it goes with its author's
presentation, so "left" in the text can always be resolved. Model names are shown only to those
who may read them (``can_see_models``: staff and researchers; never raters, senior or not).

The adjudication desk and the staff pages show an item's outputs in label order: **Left** is
label ``a``, **Right** is label ``b`` (``DESK_SIDE``).
"""
from __future__ import annotations

from raters.access import can
from tasks.rating.models import Assignment

DESK_SIDE = {"a": "Left", "b": "Right"}
STRENGTH_WORDS = {1: "slightly", 2: "clearly", 3: "much"}


def can_see_models(user) -> bool:
    return can(user, "stats.view")


def presented(assignment: Assignment | None, *, models: bool) -> dict | None:
    """``{"left": {"label", "model"}, "right": {…}}`` (rubric: ``{"output": …}``); None for an
    imported judgment (no assignment: its presentation is unknown)."""
    if assignment is None:
        return None
    outputs = {o.label: o.model for o in assignment.item.outputs}
    return sides(assignment.project.kind, assignment.left_label, outputs if models else None, labels=set(outputs))


def sides(kind: str, left_label: str | None, models: dict | None, *, labels=("a", "b")) -> dict | None:
    """The presentation from the stored left label (pure): ``models`` maps an item label to its
    model (None: leave models out); None when the sides were not recorded (imported)."""
    if kind == "pairwise" and left_label not in ("a", "b"):
        return None
    shown = {"left": left_label, "right": "b" if left_label == "a" else "a"} if kind == "pairwise" else {"output": "a"}

    def side(label: str) -> dict:
        return {"label": label, "model": models.get(label)} if models is not None else {"label": label}
    return {name: side(label) for name, label in shown.items() if label in labels}


def note(shown: dict | None) -> str:
    """How a rationale's author saw the pair, in words: "saw gen-b (desk Right) on the left"."""
    if shown is None:
        return "imported: which side was shown is not known"
    if "left" not in shown:
        return ""
    left = shown["left"]
    name = f"{left['model']} ({DESK_SIDE[left['label']]} here)" if "model" in left else f"this page's {DESK_SIDE[left['label']]}"
    swapped = " — sides swapped from this page" if left["label"] == "b" else " — same order as this page"
    return f"saw {name} on the left{swapped}"


def choice_words(choice: str | None, strength: int | None) -> str:
    """A stored pairwise choice in desk terms: "Right, clearly better", "Tie"."""
    if choice == "tie":
        return "Tie"
    if choice not in DESK_SIDE:
        return ""
    return f"{DESK_SIDE[choice]}, {STRENGTH_WORDS.get(strength, '')} better".replace(",  better", " better")
