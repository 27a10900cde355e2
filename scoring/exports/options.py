"""What an export is asked for: its kind, format and options, checked once at the boundary.

The options are recorded verbatim in the manifest and name the export's series: the same kind,
format and options on changed data make the next version of the same series.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Annotated, Optional

from pydantic import Field

from boundary import ColumnText, Form, FormNumber, Unit

KINDS = ("preferences", "ratings")
FORMATS = ("parquet", "jsonl", "csv")
MODES = ("consensus", "judgments")
TIES = ("keep", "drop")
MEDIA = ("files", "references")
MAX_LIST = 50
MAX_NAME = 120


class OptionsInvalid(ValueError):
    """Refused options; ``errors`` maps a field to what is wrong with it."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


@dataclass(frozen=True)
class ExportOptions:
    mode: str = "consensus"  # preferences: one row per item (consensus) or per judgment
    ties: str = "keep"  # keep (flagged) or drop
    media: str = "files"  # media projects: copy files into the export, or reference them by sha256
    min_agreement: float | None = None  # items whose panel agrees less are left out
    min_judgments: int | None = None  # items with fewer current judgments are left out
    # Judgments of accounts an admin deactivated are left out (placeholder raters of imported
    # judgments never sign in and are not deactivated).
    exclude_deactivated_raters: bool = True
    # Raters a manager excluded are always left out (a rule, ``excluded_rater``); these filters
    # also leave out raters now paused or removed in the project, and raters whose quality
    # figures cross a threshold (``scoring.quality``: any flag on the raters page).
    exclude_paused_raters: bool = False
    exclude_flagged_raters: bool = False
    exclude_gold: bool = True
    since: str | None = None  # judgments made on or after this date (UTC, YYYY-MM-DD)
    until: str | None = None  # … and on or before this date
    models: tuple[str, ...] = field(default_factory=tuple)  # only items whose outputs all come from these
    criteria: tuple[str, ...] = field(default_factory=tuple)  # rubric: only these criteria

    def as_dict(self) -> dict:
        out = asdict(self)
        out["models"], out["criteria"] = list(self.models), list(self.criteria)
        return out


@dataclass(frozen=True)
class ExportRequest:
    kind: str
    file_format: str
    options: ExportOptions

    @property
    def series_key(self) -> str:
        canonical = json.dumps({"kind": self.kind, "format": self.file_format, "options": self.options.as_dict()},
                               sort_keys=True)
        return hashlib.sha256(canonical.encode()).hexdigest()


Choice = ColumnText(max_length=20)
Checkbox = ColumnText(max_length=5)  # "on" when ticked
Names = ColumnText(max_length=MAX_LIST * (MAX_NAME + 2))  # comma-separated


class ExportForm(Form):
    """The exports page's form, every value text: bounded here at the boundary (digits 0-9 only);
    the choices, dates and rules between fields are ``parse``'s, shared with the API."""
    kind: Choice = ""
    format: Choice = ""
    mode: Choice = ""
    ties: Choice = ""
    media: Choice = ""
    min_agreement: Annotated[Optional[Unit], FormNumber] = None
    min_judgments: Annotated[Optional[Annotated[int, Field(ge=1, le=10_000)]], FormNumber] = None
    exclude_deactivated_raters: Checkbox = ""
    exclude_paused_raters: Checkbox = ""
    exclude_flagged_raters: Checkbox = ""
    exclude_gold: Checkbox = ""
    since: ColumnText(max_length=10) = ""  # YYYY-MM-DD
    until: ColumnText(max_length=10) = ""
    models: Names = ""
    criteria: Names = ""


def _bool(value, name, errors, default):
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("1", "true", "on", "yes", "0", "false", "off", "no"):
        return value.lower() in ("1", "true", "on", "yes")
    errors[name] = "true or false"
    return default


def _choice(value, name, choices, errors, default):
    if value is None or value == "":
        return default
    if value not in choices:
        errors[name] = f"one of {', '.join(choices)}"
        return default
    return value


def _number(value, name, errors, *, lo, hi, integer=False):
    if value is None or value == "":
        return None
    try:
        number = int(value) if integer else float(value)
    except (TypeError, ValueError):
        errors[name] = "a whole number" if integer else "a number"
        return None
    if isinstance(value, bool) or not lo <= number <= hi:  # also refuses nan and inf
        errors[name] = f"between {lo} and {hi}"
        return None
    return number


def _date(value, name, errors):
    if value is None or value == "":
        return None
    try:
        return date.fromisoformat(str(value)).isoformat()
    except ValueError:
        errors[name] = "a date YYYY-MM-DD"
        return None


def _names(value, name, errors):
    if value is None or value == "":
        return ()
    items = [v.strip() for v in value.split(",")] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(v, str) for v in items):
        errors[name] = "a list of names"
        return ()
    items = sorted({v.strip() for v in items if v.strip()})
    if len(items) > MAX_LIST or any(len(v) > MAX_NAME or "\x00" in v for v in items):
        errors[name] = f"at most {MAX_LIST} names of at most {MAX_NAME} characters"
        return ()
    return tuple(items)


def parse(data: dict, *, project_kind: str, criteria_keys: list[str]) -> ExportRequest:
    """An ``ExportRequest`` from a JSON body or form (strings accepted), or ``OptionsInvalid``."""
    errors: dict[str, str] = {}
    known = {"kind", "format", *ExportOptions.__dataclass_fields__}
    unknown = sorted(k for k in data if k not in known and k != "csrf_token")
    if unknown:
        errors["_"] = f"unknown field(s): {', '.join(unknown)}"
    kind = _choice(data.get("kind"), "kind", KINDS, errors, "preferences")
    file_format = _choice(data.get("format"), "format", FORMATS, errors, "parquet")
    options = ExportOptions(
        mode=_choice(data.get("mode"), "mode", MODES, errors, "consensus"),
        ties=_choice(data.get("ties"), "ties", TIES, errors, "keep"),
        media=_choice(data.get("media"), "media", MEDIA, errors, "files"),
        min_agreement=_number(data.get("min_agreement"), "min_agreement", errors, lo=0, hi=1),
        min_judgments=_number(data.get("min_judgments"), "min_judgments", errors, lo=1, hi=10_000, integer=True),
        exclude_deactivated_raters=_bool(data.get("exclude_deactivated_raters"), "exclude_deactivated_raters", errors, True),
        exclude_paused_raters=_bool(data.get("exclude_paused_raters"), "exclude_paused_raters", errors, False),
        exclude_flagged_raters=_bool(data.get("exclude_flagged_raters"), "exclude_flagged_raters", errors, False),
        exclude_gold=_bool(data.get("exclude_gold"), "exclude_gold", errors, True),
        since=_date(data.get("since"), "since", errors), until=_date(data.get("until"), "until", errors),
        models=_names(data.get("models"), "models", errors), criteria=_names(data.get("criteria"), "criteria", errors))
    if options.since and options.until and options.since > options.until:
        errors["until"] = "on or after since"
    if options.criteria and project_kind != "rubric":
        errors["criteria"] = "only rubric projects have criteria"
    unknown_criteria = sorted(set(options.criteria) - set(criteria_keys))
    if project_kind == "rubric" and unknown_criteria:
        errors["criteria"] = f"not criteria of this project: {', '.join(unknown_criteria)}"
    if errors:
        raise OptionsInvalid(errors)
    return ExportRequest(kind, file_format, options)
