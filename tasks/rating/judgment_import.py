"""Judgment import: judgments made outside Dailies (JSONL, or CSV with the same columns), every
row checked first, then all written, or nothing — errors as ``line N: what is wrong``, like the
item import.

A row (design.md, "Judgment import")::

    {"external_id": "alley-017", "rater": "ana@studio.example", "choice": "a", "strength": 2,
     "rationale": "…", "confidence": 4, "created_at": "2026-06-30T10:00:00Z"}

with ``scores`` (every rubric criterion, a whole number on its scale) instead of ``choice`` and
``strength`` for rubric projects. Optional, both in item labels (CSV: JSON text in the column):

- ``criteria`` — absent (judged elsewhere without them), or, in a pairwise project with criteria,
  every one of them:
  ``{"motion": {"choice": "a", "strength": 2}, "fidelity": {"choice": "tie"}}`` (strength
  optional for ``a``/``b``, absent on a tie, as for the overall choice);
- ``notes`` — time-coded notes, ``[{"label": "b", "t_in": 1.5, "t_out": 2.0, "text": "…"}]``
  (scripts: ``{"label", "line_in", "line_out", "char_in", "char_out", "quote", "text"}``), under the
  bounds of live notes (``tasks.rating.notes``); frames are computed from the asset's frame rate.
  A project that requires a note does not require one of imported judgments.
 ``choice`` is in the item's labels; ``strength`` (1–3) is
optional for ``a``/``b`` and absent for a tie. ``rationale`` and ``confidence`` (1–5) are
required; the rationale rules of live rating (minimum words, near-copies) and the dwell-time and
playback rules do not apply: the judgment was made elsewhere, under other rules. ``created_at``
(ISO 8601 with a zone, not in the future) defaults to the time of import.

``rater`` is an e-mail or an external rater id. An e-mail of an existing account must belong to
a rater; anyone else gets an inactive placeholder rater account (no password: it can never sign
in; ``raters.services.create_placeholder_raters``: one INSERT for all of a file's), so the same
id in a later file is the same rater. A rater may not judge an item twice: not twice in the file, not when they already have a
current judgment on it, and not while they hold an open assignment of it.

Stored with ``source='imported'``, no assignment, no time on task or playback. Written set-based:
on PostgreSQL one ``COPY`` streaming every row (elsewhere a multi-row INSERT per ``WRITE_BATCH``
rows), with each rationale's features (``answers.rationale_features``; shingle hashes memoised);
then the touched items' panels (``tasks.rating.overlap.refresh_panels``, from the answers read
under the item locks before the write plus the file's rows: one upsert per batch)
and routing's counters (``tasks.rating.routing.refresh_items``).

Where the time goes (PostgreSQL, ``bench/app_bench.py``): a plain ``COPY`` of the same judgments
into ``judgments`` itself — its indexes and, above all, a foreign-key check per row on its
project, item and rater — costs 15–30× a ``COPY`` of the file's rows into a bare table (at 100,000
and 1,000,000 rows), before any of the import's own work; the import takes 1.2–3× that.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from psycopg.copy import QueuedLibpqWriter
from sqlalchemy import JSON, select
from sqlalchemy.orm import Session

from database import one_of
from raters.models import User
from raters.services import audit, create_placeholder_raters, placeholder_email
from tasks.rating import notes as notes_rules
from tasks.rating import overlap, routing
from tasks.rating.judging import output_sides
from tasks.rating.answers import MAX_RATIONALE_CHARS, is_whole, rationale_features, scores_problems
from tasks.catalogue.importing import ImportRejected, in_line_order, read_rows
from tasks.catalogue.models import Item, Project
from tasks.rating.models import Assignment, Judgment

ROW_FIELDS = {"external_id", "rater", "choice", "strength", "scores", "rationale", "confidence", "created_at",
              "criteria", "notes"}
INT_COLUMNS = ("strength", "confidence")
MAX_REF_CHARS = 200
CLOCK_SKEW = timedelta(minutes=5)
CHUNK = 500
WRITE_BATCH = 5000  # rows per INSERT statement (not PostgreSQL: one COPY), items per lock statement

__all__ = ["ImportRejected", "JudgmentImport", "import_judgments", "parse_rows"]


@dataclass(slots=True)
class CheckedJudgment:
    line: int
    item_id: int
    rater_ref: str
    choice: str | None
    strength: int | None
    scores: dict | None
    rationale: str
    confidence: int
    created_at: datetime | None
    email: str = ""  # the account e-mail standing for rater_ref (``placeholder_email``)
    criteria: dict | None = None
    notes: list | None = None


@dataclass
class JudgmentImport:
    """What an accepted file wrote."""

    n_judgments: int
    n_items: int
    n_raters: int
    new_raters: list[str] = field(default_factory=list)  # e-mails of placeholder accounts made
    sha256: str = ""


def parse_rows(data: bytes, filename: str) -> tuple[list[tuple[int, object]], list[str]]:
    """The rows of a judgment file (JSONL, or CSV with ``scores`` as JSON text)."""
    return read_rows(data, filename, json_columns=("scores", "criteria", "notes"), converters=dict.fromkeys(INT_COLUMNS, int),
                     what="judgments")


def _timestamp(value, where: str, now: datetime, errors: list[str]) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        moment = None
    if moment is None:
        errors.append(f"{where}: created_at must be an ISO 8601 time, e.g. 2026-06-30T10:00:00Z")
    elif moment.tzinfo is None:
        errors.append(f"{where}: created_at needs a time zone (…Z or …+02:00)")
    elif moment > now + CLOCK_SKEW:
        errors.append(f"{where}: created_at {value} is in the future")
    else:
        return moment
    return None


def check_row(project: Project, items: dict[str, int], line: int, row, now: datetime,
              errors: list[str], note_sides=None) -> CheckedJudgment | None:
    """One row checked (every problem appended to ``errors``); ``note_sides(item_id)``: the
    item's outputs by label as the note rules need them (``tasks.rating.notes.Side``)."""
    where = f"line {line}"
    before = len(errors)
    if not isinstance(row, dict):
        errors.append(f"{where}: each line must be a JSON object")
        return None
    unknown = sorted(set(row) - ROW_FIELDS)
    if unknown:
        errors.append(f"{where}: unknown field(s) {', '.join(unknown)}")
    external_id = row.get("external_id")
    item_id = None
    if not isinstance(external_id, (str, int)) or isinstance(external_id, bool) or not str(external_id).strip():
        errors.append(f"{where}: missing field “external_id” (the item judged)")
    else:
        item_id = items.get(str(external_id).strip())
        if item_id is None:
            errors.append(f"{where}: no item “{str(external_id).strip()}” in this project")
    rater = row.get("rater")
    if isinstance(rater, int) and not isinstance(rater, bool):
        rater = str(rater)
    if not isinstance(rater, str) or not rater.strip() or len(rater.strip()) > MAX_REF_CHARS:
        errors.append(f"{where}: missing field “rater” (an e-mail or an external rater id, "
                      f"at most {MAX_REF_CHARS} characters)")
    choice = strength = scores = None
    if project.kind == "pairwise":
        if "scores" in row:
            errors.append(f"{where}: scores are for rubric projects; this one is pairwise")
        choice, strength = row.get("choice"), row.get("strength")
        if choice not in ("a", "b", "tie"):
            errors.append(f"{where}: choice must be a, b or tie (the item's own labels), not {choice!r}")
        elif choice == "tie" and strength is not None:
            errors.append(f"{where}: a tie has no strength")
        elif strength is not None and not is_whole(strength, 1, 3):
            errors.append(f"{where}: strength must be 1 (slightly), 2 (clearly) or 3 (much better)")
    else:
        stray = [f for f in ("choice", "strength") if f in row]
        if stray:
            errors.append(f"{where}: {', '.join(stray)} are for pairwise projects; give scores")
        scores = row.get("scores")
        for name, problem in scores_problems(scores, project.rubric or []).items():
            key = name.partition(".")[2]
            if not key:
                errors.append(f"{where}: scores: {problem}")
            elif key not in scores:
                errors.append(f"{where}: scores has no “{key}” (score every criterion)")
            else:
                errors.append(f"{where}: scores.{key} must be {problem}")
    rationale = row.get("rationale")
    if not isinstance(rationale, str) or not rationale.strip():
        errors.append(f"{where}: missing field “rationale” (why the rater judged so)")
    elif len(rationale) > MAX_RATIONALE_CHARS:
        errors.append(f"{where}: rationale is longer than {MAX_RATIONALE_CHARS} characters")
    confidence = row.get("confidence")
    if confidence is None:
        errors.append(f"{where}: missing field “confidence” (1–5)")
    elif not is_whole(confidence, 1, 5):
        errors.append(f"{where}: confidence must be a whole number from 1 to 5")
    created_at = _timestamp(row.get("created_at"), where, now, errors)
    criteria = _criteria(project, row.get("criteria"), where, errors)
    notes = None
    if row.get("notes") not in (None, []) and item_id is not None and note_sides is not None:
        try:
            notes = notes_rules.parse_notes(row["notes"], note_sides(item_id), project.modality, anchor="label") or None
        except notes_rules.NoteError as exc:
            errors.append(f"{where}: notes: {exc}")
    if len(errors) > before:
        return None
    return CheckedJudgment(line, item_id, rater.strip(), choice, strength, scores, rationale.strip(),
                           confidence, created_at, placeholder_email(rater.strip()), criteria, notes)


