"""A project's statistics report from its frames (pure: frames in, a JSON-able dict out).

``build_report(frames)`` returns::

    {"version", "kind", "settings": {n_resamples, confidence, seed},
     "counts": {judgments, imported, live, raters, items, gold_judgments_excluded,
                same_model_excluded, adjudicated_items},
     "agreement": [one row per criterion, see ``agreement_row``],
     "leaderboard": {models: [...], n_comparisons, ties, ..., undefined_reason, warnings},
     "criteria": per-criterion agreement and leaderboards (``scoring.reports.criteria``),
     "win_rates": {models, matrix, counts},
     "models": rubric model comparison (``scoring.reports.comparison``),
     "consensus": {criteria, columns, rows, dawid_skene},
     "rules": the small-sample thresholds and method names of ``scoring.reports.explain``}

Undefined statistics are ``None`` with a reason beside them, never NaN (JSON has no NaN).
The consensus is columnar (``columns`` names each position of a row) so that a project with
many items stays compact; ``consensus_records`` expands rows into dicts.

Final label of an item on a criterion: the adjudicated decision when there is one (``source``
``adjudication``), else the majority label (``majority``; ``single`` when one judgment is all
there is, with no share: one judgment shows no agreement), else, when the majority is tied, the
Dawid-Skene label (``dawid_skene``). ``posterior`` is the Dawid-Skene posterior probability of
that final label (``ds_posterior`` the one of Dawid-Skene's own label); ``share`` is the
majority share of the item's panel (its agreement).
"""
from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd

from scoring.reports import explain
from scoring.reports import frames as fr
from scoring.reports.comparison import model_comparison
from scoring.reports.criteria import criteria_section
from scoring.stats.agreement import (
    alpha_details_from_counts, bootstrap_ci_from_counts, krippendorff_bootstrap_from_counts,
    percent_agreement_from_counts,
)
from scoring.stats.chance import chance_corrected
from scoring.stats._kappa import cohen_kappa_details
from scoring.stats.consensus import dawid_skene, majority_vote
from scoring.stats.preferences import bootstrap_leaderboard
from scoring.stats.robustness import top_rank_robustness
from scoring.stats import _bt

REPORT_VERSION = 5  # 3: Dawid-Skene reports its final change; 4: per-criterion comparisons (``criteria``);
# 5: Dawid-Skene over distinct profiles, its estimates kept for the next snapshot's warm start
DS_MAX_ITER = 5000  # Dawid-Skene runs to convergence (tolerance DS_TOL); not converging is reported
DS_TOL = 1e-6
BASE_COLUMNS = ("item_id", "external_id", "model_a", "model_b", "n_judgments", "n_imported", "adjudicated")
CRITERION_COLUMNS = ("label", "source", "posterior", "majority", "share", "tied", "ds_label", "ds_posterior",
                     "adjudicated_label", "n_labels", "votes")


def build_report(frames: fr.ProjectFrames, *, n_resamples: int = 1000, confidence: float = 0.95,
                 seed: int = 0, ds_starts: dict | None = None) -> dict:
    """The report (module docstring). ``ds_starts``: per criterion, earlier Dawid-Skene estimates
    to warm-start from (:func:`ds_starts` of the previous snapshot's consensus header)."""
    comparisons, same_model = (frames.comparisons, frames.same_model) if frames.comparisons is not None \
        else fr.comparisons(frames)
    board = leaderboard(comparisons, n_resamples=n_resamples, confidence=confidence, seed=seed)
    section = consensus(frames, ds_starts)
    if frames.kind != "pairwise":
        board["undefined_reason"] = "a rubric project rates one output per item: there are no comparisons"
    agreement = [agreement_row(c, fr.agreement_data(frames, c), n_resamples=n_resamples,
                               confidence=confidence, seed=seed) for c in frames.criteria]
    report = {
        "version": REPORT_VERSION,
        "kind": frames.kind,
        "settings": {"n_resamples": n_resamples, "confidence": confidence, "seed": seed},
        "counts": counts(frames, same_model),
        "agreement": agreement,
        "leaderboard": board,
        "criteria": criteria_section(
            frames, agreement, lambda c: leaderboard(c, n_resamples=n_resamples, confidence=confidence, seed=seed),
            descriptions=frames.criterion_descriptions),
        "win_rates": win_rates(comparisons, [m["model"] for m in board["models"]]),
        "models": model_comparison(frames, n_resamples=n_resamples, confidence=confidence, seed=seed),
        "consensus": {**section, "rows": []},
        "dawid_skene": {key: {k: v for k, v in summary.items() if k not in _DS_START_KEYS}
                        for key, summary in section["dawid_skene"].items()},
        "rules": {"min_units": explain.MIN_UNITS, "edge_share": explain.EDGE_SHARE,
                  "min_comparisons": explain.MIN_COMPARISONS, "min_items": explain.MIN_ITEMS,
                  "min_prompts": explain.MIN_PROMPTS, "methods": explain.METHODS},
    }
    report = clean(report)
    report["consensus"]["rows"] = section["rows"]  # plain already (``_plain_column``), one per item
    return report


