"""Exports, script text and backups with the asset store in a bucket (moto's S3 server)."""
from __future__ import annotations

import hashlib
import io
import json
import tarfile

from sqlalchemy import func, select

from raters.models import User
from tasks.catalogue.models import Asset
from tests.exports import factories as f
from tests.exports.conftest import build, staff_api  # noqa: F401 - the export tests' fixtures
from tests.helpers import import_rows, install_demo_media, make_project, video_row
from tests.store.conftest import keys
from tests.tasks.rating_factories import make_item, rating_project, store_for


def test_a_media_export_copies_the_clips_out_of_the_bucket(app, session, build, make_user, s3):  # noqa: F811
    owner = make_user("manager")
    proj = f.project(session, owner.id, modality="video")
    raters = [f.rater(session) for _ in range(2)]
    item = f.item(session, app, proj, external_id="clip")
    for who in raters:
        f.judge(session, item, who, "b")
    session.commit()
    assert len(keys(s3)) == 2  # the factory put both outputs' bytes in the bucket
    export, folder = build(proj.id, kind="preferences")
    listed = {entry["path"]: entry["sha256"] for entry in export["manifest"]["files"]}
    media = {path: sha for path, sha in listed.items() if path.startswith("media/")}
    assert len(media) == 2
    for path, sha in media.items():
        assert hashlib.sha256((folder / path).read_bytes()).hexdigest() == sha
        assert path == f"media/{sha}.mp4" and f"assets/{sha[:2]}/{sha}" in keys(s3)


def test_script_text_is_read_from_the_bucket_for_raters(app, api, make_user, session):
    api_client, rater = api("rater")
    manager = make_user("manager")
    project = rating_project(session, manager.id, kind="rubric", modality="script", members=[rater])
    make_item(session, project, durations=(12.0,), texts=["INT. KITCHEN — NIGHT\nShe waits."], store=store_for(app))
    payload = api_client.post(f"/api/v1/projects/{project.id}/assignments/next").json
    assert payload["item"]["output"]["text"] == "INT. KITCHEN — NIGHT\nShe waits."


def _tar_names(path) -> list[str]:
    with tarfile.open(path) as tar:
        return tar.getnames()


def test_backup_streams_the_bucket_into_the_tar_and_restore_puts_it_back(app, session, make_user, tmp_path, s3):
    install_demo_media(app)
    manager = make_user("manager")
    project = make_project(session, session.get(User, manager.id))
    import_rows(session, app, project, video_row("keep-1"), video_row("keep-2", "alley-002-a.mp4", "alley-002-b.mp4"))
    stored = keys(s3)
    assert len(stored) == 4
    session.close()
    runner = app.test_cli_runner()
    archive = tmp_path / "backup.tar"
    made = runner.invoke(args=["backup", "create", str(archive)])
    assert made.exit_code == 0 and "4 asset files" in made.output, made.output
    in_tar = sorted(n for n in _tar_names(archive) if n.startswith("assets/") and n.count("/") == 2)
    assert [n.rsplit("/", 1)[1] for n in in_tar] == [k.rsplit("/", 1)[1] for k in stored]
    with tarfile.open(archive) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))
    assert manifest["asset_store"] == app.config["ASSET_STORE"] and manifest["assets_included"] is True

    client, bucket = s3
    for key in stored:  # the bucket is lost
        client.delete_object(Bucket=bucket, Key=key)
    restored = runner.invoke(args=["backup", "restore", str(archive), "--yes"])
    assert restored.exit_code == 0 and "4 asset files copied back" in restored.output, restored.output
    assert keys(s3) == stored
    for key in stored:
        body = client.get_object(Bucket=bucket, Key=key)["Body"].read()
        assert hashlib.sha256(body).hexdigest() == key.rsplit("/", 1)[1]


def test_a_backup_without_assets_says_so_and_restore_counts_what_the_bucket_lacks(app, session, make_user,
                                                                                   tmp_path, s3):
    install_demo_media(app)
    manager = make_user("manager")
    import_rows(session, app, make_project(session, session.get(User, manager.id)), video_row("only"))
    assert session.scalar(select(func.count()).select_from(Asset)) == 2
    lost = session.scalar(select(Asset.sha256).limit(1))
    session.close()
    runner = app.test_cli_runner()
    archive = tmp_path / "db-only.tar"
    made = runner.invoke(args=["backup", "create", str(archive), "--no-assets"])
    assert made.exit_code == 0 and f"the store {app.config['ASSET_STORE']} is not included" in made.output
    assert not any(n.startswith("assets/") for n in _tar_names(archive))
    client, bucket = s3
    client.delete_object(Bucket=bucket, Key=f"assets/{lost[:2]}/{lost}")
    restored = runner.invoke(args=["backup", "restore", str(archive), "--yes"])
    assert restored.exit_code == 0
    assert "warning: 1 asset(s) the database names are not in the store" in restored.output


def test_a_damaged_asset_in_a_backup_is_refused_before_anything_changes(app, session, make_user, tmp_path, s3):
    install_demo_media(app)
    manager = make_user("manager")
    import_rows(session, app, make_project(session, session.get(User, manager.id)), video_row("only"))
    session.close()
    runner = app.test_cli_runner()
    archive, damaged = tmp_path / "backup.tar", tmp_path / "damaged.tar"
    assert runner.invoke(args=["backup", "create", str(archive)]).exit_code == 0
    with tarfile.open(archive) as source, tarfile.open(damaged, "w") as target:
        for member in source.getmembers():
            data = source.extractfile(member).read() if member.isfile() else b""
            if member.name.startswith("assets/") and member.isfile():
                data = data[:-1] + bytes([data[-1] ^ 1])  # one bit flipped
            target.addfile(member, io.BytesIO(data))
    make_user("admin", email="after-the-backup@test.example")
    refused = runner.invoke(args=["backup", "restore", str(damaged), "--yes"])
    assert refused.exit_code != 0 and "is damaged" in refused.output
    assert session.scalar(select(User.id).where(User.email == "after-the-backup@test.example"))  # untouched
