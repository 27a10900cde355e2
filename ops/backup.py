"""Backups: one tar file holding a consistent copy of the database and the asset store.

``flask --app app backup create PATH`` writes ``PATH`` (a tar file):

* ``manifest.json`` — format, time, database kind, schema revision, row counts, the store's
  address (``file:///…`` or ``s3://bucket/prefix``), asset count;
* ``database.sqlite3`` (SQLite's online backup API: a consistent copy while the app runs) or
  ``database.pgdump`` (``pg_dump --format=custom``: one snapshot);
* ``assets/<sha[:2]>/<sha256>`` — the asset store's objects, read through the store (from the
  disk or streamed from the bucket), unless ``--no-assets``: then a bucket is backed up by its
  own means (versioning, replication) and the tar holds the database only.

The database is copied first, then the assets: the store is content-addressed and only grows,
so every asset the copied database names is in the store by the time it is copied.

``flask --app app backup restore PATH`` puts the database back as it was (SQLite: page by page
into the configured file; PostgreSQL: ``pg_restore --clean`` in one transaction), puts back the
asset objects the store lacks (each checked against its sha256), and reports how many assets the
restored database names that the store still lacks. Stop the app (and the job worker) while
restoring.
"""
from __future__ import annotations

import hashlib
import json
import sqlite3
import subprocess
import tarfile
import tempfile
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

from database import Base, db, utcnow
from tasks.catalogue.formats import AssetError
from tasks.catalogue.models import Asset
from tasks.catalogue.store import SHA256, AssetStore, asset_store, key_for

FORMAT = 1
cli = AppGroup("backup", help="Back up and restore the database and the asset store.")


class BackupError(RuntimeError):
    pass


def _libpq_url(url: str) -> str:
    """``postgresql+psycopg://…`` → ``postgresql://…`` for pg_dump and pg_restore."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _sqlite_path(url: str) -> Path:
    return Path(make_url(url).database)


def _run(args: list[str]) -> None:
    done = subprocess.run(args, capture_output=True, text=True)
    if done.returncode != 0:
        raise BackupError(f"{args[0]} failed: {done.stderr.strip()[:2000]}")


def _counts() -> dict[str, int]:
    return {table.name: db.session.scalar(select(func.count()).select_from(table))
            for table in Base.metadata.sorted_tables}


def _revision() -> str | None:
    return db.session.execute(text("SELECT version_num FROM alembic_version")).scalar()


def create(path: Path, database_url: str, store: AssetStore, *, with_assets: bool = True) -> dict:
    """Write the backup tar file to ``path``; returns its manifest."""
    path = Path(path)
    with tempfile.TemporaryDirectory(dir=path.parent) as tmp:
        work = Path(tmp)
        manifest = {"format": FORMAT, "created_at": utcnow().isoformat(), "revision": _revision(),
                    "counts": _counts(), "asset_store": store.url, "assets_included": with_assets}
        db.session.rollback()
        if database_url.startswith("sqlite"):
            manifest["database"], dump = "sqlite", work / "database.sqlite3"
            source = sqlite3.connect(_sqlite_path(database_url))
            target = sqlite3.connect(dump)
            try:
                source.backup(target)
            finally:
                target.close()
                source.close()
        else:
            manifest["database"], dump = "postgresql", work / "database.pgdump"
            _run(["pg_dump", "--format=custom", "--no-owner", "--no-privileges", f"--file={dump}",
                  _libpq_url(database_url)])
        shas = sorted(store.shas()) if with_assets else []
        manifest["assets"] = len(shas)
        (work / "manifest.json").write_text(json.dumps(manifest, indent=2))
        partial = path.with_name(path.name + ".partial")
        with tarfile.open(partial, "w") as tar:
            tar.add(work / "manifest.json", "manifest.json")
            tar.add(dump, dump.name)
            for sha in shas:
                entry = tarfile.TarInfo(f"assets/{key_for(sha)}")
                entry.size = store.size(sha)
                with store.open(sha) as source_file:
                    tar.addfile(entry, source_file)
        partial.replace(path)  # never a half-written backup under the final name
    return manifest


def _safe_members(tar: tarfile.TarFile) -> list[tarfile.TarInfo]:
    members = tar.getmembers()
    for member in members:
        name = Path(member.name)
        if name.is_absolute() or ".." in name.parts or not (member.isfile() or member.isdir()):
            raise BackupError(f"refusing a backup with the entry {member.name!r}")
    return members


def _checked_assets(folder: Path) -> dict[str, Path]:
    """The backup's asset files by sha256, each checked to hash to its name."""
    found = {}
    for file in sorted(folder.glob("??/*")) if folder.is_dir() else []:
        with file.open("rb") as fh:
            digest = hashlib.file_digest(fh, "sha256").hexdigest()
        if not SHA256.fullmatch(file.name) or digest != file.name or file.parent.name != file.name[:2]:
            raise BackupError(f"the backup's asset {file.relative_to(folder)} is damaged (its bytes hash to {digest})")
        found[file.name] = file
    return found


