"""The statistics report from aggregates equals the report from every judgment's row.

The report now reads small value columns (rubric scores extracted by the database), counts the
pairwise comparisons in SQL (Bradley-Terry and its bootstrap from those counts) and takes
agreement from per-unit value counts instead of the raters x items matrix. On random projects
(several seeds, pairwise with strengths, ties, gold, same-model items, withdrawn consent,
adjudications; rubric with an ordinal and a nominal criterion, missing scores): the whole report
equals the one built from the judgments' raw rows, and every agreement number equals the same
statistic computed from the raters x items matrix, as the report did before."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from scoring.reports import data, frames as fr
from scoring.reports.report import build_report
from scoring.stats.agreement import (
    alpha_details, bootstrap_ci, cohen_kappa, krippendorff_bootstrap, percent_agreement,
)
from scoring.stats.chance import chance_corrected
from scoring.stats.consensus import dawid_skene
from tests.scoring.stats_factories import adjudicate, item, judge, rater, stats_project

RUBRIC = [{"key": "coherence", "label": "Coherence", "min": 1, "max": 5, "levels": {"1": "no", "5": "yes"}},
          {"key": "genre", "label": "Genre", "min": 0, "max": 3, "level": "nominal", "levels": {"0": "drama", "3": "comedy"}}]


@pytest.fixture
def manager(make_user):
    return make_user("manager")


def _pairwise(session, owner_id, rng, n_raters=6):
    project = stats_project(session, owner_id)
    raters = [rater(session) for _ in range(n_raters)]
    models = ["m1", "m2", "m3", "m4"]
    for k in range(40):
        pair = tuple(rng.choice(models, 2, replace=False)) if k % 9 else ("m1", "m1")  # some same-model items
        it = item(session, project, pair, gold={"choice": "a"} if k % 13 == 5 else None)
        for who in rng.choice(raters, int(rng.integers(1, min(5, n_raters + 1))), replace=False):
            choice = str(rng.choice(["a", "b", "tie"], p=[0.45, 0.4, 0.15]))
            judge(session, it, who, choice, None if choice == "tie" else int(rng.integers(1, 4)))
        if k % 11 == 3:
            adjudicate(session, it, choice="b")
        if k == 7:  # consent withdrawn: its judgments are left out
            it.outputs[0].asset.consent = "revoked"
    session.commit()
    return project


def _rubric(session, owner_id, rng, n_raters=5):
    project = stats_project(session, owner_id, kind="rubric", rubric=RUBRIC)
    raters = [rater(session) for _ in range(n_raters)]
    for k in range(40):
        it = item(session, project, (str(rng.choice(["m1", "m2", "m3"])),))
        for who in rng.choice(raters, int(rng.integers(1, 5)), replace=False):
            scores = {"coherence": int(rng.integers(1, 6)), "genre": int(rng.integers(0, 4))}
            if rng.random() < 0.15:
                del scores["genre"]
            judge(session, it, who, scores=scores)
        if k % 10 == 4:
            adjudicate(session, it, scores={"coherence": 3, "genre": 1})
    session.commit()
    return project


def _close(a, b, path="report"):
    if isinstance(a, dict):
        assert isinstance(b, dict) and set(a) == set(b), (path, sorted(set(a) ^ set(b)))
        for k in a:
            _close(a[k], b[k], f"{path}.{k}")
    elif isinstance(a, list):
        assert isinstance(b, list) and len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b)):
            _close(x, y, f"{path}[{i}]")
    elif isinstance(a, float) and isinstance(b, float):
        assert math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12), (path, a, b)
    else:
        assert a == b, (path, a, b)


def _same(x, y):
    return (math.isnan(x) and math.isnan(y)) or math.isclose(x, y, rel_tol=1e-12, abs_tol=1e-12)


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("kind", ["pairwise", "rubric"])
def test_report_from_aggregates_equals_the_report_from_rows(session, manager, kind, seed):
    rng = np.random.default_rng(seed)
    project = (_pairwise if kind == "pairwise" else _rubric)(session, manager.id, rng)
    aggregated = data.project_frames(session, project)
    rows = data.project_frames_from_rows(session, project)
    if kind == "pairwise":
        assert aggregated.comparisons is not None and rows.comparisons is None
        assert aggregated.same_model > 0
    _close(build_report(aggregated, n_resamples=200, seed=seed), build_report(rows, n_resamples=200, seed=seed))


@pytest.mark.parametrize("seed", [4, 5])
@pytest.mark.parametrize("kind", ["pairwise", "rubric"])
def test_agreement_from_value_counts_equals_the_statistics_of_the_matrix(session, manager, kind, seed):
    rng = np.random.default_rng(seed)
    project = (_pairwise if kind == "pairwise" else _rubric)(session, manager.id, rng)
    frames = data.project_frames(session, project)
    report = build_report(frames, n_resamples=300, seed=seed)
    for criterion, row in zip(frames.criteria, report["agreement"]):
        matrix = fr.reliability(frames, criterion)
        level = criterion.level
        details = alpha_details(matrix, level)
        assert _same(row["alpha"] if row["alpha"] is not None else math.nan, details.alpha)
        assert (row["n_units"], row["n_pairable_values"]) == (details.n_units, details.n_pairable_values)
        assert row["n_raters"] == int(matrix.notna().any(axis=1).sum())
        assert _same(row["percent_agreement"], percent_agreement(matrix))
        low, high = bootstrap_ci(matrix, f"alpha_{level}", n_resamples=300, seed=seed)
        assert row["alpha_ci"] == [low, high]
        assert row["alpha_ci_pairs"] == list(krippendorff_bootstrap(matrix, level, n_resamples=300, seed=seed))
        x = matrix.to_numpy(dtype=np.float64)
        codes = [criterion.code(c) for c in criterion.categories]
        table = np.stack([(x == code).sum(axis=0) for code in codes], axis=1)
        table = table[table.sum(axis=1) >= 2]
        np.testing.assert_array_equal(fr.agreement_data(frames, criterion).table, table)
        fleiss = chance_corrected(table, "fleiss", "identity" if level == "nominal" else "quadratic", codes)
        assert row["coefficients"]["fleiss"]["n_units"] == fleiss.n_pairable_units


def test_cohen_from_the_two_raters_rows_equals_cohen_of_the_matrix(session, manager):
    project = _pairwise(session, manager.id, np.random.default_rng(7), n_raters=2)
    frames = data.project_frames(session, project)
    row = build_report(frames, n_resamples=50)["agreement"][0]
    matrix = fr.reliability(frames, frames.criteria[0]).to_numpy(dtype=np.float64)
    both = ~np.isnan(matrix).any(axis=0)
    assert row["cohen_kappa"] == pytest.approx(cohen_kappa(matrix[0, both], matrix[1, both], labels=[0.0, 1.0, 2.0]))


def test_comparisons_counted_from_the_frames_equal_the_database_count(session, manager):
    """The report's comparison counts (from the judgments it read) equal a GROUP BY of the
    database over the counted judgments joined to their items' outputs, in sorted order."""
    from sqlalchemy import func, select
    from sqlalchemy.orm import aliased
    from tasks.catalogue.models import Item, ItemOutput
    from tasks.rating.models import Judgment
    from tasks.rating.routing import is_gold_sql
    project = _pairwise(session, manager.id, np.random.default_rng(11))
    out_a, out_b = aliased(ItemOutput), aliased(ItemOutput)
    rows = session.execute(
        select(out_a.model, out_b.model, Judgment.choice, func.count())
        .join(Item, Item.id == Judgment.item_id)
        .join(out_a, (out_a.item_id == Judgment.item_id) & (out_a.label == "a"))
        .join(out_b, (out_b.item_id == Judgment.item_id) & (out_b.label == "b"))
        .where(*data.counted_judgments(project), ~is_gold_sql(), Judgment.choice.in_(fr.CHOICES))
        .group_by(out_a.model, out_b.model, Judgment.choice)).all()
    frames = data.project_frames(session, project)
    assert frames.same_model == sum(n for a, b, _, n in rows if a == b) > 0
    assert list(frames.comparisons.itertuples(index=False, name=None)) == sorted(
        (a, b, w, n) for a, b, w, n in rows if a != b)
    assert frames.comparisons["count"].dtype == np.int64
    empty, same = fr.comparison_counts(fr.build("pairwise", [], fr.empty_judgments(), fr.empty_items()))
    assert empty.empty and same == 0 and list(empty.columns) == ["model_a", "model_b", "winner", "count"]


