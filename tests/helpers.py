"""Builders shared by tests: projects, assets and items created through the real services."""
from __future__ import annotations

import io
import json
import shutil

from tasks.catalogue.store import asset_store
from tasks.catalogue import importing
from tasks.catalogue.models import Project
from tasks.catalogue.projects import create_project, set_members
from tests.conftest import DEMO_MEDIA

RUBRIC = [{"key": "coherence", "label": "Coherence", "min": 1, "max": 5,
           "levels": {"1": "Incoherent", "5": "Fully coherent"}}]


def make_project(session, owner, *, kind="pairwise", modality="video", members=(), **settings) -> Project:
    data = {"name": settings.pop("name", f"{kind} {modality} {owner.id}-{len(members)}"), "kind": kind,
            "modality": modality, "rubric": RUBRIC if kind == "rubric" else [], **settings}
    project = create_project(session, data, owner)
    if members:
        set_members(session, project, [m.id for m in members], owner)
    session.commit()
    return project


def video_row(external_id: str, a: str = "alley-001-a.mp4", b: str = "alley-001-b.mp4", **extra) -> dict:
    prov = {"consent": "granted", "license": "CC0-1.0"}
    return {"external_id": external_id, "prompt": f"Brief for {external_id}",
            "outputs": [{"model": "gen-a", "asset": {"path": f"video/{a}"}, "provenance": prov},
                        {"model": "gen-b", "asset": {"path": f"video/{b}"}, "provenance": prov}], **extra}


def jsonl(*rows) -> bytes:
    return "\n".join(r if isinstance(r, str) else json.dumps(r) for r in rows).encode()


def install_demo_media(app) -> None:
    """Copy the committed demo clips into the test's media root."""
    shutil.copytree(DEMO_MEDIA, app.config["MEDIA_ROOT"], dirs_exist_ok=True)


def import_rows(session, app, project, *rows, filename="items.jsonl", actor=None):
    record = importing.import_items(session, project, jsonl(*rows), filename, actor=actor,
                                    store=asset_store(app),
                                    media_root=app.config["MEDIA_ROOT"], max_asset_bytes=2 * 1024 * 1024)
    session.commit()
    return record


def store_bytes(app, data: bytes, name: str):
    return asset_store(app).put(io.BytesIO(data), name, 2 * 1024 * 1024)
