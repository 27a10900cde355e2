"""One rater's quality figures, one function each (pure numpy/scipy; no Flask, no database).

Every function takes that rater's judgments as arrays (in time order where order matters) and
returns a small dict: the figure, ``n`` (the judgments behind it) and, where one applies, a 95%
interval. A figure that cannot be computed (no judgment of that kind) is ``None`` with ``n`` 0.
"""
from __future__ import annotations

import json
import math
import warnings
from itertools import chain

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from scipy import stats

from tasks.rating.answers import FEATURES_VERSION, rationale_features
from tasks.rating.standing import Z95, wilson_interval  # noqa: F401  (one definition: the rules use it too)

# Two of a rater's own rationales whose word 3-shingles overlap this much (Jaccard) are near
# duplicates. Looser than the server's refusal (0.9 against the last 50): this reads all of them.
NEAR_DUPLICATE = 0.6


def proportion(k: int, n: int) -> dict:
    low, high = wilson_interval(k, n)
    return {"n": int(n), "k": int(k), "share": k / n if n else None, "ci": [low, high]}


def binomial_p(k: int, n: int, p: float) -> float:
    """Two-sided exact binomial test of ``k`` successes in ``n`` against ``p``: the probability of
    every outcome no more likely than ``k`` (``scipy.stats.binomtest``'s p-value, in one pmf call)."""
    pmf = stats.binom.pmf(np.arange(n + 1), n, p)
    return float(min(1.0, pmf[pmf <= pmf[k] * (1 + 1e-7)].sum()))


def time_on_task(time_s, media_s, watched=None) -> dict:
    """Median seconds on task, its ratio to the media's duration, and the share of judgments
    faster than the media could have been watched (``time < duration``). Judgments without a
    server-measured time (imported) are left out; the ratio needs a known duration.

    ``watched``: per judgment, the share of the media the server *observed* being played (the
    least-played output's observed seconds ÷ its duration; ``tasks.rating.playback``, never the
    client's claim), NaN when unknown: its median and the share of judgments with less than the
    whole media observed."""
    w = np.asarray(watched if watched is not None else [], dtype=float)
    w = w[np.isfinite(w)]
    seen = {"n": int(w.size), "median_share": float(np.median(w)) if w.size else None,
            "partial": proportion(int((w < 0.99).sum()), int(w.size))}
    t = np.asarray(time_s, dtype=float)
    m = np.asarray(media_s, dtype=float)
    timed = np.isfinite(t)
    both = timed & np.isfinite(m) & (m > 0)
    ratio = t[both] / m[both]
    fast = int((ratio < 1.0).sum())
    return {
        "n": int(timed.sum()),
        "median_s": float(np.median(t[timed])) if timed.any() else None,
        "n_with_media": int(both.sum()),
        "median_media_s": float(np.median(m[both])) if both.any() else None,
        "median_ratio": float(np.median(ratio)) if both.any() else None,
        "too_fast": proportion(fast, int(both.sum())),
        "watched": seen,
    }


def miss_streaks(correct) -> tuple[int, int]:
    """(longest, current) run of consecutive misses in a time-ordered boolean sequence."""
    longest = run = 0
    for ok in correct:
        run = 0 if ok else run + 1
        longest = max(longest, run)
    return longest, run


def gold_accuracy(correct) -> dict:
    """Share of gold (check) items answered as expected, with its Wilson interval and streaks
    of misses (``correct``: booleans in time order)."""
    c = [bool(x) for x in correct]
    longest, current = miss_streaks(c)
    return {**proportion(sum(c), len(c)), "longest_miss_streak": longest, "current_miss_streak": current}


def position_bias(chose_left) -> dict:
    """Share of Left choices among a rater's non-tie pairwise choices, with a two-sided exact
    binomial test against 0.5 (the sides are randomised per assignment)."""
    left = np.asarray(chose_left, dtype=bool)
    n, k = int(left.size), int(left.sum())
    return {**proportion(k, n), "p_value": binomial_p(k, n, 0.5) if n else None}


