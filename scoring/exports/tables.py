"""The rows of each export table, item by item (pure: items and judgments in, dicts out; the
judgments-mode preference rows as a ``writers.Block``: the item's columns once per answer).

Which items and judgments enter, in order, each left-out one counted under its reason:

* items: ``consent`` (the rule: any output's asset not ``granted``/``not_required``), ``dropped``
  (a manager dropped it after a media report), ``gold``,
  ``models`` (an output from a model not asked for), ``no_judgments``, ``few_judgments``,
  ``low_agreement``, ``no_consensus``, ``tie`` (dropped ties);
* judgments: ``excluded_rater`` (a rule: a manager excluded the rater), ``paused_rater``,
  ``flagged_rater`` (filters), ``deactivated_rater``, ``dates``.

Agreement is the majority share of the item's panel (``votes / n``), as ``scoring``'s consensus
reports it; for rubric items the lowest share over the criteria.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from typing import Callable

from scoring.exports.options import ExportOptions
from scoring.exports.source import ItemData, JudgmentRow, Output
from scoring.exports.writers import Block
from tasks.rating.notes import timecode


@dataclass
class Context:
    project_kind: str  # pairwise | rubric
    modality: str  # video | audio | script
    options: ExportOptions
    criteria: list[str]  # rubric criteria exported (all, or those asked for)
    scales: dict[str, tuple[int, int]]  # rubric criterion -> (min, max)
    pseudonym: Callable[[int], str]
    media_ref: Callable[[Output], str]  # a media output's path in the export (or sha256 reference)
    consensus: dict[int, dict] | None = None  # scoring's consensus records by item id
    excluded_items: Counter = field(default_factory=Counter)
    excluded_judgments: Counter = field(default_factory=Counter)
    assets: set = field(default_factory=set)  # asset ids whose media or text entered the export
    licenses: Counter = field(default_factory=Counter)
    raters: set = field(default_factory=set)
    pairwise_criteria: list[str] = field(default_factory=list)  # per-criterion comparison keys
    rater_out: dict = field(default_factory=dict)  # rater id -> why all their judgments stay out


def item_refusal(item: ItemData, ctx: Context) -> str | None:
    """Why ``item`` stays out of every table (None: it may enter)."""
    if not item.exportable:
        return "consent"
    if item.dropped:
        return "dropped"
    if item.is_gold and ctx.options.exclude_gold:
        return "gold"
    if ctx.options.models and any(o.model not in ctx.options.models for o in item.outputs.values()):
        return "models"
    return None


def kept_judgments(item: ItemData, ctx: Context) -> list[JudgmentRow]:
    """The item's judgments (current and superseded) that pass the rater and date filters."""
    kept = []
    for j in item.judgments:
        reason = judgment_refusal(j.rater_id, j.rater_active, j.created_at, ctx.options, ctx.rater_out)
        if reason:
            ctx.excluded_judgments[reason] += 1
        else:
            kept.append(j)
    return kept


def judgment_refusal(rater_id: int, rater_active: bool, created_at, options: ExportOptions,
                     rater_out: dict | None = None) -> str | None:
    if rater_out and rater_id in rater_out:
        return rater_out[rater_id]
    if options.exclude_deactivated_raters and not rater_active:
        return "deactivated_rater"
    if options.since or options.until:
        day = created_at.date()
        if (options.since and day < date.fromisoformat(options.since)) or (
                options.until and day > date.fromisoformat(options.until)):
            return "dates"
    return None


def panel(current: list[JudgmentRow], ctx: Context) -> tuple[int, float | None]:
    """(number of current judgments, majority share)."""
    if not current:
        return 0, None
    if ctx.project_kind == "pairwise":
        shares = [_share([j.choice for j in current])]
    else:
        shares = [_share([(j.scores or {}).get(k) for j in current]) for k in ctx.criteria]
    shares = [s for s in shares if s is not None]
    return len(current), (min(shares) if shares else None)


def _share(values: list) -> float | None:
    values = [v for v in values if v is not None]
    if not values:
        return None
    return max(Counter(values).values()) / len(values)


def panel_refusal(n: int, agreement: float | None, options: ExportOptions) -> str | None:
    if n == 0:
        return "no_judgments"
    if options.min_judgments and n < options.min_judgments:
        return "few_judgments"
    if options.min_agreement is not None and (agreement is None or agreement < options.min_agreement - 1e-9):
        return "low_agreement"
    return None