def _criteria(project: Project, raw, where: str, errors: list[str]) -> dict | None:
    defined = project.pairwise_criteria if project.kind == "pairwise" else []
    stored, problems = notes_rules.parse_criteria(raw, defined, None, imported=True)
    for field, problem in problems.items():
        errors.append(f"{where}: {field}: {problem}")
    return stored


class RowChecker:
    """``check_row`` for a whole file, fast: a pairwise row of the common valid shape is accepted
    by a few direct tests (e-mails and timestamps computed once per distinct value); any row that
    fails one of them — and every rubric row — goes through ``check_row``, which applies every
    rule and words the errors. The fast tests accept only what ``check_row`` accepts (the suite
    compares the two on valid and broken rows)."""

    def __init__(self, project: Project, items: dict[str, int], now: datetime, note_sides=None):
        self.project, self.items, self.now, self.note_sides = project, items, now, note_sides
        self.emails: dict[str, str] = {}
        self.times: dict[str, datetime | None] = {}
        self.latest = now + CLOCK_SKEW

    def check(self, rows, errors: list[str]) -> list[CheckedJudgment]:
        fast = self._fast if self.project.kind == "pairwise" else None
        out = []
        for line, row in rows:
            checked = fast(line, row) if fast else None
            if checked is None:
                checked = check_row(self.project, self.items, line, row, self.now, errors, self.note_sides)
            if checked is not None:
                out.append(checked)
        return out

    def _fast(self, line: int, row) -> CheckedJudgment | None:
        if type(row) is not dict or not row.keys() <= PAIRWISE_FIELDS:
            return None
        external_id, rater, choice = row.get("external_id"), row.get("rater"), row.get("choice")
        strength, rationale, confidence = row.get("strength"), row.get("rationale"), row.get("confidence")
        if type(external_id) is int:
            external_id = str(external_id)
        if type(rater) is int:
            rater = str(rater)
        if type(external_id) is not str or type(rater) is not str or type(rationale) is not str \
                or type(confidence) is not int or not 1 <= confidence <= 5 or choice not in CHOICES:
            return None
        item_id = self.items.get(external_id.strip())
        rater, text = rater.strip(), rationale.strip()
        if item_id is None or not rater or len(rater) > MAX_REF_CHARS or not text \
                or len(rationale) > MAX_RATIONALE_CHARS:
            return None
        if strength is not None and (choice == "tie" or type(strength) is not int or not 1 <= strength <= 3):
            return None
        created = row.get("created_at")
        moment = None
        if created is not None:
            if type(created) is not str:
                return None
            moment = self.times.get(created, False)
            if moment is False:
                moment = self.times[created] = self._moment(created)
            if moment is None:
                return None
        email = self.emails.get(rater)
        if email is None:
            email = self.emails[rater] = placeholder_email(rater)
        return CheckedJudgment(line, item_id, rater, choice, strength, None, text, confidence, moment, email)

    def _moment(self, value: str) -> datetime | None:
        """The time, when ``_timestamp`` would accept it; None sends the row to ``check_row``."""
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return None
        return moment if moment.tzinfo is not None and moment <= self.latest else None


