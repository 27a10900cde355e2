"""The boundary, class by class: every request model reachable from ``app.url_map`` is bounded
(ids within the id columns' range, texts within their columns, lists and objects capped), every
field of every API body refuses each bad class with a 4xx naming the field, and the importers
refuse the file-borne classes with the line. Runs on SQLite and PostgreSQL."""
from __future__ import annotations

import html
import json

import pytest
from sqlalchemy import func, select

import boundary
from raters.models import User
from tasks.catalogue.importing import ImportRejected
from tasks.catalogue.models import Item
from tasks.catalogue.store import asset_store
from tests.helpers import RUBRIC, import_rows, install_demo_media, jsonl, make_project, video_row
from tests.route_world import login, path_of, routes, world  # noqa: F401 (fixture)


def _accepted_models(app):
    """(endpoint, method, rule, where, model) for every model a route declares it accepts."""
    for endpoint, method, rule in routes(app):
        for where, model in getattr(app.view_functions[endpoint], "accepts", {}).items():
            yield endpoint, method, rule, where, model


def _unbounded(schema: dict, defs: dict, path: str) -> list[str]:
    """Where ``schema`` lets an integer, a text, a list or an object grow without bound."""
    if "$ref" in schema:
        return _unbounded(defs[schema["$ref"].rsplit("/", 1)[-1]], defs, path)
    found = []
    for option in schema.get("anyOf", []):
        found += _unbounded(option, defs, path)
    kind = schema.get("type")
    if kind == "integer" and not (schema.get("maximum", 2**63) <= boundary.ID_MAX
                                  and schema.get("minimum", -2**63) >= -boundary.ID_MAX):
        found.append(f"{path}: integer without bounds inside the id range")
    if kind == "string" and "maxLength" not in schema and "enum" not in schema and "const" not in schema:
        found.append(f"{path}: text without maxLength")
    if kind == "array":
        if "maxItems" not in schema:
            found.append(f"{path}: list without maxItems")
        found += _unbounded(schema.get("items", {}), defs, f"{path}[]")
    if kind == "object":
        for name, inner in schema.get("properties", {}).items():
            found += _unbounded(inner, defs, f"{path}.{name}")
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict):
            if "maxProperties" not in schema:
                found.append(f"{path}: object without maxProperties")
            found += _unbounded(extra, defs, f"{path}.*")
    return found


def test_every_declared_request_model_is_bounded(app):
    problems, n_models = [], 0
    for endpoint, method, _rule, where, model in _accepted_models(app):
        n_models += 1
        schema = model.model_json_schema()
        problems += [f"{endpoint} {method} {where}: {p}" for p in _unbounded(schema, schema.get("$defs", {}), "")
                     if not p.startswith(".generation_params.*")]  # free-form JSON: size-capped as a whole
    assert n_models >= 12
    assert not problems, "\n".join(problems)


def _bad_values(field: dict, defs: dict) -> dict[str, object]:
    """Values of each bad class for a field of this JSON schema (only those it must refuse)."""
    if "$ref" in field:
        field = defs[field["$ref"].rsplit("/", 1)[-1]]
    options = [o for o in field.get("anyOf", [field]) if o.get("type") != "null"]
    types = {o.get("type") for o in options}
    bad: dict[str, object] = {"object_for_scalar": {"a": {"b": 1}}} if "object" not in types else {"text": "x"}
    for option in options:
        if option.get("type") == "integer":
            bad["past_the_maximum"] = option["maximum"] + 1
            bad["past_int64"] = 2**64
            bad["number_as_text"] = "1"
            bad["boolean_for_number"] = True
        if option.get("type") == "number":
            bad["past_the_maximum"] = option.get("maximum", 1e308) * 10 if "maximum" in option else "1"
        if option.get("type") == "string":
            if "maxLength" in option:
                bad["longer_than_its_column"] = "x" * (option["maxLength"] + 1)
            bad["nul"] = "a\x00b"
            bad["number_for_text"] = 7
        if option.get("type") == "array":
            bad["list_past_maxitems"] = [1] * (option.get("maxItems", 0) + 1)
    return bad


def test_every_api_body_field_refuses_each_bad_class_by_name(app, world):
    callers = {role: login(app, role, world) for role in ("anonymous", "admin", "member")}
    misses, checked = [], 0
    for endpoint, method, rule, where, model in _accepted_models(app):
        if where != "body":
            continue
        schema = model.model_json_schema()
        for name, field in schema["properties"].items():
            for label, value in _bad_values(field, schema.get("$defs", {})).items():
                for role in ("admin", "member"):
                    http, creds, token_id = callers[role]
                    response = http.open(path_of(rule, world, token_id), method=method,
                                         headers={"Authorization": creds["Authorization"],
                                                  "Idempotency-Key": f"{endpoint}-{name}-{label}"},
                                         data=json.dumps({name: value}), content_type="application/json")
                    if response.status_code not in (401, 403):
                        break
                checked += 1
                details = (response.get_json(silent=True) or {}).get("error", {}).get("details") or {}
                if response.status_code not in (400, 422) or not any(k.split(".")[0] == name for k in details):
                    misses.append(f"{endpoint} {method} {name} {label}: {response.status_code} {details}")
    assert checked > 100
    assert not misses, "\n".join(misses)


