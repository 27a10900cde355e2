"""From the tables to the report: which judgments count, how answers become labels, and the
report's numbers equal to the pure statistics called directly on the same data."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from scoring.reports import data, frames
from scoring.reports import report as report_mod
from scoring.stats.agreement import alpha_details, bootstrap_ci, cohen_kappa, fleiss_kappa, percent_agreement
from scoring.stats.chance import chance_corrected
from scoring.stats.consensus import dawid_skene, majority_vote
from scoring.stats.preferences import bootstrap_leaderboard
from scoring.reports.report import build_report, consensus_records
from tests.scoring.stats_factories import (
    adjudicate, item, judge, pairwise_panel, rater, revise, stats_project,
)

NAN = np.nan


@pytest.fixture
def manager(make_user):
    return make_user("manager")


def test_only_current_judgments_count_and_imported_ones_do(session, manager):
    project = stats_project(session, manager.id)
    it = item(session, project)
    ana, bo = rater(session), rater(session)
    first = judge(session, it, ana, "a", source="live")
    revise(session, first, "b", 3)
    judge(session, it, bo, "tie", source="imported")
    session.commit()

    j = data.project_frames(session, project).judgments
    assert sorted(zip(j["rater"], j["choice"], j["source"])) == sorted([(ana.id, "b", "live"), (bo.id, "tie", "imported")])
    assert data.fingerprint(session, project, n_resamples=10).current == 2


def test_choices_map_to_labels_models_and_signed_strength(session, manager):
    project = stats_project(session, manager.id)
    ana, bo = rater(session), rater(session)
    swapped = item(session, project, ("m2", "m1"), external_id="swapped")  # output a is m2
    plain = item(session, project, ("m1", "m2"), external_id="plain")
    judge(session, swapped, ana, "a", 3)
    judge(session, swapped, bo, "tie")
    judge(session, plain, ana, "b", 1)
    judge(session, plain, bo, "b", 2)
    session.commit()

    f = data.project_frames(session, project)
    assert [c.key for c in f.criteria] == ["choice", "preference"]
    choice, preference = f.criteria
    rel = frames.reliability(f, choice)
    assert rel.loc[ana.id, swapped.id] == 0.0 and rel.loc[bo.id, swapped.id] == 2.0  # a → 0, tie → 2
    assert rel.loc[ana.id, plain.id] == 1.0
    pref = frames.reliability(f, preference)
    assert pref.loc[ana.id, swapped.id] == 3 and pref.loc[bo.id, swapped.id] == 0
    assert pref.loc[ana.id, plain.id] == -1 and pref.loc[bo.id, plain.id] == -2
    comparisons, same = frames.comparisons(f)
    assert same == 0
    assert sorted(map(tuple, comparisons.to_numpy().tolist())) == sorted([
        ("m2", "m1", "a"), ("m2", "m1", "tie"), ("m1", "m2", "b"), ("m1", "m2", "b")])


def test_gold_items_and_same_model_items_are_left_out_and_counted(session, manager):
    project = stats_project(session, manager.id)
    ana, bo = rater(session), rater(session)
    gold = item(session, project, gold={"choice": "a"})
    twin = item(session, project, ("m1", "m1"))
    for who in (ana, bo):
        judge(session, gold, who, "a")
        judge(session, twin, who, "b")
    session.commit()

    f = data.project_frames(session, project)
    assert gold.id not in set(f.judgments["item"]) and f.n_gold_judgments == 2
    report = build_report(f, n_resamples=20)
    assert report["counts"]["gold_judgments_excluded"] == 2
    assert report["counts"]["same_model_excluded"] == 2
    assert report["leaderboard"]["models"] == []
    assert report["agreement"][0]["n_units"] == 1  # the twin item still measures agreement


def test_rubric_scores_become_one_ordinal_criterion_each_on_its_scale(session, manager):
    project = stats_project(session, manager.id, kind="rubric")
    ana, bo = rater(session), rater(session)
    it = item(session, project, ("m1",))
    judge(session, it, ana, scores={"coherence": 4, "dialogue": 2})
    judge(session, it, bo, scores={"coherence": 5, "dialogue": 2})
    session.commit()

    f = data.project_frames(session, project)
    assert [(c.key, c.level, c.categories) for c in f.criteria] == [
        ("coherence", "ordinal", (1, 2, 3, 4, 5)), ("dialogue", "ordinal", (1, 2, 3, 4, 5))]
    assert frames.reliability(f, f.criteria[0]).loc[[ana.id, bo.id], it.id].tolist() == [4.0, 5.0]
    assert frames.comparisons(f)[0].empty


def test_adjudications_are_read_per_criterion(session, manager):
    pair = stats_project(session, manager.id)
    rub = stats_project(session, manager.id, kind="rubric")
    p_item, r_item = item(session, pair), item(session, rub, ("m1",))
    adjudicate(session, p_item, choice="b")
    adjudicate(session, r_item, scores={"coherence": 2, "dialogue": 3})
    session.commit()
    assert data.adjudications(session, pair) == {p_item.id: {"choice": "b", "preference": None}}
    assert data.adjudications(session, rub) == {r_item.id: {"coherence": 2, "dialogue": 3}}


# -- the report equals the pure functions on the same data ----------------------------------

PANEL = {  # four raters, missing values, a tie — the choices per item
    "i1": ["a", "a", "a", None], "i2": ["a", "b", "a", "a"], "i3": ["b", "b", None, "b"],
    "i4": ["tie", "a", "a", None], "i5": ["b", "b", "b", "a"], "i6": ["a", None, None, None],
}


def _matrix(table, code):
    """Raters x items, written out independently of scoring.reports.frames."""
    return np.array([[code[row[r]] if row[r] is not None else NAN for row in table.values()]
                     for r in range(4)], dtype=float)


def test_pairwise_report_numbers_equal_the_pure_statistics(session, manager):
    project = stats_project(session, manager.id)
    items, raters_ = pairwise_panel(session, project, PANEL, models=("m1", "m2"))
    extra = item(session, project, ("m2", "m3"), external_id="i7")
    judge(session, extra, raters_[0], "a")
    judge(session, extra, raters_[1], "b")
    adjudicate(session, items[1], choice="b")
    session.commit()

    report = build_report(data.project_frames(session, project), n_resamples=300, seed=3)
    table = {**PANEL, "i7": ["a", "b", None, None]}
    x = _matrix(table, {"a": 0, "b": 1, "tie": 2})
    pairable = x[:, (~np.isnan(x)).sum(axis=0) >= 2]
    row = report["agreement"][0]
    details = alpha_details(x, "nominal")
    assert row["alpha"] == pytest.approx(details.alpha, abs=1e-12)
    assert (row["n_units"], row["n_pairable_values"]) == (details.n_units, details.n_pairable_values) == (6, 19)
    assert row["alpha_ci"] == pytest.approx(list(bootstrap_ci(pairable, "alpha_nominal", n_resamples=300, seed=3)))
    assert row["percent_agreement"] == pytest.approx(percent_agreement(x))
    # Fleiss' kappa generalised to unequal numbers of ratings (Gwet 2014) where it used to refuse
    counts = np.stack([(pairable == c).sum(axis=0) for c in range(3)], axis=1)
    assert row["fleiss_kappa"] == pytest.approx(chance_corrected(counts, "fleiss").coefficient)
    assert row["fleiss_note"] is None
    gwet = row["coefficients"]["gwet"]
    assert gwet["name"] == "Gwet's AC1" and gwet["value"] == pytest.approx(chance_corrected(counts, "gwet").coefficient)
    assert row["coefficients"]["brennan_prediger"]["n_units"] == 6
    assert row["alpha_ci_pairs"][0] < row["alpha"] < row["alpha_ci_pairs"][1]
    assert any("pairable units" in w for w in row["warnings"])  # 6 units: below the documented 20
    assert row["cohen_kappa"] is None and "exactly two raters" in row["cohen_note"]

    comparisons = pd.DataFrame(
        [("m1", "m2", c) for row_ in PANEL.values() for c in row_ if c is not None]
        + [("m2", "m3", "a"), ("m2", "m3", "b")], columns=["model_a", "model_b", "winner"])
    board = bootstrap_leaderboard(comparisons, n_resamples=300, seed=3)
    got = {m["model"]: m for m in report["leaderboard"]["models"]}
    for expected in board.to_dict("records"):
        assert got[expected["model"]]["score"] == pytest.approx(expected["score"], abs=1e-9)
        assert got[expected["model"]]["ci_low"] == pytest.approx(expected["ci_low"], abs=1e-9)
        assert got[expected["model"]]["n_comparisons"] == expected["n_comparisons"]
    m1, m2 = report["win_rates"]["models"].index("m1"), report["win_rates"]["models"].index("m2")
    m1_wins = sum(c == "a" for r in PANEL.values() for c in r) + 0.5  # ten wins and a tie
    assert report["win_rates"]["matrix"][m1][m2] == pytest.approx(m1_wins / 18)
    assert report["win_rates"]["matrix"][m2][m1] == pytest.approx(1 - m1_wins / 18)
    assert report["win_rates"]["counts"][m1][m2] == 18

    labels = pd.DataFrame([(it.id, who.id, c) for it, row_ in zip(items, PANEL.values())
                           for who, c in zip(raters_, row_) if c is not None]
                          + [(extra.id, raters_[0].id, "a"), (extra.id, raters_[1].id, "b")],
                          columns=["item", "rater", "label"])
    votes = majority_vote(labels, classes=["a", "b", "tie"]).set_index("item")
    ds = dawid_skene(labels, classes=["a", "b", "tie"], n_iter=report_mod.DS_MAX_ITER, tol=report_mod.DS_TOL,
                     accelerate=True)  # as the report runs it
    records = {r["item_id"]: r for r in consensus_records(report["consensus"], report["consensus"]["rows"])}
    for it in items + [extra]:
        c = records[it.id]["labels"]["choice"]
        share = votes.loc[it.id, "share"] if votes.loc[it.id, "n_labels"] > 1 else None
        assert c["majority"] == votes.loc[it.id, "label"] and c["share"] == pytest.approx(share)
        assert c["ds_posterior"] == pytest.approx(ds.items.set_index("item").loc[it.id, "probability"])
    i2, i4, i7 = records[items[1].id], records[items[3].id], records[extra.id]
    assert (i2["adjudicated"], i2["labels"]["choice"]["label"], i2["labels"]["choice"]["source"]) == (True, "b", "adjudication")
    assert i2["labels"]["choice"]["posterior"] == pytest.approx(ds.posterior.loc[items[1].id, "b"])
    assert (i4["labels"]["choice"]["label"], i4["labels"]["choice"]["source"]) == ("a", "majority")
    assert i7["labels"]["choice"]["tied"] and i7["labels"]["choice"]["source"] == "dawid_skene"
    assert i7["labels"]["choice"]["label"] == ds.items.set_index("item").loc[extra.id, "label"]
    assert records[items[5].id]["n_judgments"] == 1
    single = records[items[5].id]["labels"]["choice"]
    assert (single["source"], single["share"], single["n_labels"]) == ("single", None, 1)  # no "100 %"
    assert (records[extra.id]["model_a"], records[extra.id]["model_b"]) == ("m2", "m3")


def test_two_raters_with_equal_panels_get_fleiss_and_weighted_cohen(session, manager):
    project = stats_project(session, manager.id, kind="rubric")
    ana, bo = rater(session), rater(session)
    levels = [(1, 2), (2, 2), (3, 4), (4, 4), (5, 3), (2, 1)]
    for a, b in levels:
        it = item(session, project, ("m1",))
        judge(session, it, ana, scores={"coherence": a, "dialogue": 3})
        judge(session, it, bo, scores={"coherence": b, "dialogue": 3})
    session.commit()

    report = build_report(data.project_frames(session, project), n_resamples=200)
    coherence, dialogue = report["agreement"]
    x = np.array(levels, dtype=float).T
    assert coherence["alpha"] == pytest.approx(alpha_details(x, "ordinal").alpha)
    counts = np.array([[sum(v == c for v in pair) for c in range(1, 6)] for pair in levels])
    assert chance_corrected(counts, "fleiss").coefficient == pytest.approx(fleiss_kappa(counts))
    assert coherence["fleiss_kappa"] == pytest.approx(
        chance_corrected(counts, "fleiss", "quadratic", [1, 2, 3, 4, 5]).coefficient)  # ordered: weighted
    assert coherence["coefficients"]["gwet"]["name"] == "Gwet's AC2"
    assert coherence["cohen"]["se"] > 0 and coherence["cohen"]["n_units"] == 6
    assert coherence["cohen_kappa"] == pytest.approx(cohen_kappa(x[0], x[1], weights="quadratic", labels=[1, 2, 3, 4, 5]))
    assert coherence["cohen_weights"] == "quadratic"
    # everyone said 3: alpha, both kappas undefined, each with its reason; agreement is still 100%
    assert dialogue["alpha"] is None and "expected disagreement is zero" in dialogue["undefined_reason"]
    assert dialogue["alpha_ci"] == [None, None]
    assert dialogue["percent_agreement"] == 1.0
    assert dialogue["fleiss_kappa"] is None and "one category" in dialogue["fleiss_note"]
    assert dialogue["cohen_kappa"] is None and "one and the same" in dialogue["cohen_note"]
    assert report["leaderboard"]["models"] == [] and "rubric" in report["leaderboard"]["undefined_reason"]


def test_a_project_without_judgments_reports_undefined_not_nan(session, manager):
    project = stats_project(session, manager.id)
    item(session, project)
    session.commit()
    report = build_report(data.project_frames(session, project), n_resamples=10)
    assert report["counts"]["judgments"] == 0
    assert report["agreement"][0]["alpha"] is None
    assert "no pairable units" in report["agreement"][0]["undefined_reason"]
    assert report["consensus"]["rows"] == []
    assert "no pairwise judgments" in report["leaderboard"]["undefined_reason"]
    assert not any(isinstance(v, float) and math.isnan(v) for v in _leaves(report))


def _leaves(obj):
    if isinstance(obj, dict):
        for v in obj.values():
            yield from _leaves(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from _leaves(v)
    else:
        yield obj