def counts(frames: fr.ProjectFrames, same_model: int) -> dict:
    j = frames.judgments
    imported = int((j["source"] == "imported").sum()) if len(j) else 0
    return {"judgments": len(j), "imported": imported, "live": len(j) - imported,
            "raters": int(j["rater"].nunique()) if len(j) else 0,
            "raters_on_shared_items": _raters_on_shared_items(j), "items": len(frames.items),
            "gold_judgments_excluded": frames.n_gold_judgments, "same_model_excluded": same_model,
            "adjudicated_items": sum(1 for i in frames.adjudications if i in frames.items.index)}


def _raters_on_shared_items(j: pd.DataFrame) -> int:
    """Raters with a judgment on an item that two or more raters judged (the agreement tables' raters)."""
    if not len(j):
        return 0
    shared = j.groupby("item")["rater"].transform("nunique") >= 2
    return int(j.loc[shared, "rater"].nunique())


# -- agreement --------------------------------------------------------------------------------

def agreement_row(criterion: fr.Criterion, data: fr.AgreementData, *, n_resamples: int = 1000,
                  confidence: float = 0.95, seed: int = 0) -> dict:
    """Every agreement statistic of one criterion (from its per-unit value counts), each with its
    sample size, its method and, where the documented rules say so, a warning."""
    details = alpha_details_from_counts(data.counts, criterion.level)
    ci, ci_note, pairs_ci = (None, None), None, (None, None)
    if details.reason is None:
        low, high = bootstrap_ci_from_counts(data.counts, f"alpha_{criterion.level}", n_resamples=n_resamples,
                                             confidence=confidence, seed=seed)
        if math.isnan(low):
            ci_note = "too few resamples where alpha is defined (too few units to resample)"
        else:
            ci = (low, high)
        pairs_ci = krippendorff_bootstrap_from_counts(data.counts, criterion.level, n_resamples=n_resamples,
                                                      confidence=confidence, seed=seed)
    table = data.table.astype(np.float64) if data.n_units else np.zeros((0, len(criterion.categories)))
    coefficients = {method: _coefficient(table, criterion, method, confidence)
                    for method in ("fleiss", "gwet", "brennan_prediger")}
    fleiss = coefficients["fleiss"]
    cohen, weights, cohen_note = _cohen(criterion, data.pair, data.n_raters, confidence)
    row = {
        "criterion": criterion.key, "label": criterion.label, "level": criterion.level,
        "alpha": details.alpha, "alpha_ci": list(ci), "alpha_ci_note": ci_note,
        "alpha_ci_method": "units", "alpha_ci_pairs": list(pairs_ci),
        "undefined_reason": details.reason,
        "n_units": details.n_units, "n_pairable_values": details.n_pairable_values, "n_raters": data.n_raters,
        "observed_disagreement": details.observed_disagreement,
        "expected_disagreement": details.expected_disagreement,
        "percent_agreement": percent_agreement_from_counts(data.counts) if data.n_units else math.nan,
        "fleiss_kappa": fleiss["value"], "fleiss_note": fleiss["note"],
        "cohen_kappa": cohen["value"] if cohen else None, "cohen_weights": weights, "cohen_note": cohen_note,
        "cohen": cohen, "coefficients": coefficients,
    }
    row["warnings"] = explain.agreement_warnings(row)
    return row