@pytest.mark.parametrize("raw", ['{"rationale": NaN, "confidence": 3}', '{"name": "x", "overlap": Infinity}',
                                 '{"note": -Infinity}'])
def test_nan_and_infinity_are_not_json(api, raw):
    client, _ = api("manager")
    response = client.post("/api/v1/projects", data=raw, content_type="application/json")
    assert response.status_code == 400 and response.json["error"]["code"] == "invalid_json"


def test_project_form_refuses_unicode_digits_and_unbounded_rubric_rows(login_as, session):
    client, _ = login_as("manager")
    base = {"name": "Digits", "kind": "pairwise", "modality": "video", "instructions": "",
            "overlap": "3", "max_overlap": "5", "agreement_target": "0.67", "confidence_threshold": "0.9",
            "audit_rate": "0.05", "gold_rate": "0.05", "min_rationale_words": "12", "min_media_fraction": "0.8",
            "revision_window_h": "24", "rubric_rows": "0"}
    for field, value in (("overlap", "²"), ("overlap", "٣"), ("min_rationale_words", "１２"),
                         ("rubric_rows", "100000000"), ("owner_id", str(2**31)), ("name", "x" * 201)):
        response = client.post("/projects/new", data={**base, field: value})
        assert response.status_code == 400, (field, value)
        assert field in response.get_data(as_text=True)
    assert session.scalar(select(func.count()).select_from(Item)) == 0
    assert client.post("/projects/new", data=base).status_code == 302  # the same form, well-formed


# -- import lines -----------------------------------------------------------------------------------

@pytest.fixture
def project(app, session, make_user):
    install_demo_media(app)
    return make_project(session, session.get(User, make_user("manager").id), name="Boundary imports")


def _errors(session, app, project, data: bytes, filename="items.jsonl"):
    from tasks.catalogue import assets as asset_ops, importing
    with pytest.raises(ImportRejected) as exc:
        importing.import_items(session, project, data, filename, actor=None,
                               store=asset_store(app),
                               media_root=app.config["MEDIA_ROOT"], max_asset_bytes=2 * 1024 * 1024)
    session.rollback()
    assert session.scalar(select(func.count()).select_from(Item)) == 0
    return exc.value.errors


@pytest.mark.parametrize("separator", ["\u2028", "\u2029", "\x85", "\x0c"])
def test_an_import_line_may_hold_unicode_line_separators(app, session, project, separator):
    row = video_row("sep-1", prompt=f"first{separator}second")
    import_rows(session, app, project, row)
    assert session.scalar(select(Item.prompt)) == f"first{separator}second"


def test_non_utf8_bytes_are_reported_with_their_line(app, session, project):
    data = jsonl(video_row("ok-1")) + b"\n" + b'{"external_id": "bad\xff"}'
    assert _errors(session, app, project, data)[0].startswith("line 2: not UTF-8 text")


@pytest.mark.parametrize("row, expected", [
    (video_row("nul-1", prompt="a\u0000b"), "line 1: holds the NUL character"),
    (video_row("nan-1", metadata={"x": float("nan")}), "line 1: not valid JSON"),
    (video_row("gold-1", gold={"choice": "a", "strength": 9}), "gold strength"),
    (video_row("gold-2", gold={"choice": "tie", "strength": 2}), "gold strength"),
    (video_row("x" * 201), "external_id must be at most 200"),
])
def test_import_lines_refuse_each_class_with_the_line(app, session, project, row, expected):
    text = json.dumps(row)  # NaN goes out as the bare word NaN, which JSON does not have
    if "nul-1" in text:
        text = text.replace("\\u0000", "\u0000")
    errors = _errors(session, app, project, text.encode())
    assert any(expected in e for e in errors), errors


def test_an_import_line_with_a_model_name_past_its_column_is_refused(app, session, project):
    row = video_row("model-1")
    row["outputs"][0]["model"] = "m" * 121
    row["outputs"][1]["provenance"] = {"consent": "granted", "license": "L" * 121}
    errors = _errors(session, app, project, jsonl(row))
    assert any("model must be at most 120" in e for e in errors) and any("license" in e for e in errors), errors


def test_inline_script_text_with_nul_is_refused(app, session, make_user):
    owner = session.get(User, make_user("manager").id)
    rubric = make_project(session, owner, kind="rubric", modality="script", name="Scripts")
    row = {"external_id": "s-1", "prompt": "Brief", "outputs": [{"model": "m", "text": "INT. ROOM\u0000"}],
           "gold": {"scores": {"coherence": 9}}}
    errors = _errors(session, app, rubric, json.dumps(row).encode())
    assert errors and "NUL" in errors[0]
    row["outputs"][0]["text"] = "INT. ROOM — DAY"
    errors = _errors(session, app, rubric, json.dumps(row).encode())
    assert any("gold coherence must be a whole number from 1 to 5" in e for e in errors), errors
    assert RUBRIC[0]["max"] == 5


