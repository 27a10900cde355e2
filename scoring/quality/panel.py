"""Every quality figure for every rater of a project (pure pandas; no Flask, no database).

Input, as :mod:`scoring.quality.data` loads it (or a test builds it): one row per *current*
judgment with ``judgment``, ``item``, ``rater``, ``source``, ``created_at`` (UTC), ``choice``
(``a``/``b``/``tie``, pairwise) or ``scores`` (dict, rubric), ``rationale``, ``notes`` (count),
``time_s`` (server-measured seconds on task; NaN when imported), optionally ``watched`` (the
share of the media the server observed played; NaN when unknown), ``media_s`` (seconds the media
lasts: the longer of two clips, the sum of two scripts' reading times), ``left_label`` (item label
shown on the left; None when imported or rubric), optionally ``features`` (the rationale's
stored ``tasks.rating.answers.rationale_features``), ``is_gold``, ``gold_correct`` (gold items: did
the answer match; else None), ``model_a``, ``model_b``.

Gold items measure raters: they feed gold accuracy only. Agreement, position, ties,
straight-lining and anomalies use the regular items.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from scoring.quality import measures as m
from scoring.quality.agreement import (SURPRISE_COLUMNS, dawid_skene_accuracy, kappa_against, loo_consensus,
                                       mace_competence, vote_surprise)
from scoring.quality.thresholds import Thresholds, flags

CHOICES = ("a", "b", "tie")
COLUMNS = ("judgment", "item", "rater", "source", "created_at", "choice", "scores", "rationale", "notes",
           "time_s", "media_s", "left_label", "is_gold", "gold_correct", "model_a", "model_b")


def empty_frame() -> pd.DataFrame:
    frame = pd.DataFrame({c: pd.Series(dtype=object) for c in COLUMNS})
    frame["created_at"] = pd.Series(dtype="datetime64[ns, UTC]")
    return frame


@dataclass(frozen=True)
class Panel:
    """The judgments with per-judgment facts added, and what the whole panel did."""

    frame: pd.DataFrame  # COLUMNS + time_ratio, chose_left, agrees, and (rubric) one column per criterion
    kind: str
    criteria: tuple  # rubric: (key, min, max) per criterion
    tie_share: float | None  # pairwise, regular items
    score_variance: float | None  # rubric, regular items
    ds_accuracy: dict  # rater -> Dawid–Skene accuracy
    mace: dict  # rater -> MACE competence
    anomalies: pd.DataFrame  # vote_surprise per rater
    tie_counts: tuple = ({}, {})  # pairwise: (rater -> ties, rater -> choices) on regular items
    columns: dict | None = None  # the frame as arrays, rater-sorted, with ``slices`` per rater
    mace_fit: dict | None = None  # MACE's EM: iterations and whether it converged (rubric: over criteria)
    ds_fit: dict | None = None  # Dawid–Skene's EM, the same


def build(frame: pd.DataFrame, kind: str, rubric: list[dict], *, panel_models: bool = True) -> Panel:
    """Every figure of every rater. ``panel_models=False`` leaves out what only the manager's pages
    show -- the panel-wide fits (Dawid–Skene, MACE), vote surprise and the rationale text features
    -- for a rater's own agreement and gold accuracy (their home page)."""
    f = frame.copy()
    f["time_s"] = pd.to_numeric(f["time_s"], errors="coerce").astype(float)
    f["media_s"] = pd.to_numeric(f["media_s"], errors="coerce").astype(float)
    f["time_ratio"] = f["time_s"] / f["media_s"].where(f["media_s"] > 0)
    f["watched"] = pd.to_numeric(f["watched"], errors="coerce").astype(float) if "watched" in f else np.nan
    f["is_gold"] = f["is_gold"].astype(bool)
    regular = ~f["is_gold"]
    criteria = tuple((c["key"], int(c["min"]), int(c["max"])) for c in rubric) if kind == "rubric" else ()
    tie_share = variance = None
    tie_counts: tuple = ({}, {})
    ds: dict = {}
    competence: dict = {}
    fits: list[dict] = []  # MACE's fits (one per criterion of a rubric), then Dawid–Skene's
    ds_fits: list[dict] = []
    anomalies = vote_surprise(f.loc[regular, ["rater", "model_a", "model_b", "choice"]]) \
        if kind == "pairwise" and panel_models else pd.DataFrame(columns=list(SURPRISE_COLUMNS))
    f["agrees"] = np.nan
    if kind == "pairwise":
        side_known = f["left_label"].isin(["a", "b"]) & f["choice"].isin(["a", "b"])
        f["chose_left"] = np.where(side_known, f["choice"] == f["left_label"], np.nan)
        labels = f.loc[regular & f["choice"].notna(), ["item", "rater", "choice"]].rename(columns={"choice": "label"})
        consensus = loo_consensus(labels, CHOICES, ordinal=False)
        f["consensus"] = pd.Series(consensus, index=labels.index, dtype=object)
        has = f["consensus"].notna()
        f.loc[has, "agrees"] = (f.loc[has, "choice"] == f.loc[has, "consensus"]).astype(float)
        tie_share = float((labels["label"] == "tie").mean()) if len(labels) else None
        tie_counts = ((labels["label"] == "tie").groupby(labels["rater"]).sum().to_dict(),
                      labels.groupby("rater").size().to_dict())
        if panel_models:
            ds, fit = dawid_skene_accuracy(labels, CHOICES)
            ds_fits.append(fit)
            competence, fit = mace_competence(labels, CHOICES)
            fits.append(fit)
    else:
        f["chose_left"] = np.nan
        matches = []
        for key, _, _ in criteria:
            f[key] = [s.get(key) if isinstance(s, dict) else None for s in f["scores"]]
            f[key] = pd.to_numeric(f[key], errors="coerce")
        variance = m.criterion_variance(f.loc[regular, [k for k, _, _ in criteria]].to_numpy(dtype=float))
        for key, low, high in criteria:
            rows = f.loc[regular & f[key].notna(), ["item", "rater", key]].rename(columns={key: "label"})
            rows["label"] = rows["label"].astype(int)
            consensus = loo_consensus(rows, range(low, high + 1), ordinal=True)
            f[f"consensus:{key}"] = pd.Series(consensus, index=rows.index, dtype=object)
            has = f[f"consensus:{key}"].notna()
            matches.append((f.loc[has, key] == f.loc[has, f"consensus:{key}"].astype(float)).reindex(f.index))
            if not panel_models:
                continue
            accuracy, fit = dawid_skene_accuracy(rows, range(low, high + 1))
            ds_fits.append(fit)
            for rater, acc in accuracy.items():
                ds.setdefault(rater, []).append(acc)
            values, fit = mace_competence(rows, range(low, high + 1))
            fits.append(fit)
            for rater, value in values.items():
                competence.setdefault(rater, []).append(value)
        ds = {r: float(np.mean(v)) for r, v in ds.items()}
        competence = {r: float(np.mean(v)) for r, v in competence.items()}
        if matches:
            f["agrees"] = pd.concat(matches, axis=1).astype(float).mean(axis=1)
    f = f.sort_values(["rater", "created_at", "judgment"], kind="stable")
    if panel_models:
        f["words"], f["near_duplicate"], f["specific"] = m.text_features(
            f["rationale"], f["rater"], criterion_words(rubric), f["features"] if "features" in f else None)
    else:
        f["words"], f["near_duplicate"], f["specific"] = np.nan, False, False
    columns = _columns(f, criteria)
    columns["anomalies"] = {r["rater"]: r for r in anomalies.to_dict("records")}
    mace_fit, ds_fit = _fit_summary(fits), _fit_summary(ds_fits)
    return Panel(f, kind, criteria, tie_share, variance, ds, competence, anomalies, tie_counts, columns, mace_fit, ds_fit)


