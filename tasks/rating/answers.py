"""Pure checks of an answer's parts: words, shingle similarity, rationale rules, rubric scores.

No Flask, no session: judging (raters' answers) and adjudication (the final decision) share these.
"""
from __future__ import annotations

import re
from collections.abc import Iterable

WORD_RE = re.compile(r"[^\W_]+(?:['’-][^\W_]+)*")
SHINGLE_K = 3
# A rationale whose word 3-shingles overlap one of the rater's recent ones this much (Jaccard) is
# a near-copy; one whose shingles lie this much inside the brief's just repeats the brief.
NEAR_COPY_THRESHOLD = 0.9
BRIEF_COPY_THRESHOLD = 0.8
# How many of the rater's own latest rationales in the project a new one is compared with.
RECENT_RATIONALES = 50
MAX_RATIONALE_CHARS = 10_000


def words(text: str | None) -> list[str]:
    """Lower-cased words (letters and digits; inner apostrophes and hyphens kept)."""
    return WORD_RE.findall((text or "").lower().replace("’", "'"))


def count_words(text: str | None) -> int:
    return len(words(text))


def shingles(text: str | None, k: int = SHINGLE_K) -> frozenset[tuple[str, ...]]:
    """The set of ``k`` consecutive words; a text shorter than ``k`` words is one shingle."""
    return word_shingles(words(text), k)


def word_shingles(tokens: list[str], k: int = SHINGLE_K) -> frozenset[tuple[str, ...]]:
    """:func:`shingles` of a text already split into ``words``."""
    if not tokens:
        return frozenset()
    if len(tokens) < k:
        return frozenset({tuple(tokens)})
    return frozenset(zip(*(tokens[i:] for i in range(k))))


def jaccard(a: frozenset, b: frozenset) -> float:
    """|a ∩ b| / |a ∪ b|; 0 when both are empty (nothing was copied)."""
    if not a and not b:
        return 0.0
    return len(a & b) / len(a | b)


def containment(a: frozenset, b: frozenset) -> float:
    """The share of ``a`` found in ``b`` (0 for an empty ``a``)."""
    return len(a & b) / len(a) if a else 0.0


def rationale_problem(rationale: str, *, min_words: int, brief: str, earlier: Iterable[str]) -> str | None:
    """Why this rationale is refused, or None. ``earlier``: the rater's own recent rationales."""
    n = count_words(rationale)
    if n < min_words:
        return f"Write at least {min_words} words explaining your judgment ({n} so far)."
    own = shingles(rationale)
    if not own:
        return None  # an empty rationale, allowed only when the project asks for no words
    if containment(own, shingles(brief)) >= BRIEF_COPY_THRESHOLD:
        return "The rationale mostly repeats the brief: say what you saw in the outputs."
    for text in earlier:
        if jaccard(own, shingles(text)) >= NEAR_COPY_THRESHOLD:
            return "The rationale is nearly the same as one you wrote before: describe this item."
    return None


def is_whole(value, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def scores_problems(scores, rubric: list[dict]) -> dict[str, str]:
    """Problems with rubric ``scores`` (every criterion, a whole number on its scale), by field."""
    if not isinstance(scores, dict):
        return {"scores": "give a score for every criterion: {criterion: level}"}
    problems = {}
    keys = {c["key"] for c in rubric}
    unknown = sorted(set(scores) - keys)
    if unknown:
        problems["scores"] = f"unknown criterion: {', '.join(unknown)}"
    for crit in rubric:
        value = scores.get(crit["key"])
        if value is None:
            problems[f"scores.{crit['key']}"] = f"score {crit['label']} ({crit['min']}–{crit['max']})"
        elif not is_whole(value, crit["min"], crit["max"]):
            problems[f"scores.{crit['key']}"] = f"a whole number from {crit['min']} to {crit['max']}"
    return problems
