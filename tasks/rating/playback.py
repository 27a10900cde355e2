"""Playback the server observed: the only playback a judgment is credited with.

Two sources, both stamped with the server clock:
- **Heartbeats** from the rating page: every few seconds (and on play, pause, seek and submit) it
  sends each player's current time and whether it is playing. Between two heartbeats an output
  is credited with how far its player advanced, but never more than ``RATE_SLACK`` × the server
  time between them, and nothing across a gap longer than ``MAX_HEARTBEAT_GAP_S`` (a sleeping tab
  or a fabricated pair of heartbeats). A seek forward is therefore not playback; a seek back or a
  loop credits the time played since. ``credit`` is the pure rule.
- **Byte ranges** of the media served for the assignment to a client authenticated by an API
  token (API raters fetch what they watch; the page's players are measured by heartbeats,
  because a browser preloads whole files). ``bytes_seen / size`` of the duration is credited,
  but no more than the server time since the first byte was served.

``observed_s`` is the larger of the two. The judging rules (``tasks.rating.judging``) refuse a
client's claim above the media's duration, above the time since serving, or above what was
observed (``CLAIM_TOLERANCE_S`` of slack: the page's last heartbeat rides with the submission),
and count only observed seconds toward ``min_media_fraction``.
"""
from __future__ import annotations

from datetime import datetime
from functools import cache

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from tasks.catalogue.models import ItemOutput
from tasks.rating.models import Assignment, PlaybackObservation

RATE_SLACK = 1.05  # a player may run 5 % fast against the server clock (jitter, not 2× speed)
MAX_HEARTBEAT_GAP_S = 30.0  # the page beats every 2–5 s while playing
CLAIM_TOLERANCE_S = 2.5  # a claim may exceed the observation by one heartbeat interval
MAX_POSITION_S = 86_400.0


def credit(prev_position: float | None, prev_playing: bool, prev_at: datetime | None,
           position: float, playing: bool, now: datetime) -> float:
    """Seconds of playback to credit between two heartbeats of one player (pure)."""
    if prev_at is None or prev_position is None or not (prev_playing or playing):
        return 0.0
    wall = (now - prev_at).total_seconds()
    if wall <= 0 or wall > MAX_HEARTBEAT_GAP_S:
        return 0.0
    advanced = position - prev_position if position >= prev_position else position
    return max(0.0, min(advanced, wall * RATE_SLACK))


def merge_ranges(ranges: list[list[int]], start: int, end: int) -> list[list[int]]:
    """``ranges`` (sorted, disjoint ``[start, end)``) with ``[start, end)`` added (pure)."""
    merged: list[list[int]] = []
    for low, high in sorted([*ranges, [start, end]]):
        if merged and low <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], high)
        else:
            merged.append([low, high])
    return merged


def _rows(session: Session, assignment: Assignment, labels, *, locked: bool = False) -> dict[str, PlaybackObservation]:
    """The outputs' observation rows by label, those of ``labels`` created when missing, read in
    one statement. The assignment's row lock (taken here unless the caller holds it: ``locked``)
    serialises concurrent heartbeats, submissions and media fetches of one assignment
    (PostgreSQL; SQLite writers are serialised already), so two of them never both create a row
    nor lose each other's credit."""
    if not locked:
        session.scalar(select(Assignment.id).where(Assignment.id == assignment.id).with_for_update())
    rows = {row.label: row for row in session.scalars(
        select(PlaybackObservation).where(PlaybackObservation.assignment_id == assignment.id)
        .execution_options(populate_existing=True))}
    for label in labels:
        if label not in rows:
            rows[label] = PlaybackObservation(assignment_id=assignment.id, label=label, playing=False,
                                              heard_s=0.0, bytes_seen=0)
            session.add(rows[label])
    return rows