PAIRWISE_FIELDS = ROW_FIELDS - {"scores", "criteria", "notes"}  # those rows take check_row
CHOICES = ("a", "b", "tie")  # a tuple: a row's choice may be unhashable


def _chunks(values: list, size: int = CHUNK):
    for start in range(0, len(values), size):
        yield values[start:start + size]


def _item_ids(session: Session, project: Project, rows) -> dict[str, int]:
    wanted = sorted({str(r.get("external_id")).strip() for _, r in rows if isinstance(r, dict)
                     and isinstance(r.get("external_id"), (str, int))})
    found = {}
    for chunk in _chunks(wanted):
        found.update(session.execute(select(Item.external_id, Item.id).where(
            Item.project_id == project.id, one_of(session, Item.external_id, chunk))).all())
    return found


def _check_raters(session: Session, checked: list[CheckedJudgment], errors: list[str]) -> dict[str, User]:
    """Existing accounts by e-mail; every problem with who judged what, by line."""
    first: dict[str, int] = {}
    for row in checked:
        first.setdefault(row.email, row.line)
    users: dict[str, User] = {}
    for chunk in _chunks(sorted(first)):
        users.update({u.email: u for u in session.scalars(select(User).where(one_of(session, User.email, chunk)))})
    for email, user in users.items():
        if user.role != "rater":
            errors.append(f"line {first[email]}: {email} has a {user.role} account here; only raters' "
                          "judgments can be imported")
    seen: dict[tuple[int, str], int] = {}
    for row in checked:
        pair = (row.item_id, row.email)
        if pair in seen:
            errors.append(f"line {row.line}: {row.rater_ref} already judges this item on line {seen[pair]}")
        else:
            seen[pair] = row.line
    by_id = {u.id: u.email for u in users.values()}
    items = sorted({row.item_id for row in checked if row.email in users})
    taken: set[tuple[int, str, str]] = set()
    for chunk in _chunks(items):
        for model, extra in ((Judgment, Judgment.superseded_at.is_(None)), (Assignment, Assignment.status == "open")):
            for item_id, rater_id in session.execute(select(model.item_id, model.rater_id).where(
                    one_of(session, model.item_id, chunk), one_of(session, model.rater_id, by_id), extra)):
                taken.add((item_id, by_id[rater_id], model.__name__))
    for item_id, email, what in sorted(taken):
        line = seen.get((item_id, email))
        if line is not None:
            errors.append(f"line {line}: {email} already has a current judgment on this item" if what == "Judgment"
                          else f"line {line}: {email} holds an open assignment of this item")
    return users


