"""Judgment import: a good file is written whole (imported, no assignment, its own timestamps,
placeholder raters who cannot sign in, panels refreshed); a file with any bad line writes nothing
and says which line is wrong and why — over the API, the upload form and the CLI."""
from __future__ import annotations

import io
import json
from datetime import datetime, timezone

import pytest
from sqlalchemy import func, select

from raters.models import AuditEvent, User
from tasks.rating.models import Assignment, ItemPanel, Judgment
from tests.helpers import jsonl
from tests.scoring.stats_factories import item, judge, rater, stats_project

URL = "/api/v1/projects/{}/judgments/import"


@pytest.fixture
def pairwise(session, make_user):
    manager = make_user("manager")
    project = stats_project(session, manager.id, overlap=2, max_overlap=3)
    for ext in ("alley-017", "alley-018"):
        item(session, project, external_id=ext)
    session.commit()
    return project


@pytest.fixture
def rubric(session, make_user):
    manager = make_user("manager")
    project = stats_project(session, manager.id, kind="rubric")
    item(session, project, ("m1",), external_id="script-01")
    session.commit()
    return project


def row(**fields) -> dict:
    base = {"external_id": "alley-017", "rater": "ana@studio.example", "choice": "a", "strength": 2,
            "rationale": "The left take keeps the reflections steady.", "confidence": 4,
            "created_at": "2026-06-30T10:00:00Z"}
    return {k: v for k, v in {**base, **fields}.items() if v is not ...}


def counts(session) -> tuple[int, int]:
    session.expire_all()
    return (session.scalar(select(func.count()).select_from(Judgment)),
            session.scalar(select(func.count()).select_from(User)))


def post(client, project, *rows, content_type="application/x-ndjson"):
    return client.post(URL.format(project.id), data=jsonl(*rows), content_type=content_type)


def test_a_good_file_is_stored_as_imported_with_placeholder_raters(app, session, api, pairwise):
    client, researcher = api("researcher")
    existing = rater(session, "lee")
    session.commit()
    response = post(client, pairwise,
                    row(),
                    row(rater="r-118", choice="tie", strength=..., created_at=...),
                    row(external_id="alley-018", rater=existing.email.upper(), choice="b", strength=3),
                    row(external_id="alley-018", rater="r-118", choice="b", strength=..., confidence=2))
    assert response.status_code == 201, response.json
    body = response.json
    assert (body["n_judgments"], body["n_items"], body["n_raters"]) == (4, 2, 3)
    assert sorted(body["new_raters"]) == ["ana@studio.example", "r-118@imported.invalid"]

    session.expire_all()
    stored = session.scalars(select(Judgment).order_by(Judgment.id)).all()
    assert {j.source for j in stored} == {"imported"} and all(j.assignment_id is None for j in stored)
    assert all(j.time_on_task_ms is None and j.playback is None for j in stored)
    assert stored[0].created_at == datetime(2026, 6, 30, 10, 0, tzinfo=timezone.utc)
    assert stored[0].choice == "a" and stored[0].strength == 2
    assert stored[1].choice == "tie" and stored[1].strength is None
    assert (datetime.now(timezone.utc) - stored[1].created_at).total_seconds() < 60  # default: now
    assert stored[2].rater_id == existing.id and stored[3].strength is None
    ana = session.scalar(select(User).where(User.email == "ana@studio.example"))
    assert (ana.role, ana.active, ana.password_hash) == ("rater", False, None)
    assert "(imported)" in ana.name
    panels = {p.item_id: p for p in session.scalars(select(ItemPanel))}
    assert {p.n_judgments for p in panels.values()} == {2}
    audit = session.scalar(select(AuditEvent).where(AuditEvent.action == "judgments.import"))
    assert audit.actor_id == researcher.id and "4 judgments" in audit.detail


def test_the_same_external_rater_is_the_same_account_in_a_later_file(session, api, pairwise):
    client, _ = api("manager")
    assert post(client, pairwise, row(rater="r-7")).status_code == 201
    response = post(client, pairwise, row(external_id="alley-018", rater="r-7"))
    assert response.status_code == 201 and response.json["new_raters"] == []
    session.expire_all()
    assert len(set(session.scalars(select(Judgment.rater_id)))) == 1


