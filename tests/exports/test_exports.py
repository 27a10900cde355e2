"""Exports: they load with datasets.load_dataset in every format, pass TRL's column contract,
match scoring's consensus, respect consent, and are versioned, released and revoked as promised."""
from __future__ import annotations

import hashlib
import json

import pyarrow.parquet as pq
import pytest
from sqlalchemy import select

from database import utcnow
from raters.models import AuditEvent, User
from scoring.exports.models import Export
from scoring.reports import data as report_data
from scoring.reports.report import build_report, consensus_records
from tasks.catalogue import assets as asset_ops
from tasks.catalogue.models import Asset
from tasks.rating.models import Judgment
from tests.exports import factories as f
from tests.exports.conftest import load

TRL_PREFERENCE = {"prompt": "string", "chosen": "string", "rejected": "string"}  # TRL standard preference format


@pytest.fixture
def owner(make_user):
    return make_user("manager")


@pytest.fixture
def scripts(app, session, owner):
    """A pairwise script project: a clear win, a split with a tie, an adjudicated split, a
    revoked and a pending asset, a gold item."""
    proj = f.project(session, owner.id)
    raters = [f.rater(session) for _ in range(3)]
    items = {}
    for key, choices in {"win": ("a", "a", "b"), "tie": ("tie", "tie", "a"), "split": ("a", "b", None)}.items():
        it = items[key] = f.item(session, app, proj, external_id=key)
        for who, choice in zip(raters, choices):
            if choice:
                f.judge(session, it, who, choice, playback={"a": 10.0, "b": 9.5})
    f.adjudicate(session, items["split"], choice="b")
    for key, consent in {"revoked": ("granted", "revoked"), "pending": ("pending", "granted")}.items():
        it = items[key] = f.item(session, app, proj, external_id=key, consent=consent)
        for who in raters:
            f.judge(session, it, who, "a")
    gold = items["gold"] = f.item(session, app, proj, external_id="gold", gold={"choice": "a"})
    f.judge(session, gold, raters[0], "a")
    session.commit()
    return proj, items, raters


@pytest.mark.parametrize("fmt", ["parquet", "jsonl", "csv"])
def test_text_preferences_load_in_every_format_and_pass_trls_contract(build, scripts, tmp_path, fmt):
    proj, _items, _raters = scripts
    export, folder = build(proj.id, kind="preferences", format=fmt)
    ds = load(folder, "preferences", tmp_path)
    assert ds.num_rows == export["row_counts"]["preferences"] == 3  # win, tie (kept), split
    for column, dtype in TRL_PREFERENCE.items():
        assert ds.features[column].dtype == dtype
    assert ds.features["margin"].dtype == "float64"  # the reward trainer's margin column
    assert set(ds["item_id"]) == {"win", "tie", "split"}
    row = ds.filter(lambda r: r["item_id"] == "win")[0]
    assert row["chosen"].startswith("gen-a output a") and row["rejected"].startswith("gen-b output b")
    assert row["chosen_model"] == "gen-a" and row["margin"] == 2.0 and row["n_judgments"] == 3
    assert row["agreement"] == pytest.approx(2 / 3)
    if fmt != "csv":  # CSV holds nested columns as JSON text
        assert row["notes"] == [] and len(row["rationales"]) == 3


