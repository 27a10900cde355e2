"""The factory, error format, security headers and the access declaration of every route."""
from app import create_app
from raters.access import undeclared_endpoints


def test_factory_takes_test_config(database_url, tmp_path):
    app = create_app({"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "x",
                      "ASSET_STORE": str(tmp_path)})
    assert app.testing and app.config["ASSET_STORE"] == str(tmp_path)
    assert not create_app({"DATABASE_URL": database_url, "SECRET_KEY": "x"}).testing


def test_every_route_declares_who_may_use_it(app):
    assert undeclared_endpoints(app) == []


def test_pages_carry_a_strict_content_security_policy(client):
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["script-src"] == "'self'" and directives["object-src"] == "'none'"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_unknown_api_path_is_a_json_404(client):
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.json["error"]["code"] == "not_found"


def test_anonymous_page_request_redirects_to_login_with_next(client):
    response = client.get("/assets?consent=granted")
    assert response.status_code == 302
    assert "/login?next=/assets?consent%3Dgranted" in response.headers["Location"] or \
        "/login?next=%2Fassets%3Fconsent%3Dgranted" in response.headers["Location"]


def test_default_import_cap_takes_a_200k_judgment_file(database_url):
    app = create_app({"DATABASE_URL": database_url, "SECRET_KEY": "x"})
    assert app.config["MAX_IMPORT_MB"] * 1024 * 1024 >= 52 * 1024 * 1024  # 200,000 judgments ≈ 52 MB
    assert app.config["MAX_CONTENT_LENGTH"] >= app.config["MAX_IMPORT_MB"] * 1024 * 1024
