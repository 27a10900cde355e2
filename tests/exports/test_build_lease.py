"""Export builds hold a lease renewed by a heartbeat: a build whose worker died is failed with
that error after the timeout (never "building" forever), retryable, and nothing it half-wrote is
offered; a worker that lost its lease stops without writing anything."""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from database import db, utcnow
from raters.models import AuditEvent
from scoring.exports import options, services
from scoring.exports.models import Export
from tests.exports.test_exports import owner, scripts  # noqa: F401  (fixtures)

TIMEOUT_S = 60


def _dead_build(app, session, project, *, silent_for_s: float) -> Export:
    """What a worker killed mid-build leaves: the export ``building`` under its lease, a last
    heartbeat ``silent_for_s`` ago, and a half-written work folder."""
    req = options.parse({"kind": "preferences"}, project_kind="pairwise", criteria_keys=[])
    with app.app_context():
        export, _ = services.request_export(db.session, project, req, None, enqueue=False)
        db.session.commit()
        export_id = export.id
        assert services.take_lease(db.session, export_id, now=utcnow() - timedelta(seconds=silent_for_s))
        db.session.commit()
    work = Path(app.config["EXPORT_ROOT"]) / f".building-{export_id}-dead"
    (work / "data" / "preferences").mkdir(parents=True)
    (work / "data" / "preferences" / "train-00000.parquet").write_bytes(b"PAR1 half of a row group")
    return session.get(Export, export_id)


def test_a_build_whose_worker_died_is_failed_after_the_heartbeat_timeout_and_can_be_retried(
        app, session, scripts, staff_api):
    app.config["EXPORT_HEARTBEAT_TIMEOUT_S"] = TIMEOUT_S
    client, _ = staff_api
    proj, _items, _raters = scripts
    export = _dead_build(app, session, proj, silent_for_s=TIMEOUT_S / 2)
    root = Path(app.config["EXPORT_ROOT"])

    alive = client.get(f"/api/v1/exports/{export.id}").json  # within the timeout: still building
    assert alive["state"] == "building" and alive["download_url"] is None
    assert list(root.glob(f".building-{export.id}-*"))

    session.execute(Export.__table__.update().where(Export.id == export.id).values(
        heartbeat_at=utcnow() - timedelta(seconds=TIMEOUT_S + 1)))
    session.commit()
    dead = client.get(f"/api/v1/exports/{export.id}").json
    assert dead["state"] == "failed" and "no heartbeat" in dead["error"] and dead["download_url"] is None
    assert client.get(f"/api/v1/exports/{export.id}/download").status_code in (403, 404, 409)  # never offered
    assert not list(root.glob(f".building-{export.id}-*")) and not (root / f"{export.id}.tar").exists()
    session.expire_all()
    assert session.scalar(select(Export.lease).where(Export.id == export.id)) is None
    assert session.scalar(select(AuditEvent.action).where(AuditEvent.subject == f"export:{export.id}",
                                                          AuditEvent.action == "export.failed"))

    listed = client.get(f"/api/v1/projects/{proj.id}/exports").json["items"]
    assert [e["state"] for e in listed if e["id"] == export.id] == ["failed"]
    assert client.post(f"/api/v1/exports/{export.id}/retry").status_code == 202
    rebuilt = client.get(f"/api/v1/exports/{export.id}").json
    assert rebuilt["state"] == "draft" and rebuilt["download_url"]
    assert client.get(rebuilt["download_url"]).status_code == 200


def test_the_same_request_after_a_dead_build_builds_anew_instead_of_returning_it(app, session, scripts, staff_api):
    app.config["EXPORT_HEARTBEAT_TIMEOUT_S"] = TIMEOUT_S
    client, _ = staff_api
    proj, _items, _raters = scripts
    dead = _dead_build(app, session, proj, silent_for_s=TIMEOUT_S * 2)
    again = client.post(f"/api/v1/projects/{proj.id}/exports", json={"kind": "preferences"})
    assert again.status_code == 202 and again.json["id"] != dead.id
    assert client.get(f"/api/v1/exports/{again.json['id']}").json["state"] == "draft"
    assert client.get(f"/api/v1/exports/{dead.id}").json["state"] == "failed"


def test_a_worker_that_lost_its_lease_stops_and_writes_nothing(app, session, scripts, monkeypatch):
    """A slow worker taken for dead (its export failed by the reaper mid-build) must not bring the
    export back to life or leave files: its next heartbeat finds the lease gone and it stops."""
    app.config["EXPORT_HEARTBEAT_TIMEOUT_S"] = TIMEOUT_S
    proj, _items, _raters = scripts
    req = options.parse({"kind": "preferences"}, project_kind="pairwise", criteria_keys=[])
    real_build_files = services.build_files

    def slow_build_files(session_, project, export, root, **kwargs):
        with app.app_context():  # meanwhile, another process takes the silent worker for dead
            db.session.execute(Export.__table__.update().where(Export.id == export.id).values(
                heartbeat_at=utcnow() - timedelta(seconds=TIMEOUT_S + 1)))
            assert services.reap_abandoned(db.session) == [export.id]
            db.session.commit()
        return real_build_files(session_, project, export, root, **kwargs)

    monkeypatch.setattr(services, "build_files", slow_build_files)
    with app.app_context():
        export, _ = services.request_export(db.session, proj, req, None, enqueue=False)
        db.session.commit()
        export_id = export.id
    with app.app_context():
        assert services.build_export(export_id) == "abandoned"
    row = session.get(Export, export_id)
    assert row.state == "failed" and "no heartbeat" in row.error and row.manifest is None and row.lease is None
    root = Path(app.config["EXPORT_ROOT"])
    assert not (root / str(export_id)).exists() and not (root / f"{export_id}.tar").exists()
    assert not list(root.glob(f".building-{export_id}-*"))


def test_a_build_finishing_within_its_lease_ends_it(app, session, scripts):
    proj, _items, _raters = scripts
    req = options.parse({"kind": "preferences"}, project_kind="pairwise", criteria_keys=[])
    with app.app_context():
        export, _ = services.request_export(db.session, proj, req, None, enqueue=False)
        db.session.commit()
        assert services.build_export(export.id) == "draft"
        assert services.build_export(export.id) is None  # not queued any more: nothing to take
    row = session.get(Export, export.id)
    assert row.state == "draft" and row.lease is None and row.heartbeat_at is not None and row.progress == 1.0
