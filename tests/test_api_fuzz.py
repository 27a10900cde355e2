"""schemathesis against ``/api/v1/openapi.json`` (through the WSGI app), as an admin and as a
rater: no server error, and every response conforming to the document (status code, content
type, body schema). Bounded: a few examples per operation, so the suite stays fast; run with
``API_FUZZ_EXAMPLES=200`` for a longer hunt. Runs on SQLite and PostgreSQL (TEST_DATABASE_URL).
"""
from __future__ import annotations

import os

import pytest

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402
from schemathesis import GenerationMode  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.specs.openapi.checks import (  # noqa: E402
    content_type_conformance, response_schema_conformance, status_code_conformance,
)

from database import db  # noqa: E402
from raters import services  # noqa: E402
from raters.models import User  # noqa: E402
from tests.route_world import ARGUMENT_KEYS, world  # noqa: E402,F401 (fixture)

EXAMPLES = int(os.environ.get("API_FUZZ_EXAMPLES", "3"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
# Revoking the token the fuzzer authenticates with would end the run early.
SKIPPED = {"DELETE /tokens/{token_id}"}


@pytest.mark.parametrize("role", ["admin", "member"])
def test_the_api_answers_every_generated_request_as_documented(app, world, role):
    with app.app_context():
        _token, secret = services.create_token(db.session, db.session.get(User, world["users"][role].id), "fuzz")
        db.session.commit()
    headers = {"Authorization": f"Bearer {secret}"}
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    failures, calls = [], []
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.label in {f"{m} {p}" for m, p in (s.split(" ", 1) for s in SKIPPED)}:
            continue

        # Generated ids (mostly unknown: 404) and the world's real ones (the body is then read).
        real = {p.name: world[ARGUMENT_KEYS[p.name]] if ARGUMENT_KEYS[p.name] != "token" else 999_999
                for p in operation.path_parameters}
        for mode in GenerationMode:
            for path_parameters in ({}, real) if real else ({},):
                strategy = operation.as_strategy(generation_mode=mode, path_parameters=path_parameters or None)

                @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                          suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate])
                @given(case=strategy)
                def run(case):
                    response = case.call_and_validate(headers=headers, checks=CHECKS)
                    calls.append((operation.label, response.status_code))

                try:
                    run()
                except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 (every failure is collected)
                    failures.append(f"{operation.label} [{mode.value}, ids {path_parameters or 'generated'}]: "
                                    f"{str(exc)[:1500]}")
    assert not failures, "\n\n".join(failures)
    operations = {label for label, _status in calls}
    assert len(operations) >= 40, sorted(operations)  # every documented operation was called
    assert any(status < 400 for _label, status in calls)  # not only refusals