def import_judgments(session: Session, project: Project, data: bytes, filename: str, *,
                     actor: User | None, now: datetime) -> JudgmentImport:
    """Check every row of the file, then write them all; raise ImportRejected otherwise."""
    rows, errors = parse_rows(data, filename)
    items = _item_ids(session, project, rows)
    sides: dict[int, dict] = {}

    def note_sides(item_id: int) -> dict:
        if item_id not in sides:
            sides[item_id] = output_sides(session.get(Item, item_id))
        return sides[item_id]
    checked = RowChecker(project, items, now, note_sides).check(rows, errors)
    users = _check_raters(session, checked, errors) if checked else {}
    if errors:
        raise ImportRejected(in_line_order(errors))
    return _write(session, project, checked, users, filename, hashlib.sha256(data).hexdigest(), actor, now)


def _write(session: Session, project: Project, rows: list[CheckedJudgment], users: dict[str, User],
           filename: str, file_sha: str, actor: User | None, now: datetime) -> JudgmentImport:
    rater_ids = {email: user.id for email, user in users.items()}
    unknown = dict.fromkeys(row.rater_ref for row in rows if row.email not in rater_ids)  # each ref once
    made = create_placeholder_raters(session, list(unknown), actor)
    rater_ids.update(made)
    new_raters = list(made)
    item_ids = sorted({row.item_id for row in rows})
    for chunk in _chunks(item_ids, WRITE_BATCH):  # lock the items (in id order) before their panels change
        session.scalars(select(Item.id).where(one_of(session, Item.id, chunk)).order_by(Item.id).with_for_update()).all()
    answers = overlap.current_answers(session, item_ids)  # under the locks: the panels before this file
    for row in rows:
        answers.setdefault(row.item_id, []).append({"choice": row.choice, "scores": row.scores})
    records = ((project.id, row.item_id, rater_ids[row.email], row.choice,
                row.strength if row.choice != "tie" else None, row.scores, row.rationale, row.confidence,
                row.criteria, row.notes, 0, "imported", row.created_at or now,
                rationale_features(row.rationale)) for row in rows)
    insert_rows(session, Judgment.__table__, JUDGMENT_COLUMNS, records)
    overlap.refresh_panels(session, project, item_ids, now=now, answers=answers)
    routing.refresh_items(session, item_ids)
    audit(session, actor, "judgments.import", f"project:{project.id}",
          f"{len(rows)} judgments from {filename[:120]} (sha256 {file_sha[:12]}), {len(new_raters)} new raters",
          project_id=project.id)
    return JudgmentImport(len(rows), len(item_ids), len({r.email for r in rows}), new_raters, file_sha)


