"""Time-coded notes and per-criterion choices: checking what a client sends, and showing it back.

Pure: no Flask, no session. The caller describes each side on the rater's screen (``Side``: the
item label shown there, the media's duration, frame rate and, for scripts, its number of lines);
these functions turn a client's notes and criteria (screen terms) into what a judgment stores
(item labels, frames computed here from the media's real frame rate) and back.

A note, as sent (``side`` as shown on the rater's screen; ``output`` for rubric):
  video/audio ``{side, t_in, t_out|null, text}``; scripts ``{side, line_in, line_out|null,
  char_in?, char_out?, quote?, text}``. ``label``, ``frame_*`` and ``timecode_*`` may be echoed
  back from a read note and are ignored: the server derives them.
As stored: the same with ``label`` instead of ``side`` and, for media, ``frame_in``/``frame_out``.
As shown (``note_json``): stored + ``side`` (the author's screen) + ``timecode_in``/``timecode_out``.

Per-criterion choices ``{key: {choice: left|right|tie, strength: 1-3}}`` are stored as
``{key: {choice: a|b|tie, strength}}``; a tie's strength is dropped (as for the overall choice).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

MAX_NOTES = 50
MAX_NOTE_CHARS = 1000
MAX_QUOTE_CHARS = 500
MAX_LINE = 1_000_000
MAX_TIME_S = 86_400.0
# A note may point this far past the duration the server knows (container vs stream length).
DURATION_SLACK_S = 0.5
ECHOED = frozenset({"label", "frame_in", "frame_out", "timecode_in", "timecode_out"})
MEDIA_KEYS = frozenset({"side", "t_in", "t_out", "text"}) | ECHOED
SCRIPT_KEYS = frozenset({"side", "line_in", "line_out", "char_in", "char_out", "quote", "text"}) | ECHOED


@dataclass(frozen=True)
class Side:
    """One output as shown on the rater's screen."""
    label: str
    duration_s: float | None = None
    frame_rate: float | None = None
    n_lines: int | None = None  # scripts: lines of the text


class NoteError(ValueError):
    """A refused note list or criteria answer; the message says which note and why."""


# -- frames and timecode --------------------------------------------------------------------

def frame_at(seconds: float | None, frame_rate: float | None) -> int | None:
    """The frame shown at ``seconds`` (0-based; a hair of tolerance for float noise)."""
    if seconds is None or not frame_rate:
        return None
    return int(math.floor(seconds * frame_rate + 1e-6))


def timecode(seconds: float | None, frame_rate: float | None) -> str | None:
    """``HH:MM:SS:FF`` at the media's frame rate (nominal: 29.97 counts 30 a second, no drop
    frame); ``HH:MM:SS.mmm`` without one (audio, unknown rate)."""
    if seconds is None:
        return None
    if not frame_rate:
        millis = int(round(seconds * 1000))
        whole, ms = divmod(millis, 1000)
        return f"{whole // 3600:02d}:{whole // 60 % 60:02d}:{whole % 60:02d}.{ms:03d}"
    nominal = max(1, round(frame_rate))
    if abs(frame_rate - nominal) < 1e-9:  # whole rates: count frames, then split them
        whole, ff = divmod(frame_at(seconds, frame_rate), nominal)
    else:  # 23.976, 29.97: the second from the clock, the frame within it at the real rate
        whole = int(math.floor(seconds + 1e-9))
        ff = min(nominal - 1, frame_at(seconds - whole, frame_rate))
    return f"{whole // 3600:02d}:{whole // 60 % 60:02d}:{whole % 60:02d}:{ff:02d}"


# -- checking -------------------------------------------------------------------------------

