"""Command line: ``flask --app app <group> <command>``. Each command is one transaction."""
from __future__ import annotations

import shutil
import sys
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext
from huey.consumer import Consumer
from sqlalchemy import or_, select

import jobs
import migrate
from demo import seed
from database import db, utcnow
from raters import services
from raters.models import ROLES, ApiToken, User
from scoring.exports import options as export_options, services as export_services
from tasks.catalogue import assets, importing
from tasks.rating import judgment_import
from tasks.catalogue.importing import ImportRejected
from tasks.catalogue.models import Project
from tasks.catalogue.store import asset_store
from tasks.catalogue.util import max_asset_bytes


def _read_password(prompt: str) -> str:
    if sys.stdin.isatty():
        return click.prompt(prompt, hide_input=True, confirmation_prompt=True)
    return sys.stdin.readline().rstrip("\n")


def _user(email: str) -> User:
    user = db.session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        raise click.ClickException(f"no user {email}")
    return user


def _project(ref: str) -> Project:
    query = select(Project).where(or_(Project.name == ref, Project.id == (int(ref) if ref.isdigit() else -1)))
    project = db.session.scalar(query)
    if project is None:
        raise click.ClickException(f"no project {ref!r} (give its id or exact name)")
    return project


def _commit() -> None:
    db.session.commit()


def _import_file(path: Path, run):
    """Run an all-or-nothing import of ``path``: commit it, or list its ``line N: …`` errors."""
    try:
        result = run(path.read_bytes())
    except ImportRejected as exc:
        db.session.rollback()
        for line in exc.errors:
            click.echo(line, err=True)
        raise click.ClickException(f"{path.name}: {exc}") from None
    _commit()
    return result


@click.group("db", cls=AppGroup, help="Database schema.")
def db_group():
    pass


@db_group.command("upgrade", help="Apply all migrations (creates the database if new).")
@click.option("--revision", default="head")
def db_upgrade(revision):
    migrate.upgrade(current_app.config["DATABASE_URL"], revision)
    click.echo(f"database at {revision}: {current_app.config['DATABASE_URL'].split('@')[-1]}")
    if revision == "head":  # assets stored before frame rates were kept get theirs now
        probed = assets.probe_missing_frame_rates(db.session, asset_store())
        _commit()
        if probed:
            click.echo(f"frame rate read for {probed} asset(s)")


@db_group.command("downgrade", help="Revert migrations down to REVISION (e.g. base).")
@click.argument("revision")
def db_downgrade(revision):
    migrate.downgrade(current_app.config["DATABASE_URL"], revision)


@click.group("users", cls=AppGroup, help="User accounts.")
def users_group():
    pass


@users_group.command("create", help="Create a user; the password is read from standard input.")
@click.argument("email")
@click.option("--name", required=True)
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--expertise", default="", help="comma-separated tags, e.g. editing,sound")
@click.option("--senior", is_flag=True, help="may adjudicate split items")
def users_create(email, name, role, expertise, senior):
    password = _read_password("Password")
    try:
        user = services.create_user(db.session, email=email, name=name, role=role, password=password,
                                    expertise=expertise, senior=senior)
    except services.AccountError as exc:
        raise click.ClickException(str(exc)) from None
    _commit()
    click.echo(f"created {user.email} ({user.role}) id={user.id}")


@users_group.command("list", help="List users.")
def users_list():
    for user in db.session.scalars(select(User).order_by(User.id)):
        state = "active" if user.active else "inactive"
        click.echo(f"{user.id}\t{user.email}\t{user.role}\t{state}\t{','.join(user.expertise)}")


@users_group.command("deactivate", help="Deactivate a user: sessions end, tokens stop working.")
@click.argument("email")
def users_deactivate(email):
    services.set_active(db.session, _user(email), False)
    _commit()
    click.echo(f"deactivated {email}")


@click.group("tokens", cls=AppGroup, help="API tokens.")
def tokens_group():
    pass


@tokens_group.command("create", help="Create an API token for a user; the secret is printed once.")
@click.argument("email")
@click.option("--name", required=True, help="where the token will be used")
def tokens_create(email, name):
    try:
        token, secret = services.create_token(db.session, _user(email), name)
    except services.AccountError as exc:
        raise click.ClickException(str(exc)) from None
    _commit()
    click.echo(secret)
    click.echo(f"token {token.id} for {email}: store it now, it is not shown again", err=True)


@tokens_group.command("revoke", help="Revoke an API token by id.")
@click.argument("token_id", type=int)
def tokens_revoke(token_id):
    token = db.session.get(ApiToken, token_id)
    if token is None:
        raise click.ClickException(f"no token {token_id}")
    services.revoke_token(db.session, token)
    _commit()
    click.echo(f"revoked token {token_id}")


