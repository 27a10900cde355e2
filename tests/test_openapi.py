"""The OpenAPI document matches the routes and is a valid OpenAPI 3.1 skeleton."""
import re


def test_openapi_lists_exactly_the_api_routes(app, client):
    doc = client.get("/api/v1/openapi.json").json
    assert doc["openapi"].startswith("3.1")
    documented = {(m.upper(), "/api/v1" + re.sub(r"\{(\w+)\}", r"<\1>", p)) for p, ops in doc["paths"].items() for m in ops}
    routes = {(m, re.sub(r"<(?:\w+:)?(\w+)>", r"<\1>", r.rule)) for r in app.url_map.iter_rules()
              if r.rule.startswith("/api/v1") for m in r.methods - {"HEAD", "OPTIONS"}}
    assert documented == routes


def test_every_operation_has_a_summary_access_and_error_schema(client):
    doc = client.get("/api/v1/openapi.json").json
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            assert op["summary"] and not op["summary"].startswith(("tasks_api.", "raters_api.")), (method, path)
            assert op["x-access"], (method, path)
            assert op["responses"]["default"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}
            params = {p["name"] for p in op["parameters"] if p["in"] == "path"}
            assert params == set(re.findall(r"\{(\w+)\}", path)), (method, path)
