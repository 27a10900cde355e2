"""Validation at the boundary: one set of bounds, taken from the schema, for every way in.

The API's JSON bodies and query strings, the browser's forms, the CLI and the importers all read
outside input through the types and helpers here:

- ``Id``: a whole number in the id columns' range (PostgreSQL ``integer``, the narrower of the two
  engines), so no id overflows the database;
- ``ColumnText(Model.column)``: text no longer than its ``String(n)`` column (``Text`` columns get
  ``LONG_TEXT``), never holding NUL (PostgreSQL refuses it);
- ``Finite``: a number that is neither NaN nor ±Infinity;
- ``Count(hi)``: a bounded whole number (a rubric's row count, a page number);
- ``loads``: JSON that refuses ``NaN``/``Infinity`` and NUL anywhere, so nothing invalid is stored
  or served back.

A request model is a pydantic ``Body`` (JSON: strict types) or ``Form`` (browser forms and query
strings: text parsed as ASCII numbers, never ``²`` or Arabic-Indic digits). Views call
``parse(Model)``, ``parse_form(Model)`` or ``parse_query(Model)``; a refusal raises ``Invalid``,
which the app answers as ``{"error": {"code": "validation_failed", "message", "details"}}``
(details: field → what is wrong) — 422 for bodies and forms, 400 for query strings. The OpenAPI
document takes its request schemas from the same models (``api.documented(body=Model)``).
"""
from __future__ import annotations

import json
import math
import re
from typing import Annotated, Any, Iterable

from pydantic import (
    AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints, ValidationError,
)
from flask import request
from flask.json.provider import DefaultJSONProvider
from sqlalchemy import Integer, String, Text

# The id columns are ``Integer``: PostgreSQL's 4-byte integer is the narrower bound (SQLite's is 2^63).
ID_MAX = 2**31 - 1
INTEGER_MAX = ID_MAX  # any Integer column
# ``Text`` columns are unbounded in both engines; a request's text is not.
LONG_TEXT = 100_000
NUMBER_RE = re.compile(r"[+-]?[0-9]+")
DECIMAL_RE = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


class Invalid(ValueError):
    """Refused input: ``details`` maps a field (``rubric.0.max``) to what is wrong with it."""

    def __init__(self, details: dict[str, str], *, status: int = 422, code: str = "validation_failed",
                 message: str | None = None):
        self.details, self.status, self.code = details, status, code
        self.message = message or "The request is not valid: " + "; ".join(f"{k}: {v}" for k, v in details.items())
        super().__init__(self.message)


# ---- bounds from the schema -------------------------------------------------------------------

def column_length(column) -> int:
    """The declared length of a ``String(n)`` column (``LONG_TEXT`` for ``Text``)."""
    kind = column.property.columns[0].type if hasattr(column, "property") else column.type
    if isinstance(kind, String) and kind.length:
        return kind.length
    if isinstance(kind, (Text, String)):
        return LONG_TEXT
    raise TypeError(f"{column} is not a text column")


def integer_max(column) -> int:
    kind = column.property.columns[0].type
    if not isinstance(kind, Integer):
        raise TypeError(f"{column} is not an integer column")
    return INTEGER_MAX


# ---- checks shared by every text and number ----------------------------------------------------

def no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain the NUL character")
    return value


def ascii_number(value: Any) -> Any:
    """Form and query text → a number only when written in ASCII digits (``²``, ``٣`` are refused)."""
    if isinstance(value, str):
        text = value.strip()
        if text == "":
            return None
        if not (NUMBER_RE.fullmatch(text) or DECIMAL_RE.fullmatch(text)):
            raise ValueError("must be a number written with the digits 0-9")
        return text
    return value


def ColumnText(column=None, *, max_length: int | None = None, min_length: int = 0, strip: bool = False):
    """Text fitting ``column`` (a mapped ``String(n)``/``Text`` attribute) or ``max_length``."""
    limit = max_length if max_length is not None else column_length(column)
    return Annotated[str, StringConstraints(max_length=limit, min_length=min_length, strip_whitespace=strip),
                     AfterValidator(no_nul)]


Id = Annotated[int, Field(ge=1, le=ID_MAX)]
Finite = Annotated[float, Field(allow_inf_nan=False)]
Unit = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]  # a share or a probability


def Count(hi: int, lo: int = 0):
    """A whole number from ``lo`` to ``hi`` (row counts, pages: never unbounded)."""
    return Annotated[int, Field(ge=lo, le=hi)]


