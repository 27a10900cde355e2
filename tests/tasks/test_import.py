"""Item import: JSONL and CSV through the service, the page, the API and the CLI; all or nothing."""
import csv
import io
import json

import pytest
from sqlalchemy import func, select

from raters.models import User
from tasks.catalogue.importing import ImportRejected
from tasks.catalogue.models import Asset, ConsentChange, Item, ItemImport, ItemOutput
from tests.helpers import RUBRIC, import_rows, install_demo_media, jsonl, make_project, video_row


@pytest.fixture
def project(app, session, make_user):
    install_demo_media(app)
    manager = session.get(User, make_user("manager").id)
    return make_project(session, manager, name="Import target")


def _counts(session):
    return tuple(session.scalar(select(func.count()).select_from(model))
                 for model in (Item, ItemOutput, Asset, ItemImport))


def _rejected(session, app, project, *rows, filename="items.jsonl"):
    with pytest.raises(ImportRejected) as exc:
        import_rows(session, app, project, *rows, filename=filename)
    session.rollback()
    assert _counts(session) == (0, 0, 0, 0), "a refused import wrote something"
    return exc.value.errors


def test_jsonl_import_creates_items_outputs_and_assets_with_provenance(app, session, project):
    row = video_row("alley-1", model_confidence=0.42, expertise=["Editing"], gold={"choice": "a"},
                    metadata={"scene": 17})
    row["outputs"][0]["provenance"] = {"model_version": "2026-06", "generation_params": {"seed": 7},
                                       "rights_holder": "Studio X", "license": "CC-BY-4.0",
                                       "consent": "granted", "consent_ref": "contract-118"}
    record = import_rows(session, app, project, row, video_row("alley-2", "alley-002-a.mp4", "alley-002-b.mp4"))
    assert record.n_items == 2 and _counts(session) == (2, 4, 4, 1)
    item = session.scalar(select(Item).where(Item.external_id == "alley-1"))
    assert (item.model_confidence, item.expertise, item.gold, item.extra) == (0.42, ["editing"], {"choice": "a"}, {"scene": 17})
    a, b = item.outputs
    assert (a.label, a.model, b.label, b.model) == ("a", "gen-a", "b", "gen-b")
    assert (a.asset.source_model, a.asset.model_version, a.asset.generation_params) == ("gen-a", "2026-06", {"seed": 7})
    assert (a.asset.consent, a.asset.consent_ref, a.asset.media_kind) == ("granted", "contract-118", "video")
    assert 3.0 <= a.asset.duration_s <= 4.1  # read from the clip itself
    assert [c.new_consent for c in a.asset.consent_changes] == ["granted"]


def test_csv_import_reads_nested_fields_as_json(app, session, project):
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=["external_id", "prompt", "outputs", "model_confidence", "expertise"])
    writer.writeheader()
    row = video_row("csv-1")
    writer.writerow({"external_id": "csv-1", "prompt": "A brief, with a comma", "outputs": json.dumps(row["outputs"]),
                     "model_confidence": "0.3", "expertise": '["vfx"]'})
    import_rows(session, app, project, buffer.getvalue(), filename="items.csv")
    item = session.scalar(select(Item))
    assert (item.prompt, item.model_confidence, item.expertise) == ("A brief, with a comma", 0.3, ["vfx"])


def test_bad_json_line_is_reported_by_number(session, app, project):
    errors = _rejected(session, app, project, video_row("ok-1"), '{"external_id": "x", "prompt": }')
    assert errors == ["line 2: not valid JSON (Expecting value at column 32)"]


def test_missing_fields_are_reported(session, app, project):
    row = video_row("m-1")
    del row["prompt"]
    del row["outputs"][1]["model"]
    errors = _rejected(session, app, project, row)
    assert "line 1: missing field “prompt” (the brief the outputs answer)" in errors
    assert "line 1, output 2: missing field “model” (the name of the model that made it)" in errors


def test_unknown_asset_is_reported(session, app, project):
    row = video_row("u-1")
    row["outputs"][0]["asset"] = {"sha256": "ab" * 32}
    row["outputs"][1]["asset"] = {"path": "video/no-such-clip.mp4"}
    errors = _rejected(session, app, project, row)
    assert errors == [f"line 1, output 1: unknown asset sha256 '{'ab' * 32}'",
                      "line 1, output 2: no file 'video/no-such-clip.mp4' under the media root"]


def test_path_outside_the_media_root_is_refused(session, app, project):
    row = video_row("p-1")
    row["outputs"][0]["asset"] = {"path": "../../../etc/passwd"}
    assert "outside the media root" in _rejected(session, app, project, row)[0]


def test_duplicate_external_id_within_the_file(session, app, project):
    errors = _rejected(session, app, project, video_row("dup"), video_row("dup", "alley-002-a.mp4", "alley-002-b.mp4"))
    assert errors == ["line 2: external_id “dup” already used on line 1"]


def test_reimporting_an_external_id_is_an_error_not_a_duplicate(session, app, project):
    import_rows(session, app, project, video_row("once"))
    with pytest.raises(ImportRejected) as exc:
        import_rows(session, app, project, video_row("once"), video_row("new", "alley-002-a.mp4", "alley-002-b.mp4"))
    session.rollback()
    assert exc.value.errors == ["line 1: external_id “once” is already in this project"]
    assert session.scalar(select(func.count()).select_from(Item)) == 1


