"""Per-criterion statistics of pairwise projects: each criterion's alpha equals krippendorff's,
its leaderboard equals choix's Bradley-Terry fit, the overall winner's lost criteria are counted
by hand — and the page and the API show them."""
from __future__ import annotations

import warnings

import choix
import krippendorff
import numpy as np
import pandas as pd
import pytest

from scoring.reports import data
from scoring.reports.report import build_report
from scoring.stats.criteria import winner_lost
from scoring.stats.preferences import ELO_SCALE
from tests.scoring.stats_factories import item, judge, rater, stats_project

CRITERIA = [{"key": "motion", "name": "Motion coherence", "description": "movement reads as continuous"},
            {"key": "sync", "name": "Sound sync", "description": "picture and sound land together"}]
CODE = {"a": 0.0, "b": 1.0, "tie": 2.0}
# item: (models, [(overall, motion, sync) per rater; None: the rater did not judge it])
PANEL = {
    "i1": (("m1", "m2"), [("a", "a", "b"), ("a", "a", "a"), ("a", "tie", "b")]),
    "i2": (("m1", "m2"), [("b", "b", "b"), ("a", "b", "a"), None]),
    "i3": (("m2", "m3"), [("a", "a", "tie"), ("a", "a", "b"), ("tie", "b", "tie")]),
    "i4": (("m1", "m3"), [("a", "a", "a"), ("b", "a", "b"), ("a", "a", "a")]),
    "i5": (("m3", "m1"), [("b", "b", "a"), None, ("b", "b", "b")]),
    "i6": (("m2", "m3"), [("tie", "a", "b"), ("a", "a", "a"), ("a", "b", "a")]),
}


@pytest.fixture
def report(session, make_user):
    manager = make_user("manager")
    project = stats_project(session, manager.id, pairwise_criteria=CRITERIA)
    raters = [rater(session) for _ in range(3)]
    for external_id, (models, answers) in PANEL.items():
        it = item(session, project, models, external_id=external_id)
        for who, answer in zip(raters, answers):
            if answer is None:
                continue
            overall, motion, sync = answer
            j = judge(session, it, who, overall)
            j.criteria = {"motion": {"choice": motion, "strength": None if motion == "tie" else 1},
                          "sync": {"choice": sync, "strength": None if sync == "tie" else 2}}
    session.commit()
    return project, build_report(data.project_frames(session, project), n_resamples=200, seed=1)


def column(index: int) -> dict:
    return {ext: [None if a is None else a[index] for a in answers] for ext, (_m, answers) in PANEL.items()}


def test_each_criterion_alpha_equals_krippendorff(report):
    _project, rep = report
    section = {c["key"]: c for c in rep["criteria"]["criteria"]}
    for index, key in ((1, "motion"), (2, "sync")):
        x = np.array([[np.nan if v is None else CODE[v] for v in values] for values in column(index).values()]).T
        expected = krippendorff.alpha(x, level_of_measurement="nominal")
        assert section[key]["agreement"]["alpha"] == pytest.approx(expected, abs=1e-12)
        low, high = section[key]["agreement"]["alpha_ci"]
        assert low <= section[key]["agreement"]["alpha"] <= high or low is None
        row = next(r for r in rep["agreement"] if r["criterion"] == f"criteria.{key}")  # beside the overall rows
        assert row["label"] == dict(motion="Motion coherence", sync="Sound sync")[key] and row["alpha"] == section[key]["agreement"]["alpha"]
    assert [r["criterion"] for r in rep["agreement"]][:1] == ["choice"]


def test_each_criterion_leaderboard_equals_choix(report):
    _project, rep = report
    for index, key in ((1, "motion"), (2, "sync")):
        models = ["m1", "m2", "m3"]
        wins = np.zeros((3, 3))
        for ext, (pair, answers) in PANEL.items():
            i, j = models.index(pair[0]), models.index(pair[1])
            for answer in answers:
                if answer is None:
                    continue
                winner = answer[index]
                if winner == "tie":
                    wins[i, j] += 0.5
                    wins[j, i] += 0.5
                else:
                    wins[(i, j) if winner == "a" else (j, i)] += 1
        expected = choix.ilsr_pairwise_dense(wins, alpha=1e-3, max_iter=20_000, tol=1e-13)
        board = next(c for c in rep["criteria"]["criteria"] if c["key"] == key)["leaderboard"]
        theta = {m["model"]: (m["score"] - 1000.0) / ELO_SCALE for m in board["models"]}
        np.testing.assert_allclose([theta[m] for m in models], expected - expected.mean(), atol=1e-6)
        assert board["n_comparisons"] == sum(a is not None for _p, answers in PANEL.values() for a in answers)


def test_the_overall_winner_losing_a_criterion_is_counted_by_hand(report):
    _project, rep = report
    n = lost = 0
    by = {"motion": [0, 0], "sync": [0, 0]}
    for _pair, answers in PANEL.values():
        for answer in answers:
            if answer is None or answer[0] == "tie":
                continue
            loser = "b" if answer[0] == "a" else "a"
            n += 1
            lost += loser in answer[1:]
            for key, value in zip(("motion", "sync"), answer[1:]):
                by[key][0] += 1
                by[key][1] += value == loser
    got = rep["criteria"]["winner_lost"]
    assert (got["n_judgments"], got["n_lost"]) == (n, lost) and got["share"] == pytest.approx(lost / n)
    assert {k: (v["n_judgments"], v["n_lost"]) for k, v in got["by_criterion"].items()} == {k: tuple(v) for k, v in by.items()}


def test_winner_lost_leaves_out_ties_and_unanswered_criteria():
    overall = pd.Series(["a", "b", "tie", "a", "b"])
    crits = pd.DataFrame({"x": ["b", "b", "a", None, "tie"], "y": ["a", None, "b", None, "a"]})
    got = winner_lost(overall, crits)
    assert (got["n_judgments"], got["n_lost"], got["share"]) == (3, 2, pytest.approx(2 / 3))
    assert got["by_criterion"] == {"x": {"n_judgments": 3, "n_lost": 1, "share": pytest.approx(1 / 3)},
                                   "y": {"n_judgments": 2, "n_lost": 1, "share": pytest.approx(0.5)}}
    assert winner_lost(pd.Series([], dtype=object), pd.DataFrame({"x": []}))["share"] is None


def test_a_project_without_criteria_has_an_empty_section(session, make_user):
    manager = make_user("manager")
    project = stats_project(session, manager.id)
    it = item(session, project)
    judge(session, it, rater(session), "a")
    session.commit()
    rep = build_report(data.project_frames(session, project), n_resamples=10)
    assert rep["criteria"]["criteria"] == [] and rep["criteria"]["winner_lost"] is None


def test_the_page_and_the_api_show_each_criterion(app, report, login_as, api):
    project, _rep = report
    app.config["STATS_RESAMPLES"] = 50  # a small project: computed inline, on request
    client, _ = api("researcher")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        body = client.get(f"/api/v1/projects/{project.id}/leaderboard").json
    per = body["per_criterion"]
    assert [c["key"] for c in per["criteria"]] == ["motion", "sync"] and per["winner_lost"]["n_judgments"] > 0
    web, _ = login_as("researcher")
    page = web.get(f"/projects/{project.id}/statistics").get_data(as_text=True)
    assert 'id="per-criterion"' in page and "Motion coherence" in page and 'id="winner-lost"' in page
