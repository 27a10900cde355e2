"""Turn a project's judgments (one row each) into what the statistics take (pure pandas).

Input, as ``scoring.reports.data`` loads it (or as a test builds it):

* ``judgments``: one row per *current* judgment with columns ``judgment_id``, ``item``,
  ``rater``, ``source`` (``live``/``imported``), ``choice`` (``a``/``b``/``tie`` in item labels,
  pairwise) and ``strength`` (1-3), or ``scores`` (dict criterion -> level, rubric), and
  ``criteria`` (pairwise projects with criteria: dict key -> {choice, strength}, item labels);
* ``items``: one row per item with ``item``, ``external_id``, ``model_a``, ``model_b`` (None
  for rubric items) and ``is_gold``.

Criteria: a pairwise project has ``choice`` (nominal: a, b, tie) and, when any judgment gives a
strength, ``preference`` (ordinal, the signed strength: +3 a much better ... 0 tie ... -3 b much
better), and one nominal criterion ``criteria.<key>`` per per-criterion comparison the project
defines (``pairwise_criteria``; agreement only, no consensus labels). A rubric project has one criterion per rubric entry at its level (``ordinal`` unless the
criterion says ``"level"``), with the categories of its scale. Gold items measure raters, not
models: they are left out of every statistic and counted.

Outputs: per criterion the reliability data (raters x items, NaN missing; nominal categories
coded by their position) and the long labels (item, rater, label); for pairwise projects the
comparisons (model_a, model_b, winner).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from scoring.stats.agreement import unit_value_counts
from scoring.stats._reliability import ValueCounts, count_values

CHOICES = ("a", "b", "tie")
LEVELS = ("nominal", "ordinal", "interval", "ratio")
JUDGMENT_COLUMNS = ("judgment_id", "item", "rater", "source", "choice", "strength", "scores", "criteria")
# Per-criterion choices of a pairwise project with criteria are criteria of their own, keyed
# ``criteria.<key>`` (nominal a/b/tie, like the overall choice).
CRITERION_PREFIX = "criteria."
VALUE_PREFIX = "value:"  # a judgments column carrying one rubric criterion's values, extracted already
ITEM_COLUMNS = ("item", "external_id", "model_a", "model_b", "is_gold")


@dataclass(frozen=True)
class Criterion:
    key: str
    label: str
    level: str  # Krippendorff level of measurement
    categories: tuple  # every possible value, in scale order
    consensus: bool = True  # labels per item are reported for it

    @property
    def numeric(self) -> bool:
        return self.level != "nominal"

    def code(self, value):
        """The number standing for ``value`` in reliability data."""
        return float(self.categories.index(value)) if not self.numeric else float(value)

    def decode(self, code):
        if code is None or (isinstance(code, float) and np.isnan(code)):
            return None
        return self.categories[int(code)] if not self.numeric else _plain(code)


@dataclass
class ProjectFrames:
    """A project's judgments ready for ``scoring.reports.report.build_report``."""

    kind: str  # pairwise | rubric
    criteria: list[Criterion]
    judgments: pd.DataFrame  # current judgments on non-gold items
    items: pd.DataFrame  # non-gold items with at least one judgment, indexed by item id
    # item id -> {criterion key: adjudicated label}
    adjudications: dict = field(default_factory=dict)
    n_gold_judgments: int = 0
    criterion_descriptions: dict = field(default_factory=dict)  # pairwise criteria: key -> description
    # Pairwise comparisons already counted per (model_a, model_b, winner) (a ``count`` column, e.g.
    # by the database's GROUP BY) and the judgments left out as same-model; None: from ``judgments``.
    comparisons: pd.DataFrame | None = None
    same_model: int = 0


def empty_judgments() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in JUDGMENT_COLUMNS})


def empty_items() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in ITEM_COLUMNS})


def signed_strength(choice, strength):
    """+strength for a, -strength for b, 0 for a tie; None when a/b has no strength."""
    if choice == "tie":
        return 0
    if choice in ("a", "b") and strength is not None and not pd.isna(strength):
        return int(strength) if choice == "a" else -int(strength)
    return None


