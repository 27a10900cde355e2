"""Speed of the statistics of issue 9 as ratios to their oracle libraries, in the same run:
irrCAC (Gwet's AC1/AC2, Brennan-Prediger, Fleiss with missing ratings), statsmodels (Cohen's
kappa SE), krippendorff (alpha from value counts), crowd-kit (Dawid-Skene with gold, one-coin,
MACE) and choix (Bradley-Terry with a Gaussian prior). Values are checked as they are timed."""

from __future__ import annotations

import warnings

import choix
import krippendorff
import numpy as np
import pandas as pd
from statsmodels.stats.inter_rater import cohens_kappa

from scoring.stats._kappa import cohen_kappa_details
from scoring.stats.agreement import alpha_from_counts, bootstrap_ci, krippendorff_bootstrap
from scoring.stats.chance import chance_corrected, count_table
from scoring.stats.consensus import dawid_skene
from scoring.stats.mace import mace
from scoring.stats.preferences import ELO_SCALE, bradley_terry
from scoring.stats.robustness import top_rank_robustness


def _row(rows, benchmark, ours_t, reference, ref_t, target, check):
    rows.append({"benchmark": benchmark, "ours_s": ours_t, "reference": reference, "reference_s": ref_t,
                 "ratio": ours_t / ref_t, "target": target, "check": check})


def bench_chance(rng, quick, rows, best_of, rubric_matrix):
    try:
        from irrCAC.raw import CAC
    except ImportError:  # installed by `make dev` with --no-deps
        print("  skipped: irrCAC not installed", flush=True)
        return
    n_units = 2_000 if quick else 20_000
    x = rubric_matrix(rng, 5, n_units, 0.2)
    cats = [1.0, 2.0, 3.0, 4.0, 5.0]
    frame = pd.DataFrame(x.T)
    for method, weights, call in (("gwet", "identity", "gwet"), ("gwet", "quadratic", "gwet"),
                                  ("fleiss", "identity", "fleiss"), ("brennan_prediger", "identity", "bp")):
        ours_t, ours = best_of(lambda m=method, w=weights: chance_corrected(count_table(x, cats), m, w, cats), 3)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ref_t, ref = best_of(lambda w=weights, c=call: getattr(CAC(frame, weights=w, categories=cats), c)(), 1)
        diff = abs(ours.coefficient - ref["est"]["coefficient_value"])
        assert diff < 6e-6 and abs(ours.se - ref["est"]["se"]) < 6e-6, (method, weights, ours, ref)
        _row(rows, f"{ours.name} ({weights}) with SE, {n_units:,} units x 5 raters, 20% missing", ours_t,
             f"irrCAC CAC.{call}", ref_t, "<= 1.0", f"|diff| = {diff:.1e} (irrCAC rounds to 5 digits)")


def bench_cohen(rng, quick, rows, best_of, rubric_matrix):
    n = 20_000 if quick else 200_000
    a = rng.integers(0, 5, n)
    b = np.where(rng.random(n) < 0.6, a, rng.integers(0, 5, n))
    ours_t, ours = best_of(lambda: cohen_kappa_details(a, b, "quadratic", labels=list(range(5))), 3)

    def reference():
        table = np.zeros((5, 5))
        np.add.at(table, (a, b), 1)
        return cohens_kappa(table, wt="quadratic", weights=np.arange(5))
    ref_t, ref = best_of(reference, 3)
    diff = abs(ours.se - ref.std_kappa)
    assert diff < 1e-12
    _row(rows, f"Cohen's kappa (quadratic) with SE, {n:,} pairs", ours_t,
         "confusion table + statsmodels cohens_kappa", ref_t, "<= 3 (ours reads labels)", f"|SE diff| = {diff:.1e}")


def bench_alpha_counts(rng, quick, rows, best_of, rubric_matrix):
    n_units = 20_000 if quick else 200_000
    x = rubric_matrix(rng, 5, n_units, 0.2)
    table = count_table(x, [1.0, 2.0, 3.0, 4.0, 5.0]) if quick else _counts(x)
    ours_t, ours = best_of(lambda: alpha_from_counts(table, [1, 2, 3, 4, 5], "ordinal"), 5)
    ref_t, ref = best_of(lambda: krippendorff.alpha(value_counts=table, value_domain=[1, 2, 3, 4, 5],
                                                    level_of_measurement="ordinal"), 3)
    diff = abs(ours.alpha - ref)
    assert diff < 1e-9
    _row(rows, f"alpha ordinal from value counts, {n_units:,} units x 5 values", ours_t,
         "krippendorff.alpha(value_counts=)", ref_t, "<= 1.0", f"|diff| = {diff:.1e}")
    pairs_t, ci = best_of(lambda: krippendorff_bootstrap(x, "ordinal", n_resamples=1000, seed=1), 3)
    unit_t, _ = best_of(lambda: bootstrap_ci(x, "alpha_ordinal", n_resamples=1000, seed=1), 3)
    _row(rows, f"Krippendorff's pair bootstrap, 1000 resamples, {n_units:,} units", pairs_t,
         "unit bootstrap (ours)", unit_t, "<= 2 (same order)", f"CI [{ci[0]:.4f}, {ci[1]:.4f}]")