def restore(path: Path, database_url: str, store: AssetStore) -> dict:
    """Put the database of the backup at ``path`` back, and the asset objects the store lacks."""
    with tempfile.TemporaryDirectory() as tmp, tarfile.open(path, "r") as tar:
        work = Path(tmp)
        tar.extractall(work, members=_safe_members(tar), filter="data")
        manifest = json.loads((work / "manifest.json").read_text())
        if manifest.get("format") != FORMAT:
            raise BackupError(f"unknown backup format {manifest.get('format')!r}")
        kind = "sqlite" if database_url.startswith("sqlite") else "postgresql"
        if manifest["database"] != kind:
            raise BackupError(f"this backup is of a {manifest['database']} database; the app uses {kind}")
        assets = _checked_assets(work / "assets")  # a damaged backup is refused before anything changes
        db.session.rollback()
        db.session.close()
        db.engine.dispose()  # no pooled connection may hold a lock the restore needs
        if kind == "sqlite":
            source = sqlite3.connect(work / "database.sqlite3")
            target = sqlite3.connect(_sqlite_path(database_url))
            try:
                source.backup(target)
            finally:
                target.close()
                source.close()
        else:
            _run(["pg_restore", "--clean", "--if-exists", "--no-owner", "--no-privileges",
                  "--single-transaction", f"--dbname={_libpq_url(database_url)}", str(work / "database.pgdump")])
        present = set(store.shas())
        restored = 0
        for sha, file in assets.items():
            if sha in present:
                continue
            with file.open("rb") as fh:
                try:
                    store.put(fh, sha, max_bytes=file.stat().st_size)
                except AssetError as exc:
                    raise BackupError(f"the backup's asset {sha} cannot be stored: {exc}") from None
            present.add(sha)
            restored += 1
        named = set(db.session.scalars(select(Asset.sha256)))
        db.session.rollback()
        manifest["assets_missing"] = len(named - present)
        manifest["assets_restored"] = restored
    return manifest


@cli.command("create")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--no-assets", "without_assets", is_flag=True,
              help="Leave the asset store out (a bucket backed up by its own versioning or replication).")
def create_command(path: Path, without_assets: bool) -> None:
    """Write a consistent backup of the database and the asset store to PATH (a tar file)."""
    with_assets = not without_assets
    try:
        manifest = create(path, current_app.config["DATABASE_URL"], asset_store(), with_assets=with_assets)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    rows = sum(manifest["counts"].values())
    assets = f"{manifest['assets']} asset files" if with_assets else f"no asset files (the store {manifest['asset_store']} is not included)"
    click.echo(f"{path}: {manifest['database']} at revision {manifest['revision']}, {rows} rows, {assets}")


@cli.command("restore")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Replace the current database without asking.")
def restore_command(path: Path, yes: bool) -> None:
    """Replace the database with the backup at PATH and restore missing asset files.
    Stop the app and the job worker first."""
    if not yes:
        click.confirm(f"Replace the database {make_url(current_app.config['DATABASE_URL']).render_as_string()} "
                      f"with {path}?", abort=True)
    try:
        manifest = restore(path, current_app.config["DATABASE_URL"], asset_store())
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"restored {manifest['database']} at revision {manifest['revision']} from {manifest['created_at']}, "
               f"{manifest['assets_restored']} asset files copied back")
    if manifest["assets_missing"]:
        click.echo(f"warning: {manifest['assets_missing']} asset(s) the database names are not in the store "
                   f"{asset_store().url}; their media answer 404 until their bytes are put back", err=True)