def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _whole(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def clean_text(value, limit: int, what: str) -> str:
    if not isinstance(value, str):
        raise NoteError(f"{what} must be text")
    text = value.strip()
    if not text:
        raise NoteError(f"{what} is empty: say what happens there")
    if len(text) > limit:
        raise NoteError(f"{what} is longer than {limit} characters")
    if any(ch < " " and ch not in "\n\t" for ch in text) or "\x7f" in text:
        raise NoteError(f"{what} contains control characters")
    return text


def _media_note(note: dict, side: Side) -> dict:
    t_in, t_out = note.get("t_in"), note.get("t_out")
    if not _number(t_in) or t_in < 0:
        raise NoteError("t_in must be a time in seconds (a finite number, 0 or more)")
    if t_out is not None and (not _number(t_out) or t_out < 0):
        raise NoteError("t_out must be null (a point note) or a time in seconds")
    if t_out is not None and t_out < t_in:
        raise NoteError(f"t_out ({t_out:g} s) is before t_in ({t_in:g} s)")
    limit = side.duration_s + DURATION_SLACK_S if side.duration_s else MAX_TIME_S
    last = t_in if t_out is None else t_out
    if last > limit:
        raise NoteError(f"{last:g} s is past the end of the media ({side.duration_s or MAX_TIME_S:g} s)")
    t_in, t_out = round(float(t_in), 3), None if t_out is None else round(float(t_out), 3)
    return {"label": side.label, "t_in": t_in, "t_out": t_out, "frame_in": frame_at(t_in, side.frame_rate),
            "frame_out": frame_at(t_out, side.frame_rate)}


def _script_note(note: dict, side: Side) -> dict:
    n_lines = side.n_lines or MAX_LINE
    line_in, line_out = note.get("line_in"), note.get("line_out")
    if not _whole(line_in) or not 1 <= line_in <= n_lines:
        raise NoteError(f"line_in must be a line number from 1 to {n_lines}")
    if line_out is not None and (not _whole(line_out) or not line_in <= line_out <= n_lines):
        raise NoteError(f"line_out must be null or a line number from line_in ({line_in}) to {n_lines}")
    chars = {}
    for key in ("char_in", "char_out"):
        value = note.get(key)
        if value is not None and (not _whole(value) or not 0 <= value <= MAX_LINE):
            raise NoteError(f"{key} must be null or a character offset (0 or more)")
        chars[key] = value
    if (line_out in (None, line_in) and chars["char_in"] is not None and chars["char_out"] is not None
            and chars["char_out"] < chars["char_in"]):
        raise NoteError("char_out is before char_in on the same line")
    quote = note.get("quote")
    quote = None if quote in (None, "") else clean_text(quote, MAX_QUOTE_CHARS, "quote")
    return {"label": side.label, "line_in": line_in, "line_out": line_out, **chars, "quote": quote}


def parse_notes(raw, sides: dict[str, Side], modality: str, *, anchor: str = "side") -> list[dict]:
    """The client's notes (screen terms) as stored (item labels, frames); NoteError names the
    first bad note (1-based) and what is wrong with it. ``anchor="label"`` (judgment import):
    notes name the output by its item label, and ``sides`` is keyed by label."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise NoteError("notes must be a list of notes")
    if len(raw) > MAX_NOTES:
        raise NoteError(f"at most {MAX_NOTES} notes a judgment ({len(raw)} sent)")
    allowed = SCRIPT_KEYS if modality == "script" else MEDIA_KEYS
    if anchor == "label":
        allowed = (allowed - ECHOED - {"side"}) | {"label"}
    stored = []
    for i, note in enumerate(raw, 1):
        try:
            if not isinstance(note, dict):
                raise NoteError("must be an object")
            unknown = sorted(set(note) - allowed)
            if unknown:
                raise NoteError(f"unknown field(s) {', '.join(map(str, unknown))[:200]}")
            side = note.get(anchor)
            if not isinstance(side, str) or side not in sides:
                shown = " (as shown on your screen)" if anchor == "side" else " (the item's own labels)"
                raise NoteError(f"{anchor} must be one of {', '.join(sides)}{shown}")
            place = (_script_note if modality == "script" else _media_note)(note, sides[side])
            stored.append({**place, "text": clean_text(note.get("text"), MAX_NOTE_CHARS, "text")})
        except NoteError as exc:
            raise NoteError(f"note {i}: {exc}") from None
    return stored


def note_json(note: dict, side_of, frame_rates: dict[str, float | None]) -> dict:
    """A stored note as shown: with the side its author saw (``side_of(label)``, None when the
    presentation is unknown) and, for media, its timecodes at the output's frame rate."""
    shown = {"side": side_of(note["label"]) if side_of else None, **note}
    if "t_in" in note:
        rate = frame_rates.get(note["label"])
        shown["timecode_in"] = timecode(note["t_in"], rate)
        shown["timecode_out"] = timecode(note.get("t_out"), rate)
    return shown


SIDE_NAMES = {"left": "Left", "right": "Right", "output": "Output"}  # as static/js/notes.js names them


def anchor_text(shown: dict) -> str:
    """Where a shown note (:func:`note_json`) points, as the rating page writes it
    (``anchorText`` in static/js/notes.js): "Left 00:00:01:05–00:00:02:00", "Right lines 4–6";
    with the item label when the author's side is unknown (imported)."""
    side = SIDE_NAMES.get(shown.get("side")) or f"label {shown.get('label')}"
    if shown.get("line_in") is not None:
        line_in, line_out = shown["line_in"], shown.get("line_out")
        return f"{side} lines {line_in}–{line_out}" if line_out and line_out != line_in else f"{side} line {line_in}"
    if shown.get("timecode_out") is None:
        return f"{side} {shown.get('timecode_in')}"
    return f"{side} {shown.get('timecode_in')}–{shown['timecode_out']}"


def note_texts(notes: list[dict] | None) -> list[str]:
    return [n["text"] for n in notes or [] if n.get("text")]


# -- per-criterion choices ------------------------------------------------------------------

def parse_criteria(raw, criteria: list[dict], label_of, *, imported: bool = False) -> tuple[dict | None, dict[str, str]]:
    """The client's per-criterion choices (screen sides) as stored (item labels), and the
    problems by field (``criteria`` or ``criteria.<key>``). ``label_of(side)``: the item label
    shown on that side. Every criterion of the project must be answered.

    ``imported`` (judgment import): choices are already item labels (``a``/``b``/``tie``) and,
    as for the overall choice there, strength is optional for ``a``/``b`` and refused on a tie
    (live answers: required, and ignored on a tie); a judgment made elsewhere may come without
    any criteria (absent or null), but criteria given must be complete."""
    if not criteria:
        if raw in (None, {}):
            return None, {}
        return None, {"criteria": "this project has no per-criterion choices"}
    if raw is None and imported:  # judged elsewhere, maybe without criteria: none is fine, some is not
        return None, {}
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        return None, {"criteria": "per-criterion choices: {key: {choice, strength}}"}
    problems: dict[str, str] = {}
    keys = [c["key"] for c in criteria]
    unknown = sorted(str(k)[:40] for k in set(raw) - set(keys))
    if unknown:
        problems["criteria"] = f"unknown criterion: {', '.join(unknown)}"
    sides = ("a", "b") if imported else ("left", "right")
    stored = {}
    for crit in criteria:
        key, answer = crit["key"], raw.get(crit["key"])
        field, name = f"criteria.{key}", crit["name"]
        if answer is None:
            problems[field] = f"{name}: choose {sides[0]}, {sides[1]} or tie"
            continue
        if not isinstance(answer, dict) or set(answer) - {"choice", "strength"}:
            problems[field] = f"{name}: send {{choice, strength}}"
            continue
        side, strength = answer.get("choice"), answer.get("strength")
        if side not in (*sides, "tie"):
            problems[field] = f"{name}: choose {sides[0]}, {sides[1]} or tie"
        elif side == "tie":
            if imported and strength is not None:
                problems[field] = f"{name}: a tie has no strength"
            stored[key] = {"choice": "tie", "strength": None}
        elif (strength is not None or not imported) and (not _whole(strength) or not 1 <= strength <= 3):
            problems[field] = f"{name}: how much better, 1 (slightly), 2 (clearly) or 3 (much)"
        else:
            stored[key] = {"choice": side if imported else label_of(side), "strength": strength}
    return (None if problems else stored), problems


def criteria_json(stored: dict | None, side_of) -> dict | None:
    """Stored per-criterion choices in screen terms (``side_of(label)``)."""
    if not stored:
        return None
    return {key: {"choice": "tie" if c["choice"] == "tie" else side_of(c["choice"]), "strength": c["strength"]}
            for key, c in stored.items()}