def test_parquet_schema_is_stable_and_typed(build, scripts):
    proj, _items, _raters = scripts
    _export, folder = build(proj.id, kind="preferences", mode="judgments")
    table = pq.read_table(next((folder / "data" / "preferences").glob("*.parquet")))
    schema = table.schema
    assert str(schema.field("notes").type) == (
        "list<element: struct<author: string, label: string, model: string, t_in: double, t_out: double, "
        "frame_in: int64, frame_out: int64, timecode_in: string, timecode_out: string, line_in: int64, "
        "line_out: int64, char_in: int64, char_out: int64, quote: string, text: string, created_at: string>>")
    assert str(schema.field("presented").type) == ("struct<left: struct<label: string, model: string>, "
                                                   "right: struct<label: string, model: string>>")
    assert str(schema.field("criteria").type) == ("list<element: struct<key: string, winner: string, "
                                                  "winner_model: string, share: double, n_judgments: int64>>")
    rows = table.to_pylist()
    assert len(rows) == 8  # every current judgment of the exportable, non-gold items
    first = next(r for r in rows if r["item_id"] == "win")
    assert first["presented"] == {"left": {"label": "b", "model": "gen-b"}, "right": {"label": "a", "model": "gen-a"}}
    assert first["playback_s"] == {"a": 10.0, "b": 9.5} and first["time_on_task_ms"] == 60_000
    assert first["rater"].startswith("rater-")


def test_consensus_rows_match_scorings_consensus(app, session, build, scripts):
    proj, _items, _raters = scripts
    _export, folder = build(proj.id, kind="preferences")
    rows = {r["item_id"]: r for r in pq.read_table(next((folder / "data" / "preferences").glob("*.parquet"))).to_pylist()}
    report = build_report(report_data.project_frames(session, session.get(type(proj), proj.id)), n_resamples=10)
    section = report["consensus"]
    records = {r["external_id"]: r for r in consensus_records(section, section["rows"])}
    for external_id, row in rows.items():
        label = records[external_id]["labels"]["choice"]
        winner = "tie" if row["is_tie"] else ("a" if row["chosen_model"] == "gen-a" else "b")
        assert winner == label["label"], external_id
        assert row["agreement"] == pytest.approx(label["share"])
        assert row["n_judgments"] == records[external_id]["n_judgments"]
    assert rows["split"]["chosen_model"] == "gen-b"  # the adjudicated decision
    assert rows["tie"]["is_tie"] and rows["tie"]["margin"] == 0.0


def test_pending_and_revoked_assets_never_appear_and_are_counted(build, scripts):
    proj, _items, _raters = scripts
    for kind in ("preferences", "ratings"):
        export, folder = build(proj.id, kind=kind, mode="judgments")
        text = "".join(p.read_bytes().hex() for p in (folder / "data").rglob("*.parquet"))
        assert export["manifest"]["excluded"]["items"]["consent"] == 2
        tables = [pq.read_table(p).to_pylist() for p in (folder / "data").rglob("*.parquet")]
        ids = {r["item_id"] for rows in tables for r in rows}
        assert not ids & {"revoked", "pending"} and text
        assert "Left out for consent: 2 items" in (folder / "README.md").read_text()


def test_items_dropped_after_a_media_report_stay_out(session, build, scripts):
    proj, items, _raters = scripts
    session.get(type(items["win"]), items["win"].id).dropped_at = utcnow()
    session.commit()
    export, _folder = build(proj.id, kind="ratings")
    assert export["manifest"]["excluded"]["items"]["dropped"] == 1
    assert export["row_counts"]["ratings"] == 5  # tie 3 + split 2


def test_ties_dropped_are_counted(build, scripts):
    proj, _items, _raters = scripts
    export, _folder = build(proj.id, kind="preferences", ties="drop")
    assert export["row_counts"]["preferences"] == 2
    assert export["manifest"]["excluded"]["items"]["tie"] == 1
    assert export["options"]["ties"] == "drop"


def test_filters_are_recorded_and_applied(build, scripts):
    proj, _items, _raters = scripts
    export, _folder = build(proj.id, kind="preferences", min_agreement=0.9, min_judgments=3, exclude_gold=False)
    assert export["manifest"]["options"]["min_agreement"] == 0.9
    assert export["row_counts"]["preferences"] == 0  # no item is that unanimous
    assert export["manifest"]["excluded"]["items"]["low_agreement"] == 2
    assert export["manifest"]["excluded"]["items"]["few_judgments"] == 1


