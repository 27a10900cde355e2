"""Backups: one tar file holding a consistent copy of the database and the asset store.

``flask --app app backup create PATH`` writes ``PATH`` (a tar file):

* ``manifest.json`` — format, time, database kind, schema revision, row counts, asset count;
* ``database.sqlite3`` (SQLite's online backup API: a consistent copy while the app runs) or
  ``database.pgdump`` (``pg_dump --format=custom``: one snapshot);
* ``assets/<sha[:2]>/<sha256>`` — the asset store.

The database is copied first, then the assets: the store is content-addressed and only grows,
so every asset the copied database names is in the store by the time it is copied.

``flask --app app backup restore PATH`` puts the database back as it was (SQLite: page by page
into the configured file; PostgreSQL: ``pg_restore --clean`` in one transaction) and copies
back the asset files the store lacks. Stop the app (and the job worker) while restoring.
"""
from __future__ import annotations

import json
import shutil
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


def create(path: Path, database_url: str, asset_store: Path) -> dict:
    """Write the backup tar file to ``path``; returns its manifest."""
    path = Path(path)
    with tempfile.TemporaryDirectory(dir=path.parent) as tmp:
        work = Path(tmp)
        manifest = {"format": FORMAT, "created_at": utcnow().isoformat(), "revision": _revision(),
                    "counts": _counts()}
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
        files = sorted(p for p in asset_store.rglob("*") if p.is_file()) if asset_store.exists() else []
        manifest["assets"] = len(files)
        (work / "manifest.json").write_text(json.dumps(manifest, indent=2))
        partial = path.with_name(path.name + ".partial")
        with tarfile.open(partial, "w") as tar:
            tar.add(work / "manifest.json", "manifest.json")
            tar.add(dump, dump.name)
            for file in files:
                tar.add(file, f"assets/{file.relative_to(asset_store).as_posix()}")
        partial.replace(path)  # never a half-written backup under the final name
    return manifest


def _safe_members(tar: tarfile.TarFile) -> list[tarfile.TarInfo]:
    members = tar.getmembers()
    for member in members:
        name = Path(member.name)
        if name.is_absolute() or ".." in name.parts or not (member.isfile() or member.isdir()):
            raise BackupError(f"refusing a backup with the entry {member.name!r}")
    return members


def restore(path: Path, database_url: str, asset_store: Path) -> dict:
    """Put the database of the backup at ``path`` back, and the asset files the store lacks."""
    with tempfile.TemporaryDirectory() as tmp, tarfile.open(path, "r") as tar:
        work = Path(tmp)
        tar.extractall(work, members=_safe_members(tar), filter="data")
        manifest = json.loads((work / "manifest.json").read_text())
        if manifest.get("format") != FORMAT:
            raise BackupError(f"unknown backup format {manifest.get('format')!r}")
        kind = "sqlite" if database_url.startswith("sqlite") else "postgresql"
        if manifest["database"] != kind:
            raise BackupError(f"this backup is of a {manifest['database']} database; the app uses {kind}")
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
        restored = 0
        if (work / "assets").exists():
            for file in (work / "assets").rglob("*"):
                target_file = asset_store / file.relative_to(work / "assets")
                if file.is_file() and not target_file.exists():
                    target_file.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(file, target_file)
                    restored += 1
        manifest["assets_restored"] = restored
    return manifest


@cli.command("create")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def create_command(path: Path) -> None:
    """Write a consistent backup of the database and the asset store to PATH (a tar file)."""
    try:
        manifest = create(path, current_app.config["DATABASE_URL"], Path(current_app.config["ASSET_STORE"]))
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    rows = sum(manifest["counts"].values())
    click.echo(f"{path}: {manifest['database']} at revision {manifest['revision']}, {rows} rows, "
               f"{manifest['assets']} asset files")


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
        manifest = restore(path, current_app.config["DATABASE_URL"], Path(current_app.config["ASSET_STORE"]))
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"restored {manifest['database']} at revision {manifest['revision']} from {manifest['created_at']}, "
               f"{manifest['assets_restored']} asset files copied back")
