"""Every role against every route of ``app.url_map``: who is let in, who is refused, and how.

Roles: anonymous, admin, manager, researcher, a rater on the project (``member``), a rater who
is not (``outsider``), and a member whose API token was revoked (``revoked``). The routes are
read from the URL map, so a new route cannot be forgotten: one without an entry in EXPECTED
fails ``test_every_route_has_an_expectation`` with the line to add.
"""
from __future__ import annotations

import pytest

from database import db
from raters import services
from raters.models import ApiToken
from tests.route_world import ROLES, login, path_of, routes, world  # noqa: F401 (fixture)

STAFF = {"admin", "manager"}
READERS = STAFF | {"researcher"}
SIGNED_IN = READERS | {"member", "outsider"}
PROJECT_VIEWERS = READERS | {"member"}
EVERYONE = set(ROLES)

# (endpoint, method) → the roles let in. One line per route.
EXPECTED = {
    ("api_meta.openapi", "GET"): EVERYONE,
    ("auth.login", "GET"): EVERYONE,
    ("auth.login", "POST"): EVERYONE,
    ("ops.healthz", "GET"): EVERYONE,
    ("ops.readyz", "GET"): EVERYONE,
    ("assets.detail", "GET"): READERS,
    ("assets.edit", "POST"): STAFF,
    ("assets.index", "GET"): READERS,
    ("assets.media", "GET"): PROJECT_VIEWERS,
    ("assets.upload", "POST"): STAFF,
    ("audit.audit_log", "GET"): {"admin"},
    ("audit_api.audit_entries", "GET"): {"admin"},
    ("auth.consent", "GET"): SIGNED_IN,
    ("auth.consent", "POST"): SIGNED_IN,
    ("auth.logout", "POST"): SIGNED_IN,
    ("exports.create", "POST"): READERS,
    ("exports.download", "GET"): READERS,  # released; drafts: staff only (tests/exports)
    ("exports.index", "GET"): READERS,
    ("exports.release", "POST"): STAFF,  # and only the owner or an admin succeeds: tests/exports
    ("exports.retry", "POST"): READERS,
    ("exports.settings", "POST"): STAFF,
    ("exports_api.create", "POST"): READERS,
    ("exports_api.detail", "GET"): READERS,
    ("exports_api.download", "GET"): READERS,
    ("exports_api.index", "GET"): READERS,
    ("exports_api.judgments", "GET"): READERS,
    ("exports_api.release", "POST"): STAFF,
    ("exports_api.retry", "POST"): READERS,
    ("quality.calibration", "GET"): READERS,
    ("quality.judgment", "GET"): READERS,  # readers: 404 for a judgment not the rater's
    ("quality.set_standing", "POST"): STAFF,
    ("quality.settings", "GET"): STAFF,
    ("quality.settings", "POST"): STAFF,
    ("quality_api.thresholds", "GET"): READERS,
    ("quality_api.put_thresholds", "PUT"): STAFF,
    **{(f"quality_api.rater_{act}", "POST"): STAFF for act in ("pause", "resume", "remove", "exclude", "include")},
    ("quality.items", "GET"): READERS,
    ("quality.panel", "GET"): READERS,
    ("quality.progress", "GET"): READERS,
    ("quality.rater", "GET"): READERS,  # readers: 404 while the rater has no judgments
    ("quality_api.calibration", "GET"): READERS,
    ("quality_api.progress", "GET"): READERS,
    ("quality_api.rater", "GET"): READERS,
    ("quality_api.raters", "GET"): READERS,
    ("raters.account", "GET"): SIGNED_IN,
    ("raters.change_password", "POST"): SIGNED_IN,
    ("raters.create_token", "POST"): SIGNED_IN,
    ("raters.create_user", "POST"): {"admin"},
    ("raters.edit_user", "GET"): {"admin"},
    ("raters.edit_user", "POST"): {"admin"},
    ("raters.revoke_token", "POST"): SIGNED_IN,
    ("raters.set_active", "POST"): {"admin"},
    ("raters.users", "GET"): {"admin"},
    ("raters_api.create_token", "POST"): SIGNED_IN,
    ("raters_api.create_user", "POST"): {"admin"},
    ("raters_api.list_tokens", "GET"): SIGNED_IN,
    ("raters_api.list_users", "GET"): {"admin"},
    ("raters_api.me", "GET"): SIGNED_IN,
    ("raters_api.revoke_token", "DELETE"): SIGNED_IN,
    ("rating.adjudicate", "POST"): STAFF,
    ("rating.adjudication", "GET"): STAFF,
    ("rating.draft", "POST"): {"member"},
    ("rating.flag", "POST"): {"member"},
    ("rating.flag_list", "GET"): STAFF,
    ("rating.progress", "POST"): {"member"},
    ("rating.resolve", "POST"): STAFF,
    ("rating.skip", "POST"): {"member"},
    ("rating.start", "POST"): {"member"},
    ("rating.task", "GET"): {"member"},
    ("rating.task", "POST"): {"member"},
    ("rating.upcoming", "GET"): {"member"},
    ("rating_api.adjudicate", "POST"): STAFF,
    ("rating_api.adjudication_queue", "GET"): STAFF,  # and senior raters: tests/tasks
    ("rating_api.flag", "POST"): {"member"},
    ("rating_api.get_assignment", "GET"): {"member"},  # the member's own; other raters get 404
    ("rating_api.list_flags", "GET"): STAFF,
    ("rating_api.next_assignment", "POST"): {"member"},
    ("rating_api.put_draft", "PUT"): {"member"},
    ("rating_api.resolve_flag", "POST"): STAFF,
    ("rating_api.revise", "PUT"): {"member"},
    ("rating_api.skip", "POST"): {"member"},
    ("rating_api.submit", "POST"): {"member"},
    ("scoring.import_judgments", "POST"): READERS,
    ("scoring.recompute", "POST"): READERS,
    ("scoring.statistics", "GET"): READERS,
    ("scoring.status", "GET"): READERS,
    ("scoring_api.agreement", "GET"): READERS,
    ("scoring_api.consensus", "GET"): READERS,
    ("scoring_api.import_judgments", "POST"): READERS,
    ("scoring_api.leaderboard", "GET"): READERS,
    ("scoring_api.recompute", "POST"): READERS,
    ("tasks.edit_project", "GET"): STAFF,
    ("tasks.edit_project", "POST"): STAFF,
    ("tasks.home", "GET"): SIGNED_IN,
    ("tasks.import_items", "POST"): STAFF,
    ("tasks.members", "POST"): STAFF,
    ("tasks.new_project", "GET"): STAFF,
    ("tasks.new_project", "POST"): STAFF,
    ("tasks.project", "GET"): PROJECT_VIEWERS,
    ("tasks_api.create", "POST"): STAFF,
    ("tasks_api.get", "GET"): PROJECT_VIEWERS,
    ("tasks_api.get_asset", "GET"): READERS,
    ("tasks_api.import_items", "POST"): STAFF,
    ("tasks_api.list_items", "GET"): READERS,
    ("tasks_api.list_projects", "GET"): SIGNED_IN,
    ("tasks_api.patch", "PATCH"): STAFF,
    ("tasks_api.patch_asset", "PATCH"): STAFF,
    ("tasks_api.upload", "POST"): STAFF,
}
SESSION_ENDING = {("auth.logout", "POST"), ("raters.change_password", "POST"), ("raters.revoke_token", "POST"),
                  ("raters_api.revoke_token", "DELETE")}