def test_pseudonyms_are_stable_within_a_project_and_unlinkable_across(app, session, build, owner):
    who = [f.rater(session) for _ in range(2)]
    projects = [f.project(session, owner.id) for _ in range(2)]
    for proj in projects:
        it = f.item(session, app, proj)
        for rater in who:
            f.judge(session, it, rater, "a")
    session.commit()

    def names(proj, **options):
        _e, folder = build(proj.id, kind="ratings", **options)
        return sorted(r["rater"] for r in pq.read_table(next((folder / "data" / "ratings").glob("*.parquet"))).to_pylist())

    first, again = names(projects[0]), names(projects[0], format="parquet", min_judgments=1)
    assert first == again and len(set(first)) == 2
    assert not set(first) & set(names(projects[1]))
    assert all(len(name) == len("rater-") + 16 and r.email not in name for r in who for name in first)


def test_revocation_marks_affected_exports_and_the_asset_page_lists_them(app, session, build, scripts, login_as,
                                                                         owner):
    proj, items, _raters = scripts
    export, _folder = build(proj.id, kind="preferences")
    asset = items["win"].outputs[0].asset
    untouched, _ = build(proj.id, kind="preferences", min_judgments=3)  # no 'win'? it has 3: contains it too
    changed = session.get(Asset, asset.id)
    asset_ops.set_provenance(session, changed, {"consent": "revoked"}, session.get(User, owner.id),
                             note="withdrawn by the actor")
    session.commit()
    rows = session.scalars(select(Export).where(Export.project_id == proj.id)).all()
    assert all(e.affected_at is not None and "revoked" in e.affected_reason for e in rows)
    marked = session.scalars(select(AuditEvent).where(AuditEvent.action == "export.affected")).all()
    assert len(marked) == 2 and {e.actor_id for e in marked} == {owner.id}  # who revoked, in the same transaction
    client, _ = login_as("researcher")
    page = client.get(f"/assets/{asset.id}").get_data(as_text=True)
    assert f"#export-{export['id']}" in page and "affected" in page
    other = items["tie"].outputs[0].asset.id
    assert f"#export-{export['id']}" in client.get(f"/assets/{other}").get_data(as_text=True)
    assert untouched["id"] != export["id"]
    admin, _ = login_as("admin")
    assert admin.get(f"/exports/{export['id']}/download").status_code == 410  # consent-safe: never again


def test_manifest_hashes_match_the_files(build, scripts):
    proj, _items, _raters = scripts
    export, folder = build(proj.id, kind="ratings", format="jsonl")
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest == export["manifest"]
    listed = {entry["path"]: entry["sha256"] for entry in manifest["files"]}
    on_disk = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()} - {"manifest.json"}
    assert set(listed) == on_disk
    for path, digest in listed.items():
        assert hashlib.sha256((folder / path).read_bytes()).hexdigest() == digest
    for key in ("export_id", "version", "project", "creator", "built_at", "app_version", "schema_version",
                "options", "row_counts", "excluded", "licenses", "release"):
        assert key in manifest
    assert manifest["licenses"] == {"CC-BY-4.0": manifest["licenses"]["CC-BY-4.0"]}


def test_ratings_and_consensus_tables_load(session, build, scripts, tmp_path):
    proj, items, raters = scripts
    old = session.scalar(select(Judgment).where(Judgment.item_id == items["win"].id, Judgment.rater_id == raters[2].id))
    old.superseded_at = utcnow()
    session.flush()
    session.add(Judgment(project_id=proj.id, item_id=old.item_id, rater_id=old.rater_id, assignment_id=old.assignment_id,
                         choice="a", strength=3, rationale="revised: a after all", confidence=5, source="live",
                         supersedes_id=old.id, created_at=utcnow()))
    session.commit()
    export, folder = build(proj.id, kind="ratings")
    ratings, consensus = load(folder, "ratings", tmp_path), load(folder, "consensus", tmp_path)
    assert ratings.num_rows == export["row_counts"]["ratings"] == 9  # the revised judgment is kept, flagged
    assert ratings.features["superseded"].dtype == "bool" and sum(ratings["superseded"]) == 1
    assert {"rater", "choice", "strength", "presented", "playback_s", "is_gold", "superseded", "notes"} <= set(ratings.column_names)
    assert consensus.num_rows == 3 and set(consensus["criterion"]) == {"choice"}
    split = consensus.filter(lambda r: r["item_id"] == "split")[0]
    assert split["source"] == "adjudication" and split["label"] == "b"