# -- shared columns -------------------------------------------------------------------------------

def content(output: Output, ctx: Context) -> str:
    """What stands for an output in a row: the script's text, or the media file's path."""
    ctx.assets.add(output.asset_id)
    ctx.licenses[output.license or "unspecified"] += 1
    return output.text if output.media_kind == "script" else ctx.media_ref(output)


def presented(j: JudgmentRow, item: ItemData) -> dict | None:
    """What the rater saw: the item label and model on each side (None for imported judgments)."""
    if j.left_label is None:
        return None
    if _rubric_item(item):
        side = {"label": "a", "model": item.model("a")}
        return {"left": side, "right": {"label": None, "model": None}}
    right = "b" if j.left_label == "a" else "a"
    return {"left": {"label": j.left_label, "model": item.model(j.left_label)},
            "right": {"label": right, "model": item.model(right)}}


def _rubric_item(item: ItemData) -> bool:
    return "b" not in item.outputs


JUDGMENT_NAMES = ("rater", "presented", "playback_s", "time_on_task_ms", "confidence", "created_at")


def judgment_values(j: JudgmentRow, item: ItemData, ctx: Context, seen: dict | None = None) -> tuple:
    """The per-judgment columns (``JUDGMENT_NAMES``, schema ``JUDGMENT``); ``seen`` caches the
    item's presentations (two at most)."""
    ctx.raters.add(j.rater_id)
    if seen is None:
        shown = presented(j, item)
    elif j.left_label in seen:
        shown = seen[j.left_label]
    else:
        shown = seen[j.left_label] = presented(j, item)
    return ctx.pseudonym(j.rater_id), shown, j.playback, j.time_on_task_ms, j.confidence, j.created_at


def judgment_columns(j: JudgmentRow, item: ItemData, ctx: Context) -> dict:
    return dict(zip(JUDGMENT_NAMES, judgment_values(j, item, ctx)))


def scores(values: dict | None, ctx: Context) -> dict:
    values = values or {}
    return {k: (int(values[k]) if isinstance(values.get(k), (int, float)) else None) for k in ctx.criteria}


def notes(judgments: list[JudgmentRow], item: ItemData, ctx: Context) -> list[dict]:
    """The judgments' time-coded notes as export structs (schema ``NOTE``), in judgment order."""
    out = []
    for j in judgments:
        for note in j.notes or []:
            output = item.outputs.get(note["label"])
            rate = output.frame_rate if output else None
            out.append({
                "author": ctx.pseudonym(j.rater_id), "label": note["label"], "model": item.model(note["label"]),
                "t_in": note.get("t_in"), "t_out": note.get("t_out"),
                "frame_in": note.get("frame_in"), "frame_out": note.get("frame_out"),
                "timecode_in": timecode(note.get("t_in"), rate), "timecode_out": timecode(note.get("t_out"), rate),
                "line_in": note.get("line_in"), "line_out": note.get("line_out"),
                "char_in": note.get("char_in"), "char_out": note.get("char_out"), "quote": note.get("quote"),
                "text": note["text"], "created_at": j.created_at.isoformat()})
    return out


def criterion_choices(j: JudgmentRow, ctx: Context) -> list[dict]:
    """One judgment's per-criterion choices (schema ``CRITERION_CHOICE``), in the project's order."""
    given = j.criteria or {}
    return [{"key": key, "choice": given[key]["choice"], "strength": given[key].get("strength")}
            for key in ctx.pairwise_criteria if key in given]


def criterion_winners(judgments: list[JudgmentRow], chosen_label: str, item: ItemData, ctx: Context) -> list[dict]:
    """Per criterion, the panel's majority choice relative to the row's pair (schema
    ``CRITERION_WINNER``): ``chosen``, ``rejected``, ``tie``, or null when the top choices tie."""
    out = []
    for key in ctx.pairwise_criteria:
        votes = Counter((j.criteria or {}).get(key, {}).get("choice") for j in judgments)
        votes.pop(None, None)
        n = sum(votes.values())
        if not n:
            continue
        (top, count), *rest = votes.most_common()
        split = bool(rest) and rest[0][1] == count
        winner = None if split else ("tie" if top == "tie" else "chosen" if top == chosen_label else "rejected")
        out.append({"key": key, "winner": winner,
                    "winner_model": item.model(top) if winner in ("chosen", "rejected") else None,
                    "share": count / n, "n_judgments": n})
    return out