# -- every form model, field by field ---------------------------------------------------------------

def _out_of_bounds(field: dict, defs: dict):
    """A form value just past a field's declared bound (text: one character too many; a number:
    one past its maximum; a list: one entry too many; a choice: a value not among them), or None
    for a field with no bound to cross."""
    if "$ref" in field:
        field = defs[field["$ref"].rsplit("/", 1)[-1]]
    for option in [o for o in field.get("anyOf", [field]) if o.get("type") != "null"]:
        if "$ref" in option:
            option = defs[option["$ref"].rsplit("/", 1)[-1]]
        if "enum" in option or "const" in option:
            return "not-one-of-them"
        if option.get("type") == "integer" and "maximum" in option:
            return str(option["maximum"] + 1)
        if option.get("type") == "number" and "maximum" in option:
            return str(option["maximum"] + 1)
        if option.get("type") == "string" and "maxLength" in option:
            return "x" * (option["maxLength"] + 1)
        if option.get("type") == "array" and "maxItems" in option:
            return ["x"] * (option["maxItems"] + 1)
    return None


def _names_field(response, model, name: str, value) -> bool:
    """Whether the answer says what is wrong with the field: the API's ``details`` by field, or on
    a page its own message (the one ``boundary.problems`` gives for that value: "at most 80
    characters"), beside the field (``field_error``), in a flash or on the error page's list."""
    if response.is_json:
        return name in ((response.get_json() or {}).get("error", {}).get("details") or {})
    page = html.unescape(response.get_data(as_text=True))
    message = boundary.problems(model, {name: value}).get(name)
    return bool(message) and message in page


def test_every_form_and_query_field_past_its_bound_is_refused_naming_the_field(app, world):
    """Generated from the form and query models the routes declare (``boundary.accepts``, and
    ``api.documented`` for the API's): a new form is covered the day it is declared. Each field
    alone, just past its bound: 400 or 422 naming that field, never a 500 nor a silent success."""
    callers = {role: login(app, role, world) for role in ("anonymous", "admin", "member")}
    misses, checked = [], 0
    for endpoint, method, rule, where, model in _accepted_models(app):
        if not (where == "form" and method != "GET" or where == "query" and method == "GET"):
            continue
        schema = model.model_json_schema()
        for name, field in schema["properties"].items():
            value = _out_of_bounds(field, schema.get("$defs", {}))
            if value is None:
                continue
            public = getattr(app.view_functions[endpoint], "access", None) == "public"
            for role in ("anonymous",) if public else ("admin", "member"):  # signed in, the login page moves on
                http, creds, token_id = callers[role]
                path = path_of(rule, world, token_id)
                if where == "query":
                    response = http.get(path, query_string={name: value},
                                        headers={"Authorization": creds["Authorization"]} if path.startswith("/api/") else {})
                else:
                    response = http.open(path, method=method, data={"csrf_token": creds["csrf"], name: value})
                if response.status_code not in (401, 403):
                    break
            checked += 1
            if response.status_code not in (400, 422) or not _names_field(response, model, name, value):
                misses.append(f"{endpoint} {method} {where} {name}: {response.status_code}")
    assert checked > 60
    assert not misses, "\n".join(misses)


@pytest.mark.parametrize("text, refused", [
    ('{"a": "x\\u0000y"}', "a: must not contain the NUL character"),
    ('{"a\\u0000": 1}', "must not contain the NUL character"),
    ('{"a": ["ok", {"b": "\\u0000"}]}', "a[1].b: must not contain the NUL character"),
    (b'{"a": "\\u0000"}', "a: must not contain the NUL character"),
    ('{"a": NaN}', "NaN is not a JSON number"),
    ('[-Infinity]', "-Infinity is not a JSON number"),
    ('\ufeff{"a": 1}', "Unexpected UTF-8 BOM"),
    ('{"a": "\u0000"}', "Invalid control character"),
    ('{"a": 1} {"b": 2}', "Extra data"),
])
def test_loads_refuses_nul_constants_and_junk(text, refused):
    with pytest.raises(ValueError, match=refused.replace("[", r"\[").replace("]", r"\]")):
        boundary.loads(text)


def test_loads_reads_an_escaped_backslash_before_u0000_as_text():
    assert boundary.loads('{"path": "C:\\\\u0000"}') == {"path": "C:\\u0000"}
    assert boundary.loads('{"a": [1, 2.5, null, true]}') == {"a": [1, 2.5, None, True]}
    assert boundary.loads(b'{"a": "\\u00e9"}') == {"a": "é"}