def test_a_placeholder_rater_cannot_sign_in(client, session, api, pairwise):
    api_client, _ = api("manager")
    assert post(api_client, pairwise, row(rater="ana@studio.example")).status_code == 201
    response = client.login("ana@studio.example", "")
    assert response.status_code != 302
    assert "Wrong e-mail or password" in response.get_data(as_text=True)


def test_rubric_scores_and_csv(session, api, rubric):
    client, _ = api("manager")
    good = {"external_id": "script-01", "rater": "r-1", "scores": {"coherence": 4, "dialogue": 2},
            "rationale": "tight", "confidence": 3}
    assert post(client, rubric, good).status_code == 201
    csv_body = ('external_id,rater,scores,rationale,confidence,created_at\n'
                'script-01,r-2,"{""coherence"": 5, ""dialogue"": 1}",fine,5,2026-07-01T08:00:00+02:00\n')
    response = client.post(URL.format(rubric.id), data=csv_body.encode(), content_type="text/csv")
    assert response.status_code == 201, response.json
    session.expire_all()
    scores = [j.scores for j in session.scalars(select(Judgment).order_by(Judgment.id))]
    assert scores == [{"coherence": 4, "dialogue": 2}, {"coherence": 5, "dialogue": 1}]


BAD_ROWS = [  # (row, the message expected for line 2)
    (row(external_id="nope"), "line 2: no item “nope” in this project"),
    (row(choice="left"), "line 2: choice must be a, b or tie"),
    (row(choice="tie", strength=2), "line 2: a tie has no strength"),
    (row(strength=4), "line 2: strength must be 1 (slightly), 2 (clearly) or 3"),
    (row(rationale=...), "line 2: missing field “rationale”"),
    (row(rationale="   "), "line 2: missing field “rationale”"),
    (row(confidence=...), "line 2: missing field “confidence”"),
    (row(confidence=6), "line 2: confidence must be a whole number from 1 to 5"),
    (row(created_at="yesterday"), "line 2: created_at must be an ISO 8601 time"),
    (row(created_at="2026-06-30T10:00:00"), "line 2: created_at needs a time zone"),
    (row(created_at="2999-01-01T00:00:00Z"), "line 2: created_at 2999-01-01T00:00:00Z is in the future"),
    (row(rater=...), "line 2: missing field “rater”"),
    (row(scores={"coherence": 3}), "line 2: scores are for rubric projects"),
    (row(model="gen-a"), "line 2: unknown field(s) model"),
    ("{not json", "line 2: not valid JSON"),
    ([1, 2], "line 2: each line must be a JSON object"),
]


@pytest.mark.parametrize("bad, message", BAD_ROWS, ids=[m.split(": ", 1)[1][:30] for _, m in BAD_ROWS])
def test_one_bad_line_rejects_the_file_and_writes_nothing(session, api, pairwise, bad, message):
    client, _ = api("manager")
    before = counts(session)
    response = post(client, pairwise, row(external_id="alley-018"), bad)
    assert response.status_code == 422
    assert response.json["error"]["code"] == "import_rejected"
    errors = response.json["error"]["details"]["errors"]
    assert any(e.startswith(message) for e in errors), errors
    assert counts(session) == before


@pytest.mark.parametrize("scores, message", [
    ({"coherence": 6, "dialogue": 2}, "line 1: scores.coherence must be a whole number from 1 to 5"),
    ({"coherence": 3, "dialogue": 2, "pacing": 4}, "line 1: scores: unknown criterion: pacing"),
    ({"coherence": 3}, "line 1: scores has no “dialogue”"),
    ("4", "line 1: scores: give a score for every criterion"),
])
def test_rubric_scores_off_the_scale_or_rubric_are_refused(session, api, rubric, scores, message):
    client, _ = api("manager")
    before = counts(session)
    response = post(client, rubric, {"external_id": "script-01", "rater": "r-1", "scores": scores,
                                     "rationale": "x", "confidence": 3})
    assert response.status_code == 422
    assert any(e.startswith(message) for e in response.json["error"]["details"]["errors"]), response.json
    assert counts(session) == before