def test_wrong_number_of_outputs(session, app, project):
    row = video_row("w-1")
    row["outputs"] = row["outputs"][:1]
    assert _rejected(session, app, project, row) == ["line 1: a pairwise item has exactly 2 output(s), this one has 1"]


def test_media_of_the_wrong_modality_is_refused(session, app, project):
    row = video_row("mod-1")
    row["outputs"][0]["asset"] = {"path": "audio/narr-01-a.ogg"}
    assert _rejected(session, app, project, row) == ["line 1, output 1: the asset is audio, but this is a video project"]


def test_every_problem_of_the_file_is_listed_in_line_order(session, app, project):
    bad_conf = video_row("c-1", model_confidence=1.5)
    bad_gold = video_row("g-1", "alley-002-a.mp4", "alley-002-b.mp4", gold={"choice": "left"})
    errors = _rejected(session, app, project, bad_conf, "[1, 2]", bad_gold)
    assert errors == ["line 1: model_confidence must be a number from 0 to 1",
                      "line 2: each line must be a JSON object",
                      'line 3: gold must be {"choice": "a" | "b" | "tie"}']


def test_rubric_import_takes_inline_script_text_and_checks_gold_scores(app, session, make_user):
    manager = session.get(User, make_user("manager").id)
    project = make_project(session, manager, kind="rubric", modality="script", name="Scripts")
    row = {"external_id": "s-1", "prompt": "Two strangers share a lift.",
           "outputs": [{"model": "scribe-1", "text": "INT. LIFT - NIGHT\n\nANA\nGoing down?"}],
           "gold": {"scores": {"coherence": 4}}}
    import_rows(session, app, project, row)
    asset = session.scalar(select(Asset))
    assert (asset.media_kind, asset.duration_source) == ("script", "reading")
    bad = dict(row, external_id="s-2", gold={"scores": {"coherence": 9, "pacing": 2}})
    errors = _rejected_keep(session, app, project, bad)
    assert errors == ["line 1: gold coherence must be a whole number from 1 to 5",
                      "line 1: gold names unknown criterion “pacing”"]
    assert project.rubric == RUBRIC


def _rejected_keep(session, app, project, *rows):
    with pytest.raises(ImportRejected) as exc:
        import_rows(session, app, project, *rows)
    session.rollback()
    return exc.value.errors


def test_import_may_not_silently_overwrite_an_assets_consent(app, session, project):
    import_rows(session, app, project, video_row("first"))
    asset = session.scalar(select(Asset).order_by(Asset.id))
    asset.consent = "revoked"
    session.commit()
    again = video_row("second")  # the same clips, declared granted
    errors = _rejected_keep(session, app, project, again)
    assert any("has its consent revoked" in e and "cannot be used in new items" in e for e in errors)
    assert session.scalar(select(func.count()).select_from(ConsentChange)) == 2


def test_page_upload_shows_line_errors_and_writes_nothing(app, login_as, session, project):
    client, _ = login_as("manager")
    data = jsonl(video_row("ok"), "not json")
    response = client.post(f"/projects/{project.id}/items",
                           data={"file": (io.BytesIO(data), "batch.jsonl")}, content_type="multipart/form-data")
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "batch.jsonl was not imported" in page and "line 2: not valid JSON" in page
    assert session.scalar(select(func.count()).select_from(Item)) == 0


def test_page_upload_imports(app, login_as, session, project):
    client, _ = login_as("manager")
    response = client.post(f"/projects/{project.id}/items",
                           data={"file": (io.BytesIO(jsonl(video_row("ok"))), "batch.jsonl")},
                           content_type="multipart/form-data")
    assert response.status_code == 302
    assert "Imported 1 items from batch.jsonl" in client.get(f"/projects/{project.id}").get_data(as_text=True)


def test_api_import_answers_422_with_the_line_errors(api, session, project):
    client, _ = api("manager")
    response = client.post(f"/api/v1/projects/{project.id}/items", data=jsonl(video_row("a"), "{"),
                           content_type="application/x-ndjson")
    assert response.status_code == 422
    assert response.json["error"]["code"] == "import_rejected"
    assert response.json["error"]["details"]["errors"] == ["line 2: not valid JSON (Expecting property name enclosed in double quotes at column 2)"]
    ok = client.post(f"/api/v1/projects/{project.id}/items", data=jsonl(video_row("a")),
                     content_type="application/x-ndjson")
    assert ok.status_code == 201 and ok.json["n_items"] == 1


def test_cli_import(app, session, project, tmp_path):
    path = tmp_path / "items.jsonl"
    path.write_bytes(jsonl(video_row("cli-1")))
    result = app.test_cli_runner().invoke(args=["items", "import", str(project.id), str(path)])
    assert result.exit_code == 0, result.output
    assert "imported 1 items" in result.output
    path.write_bytes(jsonl(video_row("cli-1")))
    again = app.test_cli_runner().invoke(args=["items", "import", "Import target", str(path)])
    assert again.exit_code == 1 and "already in this project" in again.output


def test_empty_file_is_refused(session, app, project):
    assert _rejected(session, app, project, "") == ["the file holds no items"]