def tie_rate(is_tie, panel_rate: float | None) -> dict:
    """The rater's share of ties against the rest of the panel's (exact binomial test)."""
    ties = np.asarray(is_tie, dtype=bool)
    n, k = int(ties.size), int(ties.sum())
    p_value = None
    if n and panel_rate is not None and 0.0 < panel_rate < 1.0:
        p_value = binomial_p(k, n, panel_rate)
    return {**proportion(k, n), "panel_share": panel_rate, "p_value": p_value}


def straight_lining(score_rows, panel_variance: float | None) -> dict:
    """Rubric answers with the same level on every criterion (needs two or more criteria), and
    the rater's score variance (mean over criteria) against the panel's (``variance_ratio``).

    ``score_rows``: an (n judgments, criteria) array of levels, NaN where missing."""
    x = np.asarray(score_rows, dtype=float)
    if x.ndim != 2 or x.shape[0] == 0:
        return {**proportion(0, 0), "variance": None, "panel_variance": panel_variance, "variance_ratio": None}
    complete = x[np.isfinite(x).all(axis=1)] if x.shape[1] >= 2 else np.zeros((0, x.shape[1]))
    flat = int((complete == complete[:, :1]).all(axis=1).sum()) if complete.size else 0
    variance = criterion_variance(x)
    ratio = variance / panel_variance if variance is not None and panel_variance else None
    return {**proportion(flat, complete.shape[0]), "variance": variance, "panel_variance": panel_variance,
            "variance_ratio": ratio}


def criterion_variance(score_rows) -> float | None:
    """Mean over criteria of the variance of the levels given (criteria with two or more)."""
    x = np.asarray(score_rows, dtype=float)
    if x.ndim != 2:
        return None
    per = [np.var(col[np.isfinite(col)], ddof=1) for col in x.T if np.isfinite(col).sum() >= 2]
    return float(np.mean(per)) if per else None