# -- preferences (pairwise) ---------------------------------------------------------------------

def preference_row(item: ItemData, winner: str, margin: float, n: int, agreement, rationales, ctx: Context,
                   judgments: list[JudgmentRow] = ()) -> dict:
    """One preference row; ``winner`` is ``a``, ``b`` or ``tie`` (kept: a as chosen, flagged)."""
    chosen_label = "b" if winner == "b" else "a"
    rejected_label = "a" if chosen_label == "b" else "b"
    chosen, rejected = item.outputs[chosen_label], item.outputs[rejected_label]
    row = {"prompt": item.prompt, "chosen": content(chosen, ctx), "rejected": content(rejected, ctx),
           "margin": float(margin), "chosen_model": chosen.model, "rejected_model": rejected.model,
           "item_id": item.external_id, "n_judgments": n, "agreement": agreement, "is_tie": winner == "tie",
           "rationales": rationales, "notes": notes(judgments, item, ctx),
           "criteria": criterion_winners(judgments, chosen_label, item, ctx)}
    if ctx.modality != "script":
        a, b = item.outputs["a"], item.outputs["b"]
        label_a = 0.5 if winner == "tie" else float(winner == "a")
        row.update({"chosen_sha256": chosen.sha256, "rejected_sha256": rejected.sha256,
                    "chosen_duration_s": chosen.duration_s, "rejected_duration_s": rejected.duration_s,
                    "caption": item.prompt, f"{ctx.modality}_0": ctx.media_ref(a), f"{ctx.modality}_1": ctx.media_ref(b),
                    "label_0": label_a, "label_1": 1.0 - label_a if winner != "tie" else 0.5,
                    "model_0": a.model, "model_1": b.model})
    return row


# A judgment's own columns in a preference row; the rest are its item's (for its answer).
PREFERENCE_OWN = ("margin", "rationales", "notes", "criteria", *JUDGMENT_NAMES)


def preference_rows(item: ItemData, current: list[JudgmentRow], ctx: Context) -> list[dict] | Block:
    """Consensus mode: the item's row (a list of at most one); judgments mode: a ``Block`` of
    one row per judgment."""
    if ctx.options.mode == "consensus":
        record = (ctx.consensus or {}).get(item.id)
        label = record and record["labels"].get("choice", {}).get("label")
        if label is None:
            ctx.excluded_items["no_consensus"] += 1
            return []
        share = record["labels"]["choice"]["share"]
        refused = panel_refusal(record["n_judgments"], share, ctx.options)
        if refused:
            ctx.excluded_items[refused] += 1
            return []
        if label == "tie" and ctx.options.ties == "drop":
            ctx.excluded_items["tie"] += 1
            return []
        strengths = [j.strength for j in current if j.choice == label and j.strength is not None]
        margin = sum(strengths) / len(strengths) if strengths and label != "tie" else 0.0
        for j in current:
            ctx.raters.add(j.rater_id)
        return [preference_row(item, label, margin, record["n_judgments"], share,
                               [j.rationale for j in current], ctx, current)]
    n, agreement = panel(current, ctx)
    refused = panel_refusal(n, agreement, ctx.options)
    if refused:
        ctx.excluded_items[refused] += 1
        return []
    block, per_choice, seen = Block(PREFERENCE_OWN), {}, {}
    for j in current:
        if j.choice == "tie" and ctx.options.ties == "drop":
            ctx.excluded_judgments["tie"] += 1
            continue
        shared = per_choice.get(j.choice)
        if shared is None:  # the item's columns, once per answer
            shared = per_choice[j.choice] = len(block.shared)
            block.shared.append(preference_row(item, j.choice, 0.0, n, agreement, [], ctx))
        block.index.append(shared)
        block.own.append((float(j.strength) if j.strength is not None and j.choice != "tie" else 0.0, [j.rationale],
                          notes([j], item, ctx) if j.notes else [],
                          criterion_winners([j], "b" if j.choice == "b" else "a", item, ctx)
                          if ctx.pairwise_criteria else [],
                          *judgment_values(j, item, ctx, seen)))
    return block