def test_media_export_carries_files_and_pick_a_pic_columns(app, session, build, owner, tmp_path):
    proj = f.project(session, owner.id, modality="video")
    raters = [f.rater(session) for _ in range(2)]
    it = f.item(session, app, proj, external_id="clip")
    for who, choice in zip(raters, ("b", "b")):
        f.judge(session, it, who, choice)
    session.commit()
    export, folder = build(proj.id, kind="preferences")
    ds = load(folder, "preferences", tmp_path)
    row = ds[0]
    assert (folder / row["chosen"]).is_file() and (folder / row["rejected"]).is_file()
    assert hashlib.sha256((folder / row["chosen"]).read_bytes()).hexdigest() == row["chosen_sha256"]
    assert row["caption"] == row["prompt"] and row["video_1"] == row["chosen"] and row["video_0"] == row["rejected"]
    assert (row["label_0"], row["label_1"], row["model_0"], row["model_1"]) == (0.0, 1.0, "gen-a", "gen-b")
    assert row["chosen_duration_s"] == 4.0
    refs, _ = build(proj.id, kind="preferences", media="references")
    assert refs["manifest"]["row_counts"] == export["manifest"]["row_counts"]
    assert not any(e["path"].startswith("media/") for e in refs["manifest"]["files"])


def test_rubric_unpaired_rows_follow_the_pass_rule(app, session, build, owner, tmp_path):
    proj = f.project(session, owner.id, kind="rubric")
    raters = [f.rater(session) for _ in range(3)]
    good, bad = f.item(session, app, proj, ("gen-a",), external_id="good"), f.item(session, app, proj, ("gen-b",), external_id="bad")
    for who in raters:
        f.judge(session, good, who, scores={"coherence": 4, "dialogue": 3})
        f.judge(session, bad, who, scores={"coherence": 5, "dialogue": 2})
    session.commit()
    export, folder = build(proj.id, kind="preferences", format="jsonl")
    ds = load(folder, "unpaired", tmp_path)
    labels = dict(zip(ds["item_id"], ds["label"]))
    assert labels == {"good": True, "bad": False}  # every criterion at or above its midpoint (3 of 1-5)
    assert ds.features["completion"].dtype == "string"
    _e, folder = build(proj.id, kind="ratings", format="csv")
    assert load(folder, "consensus", tmp_path).num_rows == 4  # 2 items x 2 criteria


def test_rebuilding_makes_versions_with_count_changes(app, session, staff_api, scripts):
    client, _ = staff_api
    proj, items, raters = scripts
    first = client.post(f"/api/v1/projects/{proj.id}/exports", json={"kind": "ratings"})
    assert first.status_code == 202
    same = client.post(f"/api/v1/projects/{proj.id}/exports", json={"kind": "ratings"})
    assert same.status_code == 200 and same.json["id"] == first.json["id"]  # unchanged data: the same version
    f.judge(session, items["split"], raters[2], "b")
    session.commit()
    second = client.post(f"/api/v1/projects/{proj.id}/exports", json={"kind": "ratings"})
    assert second.status_code == 202 and second.json["version"] == 2
    detail = client.get(f"/api/v1/exports/{second.json['id']}").json
    assert detail["row_count_changes"] == {"consensus": 0, "ratings": 1}
    assert detail["manifest"]["previous_version"]["version"] == 1