def _coefficient(table: np.ndarray, criterion: fr.Criterion, method: str, confidence: float) -> dict:
    weights = "identity" if criterion.level == "nominal" else "quadratic"
    result = chance_corrected(table, method, weights, [criterion.code(c) for c in criterion.categories],
                              confidence=confidence)
    note = result.reason
    if note is None and math.isnan(result.coefficient):
        note = "undefined"
    return {"name": result.name, "value": None if note else result.coefficient, "se": result.se,
            "ci": list(result.ci), "weights": weights, "n_units": result.n_pairable_units,
            "observed": result.observed, "chance": result.chance,
            "note": note and ("undefined: every rating falls in one category (no chance disagreement)"
                              if note == "chance agreement is 1" else note),
            "warnings": [w for w in (explain.few(result.n_pairable_units, explain.MIN_UNITS, "units")
                                     if result.n_pairable_units else None,) if w]}


def category_codes(criterion: fr.Criterion) -> list[float]:
    return [criterion.code(c) for c in criterion.categories]


def _cohen(criterion: fr.Criterion, pair: np.ndarray | None, n_raters: int, confidence: float):
    weights = None if criterion.level == "nominal" else "quadratic"
    if n_raters != 2 or pair is None:
        return None, weights, f"needs exactly two raters (there are {n_raters})"
    both = ~np.isnan(pair).any(axis=0)
    if not both.any():
        return None, weights, "the two raters share no unit"
    result = cohen_kappa_details(pair[0, both], pair[1, both], weights=weights,
                                 labels=category_codes(criterion), confidence=confidence)
    if math.isnan(result.kappa):
        return None, weights, "undefined: both raters used one and the same category"
    return {"value": result.kappa, "se": result.se, "ci": list(result.ci), "n_units": result.n,
            "weights": weights}, weights, None


# -- leaderboard --------------------------------------------------------------------------------

def leaderboard(comparisons: pd.DataFrame, *, n_resamples: int = 1000, confidence: float = 0.95,
                seed: int = 0) -> dict:
    """Bradley-Terry scores (Elo-like scale, mean 1000) with percentile bootstrap intervals."""
    n_comparisons = int(comparisons["count"].sum()) if "count" in comparisons else len(comparisons)
    base = {"models": [], "n_comparisons": n_comparisons, "ties": "half", "n_resamples": n_resamples,
            "confidence": confidence, "warnings": [], "undefined_reason": None}
    if comparisons.empty:
        return {**base, "undefined_reason": "no pairwise judgments of two different models yet"}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        board = bootstrap_leaderboard(comparisons, n_resamples=n_resamples, seed=seed, ties="half",
                                      confidence=confidence, on_disconnected="warn")
    models = [{"rank": rank, **{k: _plain(v) for k, v in row.items()}}
              for rank, row in enumerate(board.to_dict("records"), start=1)]
    for m in models:
        m["warnings"] = [w for w in (explain.few(m["n_comparisons"], explain.MIN_COMPARISONS, "comparisons"),) if w]
    robustness = None
    if len(models) >= 2:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            robustness = top_rank_robustness(comparisons).as_dict()
    return {**base, "models": models, "warnings": sorted({str(w.message) for w in caught}),
            "n_iter": board.attrs.get("n_iter"), "n_valid_resamples": board.attrs.get("n_valid_resamples"),
            "robustness": robustness, "method": explain.METHODS["leaderboard"],
            "robustness_method": explain.METHODS["robustness"]}


def win_rates(comparisons: pd.DataFrame, order: list) -> dict:
    """``matrix[i][j]``: share of comparisons of model i with model j that i won (a tie counts
    half), None where the two were never compared; ``counts[i][j]``: how many comparisons."""
    if comparisons.empty:
        return {"models": [], "matrix": [], "counts": []}
    agg = _bt.aggregate(comparisons)
    wins = _bt.win_matrix(agg.cells, "half")
    total = wins + wins.T
    position = {m: i for i, m in enumerate(agg.models)}
    index = [position[m] for m in order]
    wins, total = wins[np.ix_(index, index)], total[np.ix_(index, index)]
    rate = np.full(wins.shape, np.nan)
    np.divide(wins, total, out=rate, where=total > 0)
    return {"models": list(order), "matrix": rate.tolist(), "counts": total.astype(int).tolist()}