def signed_strengths(choice: pd.Series, strength: pd.Series) -> pd.Series:
    """:func:`signed_strength` of whole columns (vectorised): Python ints, None where undefined."""
    try:
        level = strength.to_numpy(dtype=np.float64, na_value=np.nan)
    except (TypeError, ValueError):  # text among the strengths: read what parses as a number
        level = pd.to_numeric(strength, errors="coerce").to_numpy(dtype=np.float64)
    picked = choice.to_numpy(dtype=object)
    signed = np.where(picked == "a", level, np.where(picked == "b", -level, np.nan))
    signed = np.where(picked == "tie", 0.0, signed)
    out = np.full(signed.shape[0], None, dtype=object)
    known = ~np.isnan(signed)
    out[known] = signed[known].astype(np.int64).tolist()
    return pd.Series(out, index=choice.index, dtype=object)


def criteria_for(kind: str, rubric: list[dict], judgments: pd.DataFrame,
                 pairwise_criteria: list[dict] | None = None) -> list[Criterion]:
    if kind == "pairwise":
        found = [Criterion("choice", "Choice", "nominal", CHOICES)]
        has_strength = "strength" in judgments and judgments["strength"].notna().any()
        if has_strength:
            found.append(Criterion("preference", "Preference (signed strength)", "ordinal",
                                   tuple(range(-3, 4)), consensus=False))
        found += [Criterion(CRITERION_PREFIX + c["key"], c.get("name") or c["key"], "nominal", CHOICES,
                            consensus=False) for c in pairwise_criteria or []]
        return found
    found = []
    for crit in rubric or []:
        level = crit.get("level", "ordinal")
        if level not in LEVELS:
            level = "ordinal"
        found.append(Criterion(crit["key"], crit.get("label") or crit["key"], level,
                               tuple(range(int(crit["min"]), int(crit["max"]) + 1))))
    return found


def build(kind: str, rubric: list[dict], judgments: pd.DataFrame, items: pd.DataFrame,
          adjudications: dict | None = None, pairwise_criteria: list[dict] | None = None) -> ProjectFrames:
    """Frames of the judgments on non-gold items (gold judgments are counted, not used)."""
    items = items.set_index("item", drop=False) if "item" in items else items
    gold = set(items.index[items["is_gold"].astype(bool)]) if len(items) else set()
    is_gold = judgments["item"].isin(gold)
    kept = judgments[~is_gold].reset_index(drop=True)
    judged = items[items.index.isin(kept["item"].unique()) & ~items.index.isin(gold)]
    return ProjectFrames(kind=kind, criteria=criteria_for(kind, rubric, kept, pairwise_criteria), judgments=kept,
                         items=judged.sort_index(), adjudications=dict(adjudications or {}),
                         n_gold_judgments=int(is_gold.sum()),
                         criterion_descriptions={c["key"]: c.get("description", "") for c in pairwise_criteria or []})


def values(frames: ProjectFrames, criterion: Criterion) -> pd.Series:
    """Each judgment's value on ``criterion`` (None where it gives none). A judgments frame may
    carry the values already, in a column ``value:<criterion key>`` (as ``scoring.reports.data``
    reads them, extracted by the database)."""
    j = frames.judgments
    if criterion.key == "choice":
        return j["choice"].where(j["choice"].isin(CHOICES), None)
    if VALUE_PREFIX + criterion.key in j.columns:
        column = j[VALUE_PREFIX + criterion.key]
        known = column.isin(criterion.categories)
        return column.where(known).astype("Int64").astype(object).where(known, None)
    if criterion.key == "preference" and frames.kind == "pairwise":
        return signed_strengths(j["choice"], j["strength"])
    if criterion.key.startswith(CRITERION_PREFIX):
        return criterion_choices(j, criterion.key[len(CRITERION_PREFIX):])
    key = criterion.key
    return pd.Series([_score(s, key, criterion.categories) for s in j["scores"]], index=j.index, dtype=object)