def test_dawid_skene_reports_its_convergence_test(session, manager):
    project = _pairwise(session, manager.id, np.random.default_rng(3))
    report = build_report(data.project_frames(session, project), n_resamples=20)
    summary = report["dawid_skene"]["choice"]
    assert summary["converged"] is True and summary["final_change"] < summary["tol"] and summary["n_iter"] >= 1
    capped = dawid_skene(fr.labels(data.project_frames(session, project), fr.Criterion(
        "choice", "Choice", "nominal", fr.CHOICES)), n_iter=1, tol=0.0)
    assert capped.converged is False and capped.n_iter == 1 and capped.final_change > 0


def test_a_recompute_warm_starts_dawid_skene_from_the_previous_snapshot(session, manager, monkeypatch):
    from scoring.reports import snapshots
    monkeypatch.setattr(data, "CONSENSUS_BATCH", 7)  # rows stored over several batches
    from scoring.reports.report import ds_starts
    project = _pairwise(session, manager.id, np.random.default_rng(9))
    cfg = snapshots.StatsConfig(inline_max=10**6, n_resamples=20)
    first = snapshots.compute(session, project, cfg)
    session.commit()
    header = data.snapshot_consensus(session, first)
    summary = header["dawid_skene"]["choice"]
    assert summary["started_from"] == "majority vote" and 1 <= summary["n_profiles"] <= first.n_judgments
    assert {r["rater"] for r in summary["raters"]} == set(ds_starts(header)["choice"]["confusion"])
    assert "raters" not in first.report["dawid_skene"]["choice"]  # the estimates live in the header only
    extra = item(session, project, ("m1", "m2"))
    for who in project_raters(session, project)[:3]:
        judge(session, extra, who, "a", 2)
    session.commit()
    second = snapshots.compute(session, project, cfg)
    session.commit()
    warm = data.snapshot_consensus(session, second)["dawid_skene"]["choice"]
    cold = build_report(data.project_frames(session, project), n_resamples=20)
    assert warm["started_from"] == "previous snapshot" and warm["converged"]
    assert warm["n_iter"] < cold["dawid_skene"]["choice"]["n_iter"]
    stored = data.consensus_page(session, second, "all", 0.67, 0, 1000)[1]
    assert [r[0] for r in stored] == [r[0] for r in cold["consensus"]["rows"]]  # every item, in order
    rows = {r[0]: r for r in stored}
    columns = cold["consensus"]["columns"]
    at = columns.index("choice.ds_posterior")
    for row in cold["consensus"]["rows"]:
        assert rows[row[0]][at] == pytest.approx(row[at], abs=1e-5)
        assert rows[row[0]][columns.index("choice.label")] == row[columns.index("choice.label")]