JUDGMENT_COLUMNS = ("project_id", "item_id", "rater_id", "choice", "strength", "scores", "rationale", "confidence",
                    "criteria", "notes", "paste_count", "source", "created_at", "rationale_features")


def insert_rows(session: Session, table, columns: tuple[str, ...], records, *, batch: int = WRITE_BATCH) -> int:
    """Insert plain rows (tuples of ``columns``' values): on PostgreSQL one ``COPY`` streaming
    them all (sent from a writer thread, so the server stores rows while the next are made),
    elsewhere a multi-row INSERT per ``batch`` rows."""
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        return _copy_rows(connection, table, columns, records)
    written, pending = 0, []
    for record in records:
        pending.append(dict(zip(columns, record)))
        if len(pending) >= batch:
            connection.execute(table.insert(), pending)
            written, pending = written + len(pending), []
    if pending:
        connection.execute(table.insert(), pending)
        written += len(pending)
    return written


def _copy_rows(connection, table, columns: tuple[str, ...], records) -> int:
    json_at = [i for i, c in enumerate(columns) if isinstance(table.c[c].type, JSON)]
    cursor = connection.connection.driver_connection.cursor()
    written = 0
    with cursor.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN",
                     writer=QueuedLibpqWriter(cursor)) as copy:
        for record in records:
            record = list(record)
            for i in json_at:
                if record[i] is not None:
                    record[i] = json.dumps(record[i])
            copy.write_row(record)
            written += 1
    return written