def test_release_gate_holds_for_each_role(app, session, scripts, api, make_user):
    proj, _items, _raters = scripts
    owner = session.get(User, proj.owner_id)
    researcher, _ = api("researcher")
    manager, _ = api("manager")
    admin, _ = api("admin")
    member_rater, rater_user = api("rater")
    created = researcher.post(f"/api/v1/projects/{proj.id}/exports", json={})
    assert created.status_code == 202
    export_id = created.json["id"]
    assert researcher.get(f"/api/v1/exports/{export_id}").json["state"] == "draft"
    assert researcher.get(f"/api/v1/exports/{export_id}/download").status_code == 403
    assert manager.get(f"/api/v1/exports/{export_id}/download").status_code == 200  # the project's managers review drafts
    assert member_rater.get(f"/api/v1/exports/{export_id}").status_code == 403
    assert member_rater.post(f"/api/v1/projects/{proj.id}/exports", json={}).status_code == 403
    assert manager.post(f"/api/v1/exports/{export_id}/release", json={"note": "ok"}).status_code == 403  # not the owner
    assert admin.post(f"/api/v1/exports/{export_id}/release", json={}).status_code == 422
    from raters import services as account
    with app.app_context():
        from database import db
        _t, secret = account.create_token(db.session, db.session.get(User, owner.id), "owner")
        db.session.commit()
    owner_client = type(manager)(app.test_client(), secret)
    released = owner_client.post(f"/api/v1/exports/{export_id}/release", json={"note": "manifest reviewed"})
    assert released.status_code == 200
    assert released.json["manifest"]["release"]["note"] == "manifest reviewed"
    assert released.json["manifest"]["release"]["approver"] == owner.name
    download = researcher.get(f"/api/v1/exports/{export_id}/download")
    assert download.status_code == 200 and download.headers["Content-Type"] == "application/x-tar"
    partial = researcher.get(f"/api/v1/exports/{export_id}/download", headers={"Range": "bytes=10-99"})
    assert partial.status_code == 206 and partial.data == download.data[10:100]
    assert member_rater.get(f"/api/v1/exports/{export_id}/download").status_code == 403
    actions = {e.action for e in session.scalars(select(AuditEvent))}
    assert {"export.request", "export.build", "export.release", "export.download"} <= actions


def test_release_gate_off_releases_on_build(session, scripts, login_as, api):
    proj, _items, _raters = scripts
    client, _ = login_as("manager")
    assert client.post(f"/projects/{proj.id}/exports/settings", data={}).status_code == 302
    researcher, _ = api("researcher")
    created = researcher.post(f"/api/v1/projects/{proj.id}/exports", json={"format": "csv"})
    assert created.json["state"] == "queued"  # answered before the job runs
    assert researcher.get(f"/api/v1/exports/{created.json['id']}").json["state"] == "released"
    assert researcher.get(f"/api/v1/exports/{created.json['id']}/download").status_code == 200


def test_a_crashed_build_is_failed_with_its_error_and_can_be_retried(app, session, scripts, staff_api, monkeypatch):
    client, _ = staff_api
    proj, _items, _raters = scripts
    from scoring.exports import builder
    original = builder.build_files
    monkeypatch.setattr("scoring.exports.services.build_files", lambda *a, **k: 1 / 0)
    created = client.post(f"/api/v1/projects/{proj.id}/exports", json={})
    detail = client.get(f"/api/v1/exports/{created.json['id']}").json
    assert detail["state"] == "failed" and "ZeroDivisionError" in detail["error"] and detail["download_url"] is None
    assert not list((app.config and __import__("pathlib").Path(app.config["EXPORT_ROOT"])).glob(".building-*"))
    monkeypatch.setattr("scoring.exports.services.build_files", original)
    retried = client.post(f"/api/v1/exports/{created.json['id']}/retry")
    assert retried.status_code == 202
    assert client.get(f"/api/v1/exports/{created.json['id']}").json["state"] == "draft"


