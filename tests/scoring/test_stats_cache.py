"""The statistics cache: a snapshot per project and data key, reused until a judgment changes the
key; large projects computed by a queued job while the previous numbers are served as stale;
Recompute forcing a fresh computation; a failed job reported and retried only on request."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

import jobs
from database import db
from scoring.reports import report as report_mod
from scoring.reports import data, snapshots
from scoring.reports.models import ConsensusRow, StatsSnapshot
from tests.helpers import jsonl
from tests.scoring.stats_factories import item, judge, pairwise_panel, rater, stats_project

PANEL = {"i1": ["a", "a", "b"], "i2": ["b", "b", "b"], "i3": ["a", "tie", "a"]}


@pytest.fixture
def project(app, session, make_user):
    app.config["STATS_RESAMPLES"] = 50
    manager = make_user("manager")
    project = stats_project(session, manager.id)
    pairwise_panel(session, project, PANEL)
    session.commit()
    return project


@pytest.fixture
def computations(monkeypatch):
    """Counts the reports built (each is one computation)."""
    calls = []
    original = snapshots.build_report

    def counting(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(snapshots, "build_report", counting)
    return calls


@pytest.fixture
def queued(monkeypatch):
    """Records queued jobs instead of running them (the memory queue would run them inline)."""
    calls = []
    monkeypatch.setattr(jobs, "enqueue", lambda name, *args, **kwargs: calls.append((name, args)))
    return calls


def snapshots_of(session, project):
    session.expire_all()
    return session.scalars(select(StatsSnapshot).where(StatsSnapshot.project_id == project.id)
                           .order_by(StatsSnapshot.id)).all()


def test_the_first_look_computes_and_the_next_one_reuses(api, session, project, computations):
    client, _ = api("researcher")
    first = client.get(f"/api/v1/projects/{project.id}/agreement")
    assert first.status_code == 200 and first.json["stale"] is False and first.json["computing"] is False
    again = client.get(f"/api/v1/projects/{project.id}/leaderboard")
    assert again.json["key"] == first.json["key"] and again.json["computed_at"] == first.json["computed_at"]
    assert len(computations) == 1
    (snap,) = snapshots_of(session, project)
    assert (snap.key, snap.n_judgments) == (first.json["key"], 9)
    assert snap.report["counts"]["judgments"] == 9 and snap.consensus["rows"] == []  # rows live apart
    stored = session.scalars(select(ConsensusRow).where(ConsensusRow.snapshot_id == snap.id)
                             .order_by(ConsensusRow.position)).all()
    assert len(stored) == snap.consensus["n_rows"] > 0 and [r.position for r in stored] == list(range(len(stored)))


def test_a_new_judgment_changes_the_key_and_the_numbers(api, session, project, computations):
    client, _ = api("researcher")
    before = client.get(f"/api/v1/projects/{project.id}/agreement").json
    it = item(session, project)
    judge(session, it, rater(session), "a")
    judge(session, it, rater(session), "a")
    session.commit()
    after = client.get(f"/api/v1/projects/{project.id}/agreement").json
    assert after["key"] != before["key"] and len(computations) == 2
    assert after["counts"]["judgments"] == 11 and after["criteria"][0]["n_units"] == 4
    keys = [s.key for s in snapshots_of(session, project)]
    assert keys == [before["key"], after["key"]]  # the earlier one is kept (served while computing)


def test_old_snapshots_are_pruned(app, session, project):
    with app.app_context():
        cfg = snapshots.StatsConfig(n_resamples=20)
        for _ in range(data.KEEP_PREVIOUS + 3):
            judge(session, item(session, project), rater(session), "a")
            session.commit()
            snapshots.serve(db.session, db.session.merge(project), cfg)
            db.session.commit()
    kept = snapshots_of(session, project)
    assert len(kept) == data.KEEP_PREVIOUS + 1
    # the consensus rows (a cache without a foreign key) went with their snapshots: every row
    # left belongs to a kept snapshot, and each kept one still has all of its rows
    stored = session.execute(select(ConsensusRow.snapshot_id, func.count()).group_by(ConsensusRow.snapshot_id)).all()
    assert dict(stored) == {s.id: s.consensus["n_rows"] for s in kept}


def test_recompute_forces_a_fresh_computation_of_the_same_data(login_as, session, project, computations):
    web, _ = login_as("manager")
    assert web.get(f"/projects/{project.id}/statistics").status_code == 200
    (first,) = snapshots_of(session, project)
    key, computed_at = first.key, first.computed_at
    response = web.post(f"/projects/{project.id}/statistics/recompute", follow_redirects=True)
    assert "Statistics recomputed in" in response.get_data(as_text=True)
    (second,) = snapshots_of(session, project)
    assert second.key == key and second.computed_at > computed_at
    assert len(computations) == 2


def test_a_large_project_is_queued_and_served_when_the_job_is_done(app, api, login_as, session, project, queued,
                                                                     computations):
    app.config["STATS_INLINE_MAX_JUDGMENTS"] = 5
    client, _ = api("researcher")
    response = client.get(f"/api/v1/projects/{project.id}/agreement")
    assert response.status_code == 202
    assert response.json["status"] == "computing" and response.headers["Retry-After"] == "5"
    assert response.json["computed_at"] is None and "background" in response.json["message"]
    assert queued == [("compute_project_stats", (project.id, response.json["key"]))]
    assert computations == []  # nothing computed in the request
    (claim,) = snapshots_of(session, project)
    assert claim.report is None and claim.requested_at is not None

    web, _ = login_as("manager")
    page = web.get(f"/projects/{project.id}/statistics").get_data(as_text=True)
    assert "Computing…" in page and 'data-poll-url="/projects/' in page
    assert "js/statistics.js" in page
    assert len(queued) == 1  # already claimed: not queued twice
    assert web.get(f"/projects/{project.id}/statistics/status").json["ready"] is False

    with app.app_context():
        assert snapshots.compute_project_stats(project.id, response.json["key"]) == response.json["key"]
    assert web.get(f"/projects/{project.id}/statistics/status").json["ready"] is True
    done = client.get(f"/api/v1/projects/{project.id}/agreement")
    assert done.status_code == 200 and done.json["stale"] is False and done.json["computing"] is False
    assert done.json["criteria"][0]["n_units"] == 3


def test_the_memory_queue_runs_the_job_after_the_request_commits(app, api, session, project):
    app.config["STATS_INLINE_MAX_JUDGMENTS"] = 5
    client, _ = api("researcher")
    first = client.get(f"/api/v1/projects/{project.id}/leaderboard")
    assert first.status_code == 202
    # the inline job ran once the request's claim was committed (no wait on SQLite's write lock)
    (snap,) = snapshots_of(session, project)
    assert snap.report is not None and snap.requested_at is None
    second = client.get(f"/api/v1/projects/{project.id}/leaderboard")
    assert second.status_code == 200 and [m["model"] for m in second.json["models"]] == ["gen-a", "gen-b"]


def test_stale_numbers_are_served_while_new_ones_compute(app, api, login_as, session, project, queued):
    client, _ = api("researcher")
    old = client.get(f"/api/v1/projects/{project.id}/agreement").json  # small: computed inline
    app.config["STATS_INLINE_MAX_JUDGMENTS"] = 5
    judge(session, item(session, project), rater(session), "b")
    session.commit()
    response = client.get(f"/api/v1/projects/{project.id}/agreement")
    assert response.status_code == 200
    assert response.json["stale"] is True and response.json["computing"] is True
    assert response.json["computed_at"] == old["computed_at"] and response.json["key"] != old["key"]
    assert response.json["criteria"] == old["criteria"]
    assert len(queued) == 1
    web, _ = login_as("researcher")
    page = web.get(f"/projects/{project.id}/statistics").get_data(as_text=True)
    assert "before the latest judgments" in page and "Computing…" in page


def test_a_failed_job_is_reported_and_retried_only_on_request(app, api, session, project, queued, monkeypatch):
    app.config["STATS_INLINE_MAX_JUDGMENTS"] = 5
    client, _ = api("manager")
    key = client.get(f"/api/v1/projects/{project.id}/agreement").json["key"]
    monkeypatch.setattr(snapshots, "build_report", lambda *a, **k: 1 / 0)
    with app.app_context(), pytest.raises(ZeroDivisionError):
        snapshots.compute_project_stats(project.id, key)
    (failed,) = snapshots_of(session, project)
    assert failed.error.startswith("ZeroDivisionError") and failed.requested_at is None
    response = client.get(f"/api/v1/projects/{project.id}/agreement")
    assert response.status_code == 503 and response.json["error"]["code"] == "statistics_failed"
    assert len(queued) == 1  # not queued again by merely looking
    monkeypatch.setattr(snapshots, "build_report", report_mod.build_report)
    retry = client.post(f"/api/v1/projects/{project.id}/statistics/recompute")
    assert retry.status_code == 202 and len(queued) == 2


def test_the_job_stores_the_current_data_when_it_moved_on(app, session, project, queued):
    app.config["STATS_INLINE_MAX_JUDGMENTS"] = 5
    with app.app_context():
        cfg = snapshots.StatsConfig.from_app(app.config)
        served = snapshots.serve(db.session, db.session.merge(project), cfg)
        db.session.commit()
    assert served.queued and served.snapshot is None
    judge(session, item(session, project), rater(session), "a")
    session.commit()
    with app.app_context():
        new_key = snapshots.compute_project_stats(project.id, served.key)
    assert new_key != served.key
    rows = {s.key: s for s in snapshots_of(session, project)}
    assert rows[new_key].report["counts"]["judgments"] == 10
    assert served.key not in rows  # the old claim was released and pruned


def test_recompute_over_the_api_and_an_import_refresh_the_numbers(api, project):
    client, _ = api("researcher")
    before = client.get(f"/api/v1/projects/{project.id}/agreement").json
    again = client.post(f"/api/v1/projects/{project.id}/statistics/recompute")
    assert again.status_code == 200 and again.json["key"] == before["key"]
    assert again.json["computed_at"] > before["computed_at"] and again.json["computing"] is False
    line = {"external_id": "i2", "rater": "late@studio.example", "choice": "a", "rationale": "r", "confidence": 3}
    imported = client.post(f"/api/v1/projects/{project.id}/judgments/import", data=jsonl(line),
                           content_type="application/x-ndjson")
    assert imported.status_code == 201
    after = client.get(f"/api/v1/projects/{project.id}/agreement").json
    assert after["key"] != before["key"]
    assert (after["counts"]["judgments"], after["counts"]["imported"]) == (10, 10)
    assert after["criteria"][0]["n_pairable_values"] == before["criteria"][0]["n_pairable_values"] + 1
