"""Backup and restore round trip through the CLI, on the suite's database (SQLite or PostgreSQL)."""
from __future__ import annotations

import json
import shutil
import tarfile
from pathlib import Path

from sqlalchemy import func, select

from raters.models import User
from tasks.catalogue.models import Asset, Item
from tests.helpers import import_rows, install_demo_media, make_project, video_row


def _state(session):
    session.expire_all()
    state = {"users": sorted(session.scalars(select(User.email))),
             "items": sorted(session.scalars(select(Item.external_id))),
             "assets": session.scalar(select(func.count()).select_from(Asset))}
    session.commit()
    return state


def test_backup_then_restore_brings_back_the_database_and_the_assets(app, session, make_user, tmp_path):
    install_demo_media(app)
    manager = make_user("manager")
    project = make_project(session, session.get(User, manager.id))
    import_rows(session, app, project, video_row("keep-1"), video_row("keep-2", "alley-002-a.mp4", "alley-002-b.mp4"))
    before = _state(session)
    store = Path(app.config["ASSET_STORE"])
    files_before = sorted(p.relative_to(store) for p in store.rglob("*") if p.is_file())
    assert before["assets"] == 4 and len(files_before) == 4
    session.close()

    runner = app.test_cli_runner()
    archive = tmp_path / "backup.tar"
    made = runner.invoke(args=["backup", "create", str(archive)])
    assert made.exit_code == 0, made.output
    assert "4 asset files" in made.output
    with tarfile.open(archive) as tar:
        names = tar.getnames()
        manifest = json.load(tar.extractfile("manifest.json"))
    assert manifest["counts"]["items"] == 2 and manifest["revision"]
    assert ("database.sqlite3" in names) != ("database.pgdump" in names)

    # Then things go wrong: a new account, a lost item, and the asset store wiped.
    make_user("admin", email="after-the-backup@test.example")
    session.execute(Item.__table__.delete().where(Item.external_id == "keep-2"))
    session.commit()
    session.close()
    shutil.rmtree(store)
    assert _state(session) != before
    session.close()

    refused = runner.invoke(args=["backup", "restore", str(archive)], input="n\n")
    assert refused.exit_code != 0 and "Replace the database" in refused.output
    restored = runner.invoke(args=["backup", "restore", str(archive), "--yes"])
    assert restored.exit_code == 0, restored.output
    assert "4 asset files copied back" in restored.output

    assert _state(session) == before
    assert sorted(p.relative_to(store) for p in store.rglob("*") if p.is_file()) == files_before
    session.close()
    client = app.test_client()  # and the app serves from the restored database
    assert client.get("/readyz").status_code == 200


def test_restore_refuses_a_tar_that_escapes_its_folder(app, tmp_path):
    evil = tmp_path / "evil.tar"
    payload = tmp_path / "x"
    payload.write_text("x")
    with tarfile.open(evil, "w") as tar:
        tar.add(payload, "../../outside")
    result = app.test_cli_runner().invoke(args=["backup", "restore", str(evil), "--yes"])
    assert result.exit_code != 0 and "refusing" in result.output