# -- unpaired (rubric, KTO-style) -----------------------------------------------------------------

def passes(values: dict, ctx: Context) -> bool:
    """The pass rule: every exported criterion scored at or above its scale's midpoint."""
    return all(values.get(k) is not None and values[k] >= (ctx.scales[k][0] + ctx.scales[k][1]) / 2
               for k in ctx.criteria)


def unpaired_row(item: ItemData, values: dict, n: int, agreement, rationales, ctx: Context,
                 judgments: list[JudgmentRow] = ()) -> dict:
    output = item.outputs["a"]
    row = {"prompt": item.prompt, "completion": content(output, ctx), "label": passes(values, ctx),
           "model": output.model, "item_id": item.external_id, "n_judgments": n, "agreement": agreement,
           "scores": values, "rationales": rationales, "notes": notes(judgments, item, ctx)}
    if ctx.modality != "script":
        row.update({"completion_sha256": output.sha256, "completion_duration_s": output.duration_s})
    return row


def unpaired_rows(item: ItemData, current: list[JudgmentRow], ctx: Context) -> list[dict]:
    if ctx.options.mode == "consensus":
        record = (ctx.consensus or {}).get(item.id)
        labels = record["labels"] if record else {}
        if not record or any(labels.get(k, {}).get("label") is None for k in ctx.criteria):
            ctx.excluded_items["no_consensus"] += 1
            return []
        shares = [labels[k]["share"] for k in ctx.criteria if labels[k]["share"] is not None]
        agreement = min(shares) if shares else None
        refused = panel_refusal(record["n_judgments"], agreement, ctx.options)
        if refused:
            ctx.excluded_items[refused] += 1
            return []
        for j in current:
            ctx.raters.add(j.rater_id)
        values = {k: int(labels[k]["label"]) for k in ctx.criteria}
        return [unpaired_row(item, values, record["n_judgments"], agreement, [j.rationale for j in current], ctx,
                             current)]
    n, agreement = panel(current, ctx)
    refused = panel_refusal(n, agreement, ctx.options)
    if refused:
        ctx.excluded_items[refused] += 1
        return []
    rows = []
    for j in current:
        row = unpaired_row(item, scores(j.scores, ctx), n, agreement, [j.rationale], ctx, [j])
        row.update(judgment_columns(j, item, ctx))
        rows.append(row)
    return rows


# -- ratings and consensus tables ---------------------------------------------------------------

def rating_row(j: JudgmentRow, item: ItemData, ctx: Context) -> dict:
    row = {"item_id": item.external_id, "model_a": item.model("a"), "model_b": item.model("b"),
           "rationale": j.rationale, "notes": notes([j], item, ctx), "is_gold": item.is_gold,
           "superseded": j.superseded, "source": j.source}
    if ctx.project_kind == "pairwise":
        row.update(choice=j.choice, strength=j.strength, criteria=criterion_choices(j, ctx))
    else:
        row["scores"] = scores(j.scores, ctx)
    row.update(judgment_columns(j, item, ctx))
    return row


def rating_rows(item: ItemData, kept: list[JudgmentRow], ctx: Context) -> list[dict]:
    current = [j for j in kept if not j.superseded]
    n, agreement = panel(current, ctx)
    refused = panel_refusal(n, agreement, ctx.options)
    if refused:
        ctx.excluded_items[refused] += 1
        return []
    for output in item.outputs.values():
        ctx.assets.add(output.asset_id)
        ctx.licenses[output.license or "unspecified"] += 1
    return [rating_row(j, item, ctx) for j in kept]


def consensus_rows(item: ItemData, ctx: Context) -> list[dict]:
    """One row per criterion of ``scoring``'s consensus record of the item."""
    record = (ctx.consensus or {}).get(item.id)
    if not record:
        return []
    rows = []
    for key, label in record["labels"].items():
        if ctx.project_kind == "rubric" and key not in ctx.criteria:
            continue
        rows.append({"item_id": item.external_id, "criterion": key,
                     "label": None if label["label"] is None else str(label["label"]), "source": label["source"],
                     "share": label["share"], "posterior": label["posterior"], "tied": label["tied"],
                     "n_judgments": record["n_judgments"], "adjudicated": record["adjudicated"],
                     "model_a": record["model_a"], "model_b": record["model_b"]})
    return rows