def _fit_summary(fits: list[dict]) -> dict:
    """EM fits (one per criterion) as one: the most iterations, converged when every one did
    (None when none ran)."""
    fitted = [x for x in fits if x["converged"] is not None]
    return {"iterations": max((x["iterations"] for x in fitted), default=0),
            "converged": all(x["converged"] for x in fitted) if fitted else None}


def criterion_words(rubric: list[dict]) -> tuple[str, ...]:
    """Words naming the rubric's criteria (longer than three letters), for "names a criterion"."""
    found = set()
    for c in rubric or []:
        text = f"{c.get('label', '')} {c.get('key', '')}".replace("_", " ").lower()
        found.update(w for w in text.split() if len(w) > 3)
    return tuple(sorted(found))


def _columns(f: pd.DataFrame, criteria) -> dict:
    """The frame as numpy arrays (rater-sorted) and each rater's slice of them."""
    gold_correct = np.array([np.nan if g is None or g != g else float(g) for g in f["gold_correct"]])
    cols = {"is_gold": f["is_gold"].to_numpy(bool), "gold_correct": gold_correct,
            "choice": f["choice"].to_numpy(object), "chose_left": f["chose_left"].to_numpy(float),
            "time_s": f["time_s"].to_numpy(float), "media_s": f["media_s"].to_numpy(float),
            "watched": f["watched"].to_numpy(float),
            "rationale": f["rationale"].to_numpy(object), "notes": f["notes"].to_numpy(float),
            "source": f["source"].to_numpy(object), "created_at": pd.to_datetime(f["created_at"], utc=True).dt.tz_localize(None).to_numpy(),
            "words": f["words"].to_numpy(), "near_duplicate": f["near_duplicate"].to_numpy(bool),
            "specific": f["specific"].to_numpy(bool)}
    if "consensus" in f:
        cols["consensus"] = f["consensus"].to_numpy(object)
    for key, _, _ in criteria:
        cols[key] = f[key].to_numpy(float)
        cols[f"consensus:{key}"] = f[f"consensus:{key}"].to_numpy(object)
    raters, starts = np.unique(f["rater"].to_numpy(), return_index=True)
    ends = np.append(starts[1:], len(f))
    cols["slices"] = {r: slice(int(a), int(b)) for r, a, b in zip(raters.tolist(), starts, ends)}
    return cols