# -- consensus --------------------------------------------------------------------------------

def consensus(frames: fr.ProjectFrames, ds_starts: dict | None = None) -> dict:
    criteria = [c for c in frames.criteria if c.consensus]
    items = frames.items
    j = frames.judgments
    per_item = pd.DataFrame({"n_judgments": j.groupby("item").size(),
                             "n_imported": (j["source"] == "imported").groupby(j["item"]).sum()})
    per_item = per_item.reindex(items.index, fill_value=0).astype(np.int64)
    columns = list(BASE_COLUMNS)
    table = pd.DataFrame({
        "item_id": items.index.to_numpy(), "external_id": items["external_id"].to_numpy(dtype=object),
        "model_a": items["model_a"].to_numpy(dtype=object), "model_b": items["model_b"].to_numpy(dtype=object),
        "n_judgments": per_item["n_judgments"].to_numpy(), "n_imported": per_item["n_imported"].to_numpy(),
        "adjudicated": [i in frames.adjudications for i in items.index]}, index=items.index)
    summaries = {}
    for criterion in criteria:
        block, summary = _criterion_consensus(frames, criterion, (ds_starts or {}).get(criterion.key))
        block = block.reindex(items.index)
        for name in CRITERION_COLUMNS:
            table[f"{criterion.key}.{name}"] = block[name].to_numpy()  # numbers stay numeric: plain at C speed
            columns.append(f"{criterion.key}.{name}")
        summaries[criterion.key] = summary
    rows = [list(row) for row in zip(*(_plain_column(table[name]) for name in columns))]
    return {"criteria": [c.key for c in criteria], "columns": columns, "rows": rows, "dawid_skene": summaries}


def _plain_column(column: pd.Series) -> list:
    """A column as plain JSON values (what :func:`clean` makes of each), a column at a time."""
    values = column.to_numpy()
    if values.dtype.kind in "biu":
        return values.tolist()
    if values.dtype.kind == "f":
        return [None if not math.isfinite(v) else v for v in values.tolist()]
    return [v if type(v) in _PLAIN else None if v is None or v != v else clean(v) for v in values.tolist()]


_PLAIN = (str, int, bool)  # JSON values as they are (a float may be NaN or inf: ``clean`` decides)


def _criterion_consensus(frames: fr.ProjectFrames, criterion: fr.Criterion, start: dict | None = None):
    long = fr.labels(frames, criterion)
    empty = pd.DataFrame(columns=list(CRITERION_COLUMNS), dtype=object)
    if long.empty:
        return empty, {"n_iter": 0, "converged": True, "final_change": None, "raters": [], "max_iter": DS_MAX_ITER,
                       "tol": DS_TOL, "n_profiles": 0, "started_from": None}
    present = set(pd.unique(long["label"]))
    classes = [c for c in criterion.categories if c in present]
    votes = majority_vote(long, classes=classes).set_index("item")
    ds = dawid_skene(long, classes=classes, n_iter=DS_MAX_ITER, tol=DS_TOL, accelerate=True, start=start)
    estimate = ds.items.set_index("item")
    single = votes["n_labels"] == 1
    block = pd.DataFrame({
        "majority": votes["label"].astype(object), "share": votes["share"].where(~single), "tied": votes["tied"],
        "ds_posterior": estimate["probability"], "ds_label": estimate["label"].astype(object),
        "n_labels": votes["n_labels"], "votes": votes["votes"]})
    adjudicated = pd.Series({item: labels.get(criterion.key) for item, labels in frames.adjudications.items()},
                            dtype=object).reindex(block.index)
    block["adjudicated_label"] = adjudicated
    has_adj = adjudicated.notna().to_numpy()
    tied = block["tied"].to_numpy(dtype=bool)
    final = np.where(has_adj, adjudicated.to_numpy(dtype=object),
                     np.where(tied, block["ds_label"].to_numpy(dtype=object), block["majority"].to_numpy(dtype=object)))
    block["label"] = final
    block["source"] = np.where(has_adj, "adjudication", np.where(
        tied, "dawid_skene", np.where(single.to_numpy(), "single", "majority")))
    posterior = ds.posterior.reindex(block.index)
    column = posterior.columns.get_indexer(pd.Index(final, dtype=object))
    values = np.full(len(block), np.nan)
    known = column >= 0
    values[known] = posterior.to_numpy()[np.flatnonzero(known), column[known]]
    block["posterior"] = values
    raters = [{"rater": _plain(r.rater), "n_labels": int(r.n_labels), "accuracy": float(r.accuracy),
               "confusion": confusion.tolist()} for r, confusion in zip(ds.raters.itertuples(), ds.confusion)]
    return block, {"n_iter": ds.n_iter, "converged": ds.converged, "final_change": ds.final_change, "raters": raters,
                   "log_likelihood": ds.log_likelihood, "max_iter": DS_MAX_ITER, "tol": DS_TOL,
                   "n_profiles": ds.n_profiles, "started_from": "previous snapshot" if ds.start_used else "majority vote",
                   "classes": [_plain(c) for c in ds.posterior.columns], "class_priors": ds.class_priors.tolist()}