def test_bad_options_are_refused_with_details(scripts, staff_api):
    client, _ = staff_api
    proj, _items, _raters = scripts
    for body, field in (({"format": "xlsx"}, "format"), ({"min_agreement": 2}, "min_agreement"),
                        ({"min_agreement": "nan"}, "min_agreement"), ({"since": "yesterday"}, "since"),
                        ({"criteria": ["x"]}, "criteria"), ({"models": "a\x00b"}, "models"), ({"bogus": 1}, "_")):
        response = client.post(f"/api/v1/projects/{proj.id}/exports", json=body)
        assert response.status_code == 422, body
        assert field in response.json["error"]["details"], body


def test_the_api_refuses_what_its_document_does_not_allow_with_the_same_messages(app, scripts, staff_api):
    """The request model (``ExportBody``) is the OpenAPI request schema and what is enforced:
    JSON types are exact (no numbers or booleans as text, no names as one comma-separated text),
    and each refused field keeps its message."""
    client, _ = staff_api
    proj, _items, _raters = scripts
    expected = {
        '{"kind": "x", "bogus": 1, "other": 2}': {"kind": "one of preferences, ratings",
                                                  "_": "unknown field(s): bogus, other"},
        '{"min_agreement": 1.5}': {"min_agreement": "between 0 and 1"},
        '{"min_agreement": "0.5"}': {"min_agreement": "a number"},
        '{"min_judgments": "5"}': {"min_judgments": "a whole number"},
        '{"min_judgments": 0}': {"min_judgments": "between 1 and 10000"},
        '{"exclude_gold": "false"}': {"exclude_gold": "true or false"},
        '{"since": "2026-02-30"}': {"since": "a date YYYY-MM-DD"},
        '{"until": "20260203"}': {"until": "a date YYYY-MM-DD"},
        '{"since": "2026-02-03", "until": "2026-01-01"}': {"until": "on or after since"},
        '{"models": "a,b"}': {"models": "a list of names"},
        '{"models": ["m"], "criteria": ["x"]}': {"criteria": "only rubric projects have criteria"},
        '{"models": [%s]}' % ", ".join(['"m"'] * 51): {"models": "at most 50 names of at most 120 characters"},
    }
    for raw, details in expected.items():
        response = client.post(f"/api/v1/projects/{proj.id}/exports", data=raw, content_type="application/json")
        assert response.status_code == 422, raw
        assert response.json["error"]["details"] == details, raw
        assert response.json["error"]["message"] == "The export options are not valid."
    document = client.get("/api/v1/openapi.json").json
    body = document["paths"]["/projects/{project_id}/exports"]["post"]["requestBody"]["content"]["application/json"]
    schema = document["components"]["schemas"][body["schema"]["$ref"].rsplit("/", 1)[-1]]
    assert schema["additionalProperties"] is False
    assert schema["properties"]["min_judgments"]["anyOf"][0] == {"type": "integer", "minimum": 1, "maximum": 10000}
    assert schema["properties"]["since"]["anyOf"][0]["pattern"] == "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
    assert schema["properties"]["models"]["maxItems"] == 50


def test_the_form_is_read_into_the_same_model(scripts, login_as, session):
    """Unticked boxes are off, names are comma-separated, empty choices take their defaults."""
    proj, _items, _raters = scripts
    client, _ = login_as("researcher")
    response = client.post(f"/projects/{proj.id}/exports", data={"kind": "", "min_judgments": "1",
                                                                 "models": " m2, m1 ,,m1"})
    assert response.status_code == 302
    export = session.scalars(select(Export).where(Export.project_id == proj.id)).one()
    assert export.kind == "preferences" and export.file_format == "parquet"
    assert export.options["exclude_gold"] is False and export.options["exclude_deactivated_raters"] is False
    assert export.options["models"] == ["m1", "m2"] and export.options["min_judgments"] == 1
    bad = client.post(f"/projects/{proj.id}/exports", data={"since": "2026-13-01", "exclude_gold": "on"})
    page = bad.get_data(as_text=True)
    assert bad.status_code == 400 and "a date YYYY-MM-DD" in page
    assert 'name="exclude_gold" checked' in page and 'name="exclude_paused_raters" >' in page


