"""Rater quality on simulated panels: each bad rater is flagged for the right reason, honest
raters are not, and the false-flag rate over many seeds stays low."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from scoring.quality import measures as m
from scoring.quality import panel as qp
from scoring.quality.agreement import kappa_against, loo_consensus, vote_surprise
from scoring.quality.thresholds import Thresholds, problems
from tasks.rating.answers import shingles
from tests.scoring.quality_sim import RUBRIC, pairwise_panel, rubric_panel

FALSE_FLAG_SEEDS = 40
MAX_FALSE_FLAG_RATE = 0.02


def _flags(frame, kind, rubric=()):
    rows = qp.rater_rows(qp.build(frame, kind, list(rubric)), Thresholds())
    return {r["rater"]: {f["figure"] for f in r["flags"]} for r in rows}


def test_wilson_interval_matches_the_published_example():
    # Newcombe (1998), Table I: 81/263 -> 0.2553 to 0.3662.
    low, high = m.wilson_interval(81, 263)
    assert low == pytest.approx(0.2553, abs=1e-4) and high == pytest.approx(0.3662, abs=1e-4)
    assert m.wilson_interval(0, 0) == (None, None)
    assert m.wilson_interval(0, 10)[0] == 0.0


@pytest.mark.parametrize("k,n,p", [(0, 1, 0.5), (7, 20, 0.5), (20, 20, 0.5), (3, 40, 0.1), (12, 40, 0.1), (5, 9, 0.37)])
def test_binomial_p_is_scipys_two_sided_exact_test(k, n, p):
    from scipy.stats import binomtest
    assert m.binomial_p(k, n, p) == pytest.approx(binomtest(k, n, p).pvalue, rel=1e-9)


def test_miss_streaks_count_the_longest_and_the_current_run():
    assert m.miss_streaks([True, False, False, True, False]) == (2, 1)
    assert m.miss_streaks([]) == (0, 0)


def test_time_on_task_leaves_out_untimed_judgments_and_counts_the_too_fast():
    out = m.time_on_task([10.0, np.nan, 3.0, 30.0], [10.0, 10.0, 10.0, np.nan])
    assert out["n"] == 3 and out["median_s"] == 10.0
    assert out["n_with_media"] == 2 and out["too_fast"]["k"] == 1 and out["median_ratio"] == pytest.approx(0.65)


def test_near_duplicates_find_copies_and_spare_distinct_texts():
    texts = ["the neon flickers in take A while take B holds steady light",
             "the neon flickers in take A while take B holds steady light too",
             "camera sway ruins the locked off frame the brief asked for"]
    assert m.near_duplicates([shingles(t) for t in texts]).tolist() == [True, True, False]
    assert m.near_duplicates([shingles("same words here"), shingles("same words here")]).tolist() == [True, True]
    assert m.near_duplicates([shingles(""), shingles("")]).tolist() == [False, False]
    by_rater = m.near_duplicates([shingles(texts[0]), shingles(texts[0]), shingles(texts[1])], groups=[1, 2, 2])
    assert by_rater.tolist() == [False, True, True]  # copies count within one rater only


def test_week_start_is_the_monday_of_the_iso_week():
    days = np.array(["2026-10-05T10:00", "2026-10-11T23:59", "2026-10-12T00:00"], dtype="datetime64[m]")
    assert [str(d) for d in m.week_start(days)] == ["2026-10-05", "2026-10-05", "2026-10-12"]


def test_loo_consensus_leaves_the_rater_out_and_refuses_tied_majorities():
    labels = pd.DataFrame({"item": [1, 1, 1, 2, 2], "label": ["a", "a", "b", "a", "b"]})
    assert list(loo_consensus(labels, ("a", "b", "tie"), ordinal=False)) == [None, None, "a", "b", "a"]
    levels = pd.DataFrame({"item": [1, 1, 1], "label": [1, 3, 5]})
    assert list(loo_consensus(levels, range(1, 6), ordinal=True)) == [4, 3, 2]


def test_kappa_against_consensus_is_cohens_kappa_with_an_interval():
    own = ["a", "a", "b", "b", "a", "b", "tie", "a"]
    other = ["a", "b", "b", "b", "a", "a", "tie", None]
    out = kappa_against(own, other, ("a", "b", "tie"), ordinal=False)
    assert out["n"] == 7 and out["agreement"] == pytest.approx(5 / 7)
    assert out["ci"][0] < out["kappa"] < out["ci"][1]


def test_vote_surprise_is_calibrated_for_votes_drawn_from_the_panel():
    rng = np.random.default_rng(3)
    n = 4000
    votes = pd.DataFrame({"rater": rng.integers(0, 200, n), "model_a": "x", "model_b": "y",
                          "choice": rng.choice(["a", "b", "tie"], size=n, p=[0.6, 0.3, 0.1])})
    p = vote_surprise(votes)["p_value"]
    assert (p < 0.05).mean() < 0.1  # about 5% under the null


def test_each_bad_pairwise_rater_is_flagged_for_the_right_reason():
    flagged = _flags(pairwise_panel(0), "pairwise")
    assert {"time", "position", "rationale"} <= flagged["stamper"]
    assert "gold" in flagged["goldfail"]
    assert "anomaly" in flagged["contrarian"]
    assert all(not figures for rater, figures in flagged.items() if rater.startswith("honest"))


def test_mace_and_dawid_skene_run_to_convergence_and_report_it():
    from scoring.quality.agreement import MACE_MAX_ITER

    panel = qp.build(pairwise_panel(0), "pairwise", [])
    assert panel.mace_fit["converged"] is True and 1 < panel.mace_fit["iterations"] < MACE_MAX_ITER
    assert panel.ds_fit["converged"] is True and 1 < panel.ds_fit["iterations"] < MACE_MAX_ITER
    assert panel.mace["stamper"] < min(v for r, v in panel.mace.items() if r.startswith("honest"))


def test_stored_features_read_the_json_text_as_the_dicts_it_holds():
    import json

    from tasks.rating.answers import rationale_features

    texts = ["grain in take A at 0:04, take B holds", "", "grain in take A at 0:04, take B holds", "cut"]
    dicts = [rationale_features(t) for t in texts]
    stale = {**dicts[3], "v": 0, "words": 99}  # an older version: recomputed from the text
    stored = [json.dumps(dicts[0]), None, dicts[2], json.dumps(stale)]
    words, moment, flat, sizes = m.stored_features(texts, stored)
    assert words.tolist() == [d["words"] for d in dicts] and moment.tolist() == [d["moment"] for d in dicts]
    assert sizes.tolist() == [len(d["shingles"]) for d in dicts]
    assert flat.tolist() == [h for d in dicts for h in sorted(d["shingles"])]
    counts, dup, _ = m.text_features(texts, [1, 1, 1, 1], stored=stored)
    assert dup.tolist() == [True, False, True, False] and counts.tolist() == words.tolist()
    garbled = [stored[0].replace("[", "[-3, ", 1), stored[0].replace("[", "[1.5, ", 1), None, None]
    again = m.stored_features(texts, garbled)  # not hashes: recomputed from the text, never misread
    assert again[3].tolist()[:2] == sizes.tolist()[:2] and again[2][:2 * sizes[0]].tolist() == flat[:2 * sizes[0]].tolist()


def test_a_straight_liner_is_flagged_and_honest_rubric_raters_are_not():
    flagged = _flags(rubric_panel(1), "rubric", RUBRIC)
    assert flagged["flatliner"] == {"straight_lining"}
    assert all(not figures for rater, figures in flagged.items() if rater.startswith("honest"))


def test_false_flag_rate_over_many_seeds_is_low():
    honest = wrongly = 0
    bad_found = 0
    for seed in range(FALSE_FLAG_SEEDS):
        flagged = _flags(pairwise_panel(100 + seed), "pairwise")
        for rater, figures in flagged.items():
            if rater.startswith("honest"):
                honest += 1
                wrongly += bool(figures)
        bad_found += ("position" in flagged["stamper"]) + ("gold" in flagged["goldfail"]) \
            + ("anomaly" in flagged["contrarian"])
    rate = wrongly / honest
    print(f"false-flag rate {rate:.4f} ({wrongly}/{honest} honest raters); "
          f"bad raters found {bad_found}/{3 * FALSE_FLAG_SEEDS}")
    assert rate <= MAX_FALSE_FLAG_RATE
    assert bad_found >= 0.95 * 3 * FALSE_FLAG_SEEDS


def test_figures_need_their_minimum_number_of_judgments():
    small = pairwise_panel(2, n_items=6, per_item=3, n_gold=2)
    flagged = _flags(small, "pairwise")
    assert not flagged["stamper"] - {"rationale"}  # too few judgments to judge speed or sides


def test_weekly_drift_gives_one_row_per_week_with_counts():
    panel = qp.build(pairwise_panel(1), "pairwise", [])
    weeks = qp.weekly(panel, "stamper")
    assert [w["week"] for w in weeks] == sorted(w["week"] for w in weeks)
    assert sum(w["n"] for w in weeks) == int((panel.frame["rater"] == "stamper").sum())
    assert all(w["left"]["share"] == 1.0 for w in weeks if w["left"]["n"])


def test_thresholds_take_overrides_and_say_what_is_wrong():
    t = Thresholds.from_overrides({"gold_accuracy": 0.9, "bogus": 1})
    assert t.gold_accuracy == 0.9 and t.kappa == Thresholds().kappa
    assert set(problems({"bogus": 1, "kappa": "x"})) == {"quality_thresholds.bogus", "quality_thresholds.kappa"}
    assert problems({"kappa": 0.2}) == {}


def test_watched_share_reads_the_observed_playback_of_live_judgments_only():
    from scoring.quality.data import watched_shares
    frame = pd.DataFrame({"source": ["live", "live", "imported", "live"], "item": [1, 1, 1, 2],
                          "playback": [{"a": 10.0, "b": 5.0}, {"a": 10.0, "b": 10.0}, {"a": 10.0, "b": 10.0}, None]})
    shares = watched_shares(frame, {1: {"a": 10.0, "b": 10.0}})
    assert shares[:2] == [0.5, 1.0] and all(np.isnan(shares[2:]))  # an imported claim is not an observation
    watched = m.time_on_task([20.0, 20.0, np.nan, np.nan], [10.0] * 4, shares)["watched"]
    assert watched["n"] == 2 and watched["median_share"] == 0.75 and watched["partial"]["k"] == 1


def test_stored_rationale_features_give_the_same_figures_as_reading_the_texts():
    from tasks.rating.answers import rationale_features
    frame = pairwise_panel(3)
    stored = frame.assign(features=[rationale_features(t) for t in frame["rationale"]])
    with_stored = {r["rater"]: r["rationale"] for r in qp.rater_rows(qp.build(stored, "pairwise", []), Thresholds())}
    read = {r["rater"]: r["rationale"] for r in qp.rater_rows(qp.build(frame, "pairwise", []), Thresholds())}
    assert with_stored == read
    assert rationale_features("at 0:12 the left one stutters")["moment"] is True
    assert rationale_features("Frame 40 ghosts") == rationale_features("frame 40   ghosts")  # stable hashes


@pytest.mark.parametrize("kind", ["pairwise", "rubric"])
def test_a_raters_own_figures_from_the_light_panel_equal_the_full_panels(kind):
    """A rater's home page builds the panel without the panel-wide fits and text features; the
    agreement and gold accuracy it shows are the manager's figures all the same."""
    frame, rubric = (pairwise_panel(1), []) if kind == "pairwise" else (rubric_panel(1), RUBRIC)
    full, light = qp.build(frame, kind, list(rubric)), qp.build(frame, kind, list(rubric), panel_models=False)
    assert full.mace and not light.mace and light.mace_fit["converged"] is None
    for rater in frame["rater"].unique():
        ours, theirs = (qp.rater_figures(p, rater, Thresholds()) for p in (light, full))
        assert (ours["agreement"], ours["gold"], ours["n"]) == (theirs["agreement"], theirs["gold"], theirs["n"])