@click.group("items", cls=AppGroup, help="Items of a project.")
def items_group():
    pass


@items_group.command("import", help="Import items from a JSONL or CSV file: all or nothing.")
@click.argument("project")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--as", "actor_email", default=None, help="e-mail of the manager recorded as importer")
def items_import(project, path, actor_email):
    target = _project(project)
    record = _import_file(path, lambda data: importing.import_items(
        db.session, target, data, path.name, actor=_user(actor_email) if actor_email else None,
        store=asset_store(), media_root=current_app.config["MEDIA_ROOT"], max_asset_bytes=max_asset_bytes()))
    click.echo(f"imported {record.n_items} items into “{target.name}”")


@click.group("judgments", cls=AppGroup, help="Judgments of a project.")
def judgments_group():
    pass


@judgments_group.command("import", help="Import judgments made elsewhere (JSONL or CSV): all or nothing.")
@click.argument("project")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--as", "actor_email", default=None, help="e-mail of the person recorded as importer")
def judgments_import(project, path, actor_email):
    target = _project(project)
    result = _import_file(path, lambda data: judgment_import.import_judgments(
        db.session, target, data, path.name, actor=_user(actor_email) if actor_email else None, now=utcnow()))
    made = f", {len(result.new_raters)} new placeholder raters" if result.new_raters else ""
    click.echo(f"imported {result.n_judgments} judgments on {result.n_items} items into “{target.name}”{made}")


@click.command("export", help="Build an export of PROJECT now and copy it to OUT (a folder, or a .tar).")
@click.argument("project")
@click.option("--kind", type=click.Choice(export_options.KINDS), default="preferences", show_default=True)
@click.option("--format", "file_format", type=click.Choice(export_options.FORMATS), default="parquet", show_default=True)
@click.option("--mode", type=click.Choice(export_options.MODES), default="consensus", show_default=True)
@click.option("--ties", type=click.Choice(export_options.TIES), default="keep", show_default=True)
@click.option("--media", type=click.Choice(export_options.MEDIA), default="files", show_default=True)
@click.option("--min-agreement", type=float, default=None)
@click.option("--min-judgments", type=int, default=None)
@click.option("--out", "out", required=True, type=click.Path(path_type=Path))
@click.option("--as", "actor_email", default=None, help="e-mail of the person recorded as creator")
@with_appcontext
def export_command(project, kind, file_format, mode, ties, media, min_agreement, min_judgments, out, actor_email):
    target = _project(project)
    actor = _user(actor_email) if actor_email else None
    try:
        req = export_options.parse({"kind": kind, "format": file_format, "mode": mode, "ties": ties, "media": media,
                                    "min_agreement": min_agreement, "min_judgments": min_judgments},
                                   project_kind=target.kind, criteria_keys=target.criteria_keys)
    except export_options.OptionsInvalid as exc:
        raise click.ClickException(str(exc)) from None
    export, _created = export_services.request_export(db.session, target, req, actor, enqueue=False)
    if export.state == "failed":
        export.state, export.error = "queued", None
    _commit()
    if export.state == "building":
        raise click.ClickException(f"A worker is building export {export.id} now; run this again when it is done.")
    if export.state == "queued":  # built here, under a lease, exactly as the job builds it
        export_services.build_export(export.id)
        db.session.refresh(export)
        if not export.ready:
            raise click.ClickException(f"Export {export.id} failed: {export.error}")
    if out.suffix == ".tar":
        shutil.copyfile(export_services.archive_of(export), out)
    else:
        shutil.copytree(export_services.folder_of(export), out, dirs_exist_ok=True)
    counts = ", ".join(f"{k} {v}" for k, v in (export.row_counts or {}).items())
    click.echo(f"{export.name} ({export.state}) of “{target.name}”: {counts} → {out}")


@click.group("demo", cls=AppGroup, help="The demo project.")
def demo_group():
    pass


@demo_group.command("seed", help="Create demo users, projects and media (once; re-running is a no-op).")
def demo_seed():
    seed.run(click.echo)
    _commit()


@click.group("jobs", cls=AppGroup, help="Background jobs (statistics, exports).")
def jobs_group():
    pass


@jobs_group.command("worker", help="Run queued jobs until stopped (JOBS_URL selects the queue).")
@click.option("--workers", default=2, show_default=True)
def jobs_worker(workers):
    Consumer(jobs.queue(), workers=workers, worker_type="thread").run()


def init_app(app: Flask) -> None:
    for group in (db_group, users_group, tokens_group, items_group, judgments_group, demo_group, jobs_group,
                  export_command):
        app.cli.add_command(group)