FormNumber = BeforeValidator(ascii_number)


# ---- request models ---------------------------------------------------------------------------

class Body(BaseModel):
    """A JSON request body: exact JSON types (a string is not an object, a bool is not a number)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    def given(self) -> dict:
        """The fields the client sent, as plain values."""
        return self.model_dump(exclude_unset=True, mode="json")


class Form(BaseModel):
    """A browser form or a query string: every value arrives as text."""

    model_config = ConfigDict(extra="ignore")


# ---- JSON ---------------------------------------------------------------------------------------

def _refuse_constant(name: str):
    raise ValueError(f"{name} is not a JSON number (send a finite number or null)")


class NulInText(ValueError):
    """JSON text holding NUL; ``where`` is its path (``outputs[0].text``)."""

    def __init__(self, where: str):
        self.where = where or "body"
        super().__init__(f"{self.where}: must not contain the NUL character")


def _check_text(value: Any, where: str) -> None:
    if isinstance(value, str):
        if "\x00" in value:
            raise NulInText(where)
    elif isinstance(value, dict):
        for key, inner in value.items():
            if "\x00" in key:
                raise NulInText(where)
            _check_text(inner, f"{where}.{key}" if where else key)
    elif isinstance(value, list):
        for i, inner in enumerate(value):
            _check_text(inner, f"{where}[{i}]")


_DECODER = json.JSONDecoder(parse_constant=_refuse_constant)
NUL_ESCAPE = "\\u0000"  # the only way JSON text can carry NUL: the decoder refuses a raw one


def loads(text: str | bytes) -> Any:
    """Strict JSON: ``NaN``/``Infinity`` and NUL (in keys or strings) raise ``ValueError``.

    Text is decoded by one shared decoder (``json.loads`` with ``parse_constant`` builds one per
    call), and walked for NUL only when it holds the ``\\u0000`` escape — an importer calls this
    once per line of a million-line file."""
    if isinstance(text, str) and not text.startswith("\ufeff"):
        value = _DECODER.decode(text)
        if NUL_ESCAPE not in text:
            return value
    else:  # bytes (any UTF), and the BOM json.loads refuses with its own message
        value = json.loads(text, parse_constant=_refuse_constant)
    _check_text(value, "")
    return value


def finite_json(value: Any) -> bool:
    """Whether ``value`` (already parsed) holds only finite numbers."""
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, dict):
        return all(finite_json(v) for v in value.values())
    if isinstance(value, list):
        return all(finite_json(v) for v in value)
    return True


# ---- parsing ------------------------------------------------------------------------------------

MESSAGES = {
    "missing": "required",
    "extra_forbidden": "unknown field",
    "string_too_long": "at most {max_length} characters",
    "too_long": "at most {max_length} entries",
    "int_type": "must be a whole number",
    "int_parsing": "must be a whole number written with the digits 0-9",
    "int_from_float": "must be a whole number",
    "float_type": "must be a number",
    "float_parsing": "must be a number written with the digits 0-9",
    "finite_number": "must be a finite number (not NaN or Infinity)",
    "string_type": "must be text",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "dict_type": "must be an object",
    "list_type": "must be a list",
    "model_type": "must be an object",
    "model_attributes_type": "must be an object",
}


def _message(error: dict, bounds: dict) -> str:
    kind, ctx = error["type"], error.get("ctx") or {}
    if kind == "string_too_short" and ctx.get("min_length") == 1:
        return "required"
    if kind in ("greater_than_equal", "less_than_equal") and "minimum" in bounds and "maximum" in bounds:
        return f"must be between {bounds['minimum']:g} and {bounds['maximum']:g}"
    if kind in MESSAGES:
        return MESSAGES[kind].format(**ctx)
    message = error["msg"]
    return message[len("Value error, "):] if message.startswith("Value error, ") else message


def _field_bounds(model: type[BaseModel], loc: tuple) -> dict:
    """The minimum and maximum the model's JSON schema declares for a top-level field."""
    if not loc or not isinstance(loc[0], str):
        return {}
    try:
        schema = model.model_json_schema()["properties"].get(loc[0], {})
    except Exception:  # noqa: BLE001 (a model whose schema cannot be made still validates)
        return {}
    for option in [schema, *schema.get("anyOf", [])]:
        if "minimum" in option and "maximum" in option:
            return option
    return {}