def parse_heartbeat(assignment: Assignment, data) -> dict[str, tuple[float, bool]] | None:
    """``{side: {"t": seconds, "playing": bool}}`` (screen sides) as ``{label: (t, playing)}``;
    None when malformed."""
    sides = ("left", "right") if assignment.project.kind == "pairwise" else ("output",)
    if not isinstance(data, dict) or not data or set(data) - set(sides):
        return None
    out = {}
    for side, beat in data.items():
        if not isinstance(beat, dict):
            return None
        t, playing = beat.get("t"), beat.get("playing", False)
        if isinstance(t, bool) or not isinstance(t, (int, float)) or not 0 <= t <= MAX_POSITION_S \
                or not isinstance(playing, bool):
            return None
        out[assignment.label_of(side)] = (float(t), playing)
    return out


def heartbeat(session: Session, assignment: Assignment, beats: dict[str, tuple[float, bool]],
              now: datetime, *, locked: bool = False) -> dict[str, PlaybackObservation] | None:
    """Record one heartbeat of the page's players (``parse_heartbeat``'s result). ``locked``: the
    caller holds the assignment's row lock already (a submission, ``tasks.rating.judging``).
    Returns every observation row of the assignment by label (for ``observed``), None when
    nothing was recorded."""
    durations = {o.label: o.asset.duration_s for o in assignment.item.outputs}
    beats = {label: beat for label, beat in beats.items() if label in durations}
    if not beats:
        return None
    rows = _rows(session, assignment, beats, locked=locked)
    for label, (position, playing) in beats.items():
        row = rows[label]
        gained = credit(row.position_s, row.playing, row.heartbeat_at, position, playing, now)
        limit = durations[label] * 1.5 if durations[label] else MAX_POSITION_S  # replays count, a little
        row.heard_s = min(limit, (row.heard_s or 0.0) + gained)
        row.position_s, row.playing, row.heartbeat_at = position, playing, now
    session.flush()
    return rows


def record_bytes(session: Session, assignment: Assignment, label: str, start: int, end: int,
                 now: datetime) -> None:
    """Record that bytes ``[start, end)`` of the output ``label`` were served for the assignment."""
    row = _rows(session, assignment, [label])[label]
    row.byte_ranges = merge_ranges(list(row.byte_ranges or []), start, end)
    row.bytes_seen = sum(high - low for low, high in row.byte_ranges)
    row.first_fetch_at = row.first_fetch_at or now
    session.flush()


def observed_s(row: PlaybackObservation | None, duration_s: float | None, size_bytes: int,
               now: datetime) -> float:
    """Seconds of an output the server saw played (heartbeats) or fetched (bytes)."""
    if row is None:
        return 0.0
    fetched = 0.0
    if duration_s and size_bytes and row.bytes_seen and row.first_fetch_at:
        fetched = min(duration_s * min(1.0, row.bytes_seen / size_bytes),
                      max(0.0, (now - row.first_fetch_at).total_seconds()))
    return max(row.heard_s or 0.0, fetched)


@cache
def _observations():
    return select(PlaybackObservation).where(PlaybackObservation.assignment_id == bindparam("assignment_id"))


def observed(session: Session, assignment: Assignment, now: datetime,
             rows: dict[str, PlaybackObservation] | None = None) -> dict[str, float]:
    """Observed seconds per item label of the assignment's outputs. ``rows``: the assignment's
    observation rows by label when the caller holds them (``heartbeat``'s answer)."""
    if rows is None:
        rows = {r.label: r for r in session.scalars(_observations(), {"assignment_id": assignment.id})}
    return {o.label: round(observed_s(rows.get(o.label), o.asset.duration_s, o.asset.size_bytes, now), 3)
            for o in assignment.item.outputs}


def open_assignments_showing(session: Session, rater_id: int, asset_id: int, now: datetime):
    """(assignment, label) pairs: the rater's open assignments whose item shows the asset."""
    return session.execute(
        select(Assignment, ItemOutput.label).join(ItemOutput, ItemOutput.item_id == Assignment.item_id)
        .where(Assignment.rater_id == rater_id, Assignment.status == "open", Assignment.expires_at > now,
               ItemOutput.asset_id == asset_id)).all()