def project_raters(session, project):
    from raters.models import User
    from tasks.rating.models import Judgment
    return session.query(User).join(Judgment, Judgment.rater_id == User.id).filter(
        Judgment.project_id == project.id).distinct().order_by(User.id).all()


AWKWARD = ["tab\there", "line\nbreak", 'quote " and , comma', "back\\slash \\N", "\\N", "", "ünïcode ✓", "NA", "null", "cr\rhere", "sep\u2028line", "esc\x1b", "emoji 😀"]


def test_stored_consensus_rows_equal_the_computed_ones_whatever_the_text(session, manager, monkeypatch):
    """Text that COPY must escape or could read as NULL (tabs, newlines, quotes, backslashes,
    ``\\N``, empty strings, ``NA``) in external ids, models and prompts: the frames equal those read
    row by row, and every stored consensus row and filter column equals the computed one."""
    from scoring.reports import snapshots
    from scoring.reports.models import ConsensusRow
    from scoring.reports.report import select_rows
    monkeypatch.setattr(data, "CONSENSUS_BATCH", 4)  # rows stored over several batches
    project = stats_project(session, manager.id)
    raters = [rater(session) for _ in range(3)]
    for k, name in enumerate(AWKWARD):
        it = item(session, project, (name or "m0", f"m{k}\\"), external_id=f"{name}-{k}", prompt=name or "x")
        for who, choice in zip(raters, ["a", "b", "tie"][k % 3:] + ["a", "b", "tie"][:k % 3]):
            judge(session, it, who, choice, 1 + k % 3)
    session.commit()
    frames, rows = data.project_frames(session, project), data.project_frames_from_rows(session, project)
    assert frames.items.to_dict("list") == rows.items.to_dict("list")
    assert "prompt" not in frames.items  # a pairwise report reads no prompt; COPY reads them whole:
    assert data.items_frame(session, project)["prompt"].tolist() == [name or "x" for name in AWKWARD]
    _close(build_report(frames, n_resamples=20), build_report(rows, n_resamples=20))
    snapshot = snapshots.compute(session, project, snapshots.StatsConfig(inline_max=10**6, n_resamples=20))
    session.commit()
    computed = build_report(frames, n_resamples=20)["consensus"]
    header, stored, total = data.consensus_page(session, snapshot, "all", 0.67, 0, 1000)
    assert total == len(AWKWARD) and stored == computed["rows"]
    flags = data.consensus_row_flags(computed)
    got = session.query(ConsensusRow).filter_by(snapshot_id=snapshot.id).order_by(ConsensusRow.position).all()
    assert [r.position for r in got] == list(range(len(AWKWARD)))
    assert {name: [getattr(r, name) for r in got] for name in flags} == flags
    for show in ("contested", "imported", "adjudicated"):
        assert data.consensus_page(session, snapshot, show, 0.67, 0, 1000)[1] == select_rows(computed, show, 0.67)


