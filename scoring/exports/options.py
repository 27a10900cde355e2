"""What an export is asked for: its kind, format and options, checked once at the boundary.

The options are recorded verbatim in the manifest and name the export's series: the same kind,
format and options on changed data make the next version of the same series.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Annotated, Literal, Optional

from pydantic import AfterValidator, Field, StringConstraints, ValidationError

from boundary import Body, ColumnText, Form, FormNumber, Unit

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


DATE_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"


def _calendar_date(value: str) -> str:
    date.fromisoformat(value)  # a real day (no 2026-02-30)
    return value


Name = ColumnText(max_length=MAX_NAME)
Names = Annotated[list[Name], Field(max_length=MAX_LIST)]
Day = Annotated[str, StringConstraints(max_length=10, pattern=DATE_PATTERN), AfterValidator(_calendar_date),
                Field(json_schema_extra={"format": "date"})]


class ExportBody(Body):
    """What an export is asked for (the API's JSON body; the exports page's form is read into
    the same model): its kind, format and options with their bounds. The rules that need the
    project (its criteria) are ``parse``'s."""
    kind: Literal[KINDS] = "preferences"
    format: Literal[FORMATS] = "parquet"
    mode: Literal[MODES] = Field("consensus", description="preferences: one row per item (consensus) or per judgment")
    ties: Literal[TIES] = Field("keep", description="keep ties (flagged) or drop them")
    media: Literal[MEDIA] = Field("files", description="media projects: copy the files into the export, "
                                                        "or reference them by sha256")
    min_agreement: Optional[Unit] = Field(None, description="items whose panel agrees less are left out")
    min_judgments: Optional[Annotated[int, Field(ge=1, le=10_000)]] = Field(
        None, description="items with fewer current judgments are left out")
    exclude_deactivated_raters: bool = True
    exclude_paused_raters: bool = Field(False, description="leave out raters paused or removed in the project")
    exclude_flagged_raters: bool = Field(False, description="leave out raters whose quality figures raise a flag")
    exclude_gold: bool = True
    since: Optional[Day] = Field(None, description="judgments made on or after this day (UTC)")
    until: Optional[Day] = Field(None, description="judgments made on or before this day (UTC), not before since")
    models: Names = Field([], description="only items whose outputs all come from these models")
    criteria: Names = Field([], description="rubric projects: only these criteria")


# What a refused field is told, whatever pydantic found wrong with it (the API's messages).
MESSAGES = {
    **{name: f"one of {', '.join(choices)}" for name, choices in
       (("kind", KINDS), ("format", FORMATS), ("mode", MODES), ("ties", TIES), ("media", MEDIA))},
    "min_agreement": "between 0 and 1",
    "min_judgments": "between 1 and 10000",
    **{name: "true or false" for name in ("exclude_deactivated_raters", "exclude_paused_raters",
                                          "exclude_flagged_raters", "exclude_gold")},
    "since": "a date YYYY-MM-DD", "until": "a date YYYY-MM-DD",
    "models": f"at most {MAX_LIST} names of at most {MAX_NAME} characters",
    "criteria": f"at most {MAX_LIST} names of at most {MAX_NAME} characters",
}
# … unless it is of the wrong type, for these.
TYPE_MESSAGES = {"min_agreement": "a number", "min_judgments": "a whole number",
                 "models": "a list of names", "criteria": "a list of names"}
BOUND_ERRORS = {"greater_than_equal", "less_than_equal", "finite_number", "too_long", "string_too_long"}


def _errors(exc: ValidationError) -> dict[str, str]:
    errors: dict[str, str] = {}
    unknown = sorted(str(e["loc"][0]) for e in exc.errors() if e["type"] == "extra_forbidden")
    if unknown:
        errors["_"] = f"unknown field(s): {', '.join(unknown)}"
    for error in exc.errors():
        name = str(error["loc"][0]) if error["loc"] else "_"
        if error["type"] != "extra_forbidden" and name not in errors:
            bound = error["type"] in BOUND_ERRORS or name not in TYPE_MESSAGES
            errors[name] = MESSAGES[name] if bound else TYPE_MESSAGES[name]
    return errors


def _names(values: list[str]) -> tuple[str, ...]:
    return tuple(sorted({v.strip() for v in values if v.strip()}))


def parse(data: dict, *, project_kind: str, criteria_keys: list[str]) -> ExportRequest:
    """An ``ExportRequest`` from ``ExportBody``'s fields (a JSON body, ``ExportForm.body()``, the
    CLI's options), or ``OptionsInvalid`` naming every refused field."""
    try:
        body = ExportBody.model_validate(data)
    except ValidationError as exc:
        raise OptionsInvalid(_errors(exc)) from None
    errors: dict[str, str] = {}
    if body.since and body.until and body.since > body.until:
        errors["until"] = "on or after since"
    criteria = _names(body.criteria)
    if criteria and project_kind != "rubric":
        errors["criteria"] = "only rubric projects have criteria"
    unknown_criteria = sorted(set(criteria) - set(criteria_keys))
    if project_kind == "rubric" and unknown_criteria:
        errors["criteria"] = f"not criteria of this project: {', '.join(unknown_criteria)}"
    if errors:
        raise OptionsInvalid(errors)
    options = ExportOptions(
        mode=body.mode, ties=body.ties, media=body.media, min_agreement=body.min_agreement,
        min_judgments=body.min_judgments, exclude_deactivated_raters=body.exclude_deactivated_raters,
        exclude_paused_raters=body.exclude_paused_raters, exclude_flagged_raters=body.exclude_flagged_raters,
        exclude_gold=body.exclude_gold, since=body.since, until=body.until, models=_names(body.models),
        criteria=criteria)
    return ExportRequest(body.kind, body.format, options)


Choice = ColumnText(max_length=20)
Checkbox = ColumnText(max_length=5)  # "on" when ticked
NameList = ColumnText(max_length=MAX_LIST * (MAX_NAME + 2))  # comma-separated
CHECKBOXES = ("exclude_deactivated_raters", "exclude_paused_raters", "exclude_flagged_raters", "exclude_gold")


class ExportForm(Form):
    """The exports page's form, every value text: bounded here (digits 0-9 only), then read into
    an ``ExportBody`` (``body``) so that the page and the API share one set of rules."""
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
    models: NameList = ""
    criteria: NameList = ""

    def body(self) -> dict:
        """The form as ``ExportBody`` fields: an empty field takes the default, a checkbox not
        sent is off, names are comma-separated."""
        values = self.model_dump(exclude=set(CHECKBOXES))
        out = {name: value for name, value in values.items() if value not in ("", None)}
        for name in ("models", "criteria"):
            if name in out:
                out[name] = out[name].split(",")
        return {**out, **{name: getattr(self, name) == "on" for name in CHECKBOXES}}
