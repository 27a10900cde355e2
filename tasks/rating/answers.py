"""Pure checks of an answer's parts: words, shingle similarity, rationale rules, rubric scores.

No Flask, no session: judging (raters' answers) and adjudication (the final decision) share these.
"""
from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Iterable
from functools import lru_cache

WORD_RE = re.compile(r"[^\W_]+(?:['’-][^\W_]+)*")
SHINGLE_K = 3
MAX_RATIONALE_CHARS = 10_000

# -- rationale effort: the rules and their thresholds ---------------------------------------
# Every text is compared after ``normalise``: lower case, and every word naming a side, an item
# label or a model (left/right, a/b, first/second, former/latter, "gen-a", …) replaced by one
# token, so swapping the sides of an earlier rationale does not make it new.
SIDE_WORDS = frozenset({"left", "right", "a", "b", "first", "second", "former", "latter", "1st", "2nd",
                        "lhs", "rhs"})
SIDE_TOKEN = "‹side›"
# Filler: at least this share of the minimum word count must be *different* words (a rationale
# of one word repeated to the minimum has 1). The honest suite (tests/tasks/rationale_suites.py,
# rationales of 20–30 words) has at least 18 different words each, 1.5× a minimum of 12.
MIN_DISTINCT_SHARE = 0.6
# Filler: one word, or a group of up to three words, repeated this many times in a row.
MAX_REPEAT_RUN = 3
# Copies are measured as *coverage*: the share of the rationale's words lying inside a run of
# ``COPY_K`` consecutive words that also occurs in the other text. One word changed in a
# 26-word copy still leaves 85 % covered (two words: 81 %); honest rationales on the same items
# share a phrase at most (coverage ≤ 0.20 between any two of the honest suite, where raters
# reuse "the pause after 'sleeps'" or quote the brief), never most of their length. Tuned on
# tests/tasks/rationale_suites.py; the measured rates are in the suite's test.
COPY_K = 4
BRIEF_COPY_THRESHOLD = 0.5  # mostly the brief (or the rubric's own level descriptions)
NEAR_COPY_THRESHOLD = 0.6  # a near-copy of one of the rater's recent rationales, or another rater's on this item
# How many of the rater's own latest rationales in the project a new one is compared with.
RECENT_RATIONALES = 50


def words(text: str | None) -> list[str]:
    """Lower-cased words (letters and digits; inner apostrophes and hyphens kept)."""
    return WORD_RE.findall((text or "").lower().replace("’", "'"))


def count_words(text: str | None) -> int:
    return len(words(text))


def normalise(text: str | None, side_words: Iterable[str] = ()) -> list[str]:
    """``words`` with every side, label or model word (plus ``side_words``) made one token."""
    sides = SIDE_WORDS | {w.lower() for w in side_words}
    return [SIDE_TOKEN if w in sides else w for w in words(text)]


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


def coverage(tokens: list[str], other: frozenset[tuple[str, ...]], k: int = COPY_K) -> float:
    """The share of ``tokens`` inside a run of ``k`` words found in ``other`` (``word_shingles``)."""
    if not tokens or not other:
        return 0.0
    if len(tokens) < k:
        return 1.0 if tuple(tokens) in other else 0.0
    covered = [False] * len(tokens)
    for i in range(len(tokens) - k + 1):
        if tuple(tokens[i:i + k]) in other:
            covered[i:i + k] = [True] * k
    return sum(covered) / len(tokens)


def longest_run(tokens: list[str], max_group: int = 3) -> tuple[int, str]:
    """The most times a group of 1–``max_group`` words repeats back to back, and the group."""
    best, group = 1, ""
    for size in range(1, max_group + 1):
        for start in range(len(tokens) - size + 1):
            unit, n = tokens[start:start + size], 1
            while tokens[start + n * size:start + (n + 1) * size] == unit:
                n += 1
            if n > best:
                best, group = n, " ".join(unit)
    return best, group


@lru_cache(maxsize=256)
def compared_shingles(text: str, side_words: tuple[str, ...]) -> frozenset[tuple[str, ...]]:
    """``word_shingles`` (``COPY_K``) of a text a rationale is compared with, memoised: a rater's
    recent rationales are compared again on each of their next submits. Kept small: a
    ``MAX_RATIONALE_CHARS`` text's shingles take ~0.3 MB, so 256 of them bound a worker's memo
    (~80 MB; a submit compares ~25 texts) whatever raters write."""
    return word_shingles(normalise(text, side_words), COPY_K)


def explanation(rationale: str, notes: Iterable[str] = (), side_words: Iterable[str] = ()) -> str:
    """The text the effort rules read: the rationale, then every time-coded note — an editor may
    explain with two precise notes and a short summary. A note that repeats the rationale or an
    earlier note (the same words, or ``NEAR_COPY_THRESHOLD`` of them in runs of ``COPY_K``,
    sides and model names aside) adds nothing and is left out, so pasting one note five times
    explains no more than writing it once. Notes are kept whole (a note's own words are not
    compared with each other)."""
    notes = list(notes)
    if not notes:  # nothing to compare (most judgments): no need to split the rationale
        return rationale or ""
    kept, seen_tokens = [rationale or ""], [normalise(rationale, side_words)]
    for note in notes:
        tokens = normalise(note, side_words)
        if not tokens or any(tokens == other for other in seen_tokens):
            continue
        if len(tokens) >= COPY_K and any(
                coverage(tokens, word_shingles(other, COPY_K)) >= NEAR_COPY_THRESHOLD for other in seen_tokens):
            continue
        kept.append(note)
        seen_tokens.append(tokens)
    return "\n".join(t for t in kept if t)


