"""What every ``/api/v1`` route shares: JSON errors, pagination, request bodies, OpenAPI.

The parts' API blueprints (``raters/api.py``, ``tasks/api.py``) use these helpers; the OpenAPI
document is generated from the registered routes, so it cannot drift from them.
"""
from __future__ import annotations

import re
from typing import Any, Callable

from pydantic import BaseModel
from flask import Blueprint, Flask, current_app, jsonify, request, url_for
from sqlalchemy import func, select
from werkzeug.exceptions import HTTPException
from werkzeug.routing import IntegerConverter

import boundary
from database import db
from raters.access import public

PREFIX = "/api/v1"


class ApiError(Exception):
    """An error answered as ``{"error": {"code", "message", "details"}}``."""

    def __init__(self, status: int, code: str, message: str, details: Any = None):
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, details


def error_response(status: int, code: str, message: str, details: Any = None):
    response = jsonify({"error": {"code": code, "message": message, "details": details}})
    response.status_code = status
    return response


def http_error_code(exc: HTTPException) -> str:
    if getattr(exc, "api_code", None):
        return exc.api_code
    return re.sub(r"[^a-z]+", "_", (exc.name or "error").lower()).strip("_")


def json_body() -> dict:
    """The request's JSON object (strict: no NaN, Infinity or NUL), or a 400/415 saying what is wrong."""
    data = boundary.request_json()
    if not isinstance(data, dict):
        raise ApiError(400, "invalid_json", "The request body must be a JSON object.")
    return data


def uploaded_file(default_stem: str) -> tuple[bytes, str]:
    """An import file sent as the request body (JSONL, or CSV by its Content-Type) or as a
    multipart ``file``: (bytes, file name); 413 past ``MAX_IMPORT_MB``."""
    limit = current_app.config["MAX_IMPORT_MB"] * 1024 * 1024
    upload = request.files.get("file")
    if upload is not None:
        data, filename = upload.read(limit + 1), upload.filename or f"{default_stem}.jsonl"
    else:
        data = request.get_data(cache=False)
        filename = f"{default_stem}.csv" if (request.mimetype or "").endswith("csv") else f"{default_stem}.jsonl"
    if len(data) > limit:
        raise ApiError(413, "too_large", f"The file is larger than {limit // (1024 * 1024)} MB.")
    return data, filename


def int_arg(name: str, default: int, *, lo: int, hi: int) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(400, "invalid_parameter", f"{name} must be a whole number.", {name: raw}) from None
    if not lo <= value <= hi:
        raise ApiError(400, "invalid_parameter", f"{name} must be between {lo} and {hi}.", {name: value})
    return value


def paginate(statement, serialise: Callable[[Any], dict]) -> dict:
    """One page of ``statement``'s rows: ``?page=1&per_page=50``, with the total and next page."""
    per_page = int_arg("per_page", current_app.config["API_PAGE_SIZE"], lo=1,
                       hi=current_app.config["API_MAX_PAGE_SIZE"])
    page = int_arg("page", 1, lo=1, hi=10**9)
    total = db.session.scalar(select(func.count()).select_from(statement.order_by(None).subquery()))
    rows = db.session.scalars(statement.limit(per_page).offset((page - 1) * per_page)).all()
    has_next = page * per_page < total
    next_url = None
    if has_next:
        args = {**request.view_args, **request.args.to_dict(), "page": page + 1, "per_page": per_page}
        next_url = url_for(request.endpoint, **args)
    return {"items": [serialise(r) for r in rows], "page": page, "per_page": per_page,
            "total": total, "next": next_url}


def documented(*, body=None, response: dict | None = None, query=None, status: int = 200,
               also: tuple[int, ...] = ()) -> Callable:
    """Attach OpenAPI facts to an API view: the request body (a ``boundary.Body`` model, or
    content schemas for files), the response schema and the query parameters (a ``boundary.Form``
    model, or a dict of schemas); ``also``: other success statuses with the same body. Models are also recorded as ``view.accepts`` for the tests that
    send bad input to every route."""
    def decorate(view):
        view.openapi = {"body": body, "response": response, "query": query or {}, "status": status, "also": also}
        view.accepts = {**getattr(view, "accepts", {}),
                        **{k: m for k, m in (("body", body), ("query", query)) if _is_model(m)}}
        return view
    return decorate