def test_a_rater_judges_an_item_once(session, api, pairwise):
    client, _ = api("manager")
    lee = rater(session, "lee")
    it = session.scalar(select(Judgment.item_id).limit(1))  # none yet
    assert it is None
    target = item(session, pairwise, external_id="alley-019")
    judge(session, target, lee, "a")
    held = item(session, pairwise, external_id="alley-020")
    now = datetime.now(timezone.utc)
    session.add(Assignment(project_id=pairwise.id, item_id=held.id, rater_id=lee.id, served_at=now,
                           expires_at=now.replace(year=now.year + 1), left_label="a", status="open"))
    session.commit()
    before = counts(session)
    response = post(client, pairwise, row(), row(rater="ANA@studio.example", choice="b"),
                    row(external_id="alley-019", rater=lee.email), row(external_id="alley-020", rater=lee.email))
    assert response.status_code == 422
    errors = response.json["error"]["details"]["errors"]
    assert "line 2: ANA@studio.example already judges this item on line 1" in errors
    assert f"line 3: {lee.email} already has a current judgment on this item" in errors
    assert f"line 4: {lee.email} holds an open assignment of this item" in errors
    assert counts(session) == before


def test_only_raters_judgments_are_imported(session, api, pairwise, make_user):
    client, _ = api("manager")
    staff = make_user("manager")
    response = post(client, pairwise, row(rater=staff.email))
    assert response.status_code == 422
    assert response.json["error"]["details"]["errors"] == [
        f"line 1: {staff.email} has a manager account here; only raters' judgments can be imported"]


def test_an_empty_or_binary_file_is_refused(api, pairwise):
    client, _ = api("manager")
    assert post(client, pairwise).json["error"]["details"]["errors"] == ["the file holds no judgments"]
    response = client.post(URL.format(pairwise.id), data=b"\xff\xfe\x00", content_type="application/x-ndjson")
    assert response.json["error"]["details"]["errors"][0].startswith("line 1: not UTF-8 text")


def test_the_upload_form_imports_or_shows_every_bad_line(client, login_as, session, pairwise):
    web, _ = login_as("researcher")
    good = jsonl(row(), row(external_id="alley-018", rater="r-9"))
    response = web.post(f"/projects/{pairwise.id}/judgments/import",
                        data={"file": (io.BytesIO(good), "judgments.jsonl")},
                        content_type="multipart/form-data", follow_redirects=True)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Imported 2 judgments on 2 items from judgments.jsonl, 2 new placeholder raters." in page
    assert "2 imported" in page
    before = counts(session)
    bad = jsonl(row(external_id="alley-018", rater="r-10"), row(choice="x", rater="r-10"))
    response = web.post(f"/projects/{pairwise.id}/judgments/import",
                        data={"file": (io.BytesIO(bad), "more.jsonl")}, content_type="multipart/form-data")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "more.jsonl was not imported" in page and "line 2: choice must be a, b or tie" in page
    assert counts(session) == before


def test_the_cli_imports_a_file(app, session, tmp_path, pairwise):
    path = tmp_path / "judgments.jsonl"
    path.write_bytes(jsonl(row(), row(external_id="alley-018")))
    result = app.test_cli_runner().invoke(args=["judgments", "import", str(pairwise.id), str(path)])
    assert result.exit_code == 0, result.output
    assert "imported 2 judgments on 2 items" in result.output
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps(row(rater="r-2", external_id="zzz")) + "\n")
    result = app.test_cli_runner().invoke(args=["judgments", "import", str(pairwise.id), str(bad)])
    assert result.exit_code == 1 and "line 1: no item “zzz” in this project" in result.output
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(Judgment)) == 2


# -- the fast row check accepts exactly what check_row accepts --------------------------------

GOOD = {"external_id": "alley-017", "rater": "ana@studio.example", "choice": "a", "strength": 2,
        "rationale": "the cut lands on the beat", "confidence": 4, "created_at": "2026-06-30T10:00:00Z"}
