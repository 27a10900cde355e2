"""Per-figure thresholds with documented defaults, and the flags they raise (pure).

Overrides come as a ``name: value`` object (``Thresholds.from_overrides``, validated by
``problems``), stored per project in ``projects.quality_thresholds`` and set by managers on the
project's quality settings page; a name not overridden keeps its default. A figure is judged only once it rests on at
least its ``min_n`` judgments, and where it has an interval the flag needs the whole interval
(or a test) on the wrong side, so a rater is not flagged for bad luck on a few items.

| name | default | flag when |
| --- | --- | --- |
| ``too_fast_share`` | 0.5 | more than this share of timed judgments came sooner than the media lasts (n ≥ 10) |
| ``gold_accuracy`` | 0.7 | the upper end of the 95% Wilson interval of gold accuracy is below this (n ≥ 5) |
| ``gold_miss_streak`` | 6 | this many gold items in a row were missed |
| ``kappa`` | 0.3 | the upper end of the 95% interval of κ against the others' consensus is below this (n ≥ 15) |
| ``left_share_margin`` | 0.15 | Left (or Right) chosen more than 0.5 + this, binomial p < ``alpha`` (n ≥ 20) |
| ``tie_rate_margin`` | 0.2 | ties differ from the panel's share by more than this, binomial p < ``alpha`` (n ≥ 20) |
| ``straight_line_share`` | 0.6 | more than this share of rubric answers give every criterion the same level (n ≥ 10) |
| ``variance_ratio`` | 0.25 | rubric scores vary less than this fraction of the panel's variance (n ≥ 10) |
| ``near_duplicate_share`` | 0.3 | more than this share of rationales nearly duplicate another of the rater's own (n ≥ 10) |
| ``anomaly_p`` | 0.001 | Fisher's combined p-value of the rater's votes is below this (n ≥ 20) |
| ``alpha`` | 0.001 | significance level of the binomial tests above |

Acting on quality at submit time (``tasks.rating.standing``; the first trip of a rule warns
the rater, the next one pauses them):

| name | default | trips when |
| --- | --- | --- |
| ``pause_gold_min_n`` | 8 | (gold rule) a rater has answered at least this many gold items and the upper end of the 95% Wilson interval of their gold accuracy is below ``gold_accuracy`` |
| ``speed_streak`` | 5 | this many judgments in a row came sooner than the media lasts |
| ``burst_count`` | 10 | this many judgments came within ``burst_window_s`` seconds |
| ``burst_window_s`` | 60 | the window of the burst rule |

Qualification (``projects.qualification_gold`` = N) passes when at least ``gold_accuracy`` of
the first N gold items were right.
"""
from __future__ import annotations

from dataclasses import dataclass, fields, replace

from tasks.rating.standing import RULE_DEFAULTS

MIN_N = {"too_fast_share": 10, "gold_accuracy": 5, "kappa": 15, "left_share_margin": 20,
         "tie_rate_margin": 20, "straight_line_share": 10, "variance_ratio": 10,
         "near_duplicate_share": 10, "anomaly_p": 20}


@dataclass(frozen=True)
class Thresholds:
    too_fast_share: float = 0.5
    gold_accuracy: float = RULE_DEFAULTS["gold_accuracy"]
    gold_miss_streak: int = 6
    kappa: float = 0.3
    left_share_margin: float = 0.15
    tie_rate_margin: float = 0.2
    straight_line_share: float = 0.6
    variance_ratio: float = 0.25
    near_duplicate_share: float = 0.3
    anomaly_p: float = 0.001
    alpha: float = 0.001
    pause_gold_min_n: int = RULE_DEFAULTS["pause_gold_min_n"]
    speed_streak: int = RULE_DEFAULTS["speed_streak"]
    burst_count: int = RULE_DEFAULTS["burst_count"]
    burst_window_s: int = RULE_DEFAULTS["burst_window_s"]

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))

    @classmethod
    def from_overrides(cls, overrides: dict | None) -> "Thresholds":
        """The defaults with a project's overrides (unknown names are ignored)."""
        known = {k: v for k, v in (overrides or {}).items() if k in cls.names() and v is not None}
        return replace(cls(), **known)

    def as_dict(self) -> dict:
        return {name: getattr(self, name) for name in self.names()}


def descriptions() -> dict[str, str]:
    """Each threshold's meaning, read from the tables of this module's docstring (one place)."""
    out = {}
    for line in (__doc__ or "").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[0].startswith("``") and cells[0].strip("`") in Thresholds.names():
            out[cells[0].strip("`")] = cells[2].replace("``", "")
    return out


WHOLE = frozenset(f.name for f in fields(Thresholds) if f.type in ("int", int))


