"""CSRF: every form route refuses a post without a valid token; the API needs none (tokens only)."""
import re


def _form_routes(app):
    for rule in app.url_map.iter_rules():
        if "POST" in rule.methods and not rule.rule.startswith("/api/"):
            yield re.sub(r"<int:\w+>", "1", rule.rule)


def test_every_form_route_refuses_a_post_without_token(app, login_as):
    client, _ = login_as("admin")
    routes = list(_form_routes(app))
    assert len(routes) >= 12
    for path in routes:
        response = client.http.post(path, data={"name": "x"})
        assert response.status_code == 400, path
        assert "CSRF token is missing" in response.get_data(as_text=True), path


def test_a_forged_token_is_refused(login_as):
    client, _ = login_as("admin")
    client.csrf_token()  # the session holds a real token (login starts a fresh session)
    response = client.http.post("/projects/new", data={"name": "x", "csrf_token": "forged"})
    assert response.status_code == 400
    assert "CSRF token is invalid" in response.get_data(as_text=True)


def test_the_api_takes_no_csrf_token_but_never_the_session_cookie(login_as, api):
    client, _ = login_as("manager")
    assert client.http.post("/api/v1/projects", json={"name": "x"}).status_code == 401
    api_client, _ = api("manager")
    response = api_client.post("/api/v1/projects", json={"name": "CSRF-free", "kind": "pairwise", "modality": "video"})
    assert response.status_code == 201


def test_login_form_carries_a_token(client):
    assert 'name="csrf_token"' in client.get("/login").get_data(as_text=True)