def _counts(x):
    return np.stack([(x == v).sum(axis=0) for v in (1.0, 2.0, 3.0, 4.0, 5.0)], axis=1)


def _labels(rng, n_items, per_item=4, n_raters=50, k=3):
    truth = rng.integers(0, k, n_items)
    accuracy = rng.uniform(0.5, 0.95, n_raters)
    item = np.repeat(np.arange(n_items), per_item)
    rater = rng.integers(0, n_raters, item.shape[0])
    right = rng.random(item.shape[0]) < accuracy[rater]
    label = np.where(right, truth[item], (truth[item] + rng.integers(1, k, item.shape[0])) % k)
    return pd.DataFrame({"item": item, "rater": rater, "label": label}), truth


def bench_rater_models(rng, quick, rows, best_of, rubric_matrix):
    try:
        from crowdkit.aggregation import MACE, DawidSkene, OneCoinDawidSkene
    except ImportError:
        print("  skipped: crowd-kit not installed", flush=True)
        return
    n_items = 2_000 if quick else 20_000
    frame, truth = _labels(rng, n_items)
    ck = frame.rename(columns={"item": "task", "rater": "worker"})
    gold = pd.Series(truth[: n_items // 10], index=np.arange(n_items // 10))
    cases = (
        ("Dawid-Skene semi-supervised (10% gold)",
         lambda: dawid_skene(frame, gold=gold),
         lambda: DawidSkene(n_iter=500, tol=1e-10).fit(ck, true_labels=gold), "crowd-kit DawidSkene(true_labels=)"),
        ("one-coin Dawid-Skene", lambda: dawid_skene(frame, model="one_coin"),
         lambda: OneCoinDawidSkene(n_iter=500, tol=1e-10).fit(ck), "crowd-kit OneCoinDawidSkene"),
        ("MACE (EM)", lambda: mace(frame), lambda: MACE(method="em", n_iter=50, n_restarts=1).fit(ck),
         "crowd-kit MACE(em, 1 restart, 50 iterations)"),
    )
    for name, ours_fn, ref_fn, ref_name in cases:
        ours_t, ours = best_of(ours_fn, 2)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ref_t, ref = best_of(ref_fn, 1)
        acc = float((ours.items["label"].to_numpy() == truth).mean())
        ref_acc = float((ref.labels_.sort_index().to_numpy() == truth).mean())
        _row(rows, f"{name}, {len(frame):,} labels", ours_t, ref_name, ref_t, "<= 1.0",
             f"{ours.n_iter} iterations, converged={ours.converged}; accuracy {acc:.3f} vs {ref_acc:.3f}")


def bench_ranking(rng, quick, rows, best_of, comparisons_frame):
    n_rows = 20_000 if quick else 100_000  # choix's optimiser loops over every comparison in Python
    frame = comparisons_frame(rng, n_rows, 20, tie_rate=0.0)
    sd = 1.0
    ours_t, board = best_of(lambda: bradley_terry(frame, prior_sd=sd), 3)

    def reference():
        codes, models = pd.factorize(np.concatenate([frame["model_a"], frame["model_b"]]))
        a, b = codes[:n_rows], codes[n_rows:]
        won = frame["winner"].to_numpy() == "a"
        data = list(zip(np.where(won, a, b).tolist(), np.where(won, b, a).tolist()))
        return dict(zip(models, choix.opt_pairwise(len(models), data, alpha=1.0 / (2 * sd * sd))))
    ref_t, ref = best_of(reference, 1)
    theta = (board["score"].to_numpy() - 1000.0) / ELO_SCALE
    centre = np.mean(list(ref.values()))
    diff = max(abs(t - (ref[m] - centre)) for m, t in zip(board["model"], theta))
    assert diff < 1e-4, diff  # choix's Newton-CG stops at its own tolerance (1e-5 on the gradient)
    _row(rows, f"Bradley-Terry with Gaussian prior, {n_rows:,} comparisons, 20 models", ours_t,
         "choix.opt_pairwise(alpha=1/(2 sd^2))", ref_t, "<= 1.0", f"max |theta diff| = {diff:.1e}")
    rob_t, rob = best_of(lambda: top_rank_robustness(frame), 1)
    _row(rows, f"top-rank robustness, {n_rows:,} comparisons, 20 models", rob_t,
         "one Bradley-Terry fit (ours)", ours_t, "seconds",
         f"top {rob.top}: {rob.n_removed} removals to flip (budget {rob.max_removals}), fragile={rob.fragile}")


BENCHES = (bench_chance, bench_cohen, bench_alpha_counts, bench_rater_models)  # then bench_ranking
