"""The demo: accounts of every role, three projects with real synthetic media, and their items;
and a fourth, the rater-quality drill (``demo/quality_drill.py``).

Run by ``flask --app app demo seed`` (``make demo`` does). Idempotent: what exists is kept.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

from sqlalchemy import select

from database import db, utcnow
from demo import quality_drill
from raters import services
from raters.models import User
from tasks.catalogue import importing
from tasks.rating import judgment_import
from tasks.catalogue.models import Project
from tasks.catalogue.projects import create_project, set_members
from tasks.catalogue.store import asset_store
from tasks.catalogue.util import max_asset_bytes

HERE = Path(__file__).resolve().parent
ACCOUNTS = HERE / "accounts.json"
MEDIA_ROOT = HERE / "media"


def demo_logins() -> list[dict]:
    """The demo accounts (shown on the login page in demo mode only)."""
    return json.loads(ACCOUNTS.read_text())


def run(echo: Callable[[str], None] = print) -> None:
    session = db.session
    users = {}
    for spec in demo_logins():
        user = session.scalar(select(User).where(User.email == spec["email"]))
        if user is None:
            user = services.create_user(session, email=spec["email"], name=spec["name"], role=spec["role"],
                                        password=spec["password"], expertise=spec["expertise"],
                                        senior=spec.get("senior", False))
            if user.role == "rater":
                services.record_consent(session, user)
        users[spec["email"]] = user
    manager = users["manager@dailies.example"]
    raters = [u for u in users.values() if u.role == "rater"]
    for spec in json.loads((HERE / "projects.json").read_text()):
        spec = dict(spec)
        items_file = HERE / spec.pop("items_file")
        if session.scalar(select(Project).where(Project.name == spec["name"])) is not None:
            echo(f"  project “{spec['name']}” already there")
            continue
        project = create_project(session, spec, manager)
        set_members(session, project, [u.id for u in raters], manager)
        record = importing.import_items(session, project, items_file.read_bytes(), items_file.name,
                                        actor=manager, store=asset_store(), media_root=str(MEDIA_ROOT),
                                        max_asset_bytes=max_asset_bytes())
        judgments = HERE / "judgments" / items_file.name.replace("items/", "")
        n_judgments = 0
        if judgments.exists():
            imported = judgment_import.import_judgments(session, project, judgments.read_bytes(), judgments.name,
                                                        actor=manager, now=utcnow())
            n_judgments = imported.n_judgments
        echo(f"  project “{project.name}”: {record.n_items} items, {n_judgments} earlier judgments")
    quality_drill.seed_drill(session, manager, raters, utcnow(), echo)
    session.flush()
    echo("Demo logins (demo mode only):")
    for spec in demo_logins():
        echo(f"  {spec['role']:<11} {spec['email']:<28} {spec['password']}")