def problems(overrides) -> dict[str, str]:
    """What is wrong with a project's overrides, by name (for validating a settings change)."""
    if overrides is None:
        return {}
    if not isinstance(overrides, dict):
        return {"quality_thresholds": "an object of threshold name: number"}
    out = {}
    for name, value in overrides.items():
        if value is None and name in Thresholds.names():
            continue  # null: back to the default
        if name not in Thresholds.names():
            out[f"quality_thresholds.{name}"] = f"unknown threshold (known: {', '.join(Thresholds.names())})"
        elif isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1000:
            out[f"quality_thresholds.{name}"] = "a number from 0 to 1000"
        elif name in WHOLE and (value != int(value) or value < 1):
            out[f"quality_thresholds.{name}"] = "a whole number from 1 to 1000"
    return out


def _pct(x: float) -> str:
    return f"{x:.0%}"


def flags(row: dict, t: Thresholds) -> list[dict]:
    """The flags a rater's figures raise: ``{"figure", "reason"}`` each, in a fixed order."""
    out: list[dict] = []

    def flag(figure: str, reason: str) -> None:
        out.append({"figure": figure, "reason": reason})

    fast = row["time"]["too_fast"]
    if fast["n"] >= MIN_N["too_fast_share"] and fast["share"] > t.too_fast_share:
        flag("time", f"{_pct(fast['share'])} of {fast['n']} judgments came sooner than the media lasts "
                     f"(threshold {_pct(t.too_fast_share)})")
    gold = row["gold"]
    if gold["n"] >= MIN_N["gold_accuracy"] and gold["ci"][1] < t.gold_accuracy:
        flag("gold", f"gold accuracy {_pct(gold['share'])} on {gold['n']} check items (95% CI "
                     f"{_pct(gold['ci'][0])}–{_pct(gold['ci'][1])}) is below {_pct(t.gold_accuracy)}")
    if gold["longest_miss_streak"] >= t.gold_miss_streak:
        flag("gold", f"missed {gold['longest_miss_streak']} check items in a row (threshold {t.gold_miss_streak})")
    agree = row["agreement"]
    if agree["n"] >= MIN_N["kappa"] and agree["kappa"] is not None and agree["ci"][1] < t.kappa:
        flag("agreement", f"κ {agree['kappa']:.2f} against the other raters' consensus on {agree['n']} items "
                          f"(95% CI up to {agree['ci'][1]:.2f}) is below {t.kappa:.2f}")
    pos = row["position"]
    if (pos["n"] >= MIN_N["left_share_margin"] and pos["p_value"] is not None and pos["p_value"] < t.alpha
            and abs(pos["share"] - 0.5) > t.left_share_margin):
        side = "Left" if pos["share"] > 0.5 else "Right"
        share = pos["share"] if side == "Left" else 1 - pos["share"]
        flag("position", f"chose {side} in {_pct(share)} of {pos['n']} choices (binomial p = {pos['p_value']:.1e})")
    ties = row["ties"]
    if (ties["n"] >= MIN_N["tie_rate_margin"] and ties["p_value"] is not None and ties["p_value"] < t.alpha
            and abs(ties["share"] - ties["panel_share"]) > t.tie_rate_margin):
        flag("ties", f"tie rate {_pct(ties['share'])} against the panel's {_pct(ties['panel_share'])} "
                     f"over {ties['n']} choices (p = {ties['p_value']:.1e})")
    line = row["straight_lining"]
    if line["n"] >= MIN_N["straight_line_share"] and line["share"] > t.straight_line_share:
        flag("straight_lining", f"{_pct(line['share'])} of {line['n']} rubric answers give every criterion "
                                f"the same level (threshold {_pct(t.straight_line_share)})")
    elif (line["n"] >= MIN_N["variance_ratio"] and line["variance_ratio"] is not None
          and line["variance_ratio"] < t.variance_ratio):
        flag("straight_lining", f"scores vary {line['variance_ratio']:.2f}× as much as the panel's "
                                f"(threshold {t.variance_ratio:.2f})")
    dup = row["rationale"]["near_duplicate"]
    if dup["n"] >= MIN_N["near_duplicate_share"] and dup["share"] > t.near_duplicate_share:
        flag("rationale", f"{_pct(dup['share'])} of {dup['n']} rationales nearly duplicate another of their own "
                          f"(threshold {_pct(t.near_duplicate_share)})")
    anomaly = row["anomaly"]
    if anomaly["n"] >= MIN_N["anomaly_p"] and anomaly["p_value"] is not None and anomaly["p_value"] < t.anomaly_p:
        flag("anomaly", f"{anomaly['n']} votes are unlikely given the panel's history of the same model "
                        f"pairs (Fisher p = {anomaly['p_value']:.1e})")
    return out