def rationale_problem(rationale: str, *, min_words: int, brief: str, earlier: Iterable[str],
                      others: Iterable[str] = (), levels: Iterable[str] = (),
                      side_words: Iterable[str] = (), notes: Iterable[str] = ()) -> str | None:
    """Why this rationale (with its notes) is refused (the rule, then why), or None.

    ``earlier``: the rater's own recent explanations; ``others``: other raters' explanations on
    the same item (each the ``explanation`` of a judgment); ``levels``: the rubric's level
    descriptions; ``side_words``: the item's model names; ``notes``: the texts of this
    judgment's time-coded notes, read with the rationale (``explanation``). Thresholds and their
    tuning are documented beside the constants above."""
    notes = list(notes)
    if notes:
        rationale = explanation(rationale, notes, side_words)
    n = count_words(rationale)
    if n < min_words:
        together = ", rationale and notes together; a repeated note counts once" if notes else ""
        return f"Too short: write at least {min_words} words explaining your judgment ({n} so far{together})."
    tokens = normalise(rationale, side_words)
    if not tokens:
        return None  # an empty rationale, allowed only when the project asks for no words
    distinct = len(set(tokens))
    need = math.ceil(min_words * MIN_DISTINCT_SHARE)
    if distinct < need:
        return (f"Filler: only {distinct} different words; a rationale of {min_words} words needs at least "
                f"{need} different ones. Say what you saw.")
    run, group = longest_run(tokens)
    if run >= MAX_REPEAT_RUN:
        return f"Filler: “{group.replace(SIDE_TOKEN, '…')}” is repeated {run} times in a row. Say what you saw."

    sides = tuple(side_words)

    def covered_by(texts: Iterable[str]) -> float:
        return max((coverage(tokens, compared_shingles(t, sides)) for t in texts if t), default=0.0)

    share = covered_by([brief])
    if share >= BRIEF_COPY_THRESHOLD:
        return (f"Mostly the brief: {share:.0%} of the rationale repeats the brief. Say what you saw in the "
                "outputs, in your own words.")
    share = coverage(tokens, word_shingles(normalise(" . ".join(levels), side_words), COPY_K)) if levels else 0.0
    if share >= BRIEF_COPY_THRESHOLD:
        return (f"Mostly the rubric: {share:.0%} of the rationale repeats the rubric's level descriptions. "
                "Point to the line or moment that decided your score.")
    share = covered_by(earlier)
    if share >= NEAR_COPY_THRESHOLD:
        return (f"Near-copy: {share:.0%} of the rationale repeats one you wrote before (sides and model names "
                "aside). Describe this item.")
    share = covered_by(others)
    if share >= NEAR_COPY_THRESHOLD:
        return (f"Copy: {share:.0%} of the rationale repeats another rater's rationale on this item. "
                "Write your own.")
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


# -- what the manager's desk reads of a rationale, stored with the judgment when it is written ---
FEATURES_VERSION = 1
# "at 0:12", "00:01:05", "12 s", "3 seconds", "frame 40": the rationale points at a moment.
DIGIT_RE = re.compile(r"\d")  # every moment has a digit: a cheap test first
MOMENT_RE = re.compile(r"\b\d{1,2}:\d{2}\b|\b\d+(?:\.\d+)?\s?(?:s|sec|secs|seconds?)\b|\bframes?\s?\d+\b", re.I)


def points_at_moment(text: str | None) -> bool:
    """Whether the text points at a moment: a time code, seconds, a frame number."""
    return bool(text) and DIGIT_RE.search(text) is not None and MOMENT_RE.search(text) is not None


@lru_cache(maxsize=1 << 15)
def shingle_hash(shingle: tuple[str, ...]) -> int:
    """A stable 63-bit hash of a word shingle (the same in every process, unlike ``hash``).
    Memoised, bounded: most 3-word shingles recur across rationales (an import of a million of
    them hashes each common one once), and the memo stays ~13 MB however varied the text."""
    return int.from_bytes(hashlib.blake2b("\x1f".join(shingle).encode(), digest_size=8).digest(), "big") >> 1


def rationale_features(text: str | None) -> dict:
    """A rationale's word count, the hashes of its word 3-shingles and whether it points at a
    moment: computed once when a judgment is written (``judgments.rationale_features``), so the
    rater-quality desk (``scoring.quality``) never re-tokenises a project's rationales."""
    tokens = words(text)
    return {"v": FEATURES_VERSION, "words": len(tokens), "moment": points_at_moment(text),
            "shingles": sorted({shingle_hash(s) for s in word_shingles(tokens)})}