def _agreement(panel: Panel, a: dict) -> dict:
    regular = ~a["is_gold"]
    if panel.kind == "pairwise":
        picked = regular & (a["choice"] != None)  # noqa: E711  (object array: elementwise)
        return kappa_against(a["choice"][picked], a["consensus"][picked], CHOICES, ordinal=False)
    parts = []
    for key, low, high in panel.criteria:
        picked = regular & np.isfinite(a[key])
        own = a[key][picked].astype(int).astype(object)
        part = kappa_against(own, a[f"consensus:{key}"][picked], range(low, high + 1), ordinal=True)
        parts.append(part | {"criterion": key})
    defined = [p for p in parts if p["kappa"] is not None]
    n = max((p["n"] for p in parts), default=0)
    if not defined:
        return {"n": n, "kappa": None, "ci": [None, None], "agreement": None, "weights": "quadratic",
                "criteria": parts}
    weights = np.array([p["n"] for p in defined], dtype=float)
    mean = lambda values: float(np.average(values, weights=weights))  # noqa: E731
    return {"n": n, "kappa": mean([p["kappa"] for p in defined]),
            "ci": [mean([p["ci"][0] for p in defined]), mean([p["ci"][1] for p in defined])],
            "agreement": mean([p["agreement"] for p in defined]), "weights": "quadratic", "criteria": parts}