def text_features(texts, groups=None, criterion_words=(), stored=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per text: its number of words, whether it nearly duplicates another text of the same group
    (rater), and whether it names a criterion or points at a moment. ``stored``: per text, the
    ``tasks.rating.answers.rationale_features`` written with its judgment — as a dict, as the JSON
    text the database holds (read without building a dict per judgment), or None: those texts
    are not tokenised again; the others once each."""
    texts = [t or "" for t in texts]
    counts, moment, flat, sizes = stored_features(texts, stored)
    dup = _near_duplicates_flat(flat, sizes, groups)
    specific = moment.copy() if not criterion_words else np.fromiter(
        (mo or _names_any(t, criterion_words) for t, mo in zip(texts, moment.tolist())), dtype=bool, count=len(texts))
    return counts, dup, specific


# The JSON text of a current ``rationale_features`` as stored (json.dumps on SQLite; jsonb's text
# output on PostgreSQL orders these keys the same way):
#   {"v": 1, "words": 20, "moment": false, "shingles": [123, 456]}
# read by splitting at its fixed keys, the hashes of all texts parsed at once; anything else is
# parsed as JSON.
_HEAD = f'{{"v": {FEATURES_VERSION}, "words": '
_MOMENT = ', "moment": '
_SHINGLES = ', "shingles": ['


def _split_stored(raw: str):
    """(words, moment, shingle hashes as text) of a stored features text in the layout above,
    else None (the hashes' text is checked for all texts at once, by :func:`_hashes`)."""
    head, found, rest = raw.partition(_SHINGLES)
    if not found or not head.startswith(_HEAD) or not rest.endswith("]}"):
        return None
    words, found, moment = head[len(_HEAD):].partition(_MOMENT)
    if not found or not words.isdigit() or moment not in ("true", "false"):
        return None
    return int(words), moment == "true", rest[:-2]


def _features_of(text: str, raw) -> tuple[int, bool, str]:
    """(words, moment, shingle hashes as text) from a stored dict or JSON text, or computed from
    the text when missing or of another version."""
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            raw = None
    usable = (isinstance(raw, dict) and raw.get("v") == FEATURES_VERSION and isinstance(raw.get("words"), int)
              and isinstance(raw.get("shingles"), list)
              and all(isinstance(h, int) and 0 <= h < 2 ** 63 for h in raw["shingles"]))
    f = raw if usable else rationale_features(text)
    return int(f["words"]), bool(f["moment"]), ", ".join(map(str, sorted(f["shingles"])))


def _hashes(segments: list[str]) -> tuple[np.ndarray | None, np.ndarray]:
    """Comma-separated hash lists parsed at once: (every hash end to end, how many per list), or
    None when a list held anything but non-negative whole numbers (the parse stops early)."""
    sizes = np.fromiter((s.count(",") + 1 if s else 0 for s in segments), dtype=np.int64, count=len(segments))
    joined = ", ".join(s for s in segments if s)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            flat = np.fromstring(joined, dtype=np.int64, sep=",") if joined else np.zeros(0, np.int64)
        except (ValueError, DeprecationWarning):
            return None, sizes
    if flat.size != int(sizes.sum()) or (flat.size and flat.min() < 0):
        return None, sizes
    return flat, sizes


# The same layout as one pattern (RE2, matched by pyarrow in compiled code): its three values.
_STORED_PATTERN = (r'^\{"v": ' + str(FEATURES_VERSION) + r', "words": (?P<words>[0-9]{1,18}), '
                   r'"moment": (?P<moment>true|false), '
                   r'"shingles": \[(?P<shingles>(?:[0-9]{1,19}(?:, [0-9]{1,19})*)?)\]\}$')


def stored_features(texts, stored=None) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The rationale features of every text, columnar: word counts, "points at a moment", and
    every text's sorted shingle hashes laid end to end (``flat``) with their number per text
    (``sizes``). ``stored`` as :func:`text_features` takes it; stale or missing features are
    computed from the text (once per distinct text).

    Stored texts in the layout above are parsed for all texts at once by pyarrow (a pattern, a
    split, a cast: no Python call per text); missing ones (None) are computed once per distinct
    text, and any other stored value (a dict, another version or layout, a hash past 63 bits) is
    read on its own as :func:`stored_features_from_rows` reads it. Equal to that function (tested),
    except that a hash past 63 bits in the stored layout is recomputed from the text where it
    clamped it to 2^63 - 1."""
    n = len(texts)
    texts = list(texts)
    stored = [None] * n if stored is None else list(stored)
    try:
        raw = pa.array(stored, type=pa.string())
    except (pa.ArrowTypeError, pa.ArrowInvalid):  # dicts among them
        raw = pa.array([s if isinstance(s, str) else None for s in stored], type=pa.string())
    every = pc.extract_regex(raw, _STORED_PATTERN)  # null where the text is None or not in the layout
    matched = every.is_valid().to_numpy(zero_copy_only=False)
    rows = np.flatnonzero(matched)
    found = every.filter(pa.array(matched))
    listed = found.field("shingles")
    split = pc.split_pattern(listed, ", ")
    counts = np.where(pc.equal(listed, "").to_numpy(zero_copy_only=False), 0,
                      pc.list_value_length(split).to_numpy(zero_copy_only=False)).astype(np.int64)
    pieces = pc.list_flatten(split)
    values = pc.cast(pieces.filter(pc.not_equal(pieces, "")), pa.uint64()).to_numpy(zero_copy_only=False)
    past = values >= 2 ** 63  # not a stored hash: that text is recomputed from the text, as a row would be
    if past.any():
        bad = np.zeros(len(rows), dtype=bool)
        bad[np.repeat(np.arange(len(rows)), counts)[past]] = True
        matched[rows[bad]] = False
        values = values[~np.repeat(bad, counts)]
        rows, counts, found = rows[~bad], counts[~bad], found.filter(pa.array(~bad))
    words = np.zeros(n, dtype=np.int64)
    moment = np.zeros(n, dtype=bool)
    sizes = np.zeros(n, dtype=np.int64)
    words[rows] = pc.cast(found.field("words"), pa.int64()).to_numpy(zero_copy_only=False)
    moment[rows] = pc.equal(found.field("moment"), "true").to_numpy(zero_copy_only=False)
    sizes[rows] = counts
    # The rest once per distinct source: a missing feature (None) computed once per distinct text,
    # any other stored value (a dict, another version or layout) read on its own.
    others = np.flatnonzero(~matched)
    missing = pd.isna(np.asarray(stored, dtype=object)[others]) if len(others) else np.zeros(0, dtype=bool)
    codes = np.empty(len(others), dtype=np.int64)
    text_codes, distinct = pd.factorize(pd.Series(texts, dtype=object).iloc[others[missing]].fillna(""))
    codes[missing] = text_codes
    codes[~missing] = len(distinct) + np.arange(int((~missing).sum()))
    parts = [_features_of(text, None) for text in distinct] + [_features_of(texts[i], stored[i])
                                                               for i in others[~missing].tolist()]
    part_flat, part_sizes = _hashes([p[2] for p in parts])
    if part_flat is None:
        raise ValueError("stored rationale features: shingle hashes did not parse")
    words[others] = np.fromiter((p[0] for p in parts), dtype=np.int64, count=len(parts))[codes]
    moment[others] = np.fromiter((p[1] for p in parts), dtype=bool, count=len(parts))[codes]
    other_sizes = part_sizes[codes]
    sizes[others] = other_sizes
    local = np.cumsum(other_sizes) - other_sizes
    other_flat = part_flat[np.repeat((np.cumsum(part_sizes) - part_sizes)[codes] - local, other_sizes)
                           + np.arange(int(other_sizes.sum()))]
    flat = np.zeros(int(sizes.sum()), dtype=np.int64)
    starts = np.cumsum(sizes) - sizes
    for picked, part_sizes, part_flat in ((rows, counts, values.astype(np.int64)), (others, other_sizes, other_flat)):
        local = np.cumsum(part_sizes) - part_sizes  # each text's start within its part
        flat[np.repeat(starts[picked] - local, part_sizes) + np.arange(int(part_sizes.sum()))] = part_flat
    return words, moment, flat, sizes


def stored_features_from_rows(texts, stored=None) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """:func:`stored_features` text by text in Python (the reference its tests compare with)."""
    n = len(texts)
    stored = [None] * n if stored is None else stored
    parts = [(_split_stored(raw) if isinstance(raw, str) else None) or _features_of(text, raw)
             for text, raw in zip(texts, stored)]
    flat, sizes = _hashes([p[2] for p in parts])
    if flat is None:  # a text in the fast layout held something else: read each as JSON
        parts = [_features_of(text, raw) for text, raw in zip(texts, stored)]
        flat, sizes = _hashes([p[2] for p in parts])
        if flat is None:
            raise ValueError("stored rationale features: shingle hashes did not parse")
    words = np.fromiter((p[0] for p in parts), dtype=np.int64, count=n)
    moment = np.fromiter((p[1] for p in parts), dtype=bool, count=n)
    return words, moment, flat, sizes


def rationale_effort(rationales=None, notes=None, criterion_words=(), *, features=None) -> dict:
    """Median words; the share of rationales that nearly duplicate another of the rater's own
    (Jaccard of word 3-shingles ≥ ``NEAR_DUPLICATE``); notes per judgment; the share that name a
    criterion or point at a moment (a time code, seconds, a frame). ``features``: the
    :func:`text_features` of these rationales, when already computed for the whole panel."""
    counts, dup, specific = features if features is not None else text_features(rationales, None, criterion_words)
    n = len(counts)
    n_notes = int(np.sum(notes)) if notes is not None and len(notes) else 0
    return {"n": n, "median_words": float(np.median(counts)) if n else None,
            "near_duplicate": proportion(int(dup.sum()), n),
            "notes_per_judgment": n_notes / n if n else None,
            "specific": proportion(int(specific.sum()), n)}


def _names_any(text: str, criterion_words) -> bool:
    if not criterion_words:
        return False
    lowered = text.lower()
    return any(word in lowered for word in criterion_words)


def near_duplicates(sets, groups=None, threshold: float = NEAR_DUPLICATE) -> np.ndarray:
    """For each shingle set, whether another of the same group (rater) overlaps it by Jaccard ≥
    ``threshold`` (:func:`tasks.rating.answers.jaccard`)."""
    hashed = [sorted(set(map(hash, s))) for s in sets]
    sizes = np.fromiter(map(len, hashed), dtype=np.int64, count=len(hashed))
    flat = np.fromiter(chain.from_iterable(hashed), dtype=np.int64, count=int(sizes.sum()))
    return _near_duplicates_flat(flat, sizes, groups, threshold)


def _near_duplicates_flat(flat, sizes, groups=None, threshold: float = NEAR_DUPLICATE) -> np.ndarray:
    """:func:`near_duplicates` of sets given as sorted distinct shingle hashes laid end to end
    (``flat``), ``sizes`` per set. Identical sets are matched whole; the rest through the shingles
    they share (sorted arrays: unrelated texts cost nothing)."""
    n = len(sizes)
    groups = np.zeros(n, dtype=np.int64) if groups is None else pd.factorize(np.asarray(groups))[0]
    found = np.zeros(n, dtype=bool)
    if n == 0:
        return found
    # Identical non-empty sets within a group: copies of each other. (Two empty rationales copy
    # nothing: Jaccard 0, as tasks.rating.answers.jaccard has it.)
    sizes_all = np.asarray(sizes, dtype=np.int64)
    ends = np.cumsum(sizes_all)
    buffer = np.ascontiguousarray(flat, dtype=np.int64).tobytes()
    whole, _ = pd.factorize(np.array([buffer[8 * (e - k):8 * e] for e, k in zip(ends.tolist(), sizes_all.tolist())],
                                     dtype=object))
    order = np.lexsort((np.arange(n), whole, groups))
    same = ((groups[order][1:] == groups[order][:-1]) & (whole[order][1:] == whole[order][:-1])
            & (sizes_all[order][1:] > 0))
    found[order[1:][same]] = True
    found[order[:-1][same]] = True
    unique = order[np.r_[True, ~same]]
    unique = np.sort(unique[sizes_all[unique] > 0])
    if not unique.size:
        return found
    kept = np.zeros(n, dtype=bool)
    kept[unique] = True
    text = np.repeat(unique, sizes_all[unique])
    shingle = np.asarray(flat, dtype=np.int64)[np.repeat(kept, sizes_all)]  # the kept sets' shingles, in order
    # Sort by (group, shingle), texts ascending within each run: the shingles as dense codes
    # so that group and shingle make one integer key, and a stable sort (``text`` is ascending).
    codes, distinct = pd.factorize(shingle)
    order = np.argsort(groups[text].astype(np.int64) * max(len(distinct), 1) + codes, kind="stable")
    text, shingle, group = text[order], shingle[order], groups[text[order]]
    boundary = np.flatnonzero(np.r_[True, (shingle[1:] != shingle[:-1]) | (group[1:] != group[:-1]), True])
    starts, lengths = boundary[:-1], np.diff(boundary)
    left, right = [], []
    for length in np.unique(lengths[lengths > 1]).tolist():
        runs = starts[lengths == length][:, None] + np.arange(length)[None, :]
        a, b = np.triu_indices(length, 1)
        left.append(text[runs[:, a]].ravel())
        right.append(text[runs[:, b]].ravel())
    if not left:
        return found
    n_sets = sizes_all
    pair = np.concatenate(left) * n + np.concatenate(right)
    codes, inter = np.unique(pair, return_counts=True)
    i, j = codes // n, codes % n
    close = inter >= threshold * (n_sets[i] + n_sets[j] - inter)
    found[i[close]] = found[j[close]] = True
    return found


def week_start(timestamps) -> np.ndarray:
    """The Monday (UTC, as ``datetime64[D]``) of each timestamp's ISO week."""
    days = np.asarray(timestamps, dtype="datetime64[D]")
    # 1970-01-01 was a Thursday: shift so that weeks start on Monday.
    return days - ((days.astype(np.int64) + 3) % 7).astype("timedelta64[D]")