# Media and assignments answer 404 to those who may not see them (nothing is revealed).
HIDING_ARGUMENTS = {"public_id", "assignment_id"}


def test_every_route_has_an_expectation(app):
    present = {(endpoint, method) for endpoint, method, _rule in routes(app)}
    missing = [f'("{endpoint}", "{method}"): {{roles}},  # {rule.rule}' for endpoint, method, rule in routes(app)
               if (endpoint, method) not in EXPECTED]
    assert not missing, "routes without an expectation — add to EXPECTED in tests/test_access_matrix.py:\n" + \
        "\n".join(missing)
    stale = sorted(set(EXPECTED) - present)
    assert not stale, f"EXPECTED names routes that no longer exist: {stale}"


def _denied(response, rule) -> bool:
    status = response.status_code
    to_login = status == 302 and "/login" in response.headers.get("Location", "")
    return status in (401, 403) or to_login or (status == 404 and bool(HIDING_ARGUMENTS & set(rule.arguments)))


@pytest.mark.parametrize("role", ROLES)
def test_role_against_every_route(app, world, role):
    http, creds, token_id = login(app, role, world)
    wrong = []
    for endpoint, method, rule in routes(app):
        if (endpoint, method) in SESSION_ENDING or (endpoint, method) not in EXPECTED:
            continue  # session-ending: test_role_against_session_ending_routes; missing: the test above
        path = path_of(rule, world, token_id)
        is_api = path.startswith("/api/")
        headers = {"Authorization": creds["Authorization"]} if is_api and "Authorization" in creds else {}
        data = None if is_api else {"csrf_token": creds.get("csrf", "")}
        response = http.open(path, method=method, headers=headers, data=data,
                             json={} if is_api and method in ("POST", "PATCH", "PUT") else None)
        allowed = role in EXPECTED[(endpoint, method)]
        if allowed == _denied(response, rule):
            wrong.append(f"{endpoint} {method} {rule.rule}: {response.status_code} for {role} "
                         f"({'allowed' if allowed else 'denied'} expected)")
    assert wrong == [], "\n".join(wrong)