def _is_model(value) -> bool:
    return isinstance(value, type) and issubclass(value, BaseModel)


def _schema(model, components: dict) -> dict:
    """``model``'s JSON schema, its nested models moved to ``components``."""
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    components.update(schema.pop("$defs", {}))
    return schema


def _path_schema(converter) -> dict:
    if isinstance(converter, IntegerConverter):
        return {"type": "integer", "minimum": 0, "maximum": boundary.ID_MAX}
    return {"type": "string", "minLength": 1, "maxLength": 200, "pattern": "^[^/\\x00]+$"}


def _query_parameters(query, components: dict) -> list[dict]:
    if not _is_model(query):
        return [{"name": name, "in": "query", "required": False, "schema": schema} for name, schema in query.items()]
    schema = _schema(query, components)
    return [{"name": name, "in": "query", "required": name in schema.get("required", ()), "schema": field}
            for name, field in schema["properties"].items()]


def openapi_document(app: Flask) -> dict:
    """The OpenAPI 3.1 document built from the app's ``/api/v1`` routes."""
    paths: dict[str, dict] = {}
    components: dict[str, dict] = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if not rule.rule.startswith(PREFIX):
            continue
        view = app.view_functions[rule.endpoint]
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule[len(PREFIX):]) or "/"
        doc = (view.__doc__ or "").strip().splitlines()
        facts = getattr(view, "openapi", {"body": None, "response": None, "query": {}, "status": 200})
        body = facts["body"]
        if _is_model(body):
            components[body.__name__] = _schema(body, components)
            body = json_content({"$ref": f"#/components/schemas/{body.__name__}"})
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            op: dict[str, Any] = {
                "operationId": f"{rule.endpoint}_{method.lower()}",
                "summary": doc[0] if doc else rule.endpoint,
                "description": "\n".join(line.strip() for line in doc[1:]).strip(),
                "x-access": getattr(view, "access", None),
                "parameters": [
                    {"name": arg, "in": "path", "required": True,
                     "schema": _path_schema(rule._converters.get(arg))}
                    for arg in sorted(rule.arguments)
                ] + _query_parameters(facts["query"], components),
                "responses": {
                    **{str(code): {"description": "Success" if code != 204 else "Nothing to send", **(
                        {"content": {"application/json": {"schema": facts["response"]}}}
                        if facts["response"] and code != 204 else {})}
                       for code in (facts["status"], *facts.get("also", ()))},
                    "default": {"description": "Error",
                                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
                },
            }
            if getattr(view, "access", None) != "public":
                op["security"] = [{"bearer": []}]
            if body is not None and method in {"POST", "PUT", "PATCH"}:
                op["requestBody"] = {"required": True, "content": body}
            paths.setdefault(path, {})[method.lower()] = op
    return {
        "openapi": "3.1.0",
        "info": {"title": "Dailies API", "version": "1.0.0",
                 "description": "Expert evaluation of generated media. Authenticate with "
                                "`Authorization: Bearer <token>` (create one under Account → API tokens "
                                "or with `flask --app app tokens create`)."},
        "servers": [{"url": PREFIX}],
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {**components, "Error": {"type": "object", "required": ["error"], "properties": {"error": {
                "type": "object", "required": ["code", "message"],
                "properties": {"code": {"type": "string"}, "message": {"type": "string"}, "details": {}}}}}},
        },
    }


def json_content(schema: dict) -> dict:
    return {"application/json": {"schema": schema}}


bp = Blueprint("api_meta", __name__, url_prefix=PREFIX)


@bp.get("/openapi.json")
@public
def openapi():
    """The OpenAPI document describing this API."""
    return jsonify(openapi_document(current_app))