VARIANTS = [
    {}, {"strength": None}, {"choice": "tie", "strength": None}, {"choice": "tie"}, {"created_at": None},
    {"external_id": 17}, {"rater": 42}, {"rater": "  outside 7 "}, {"rationale": "  padded  "},
    # each of these breaks a rule (check_row words the error)
    {"choice": "tie", "strength": 1}, {"choice": "left"}, {"choice": ["a"]}, {"choice": None},
    {"strength": 0}, {"strength": 4}, {"strength": True}, {"strength": 2.0}, {"strength": "2"},
    {"confidence": 0}, {"confidence": 6}, {"confidence": True}, {"confidence": 3.0}, {"confidence": None},
    {"rationale": ""}, {"rationale": "   "}, {"rationale": 5}, {"rationale": "x" * 10_001},
    {"rater": ""}, {"rater": True}, {"rater": "r" * 201}, {"rater": None}, {"external_id": "nope"},
    {"external_id": True}, {"external_id": " "}, {"external_id": None}, {"scores": {"x": 1}}, {"extra": 1},
    {"created_at": "2026-06-30T10:00:00"}, {"created_at": "yesterday"}, {"created_at": 1},
    {"created_at": "2999-01-01T00:00:00Z"},
]


@pytest.mark.parametrize("change", VARIANTS)
def test_the_fast_row_check_agrees_with_check_row(pairwise, change):
    from tasks.rating.judgment_import import RowChecker, check_row

    now = datetime(2026, 12, 1, tzinfo=timezone.utc)
    items = {"alley-017": 1, "17": 2}
    data = {k: v for k, v in {**GOOD, **change}.items()}
    errors: list[str] = []
    slow = check_row(pairwise, items, 3, data, now, errors)
    fast = RowChecker(pairwise, items, now)._fast(3, data)
    if slow is None:  # a broken row never passes the fast path: check_row words its error
        assert fast is None and errors
        assert RowChecker(pairwise, items, now).check([(3, data)], []) == []
    else:  # a valid row takes the fast path, to the same result
        assert fast == slow


def test_imported_judgments_store_the_features_a_live_write_computes(session, api, pairwise):
    """What the import stores is exactly ``rationale_features`` of each rationale, as the desk and
    near-copy checks compare."""
    from tasks.rating.answers import rationale_features
    from tests.tasks.rationale_suites import HONEST

    texts = [text for _who, _item, text in HONEST[:6]]
    texts += [texts[0] + " Same pacing at 0:12 as the last take.", "Same pacing at 0:12 as the last take."]
    client, _ = api("manager")
    rows = [row(external_id=ext, rater=f"r-{n}", rationale=text)
            for n, text in enumerate(texts) for ext in ("alley-017", "alley-018")]
    assert post(client, pairwise, *rows).status_code == 201
    session.expire_all()
    stored = session.scalars(select(Judgment).order_by(Judgment.id)).all()
    assert len(stored) == len(rows)
    assert all(j.rationale_features == rationale_features(j.rationale) for j in stored)
    assert stored[-1].rationale_features["moment"]  # "0:12" points at a moment


def test_memoised_shingle_hashes_are_the_hashes():
    """``shingle_hash`` is memoised (bounded): a hash served from the memo is the one computed
    afresh, for every shingle of every suite's rationales."""
    import hashlib

    from tasks.rating.answers import shingle_hash, word_shingles, words
    from tests.tasks.rationale_suites import HONEST, RUBBER_STAMPS

    texts = [t for _w, _i, t in HONEST] + [t for _name, t, *_ in RUBBER_STAMPS]
    shingles = {s for t in texts for s in word_shingles(words(t))}
    fresh = {s: int.from_bytes(hashlib.blake2b("\x1f".join(s).encode(), digest_size=8).digest(), "big") >> 1
             for s in shingles}
    assert shingles and [shingle_hash(s) for s in shingles] == [fresh[s] for s in shingles]
    hits = shingle_hash.cache_info().hits
    assert [shingle_hash(s) for s in shingles] == [fresh[s] for s in shingles]
    assert shingle_hash.cache_info().hits >= hits + len(shingles)  # the second pass came from the memo