def test_consensus_pages_and_totals_without_counting_the_table(session, manager):
    """Page totals come from the counts stored with the rows, for every filter and any agreement
    target (contested depends on it); the ``all`` page is a range of positions. Pages and totals
    equal the in-memory filters at every offset, and equal those of a snapshot stored before the
    counts existed (which counts in SQL)."""
    from sqlalchemy import event

    from scoring.reports import snapshots
    from scoring.reports.models import StatsSnapshot
    from scoring.reports.report import select_rows
    project = _pairwise(session, manager.id, np.random.default_rng(7))
    snapshot = snapshots.compute(session, project, snapshots.StatsConfig(inline_max=10**6, n_resamples=20))
    session.commit()
    header = data.snapshot_consensus(session, snapshot)
    everything = {**header, "rows": data.consensus_page(session, snapshot, "all", 0.67, 0, 10**6)[1]}
    assert header["counts"]["all"] == header["n_rows"] == len(everything["rows"]) > 30
    statements = []
    listen = lambda *args: statements.append(args[2])  # noqa: E731
    engine = session.get_bind()
    shown = set()
    for target in (0.5, 0.67, 0.8, 0.9, 1.0):
        for show in ("all", "contested", "adjudicated", "imported"):
            expected = select_rows(everything, show, target)
            shown.add((show, len(expected)))
            for offset in (0, 3, len(expected) - 1, len(expected) + 5):
                event.listen(engine, "before_cursor_execute", listen)
                try:
                    _, rows, total = data.consensus_page(session, snapshot, show, target, max(0, offset), 4)
                finally:
                    event.remove(engine, "before_cursor_execute", listen)
                assert (rows, total) == (expected[max(0, offset): max(0, offset) + 4], len(expected)), (show, target)
    assert not [s for s in statements if "count(" in s.lower()]  # no page counted the table
    for show in ("all", "contested"):  # an offset past 2^31 (page 10^9 of the API) reads nothing, on both databases
        assert data.consensus_page(session, snapshot, show, 0.67, 10**9 * 500, 4)[1] == []
    assert len({n for show, n in shown if show == "contested"}) > 1  # the target mattered
    assert any(n for show, n in shown if show == "adjudicated")
    # a snapshot stored before the counts: the same pages, counted in SQL
    old = {k: v for k, v in header.items() if k not in ("counts", "n_rows")}
    session.query(StatsSnapshot).filter_by(id=snapshot.id).update({"consensus": old})
    session.commit()
    for show in ("all", "contested", "adjudicated", "imported"):
        expected = select_rows(everything, show, 0.8)
        assert data.consensus_page(session, snapshot, show, 0.8, 2, 5)[1:] == (expected[2:7], len(expected))