def criterion_choices(judgments: pd.DataFrame, key: str) -> pd.Series:
    """Each judgment's choice (a, b, tie) on the per-criterion comparison ``key`` (None: not given)."""
    column = judgments["criteria"] if "criteria" in judgments else pd.Series(None, index=judgments.index, dtype=object)

    def one(criteria):
        choice = (criteria.get(key) or {}).get("choice") if isinstance(criteria, dict) else None
        return choice if choice in CHOICES else None
    return pd.Series([one(c) for c in column], index=judgments.index, dtype=object)


def pairwise_criteria(frames: ProjectFrames) -> list[Criterion]:
    return [c for c in frames.criteria if c.key.startswith(CRITERION_PREFIX)]


def _score(scores, key, categories):
    if not isinstance(scores, dict):
        return None
    value = scores.get(key)
    return value if value in categories else None


def labels(frames: ProjectFrames, criterion: Criterion) -> pd.DataFrame:
    """Long labels ``item, rater, label`` (judgments without a value on the criterion dropped)."""
    value = values(frames, criterion)
    keep = value.notna()
    out = pd.DataFrame({"item": frames.judgments["item"][keep].to_numpy(),
                        "rater": frames.judgments["rater"][keep].to_numpy(),
                        "label": value[keep].to_numpy()})
    if criterion.numeric:
        out["label"] = out["label"].astype(np.int64)
    return out


def reliability(frames: ProjectFrames, criterion: Criterion) -> pd.DataFrame:
    """Raters x items reliability data (float, NaN missing; nominal values coded by position).

    Only pairable items (two or more values) are columns: the others carry no information
    about agreement, and leaving them out keeps the unit bootstrap on the units alpha uses."""
    long = labels(frames, criterion)
    codes = {c: criterion.code(c) for c in criterion.categories}
    coded = pd.DataFrame({"item": long["item"], "rater": long["rater"],
                          "value": long["label"].map(codes).astype(np.float64)})
    coded = coded.drop_duplicates(["item", "rater"], keep="last")
    pairable = coded.groupby("item")["rater"].transform("size") >= 2
    coded = coded[pairable]
    if coded.empty:
        return pd.DataFrame(np.zeros((0, 0)))
    matrix = coded.pivot(index="rater", columns="item", values="value")
    return matrix.astype(np.float64).sort_index().sort_index(axis=1)


@dataclass(frozen=True)
class AgreementData:
    """What the agreement statistics of one criterion take: per-unit value counts of its pairable
    units (``counts``, see ``scoring.stats.agreement.unit_value_counts``), the same as a units x
    categories table (``table``, for the chance-corrected coefficients), how many raters gave
    them, and -- with exactly two raters -- their two rows of values (for Cohen's kappa)."""

    counts: ValueCounts
    table: np.ndarray  # pairable units x categories (in the criterion's category order)
    n_raters: int
    pair: np.ndarray | None = None  # (2, units) coded values, NaN missing, raters in sorted order

    @property
    def n_units(self) -> int:
        return int(self.table.shape[0])


def agreement_data(frames: ProjectFrames, criterion: Criterion) -> AgreementData:
    """The criterion's :class:`AgreementData` from its long labels: a count per (pairable item,
    category), never the raters x items matrix -- unless the values span more categories than a
    dense count holds, where the matrix is counted instead. Equal to counting
    :func:`reliability` (same profiles, in the same order)."""
    long = labels(frames, criterion).drop_duplicates(["item", "rater"], keep="last")
    codes = np.array([criterion.code(c) for c in criterion.categories], dtype=np.float64)
    category = pd.Index(list(criterion.categories)).get_indexer(long["label"].to_numpy(dtype=object))
    item_codes, items = pd.factorize(long["item"], sort=True)
    per_item = np.bincount(item_codes, minlength=len(items))
    pairable = per_item[item_codes] >= 2
    unit, unit_items = pd.factorize(item_codes[pairable], sort=True)
    table = np.zeros((len(unit_items), len(codes)), dtype=np.int64)
    np.add.at(table, (unit, category[pairable]), 1)
    raters = np.unique(long["rater"].to_numpy()[pairable]) if pairable.any() else np.array([])
    try:
        counts = unit_value_counts(table, codes, len(raters))
    except ValueError:  # a domain wider than a dense count: count the matrix itself
        counts = count_values(reliability(frames, criterion).to_numpy(dtype=np.float64))
    pair = None
    if len(raters) == 2:
        kept = long[pairable]
        matrix = pd.DataFrame({"rater": kept["rater"].to_numpy(), "unit": unit,
                               "value": codes[category[pairable]]}).pivot(index="rater", columns="unit", values="value")
        pair = matrix.sort_index().to_numpy(dtype=np.float64)
    return AgreementData(counts=counts, table=table, n_raters=len(raters), pair=pair)


