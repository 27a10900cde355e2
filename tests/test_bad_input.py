"""Bad input, as classes, against every route of ``app.url_map``: a clear 4xx, never a 500.

Each class (ids past the columns' range, NUL, text longer than its column, wrong JSON types,
NaN/Infinity, Unicode digits, unbounded sizes) is sent to every route — as query parameters,
as form fields (with a valid CSRF token) and as JSON bodies — by the role that may call it, so a
new route is covered the day it is added. Runs on SQLite and on PostgreSQL (TEST_DATABASE_URL).
"""
from __future__ import annotations

import json

import pytest

from tasks.catalogue.assets import PROVENANCE_FIELDS
from tasks.catalogue.projects import SETTINGS
from tests.route_world import login, path_of, routes, world  # noqa: F401 (fixture)

QUERY_NAMES = ("page", "per_page", "q", "state", "consent", "show", "next", "actor", "action", "project",
               "subject", "since", "until", "format", "kind")
FIELD_NAMES = (
    "name", "kind", "modality", "instructions", "owner_id", "rubric_rows", "rubric-0-key", "rubric-0-label",
    "rubric-0-min", "rubric-0-max", "rubric-0-levels", "member", "members", "email", "password", "remember",
    "agree", "next", "current_password", "new_password", "confirm_password", "role", "expertise",
    "extra_expertise", "senior", "active", "confidence", "rationale", "playback", "paste_count", "keystrokes",
    "choice", "strength", "progress", "idempotency_key", "reason", "side", "action", "asset_id", "resolution",
    "note", "release_gate", "format", "mode", "ties", "media", "min_agreement", "min_judgments", "since",
    "until", "models", "criteria", "exclude_gold", "exclude_deactivated_raters", "rubric", "scores",
    "score-quality", "position", "played_s", "duration_s", "ended", *SETTINGS, *PROVENANCE_FIELDS)

HUGE = 10**20
TEXT_CLASSES = {
    "id_past_int32": str(2**31),
    "id_past_int64": str(HUGE),
    "negative": "-5",
    "nul": "a\x00b",
    "too_long": "x" * 5000,
    "unicode_superscript": "²",
    "arabic_indic_digits": "١٢",
    "nan_text": "NaN",
}
JSON_CLASSES = {
    "id_past_int32": 2**31,
    "id_past_int64": HUGE,
    "nul": "a\x00b",
    "too_long": "x" * 5000,
    "object_for_text": {"nested": {"deep": [1, 2]}},
    "list_of_huge": [HUGE, 2**31],
    "boolean": True,
    "float": 1.5,
}
RAW_BODIES = {
    "nan": '{"%s": NaN}',
    "infinity": '{"%s": Infinity, "x": -Infinity}',
    "nul_escape": '{"%s": "a\\u0000b"}',
}


def _callers(app, world):
    return {role: login(app, role, world) for role in ("admin", "member")}


def _call(http, creds, method, path, *, query=None, form=None, body=None, raw=None):
    is_api = path.startswith("/api/")
    headers = {"Authorization": creds["Authorization"]} if is_api else {}
    kwargs = {"query_string": query or {}}
    if raw is not None:
        kwargs.update(data=raw, content_type="application/json")
    elif body is not None:
        kwargs.update(data=json.dumps(body), content_type="application/json")
    elif method != "GET" and not is_api:
        kwargs["data"] = {"csrf_token": creds["csrf"], **(form or {})}
    return http.open(path, method=method, headers=headers, **kwargs)


def _server_errors(app, world, requests):
    """Send ``requests(method, path)`` → [(label, kwargs)] to every route as the first role let in."""
    callers = _callers(app, world)
    failures = []
    for endpoint, method, rule in routes(app):
        for role in ("admin", "member"):
            http, creds, token_id = callers[role]
            path = path_of(rule, world, token_id)
            if endpoint in ("auth.logout", "raters.revoke_token", "raters_api.revoke_token"):
                continue  # session-ending: covered by the access matrix
            results = []
            for label, kwargs in requests(method, path):
                response = _call(http, creds, method, path, **kwargs)
                results.append(response.status_code)
                if response.status_code >= 500:
                    failures.append(f"{method} {rule.rule} [{role}] {label}: {response.status_code}")
            if not all(status in (401, 403) for status in results):
                break  # this role got past the access check: the class was tried for real
    return failures


def test_bad_query_parameters_never_answer_500(app, world):
    def requests(method, path):
        if method != "GET":
            return []
        return [(label, {"query": {name: value for name in QUERY_NAMES}}) for label, value in TEXT_CLASSES.items()]
    failures = _server_errors(app, world, requests)
    assert not failures, "\n".join(failures)


def test_bad_form_fields_never_answer_500(app, world):
    def requests(method, path):
        if method == "GET" or path.startswith("/api/"):
            return []
        return [(label, {"form": {name: value for name in FIELD_NAMES}}) for label, value in TEXT_CLASSES.items()]
    failures = _server_errors(app, world, requests)
    assert not failures, "\n".join(failures)


def test_bad_json_bodies_never_answer_500(app, world):
    def requests(method, path):
        if method == "GET" or not path.startswith("/api/"):
            return []
        sent = [(label, {"body": {name: value for name in FIELD_NAMES}}) for label, value in JSON_CLASSES.items()]
        sent += [(f"{label}:{name}", {"raw": raw % name}) for label, raw in RAW_BODIES.items()
                 for name in ("rationale", "name", "metadata")]
        sent += [("not_an_object", {"body": [1, 2]}), ("not_json", {"raw": "{nope"})]
        return sent
    failures = _server_errors(app, world, requests)
    assert not failures, "\n".join(failures)