def test_contested_is_counted_in_sql_when_the_shares_are_too_many_to_store(monkeypatch):
    flags = {"item_id": [1, 2, 3, 4], "any_tied": [True, False, False, False], "min_share": [None, 0.5, 0.75, None],
             "adjudicated": [False, True, False, False], "n_imported": [0, 0, 2, 1]}
    counts = data.consensus_counts(flags)
    assert counts == {"all": 4, "adjudicated": 1, "imported": 2, "tied": 1, "untied_shares": [[0.5, 1], [0.75, 1]]}
    assert [data.stored_total(counts, "contested", t) for t in (0.5, 0.6, 0.8)] == [1, 2, 3]
    assert data.stored_total(counts, "imported", 0.67) == 2 and data.stored_total(None, "all", 0.67) is None
    monkeypatch.setattr(data, "MAX_STORED_SHARES", 1)
    counts = data.consensus_counts(flags)
    assert "untied_shares" not in counts and data.stored_total(counts, "contested", 0.67) is None
    assert data.stored_total(counts, "all", 0.67) == 4


def test_comparison_counts_equal_counting_the_joined_comparisons():
    """The coded count equals counting :func:`frames.comparisons`' rows, on frames with every
    awkward case: missing models (rubric-like items), same-model items, choices outside a/b/tie,
    judgments of items the items frame lacks."""
    rng = np.random.default_rng(5)
    models = ["gen-a", "gen-b", "gen-c", None]
    items = pd.DataFrame({"item": np.arange(1, 61), "external_id": [f"x{i}" for i in range(60)],
                          "model_a": rng.choice(np.array(models, dtype=object), 60),
                          "model_b": rng.choice(np.array(models, dtype=object), 60), "is_gold": False})
    judgments = pd.DataFrame({
        "judgment_id": np.arange(400), "item": rng.integers(1, 70, 400), "rater": rng.integers(1, 9, 400),
        "source": "live", "choice": rng.choice(np.array(["a", "b", "tie", None, "x"], dtype=object), 400),
        "strength": None, "scores": None, "criteria": None})
    frames = fr.build("pairwise", [], judgments, items)
    frames.items = items.set_index("item", drop=False)  # keep the unjudged too: ids 61-69 stay unknown
    counted, same = fr.comparison_counts(frames)
    rows, expected_same = fr.comparisons(frames)
    expected = rows.value_counts(["model_a", "model_b", "winner"]).sort_index()
    assert same == expected_same > 0
    assert list(counted.itertuples(index=False, name=None)) == [(*k, n) for k, n in expected.items()]
    assert counted["count"].dtype == np.int64