def test_judgments_api_pages_rows_without_withheld_items(scripts, staff_api):
    client, _ = staff_api
    proj, _items, _raters = scripts
    first = client.get(f"/api/v1/projects/{proj.id}/judgments?per_page=5").json
    assert first["total"] == 9 and len(first["items"]) == 5 and first["next"]  # 8 + the gold judgment
    rest = client.get(first["next"]).json
    rows = first["items"] + rest["items"]
    assert len(rows) == 9 and rest["next"] is None
    assert not {r["item_id"] for r in rows} & {"revoked", "pending"}
    assert {"rater", "presented", "playback_s", "superseded", "is_gold", "notes"} <= set(rows[0])
    assert client.get(f"/api/v1/projects/{proj.id}/judgments?per_page=0").status_code == 400


def test_export_page_form_and_versions(scripts, login_as):
    proj, _items, _raters = scripts
    client, _ = login_as("researcher")
    page = client.get(f"/projects/{proj.id}/exports")
    assert page.status_code == 200 and "New export" in page.get_data(as_text=True)
    response = client.post(f"/projects/{proj.id}/exports", data={"kind": "preferences", "format": "parquet",
                                                                 "exclude_gold": "on"})
    assert response.status_code == 302
    html = client.get(f"/projects/{proj.id}/exports").get_data(as_text=True)
    assert "preferences v1" in html and "draft" in html and "awaiting the owner" in html
    bad = client.post(f"/projects/{proj.id}/exports", data={"min_agreement": "5"})
    assert bad.status_code == 400 and "between 0 and 1" in bad.get_data(as_text=True)


def test_cli_export_writes_a_loadable_folder(app, scripts, tmp_path):
    proj, _items, _raters = scripts
    out = tmp_path / "cli-out"
    result = app.test_cli_runner().invoke(args=["export", str(proj.id), "--kind", "preferences",
                                                "--format", "jsonl", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "preferences 3" in result.output
    assert load(out, "preferences", tmp_path).num_rows == 3
    tar = tmp_path / "x.tar"
    assert app.test_cli_runner().invoke(args=["export", proj.name, "--out", str(tar)]).exit_code == 0
    assert tar.stat().st_size > 0


@pytest.mark.parametrize("fmt", ["parquet", "jsonl", "csv"])
def test_every_config_loads_in_every_format_with_its_columns(app, session, build, scripts, owner, tmp_path, fmt):
    pairwise, _items, raters = scripts
    rubric = f.project(session, owner.id, kind="rubric")
    video = f.project(session, owner.id, modality="video")
    for it in (f.item(session, app, rubric, ("gen-a",)), f.item(session, app, rubric, ("gen-b",))):
        for who in raters:
            f.judge(session, it, who, scores={"coherence": 4, "dialogue": 2})
    clip = f.item(session, app, video)
    for who in raters:
        f.judge(session, clip, who, "a")
    session.commit()
    for project, kind in ((pairwise, "ratings"), (rubric, "preferences"), (rubric, "ratings"), (video, "preferences")):
        export, folder = build(project.id, kind=kind, format=fmt, mode="judgments")
        for config, n in export["row_counts"].items():
            ds = load(folder, config, tmp_path)
            assert ds.num_rows == n > 0, (project.kind, config)
            assert ds.column_names == export["manifest"]["columns"][config], (project.kind, config)
        card = (folder / "README.md").read_text()
        assert all(f"config_name: {config}" in card for config in export["row_counts"])