def test_a_revoked_token_opens_no_api_route(app, world):
    http, creds, token_id = login(app, "member", world)
    with app.app_context():
        services.revoke_token(db.session, db.session.get(ApiToken, token_id))
        db.session.commit()
    let_in = []
    for endpoint, method, rule in routes(app):
        if not rule.rule.startswith("/api/") or EXPECTED.get((endpoint, method)) == EVERYONE:
            continue
        response = http.open(path_of(rule, world, token_id), method=method,
                             headers={"Authorization": creds["Authorization"]},
                             json={} if method in ("POST", "PATCH", "PUT") else None)
        if response.status_code != 401:
            let_in.append(f"{endpoint} {method} {rule.rule}: {response.status_code}")
    assert let_in == [], "\n".join(let_in)


@pytest.mark.parametrize("role", ROLES)
def test_role_against_session_ending_routes(app, world, role):
    http, creds, token_id = login(app, role, world)
    response = http.delete(f"/api/v1/tokens/{token_id}", headers={"Authorization": creds.get("Authorization", "")})
    assert response.status_code == (401 if role == "anonymous" else 200)
    for path in (f"/account/tokens/{token_id}/revoke", "/account/password", "/logout"):
        response = http.post(path, data={"csrf_token": creds.get("csrf", "")})
        location = response.headers.get("Location", "")
        assert response.status_code == 302, (path, response.status_code)
        if role == "anonymous":
            assert location.startswith("/login?next="), path  # sent to sign in first
        else:
            assert not location.startswith("/login?next="), path


def test_denied_answers_say_why(app, world):
    http, creds, _ = login(app, "researcher", world)
    response = http.post("/api/v1/projects", headers={"Authorization": creds["Authorization"]}, json={})
    assert response.status_code == 403
    assert response.json["error"]["code"] == "forbidden"
    assert "researcher" in response.json["error"]["message"]
    assert http.get("/api/v1/me").status_code == 401  # the session cookie never authenticates the API