def comparisons(frames: ProjectFrames, criterion: str | None = None) -> tuple[pd.DataFrame, int]:
    """(model_a, model_b, winner) per pairwise judgment, and how many were left out because
    both outputs of the item come from the same model. ``criterion`` (a ``criteria.<key>``
    criterion's key): the winners of that per-criterion comparison instead of the overall ones."""
    if frames.kind != "pairwise" or frames.judgments.empty:
        return pd.DataFrame({"model_a": [], "model_b": [], "winner": []}, dtype=object), 0
    j = frames.judgments
    if criterion is not None:
        j = j.assign(choice=criterion_choices(j, criterion[len(CRITERION_PREFIX):]))
    j = j[j["choice"].isin(CHOICES)]
    models = frames.items[["model_a", "model_b"]]
    rows = j[["item", "choice"]].join(models, on="item")
    same = rows["model_a"] == rows["model_b"]
    rows = rows[~same & rows["model_a"].notna() & rows["model_b"].notna()]
    out = pd.DataFrame({"model_a": rows["model_a"].to_numpy(dtype=object),
                        "model_b": rows["model_b"].to_numpy(dtype=object),
                        "winner": rows["choice"].to_numpy(dtype=object)})
    return out, int(same.sum())


def comparison_counts(frames: ProjectFrames) -> tuple[pd.DataFrame, int]:
    """``(model_a, model_b, winner, count)`` of :func:`comparisons`, one row per distinct triple in
    sorted order (Bradley-Terry and its bootstrap take these counts), and the same-model count.
    Counted on integer codes (each judgment's item's model pair and its choice), never by joining
    and grouping the judgments' text."""
    empty = pd.DataFrame({"model_a": pd.Series(dtype=object), "model_b": pd.Series(dtype=object),
                          "winner": pd.Series(dtype=object), "count": pd.Series(dtype=np.int64)})
    if frames.kind != "pairwise" or frames.judgments.empty:
        return empty, 0
    j, items = frames.judgments, frames.items
    choice = pd.Index(CHOICES).get_indexer(j["choice"].to_numpy(dtype=object))
    position = items.index.get_indexer(j["item"].to_numpy())
    model_a, model_b = items["model_a"].to_numpy(dtype=object), items["model_b"].to_numpy(dtype=object)
    known = pd.notna(model_a) & pd.notna(model_b)
    pair, pairs = pd.factorize(pd.MultiIndex.from_arrays([np.where(known, model_a, ""), np.where(known, model_b, "")]))
    counted = (choice >= 0) & (position >= 0)
    judged = position[counted]
    same = known[judged] & (model_a[judged] == model_b[judged])
    kept = known[judged] & ~same
    cell = pair[judged[kept]] * len(CHOICES) + choice[counted][kept]
    counts = np.bincount(cell, minlength=len(pairs) * len(CHOICES))
    cells = np.flatnonzero(counts)
    if not len(cells):
        return empty, int(same.sum())
    out = pd.DataFrame({"model_a": pairs.get_level_values(0)[cells // len(CHOICES)].to_numpy(dtype=object),
                        "model_b": pairs.get_level_values(1)[cells // len(CHOICES)].to_numpy(dtype=object),
                        "winner": np.array(CHOICES, dtype=object)[cells % len(CHOICES)],
                        "count": counts[cells].astype(np.int64)})
    return out.sort_values(["model_a", "model_b", "winner"], ignore_index=True), int(same.sum())


def _plain(value):
    """A numpy scalar as the plain Python number JSON wants."""
    number = float(value)
    return int(number) if number.is_integer() else number