def rater_figures(panel: Panel, rater, thresholds: Thresholds) -> dict:
    """One rater's figures and flags."""
    cols = panel.columns
    sl = cols["slices"][rater]
    a = {k: v[sl] for k, v in cols.items() if k not in ("slices", "anomalies")}
    regular = ~a["is_gold"]
    gold = a["gold_correct"][a["is_gold"] & np.isfinite(a["gold_correct"])]
    anomaly = cols["anomalies"].get(rater)
    if panel.kind == "pairwise":
        chosen = regular & (a["choice"] != None)  # noqa: E711
        sided = chosen & np.isfinite(a["chose_left"])
        position = m.position_bias(a["chose_left"][sided] > 0.5)
        ties = m.tie_rate(a["choice"][chosen] == "tie", _rest_share(panel, rater))
        line = m.straight_lining(np.zeros((0, 0)), None)
    else:
        position = m.position_bias([])
        ties = m.tie_rate([], None)
        scores = np.column_stack([a[k][regular] for k, _, _ in panel.criteria]) if panel.criteria else np.zeros((0, 0))
        line = m.straight_lining(scores, panel.score_variance)
    row = {
        "rater": rater, "n": int(sl.stop - sl.start), "n_live": int((a["source"] == "live").sum()),
        "n_imported": int((a["source"] == "imported").sum()),
        "first_at": pd.Timestamp(a["created_at"].min(), tz="UTC"), "last_at": pd.Timestamp(a["created_at"].max(), tz="UTC"),
        "time": m.time_on_task(a["time_s"], a["media_s"], a["watched"]),
        "gold": m.gold_accuracy(gold > 0.5),
        "agreement": _agreement(panel, a),
        "dawid_skene": {"n": int(regular.sum()), "accuracy": panel.ds_accuracy.get(rater)},
        "mace": {"n": int(regular.sum()), "competence": panel.mace.get(rater)},
        "position": position, "ties": ties, "straight_lining": line,
        "rationale": m.rationale_effort(notes=a["notes"], features=(a["words"], a["near_duplicate"], a["specific"])),
        "anomaly": {"n": int(anomaly["n"]), "p_value": float(anomaly["p_value"]),
                    "share_surprising": float(anomaly["share_surprising"])} if anomaly
        else {"n": 0, "p_value": None, "share_surprising": None},
    }
    row["flags"] = flags(row, thresholds)
    return row


def _rest_share(panel: Panel, rater) -> float | None:
    """The tie share of every other rater's regular choices."""
    ties, n = panel.tie_counts
    own_ties, own_n = ties.get(rater, 0), n.get(rater, 0)
    rest = sum(n.values()) - own_n
    return (sum(ties.values()) - own_ties) / rest if rest else None


def rater_rows(panel: Panel, thresholds: Thresholds) -> list[dict]:
    """Every rater's figures and flags, by rater id."""
    return [rater_figures(panel, rater, thresholds) for rater in panel.columns["slices"]]


def weekly(panel: Panel, rater) -> list[dict]:
    """Drift: the rater's figures week by week (ISO weeks starting Monday, UTC)."""
    rows = panel.frame[panel.frame["rater"] == rater]
    if rows.empty:
        return []
    rows = rows.assign(week=m.week_start(rows["created_at"].dt.tz_convert(None).to_numpy()))
    out = []
    for week, g in rows.groupby("week", sort=True):
        regular = g[~g["is_gold"]]
        gold = g[g["is_gold"] & g["gold_correct"].notna()]
        sided = regular[regular["chose_left"].notna()]
        agree = regular["agrees"].dropna()
        out.append({
            "week": str(np.datetime64(week, "D")), "n": int(len(g)),
            "agreement": m.proportion(float(agree.sum()), int(agree.size)),
            "gold": m.proportion(int(gold["gold_correct"].astype(bool).sum()), int(len(gold))),
            "median_time_ratio": float(g["time_ratio"].median()) if g["time_ratio"].notna().any() else None,
            "left": m.proportion(int(sided["chose_left"].astype(bool).sum()), int(len(sided))),
        })
    return out