_DS_START_KEYS = ("raters", "classes", "class_priors")  # kept in the consensus header, not in the report


def ds_starts(consensus_header: dict | None) -> dict:
    """Per criterion, the Dawid-Skene estimates a snapshot's consensus header kept (classes, class
    priors, each rater's confusion), as ``dawid_skene(start=...)`` takes them; empty for snapshots
    that kept none."""
    starts = {}
    for key, summary in ((consensus_header or {}).get("dawid_skene") or {}).items():
        confusion = {r["rater"]: r["confusion"] for r in summary.get("raters") or [] if r.get("confusion")}
        if confusion and summary.get("classes"):
            starts[key] = {"classes": summary["classes"], "class_priors": summary.get("class_priors"),
                           "confusion": confusion}
    return starts


CONSENSUS_FILTERS = ("all", "contested", "adjudicated", "imported")


def select_rows(consensus_section: dict, show: str = "all", agreement_target: float = 0.67) -> list[list]:
    """Consensus rows to list: ``all``; ``contested`` (on some criterion the majority is tied or
    its share is below the project's agreement target, at the setting's two-decimal precision);
    ``adjudicated``; ``imported`` (items with imported judgments)."""
    columns = {name: i for i, name in enumerate(consensus_section["columns"])}
    rows = consensus_section["rows"]
    if show == "adjudicated":
        return [r for r in rows if r[columns["adjudicated"]]]
    if show == "imported":
        return [r for r in rows if r[columns["n_imported"]]]
    if show == "contested":
        checks = [(columns[f"{k}.tied"], columns[f"{k}.share"]) for k in consensus_section["criteria"]]
        return [r for r in rows if any(r[t] or (r[s] is not None and r[s] < agreement_target - 0.005)
                                       for t, s in checks)]
    return rows


def consensus_records(consensus_section: dict, rows: list[list]) -> list[dict]:
    """Rows of the columnar consensus as ``{item_id, …, labels: {criterion: {…}}}`` dicts."""
    columns = consensus_section["columns"]
    out = []
    for row in rows:
        record = dict(zip(columns, row))
        item = {name: record[name] for name in BASE_COLUMNS}
        item["labels"] = {key: {name: record[f"{key}.{name}"] for name in CRITERION_COLUMNS}
                          for key in consensus_section["criteria"]}
        out.append(item)
    return out


# -- JSON -------------------------------------------------------------------------------------

def _plain(value):
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        return None if math.isnan(value) else float(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value


def clean(obj):
    """The report as plain JSON values: numpy scalars unwrapped, NaN and inf as None."""
    if isinstance(obj, dict):
        return {str(k): clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [clean(v) for v in obj]
    value = _plain(obj)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