def field_errors(exc: ValidationError, model: type[BaseModel] | None = None) -> dict[str, str]:
    """pydantic's errors as field → message (``rubric.0.max``; ``body`` for the whole body)."""
    details: dict[str, str] = {}
    for error in exc.errors(include_url=False):
        where = ".".join(str(p) for p in error["loc"]) or "body"
        bounds = _field_bounds(model, error["loc"]) if model is not None and len(error["loc"]) == 1 else {}
        details.setdefault(where, _message(error, bounds))
    return details


def validate(model: type[BaseModel], data: Any, *, status: int = 422, code: str = "validation_failed"):
    """``data`` checked against ``model``; raises ``Invalid`` naming every bad field."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise Invalid(field_errors(exc, model), status=status, code=code) from None


def multidict(values, list_fields: Iterable[str] = ()) -> dict:
    """A werkzeug MultiDict as a dict: the listed fields keep every value, the others their first."""
    lists = set(list_fields)
    return {key: values.getlist(key) if key in lists else values.get(key) for key in values.keys()}


def list_fields(model: type[BaseModel]) -> list[str]:
    return [name for name, field in model.model_fields.items()
            if getattr(field.annotation, "__origin__", None) in (list, tuple)
            or str(field.annotation).startswith(("list", "typing.List"))]


# ---- the request side ---------------------------------------------------------------------------

class StrictJSONProvider(DefaultJSONProvider):
    """Request bodies parsed by ``loads``: a body with NaN, Infinity or NUL is not valid JSON here."""

    def loads(self, s, **kwargs):
        return loads(s)


def request_json() -> Any:
    """The request's JSON (any type); ``Invalid`` (400/415) saying what is wrong with it."""
    if not request.is_json:
        raise Invalid({"body": "send JSON with Content-Type: application/json"}, status=415,
                      code="unsupported_media_type",
                      message="Send a JSON body with Content-Type: application/json.")
    try:
        return loads(request.get_data(cache=True))
    except NulInText as exc:
        raise Invalid({exc.where: "must not contain the NUL character"}) from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise Invalid({"body": str(exc)}, status=400, code="invalid_json",
                      message=f"The request body is not valid JSON: {exc}") from None


def parse(model: type[BaseModel]):
    """The JSON body as ``model`` (422 naming every bad field)."""
    data = request_json()
    if not isinstance(data, dict):
        raise Invalid({"body": "must be a JSON object"}, status=400, code="invalid_json",
                      message="The request body must be a JSON object.")
    return validate(model, data)


def parse_form(model: type[BaseModel]):
    """The submitted form as ``model`` (422 naming every bad field)."""
    return validate(model, multidict(request.form, list_fields(model)))


def parse_query(model: type[BaseModel]):
    """The query string as ``model`` (400 ``invalid_parameter`` naming every bad parameter)."""
    return validate(model, multidict(request.args, list_fields(model)), status=400, code="invalid_parameter")


def refuse_nul_in_request() -> None:
    """Before every view: NUL in the path, a query parameter or a form field is refused outright."""
    for source, values in (("query", request.args), ("form", request.form if request.mimetype in FORM_TYPES else {})):
        for key in values:
            if "\x00" in key or any("\x00" in v for v in values.getlist(key)):
                raise Invalid({key.replace("\x00", "\\0"): "must not contain the NUL character"}, status=400,
                              code="invalid_parameter" if source == "query" else "validation_failed")
    for key, value in (request.view_args or {}).items():
        if isinstance(value, str) and "\x00" in value:
            raise Invalid({key: "must not contain the NUL character"}, status=400, code="invalid_parameter")


FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})


def init_app(app) -> None:
    app.json = StrictJSONProvider(app)
    app.before_request(refuse_nul_in_request)


class PageQuery(Form):
    """``?page=`` of a paged page: a whole number from 1 (never past the last page's id range)."""
    page: Annotated[int, Field(ge=1, le=10**9), FormNumber] = 1


def problems(model: type[BaseModel], data: Any) -> dict[str, str]:
    """What is wrong with ``data`` as ``model`` (field → message), empty when nothing is."""
    try:
        model.model_validate(data)
    except ValidationError as exc:
        return field_errors(exc, model)
    return {}


def accepts(**models: type[BaseModel]):
    """Record on a view the models it parses (``form=``, ``query=``, ``body=``), for the tests
    that check every route's models are bounded and send them bad input."""
    def decorate(view):
        view.accepts = {**getattr(view, "accepts", {}), **models}
        return view
    return decorate
