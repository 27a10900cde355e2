"""What rating accepts from outside (API bodies and the rating pages' forms), bounded by the schema.

The domain rules (rationale effort, playback, the rubric's own scales) stay in ``judging`` and
``answers``; these models only make sure what reaches them is the right type, finite, without NUL
and within the columns' bounds. The API's OpenAPI request schemas are generated from them.
"""
from __future__ import annotations

from typing import Annotated, Literal, Optional

from pydantic import ConfigDict, Field

from boundary import Body, ColumnText, Form, FormNumber, Id
from tasks.catalogue.inputs import MAX_CRITERIA, ScalePoint
from tasks.rating.answers import MAX_RATIONALE_CHARS
from tasks.rating.judging import MAX_KEY_LENGTH, MAX_REASON_CHARS
from tasks.rating.models import Flag

Side = Literal["left", "right", "output"]
Seconds = Annotated[float, Field(ge=0, le=86_400, allow_inf_nan=False)]
CriterionKey = ColumnText(max_length=40)
Rationale = ColumnText(max_length=MAX_RATIONALE_CHARS)
Reason = ColumnText(max_length=MAX_REASON_CHARS)
Counter = Annotated[int, Field(ge=0, le=10**7)]


Number = Annotated[float, Field(allow_inf_nan=False, strict=False)]
LineNumber = Annotated[int, Field(ge=0, le=2**31 - 1)]


class Note(Body):
    """A time-coded (video, audio) or line (script) note as a client sends it, in screen sides.
    Types and sizes only: where it may point (within the media, ``t_out`` after ``t_in``, lines
    of the text) is checked by ``tasks.rating.notes`` with the rest of the answer.
    ``label``, ``frame_*`` and ``timecode_*`` may be echoed from a note read back; the server
    derives them and ignores what is sent."""
    side: ColumnText(max_length=10)
    text: ColumnText(max_length=4_000)
    t_in: Optional[Number] = None
    t_out: Optional[Number] = None
    line_in: Optional[LineNumber] = None
    line_out: Optional[LineNumber] = None
    char_in: Optional[LineNumber] = None
    char_out: Optional[LineNumber] = None
    quote: Optional[ColumnText(max_length=2_000)] = None
    label: Optional[ColumnText(max_length=10)] = None
    frame_in: Optional[LineNumber] = None
    frame_out: Optional[LineNumber] = None
    timecode_in: Optional[ColumnText(max_length=20)] = None
    timecode_out: Optional[ColumnText(max_length=20)] = None


class CriterionAnswer(Body):
    """One per-criterion choice (screen sides); its rules are ``tasks.rating.notes``'s."""
    choice: Optional[ColumnText(max_length=10)] = None
    strength: Optional[LineNumber] = None


class Answer(Body):
    """A judgment as a rater's client sends it, in screen sides (pairwise: ``choice`` and
    ``strength``; rubric: ``scores``). The boundary checks types and bounds; what an answer must
    hold (``confidence``, ``rationale``, the project's choice or scores) is checked by
    ``judging.parse_answer``, which keeps a refused answer as the rater's draft — so those fields
    are documented as required but not refused here."""
    model_config = ConfigDict(json_schema_extra={"required": ["confidence", "rationale"]})
    # The side is checked with the rest of the answer, so a refusal names every problem at once.
    choice: Optional[Annotated[ColumnText(max_length=5), Field(json_schema_extra={"enum": ["left", "right", "tie"]})]] = None
    strength: Optional[Annotated[int, Field(ge=1, le=3)]] = None
    scores: Optional[dict[CriterionKey, Optional[ScalePoint]]] = Field(None, max_length=MAX_CRITERIA)
    confidence: Optional[Annotated[int, Field(ge=1, le=5)]] = None
    rationale: Optional[Rationale] = None
    playback: Optional[dict[Side, Seconds]] = Field(None, max_length=2)
    paste_count: Optional[Counter] = None
    keystrokes: Optional[Counter] = None
    # at most 50 notes are accepted by the rules (which say so); the boundary bounds the size
    notes: Optional[list[Note]] = Field(None, max_length=200)
    criteria: Optional[dict[CriterionKey, Optional[CriterionAnswer]]] = Field(None, max_length=MAX_CRITERIA)


class Revision(Answer):
    """A revised judgment (``playback`` may be left out; the first judgment's stands)."""
    model_config = ConfigDict(json_schema_extra={"required": ["confidence", "rationale"]})


class SkipBody(Body):
    reason: Reason


class FlagBody(Body):
    kind: Literal["broken", "unsafe", "other"]
    reason: Reason
    side: Optional[Literal["left", "right", "output", "both"]] = None


class ResolveBody(Body):
    resolution: ColumnText(Flag.resolution)
    action: Literal["returned", "dropped", "replaced"] = "returned"
    asset_id: Optional[Id] = None


class Decision(Body):
    """An adjudicator's decision, in the item's labels."""
    choice: Optional[Literal["a", "b", "tie"]] = None
    strength: Optional[Annotated[int, Field(ge=1, le=3)]] = None
    scores: Optional[dict[CriterionKey, Optional[ScalePoint]]] = Field(None, max_length=MAX_CRITERIA)
    rationale: Rationale


class FlagQuery(Form):
    state: Literal["open", "resolved", "all"] = "open"
    page: Annotated[int, Field(ge=1, le=10**9), FormNumber] = 1
    per_page: Annotated[Optional[int], Field(ge=1, le=500), FormNumber] = None


# -- the rating pages' forms (every value is text) ------------------------------------------------

FormScore = Annotated[Optional[ScalePoint], FormNumber]


class AnswerForm(Form):
    choice: ColumnText(max_length=10) = ""
    strength: Annotated[Optional[Annotated[int, Field(ge=1, le=3)]], FormNumber] = None
    confidence: Annotated[Optional[Annotated[int, Field(ge=1, le=5)]], FormNumber] = None
    rationale: Rationale = ""
    playback: ColumnText(max_length=2_000) = ""
    progress: ColumnText(max_length=4_000) = ""
    paste_count: Annotated[Optional[Counter], FormNumber] = None
    keystrokes: Annotated[Optional[Counter], FormNumber] = None
    idempotency_key: ColumnText(max_length=MAX_KEY_LENGTH) = ""
    notes_json: ColumnText(max_length=256_000) = ""  # the notes as a JSON array (read by form_answer)


class CriterionAnswerForm(Form):
    """One criterion's answer on the rating page (``crit-<key>-choice``, ``crit-<key>-strength``)."""
    choice: Optional[ColumnText(max_length=10)] = None
    strength: Annotated[Optional[Annotated[int, Field(ge=1, le=3)]], FormNumber] = None


class DecisionForm(Form):
    choice: ColumnText(max_length=10) = ""
    strength: Annotated[Optional[Annotated[int, Field(ge=1, le=3)]], FormNumber] = None
    rationale: Rationale = ""


class SkipForm(Form):
    reason: Reason = ""


class FlagForm(Form):
    kind: ColumnText(max_length=10) = "broken"
    reason: Reason = ""
    side: ColumnText(max_length=10) = ""


class ResolveForm(Form):
    action: ColumnText(max_length=10) = "returned"
    asset_id: Annotated[Optional[Id], FormNumber] = None
    resolution: ColumnText(Flag.resolution) = ""
