"""The columns of every export table (Arrow types; the stable schema: extend, don't rename).

``SCHEMA_VERSION`` is recorded in every manifest; bump it when a column changes meaning.
"""
from __future__ import annotations

import pyarrow as pa

SCHEMA_VERSION = 2  # 2: notes carry their anchor (time / frame / line range); per-criterion choices

# A time-coded note of a judgment, in item labels: media notes have times, frames (at the asset's
# frame rate; null without one) and timecodes; script notes have a line range, optional character
# offsets and the quoted text. ``author``: the judgment's rater (pseudonym); ``created_at``: the judgment's.
NOTE = pa.struct([
    ("author", pa.string()), ("label", pa.string()), ("model", pa.string()),
    ("t_in", pa.float64()), ("t_out", pa.float64()), ("frame_in", pa.int64()), ("frame_out", pa.int64()),
    ("timecode_in", pa.string()), ("timecode_out", pa.string()),
    ("line_in", pa.int64()), ("line_out", pa.int64()), ("char_in", pa.int64()), ("char_out", pa.int64()),
    ("quote", pa.string()), ("text", pa.string()), ("created_at", pa.string())])
# One judgment's choice on one per-criterion comparison (item labels a / b / tie).
CRITERION_CHOICE = pa.struct([("key", pa.string()), ("choice", pa.string()), ("strength", pa.int64())])
# A preference row's per-criterion winner: ``winner`` is chosen / rejected / tie relative to the
# row's pair (null when the panel split evenly), with its model and the panel's majority share.
CRITERION_WINNER = pa.struct([("key", pa.string()), ("winner", pa.string()), ("winner_model", pa.string()),
                              ("share", pa.float64()), ("n_judgments", pa.int64())])
SIDE = pa.struct([("label", pa.string()), ("model", pa.string())])
PRESENTED = pa.struct([("left", SIDE), ("right", SIDE)])
PLAYBACK = pa.struct([("a", pa.float64()), ("b", pa.float64())])
TIMESTAMP = pa.timestamp("us", tz="UTC")

PREFERENCE = [
    ("prompt", pa.string()), ("chosen", pa.string()), ("rejected", pa.string()), ("margin", pa.float64()),
    ("chosen_model", pa.string()), ("rejected_model", pa.string()), ("item_id", pa.string()),
    ("n_judgments", pa.int64()), ("agreement", pa.float64()), ("is_tie", pa.bool_()),
    ("rationales", pa.list_(pa.string())), ("notes", pa.list_(NOTE)), ("criteria", pa.list_(CRITERION_WINNER)),
]
MEDIA_PAIR = [
    ("chosen_sha256", pa.string()), ("rejected_sha256", pa.string()),
    ("chosen_duration_s", pa.float64()), ("rejected_duration_s", pa.float64()), ("caption", pa.string()),
]
JUDGMENT = [
    ("rater", pa.string()), ("presented", PRESENTED), ("playback_s", PLAYBACK),
    ("time_on_task_ms", pa.int64()), ("confidence", pa.int64()), ("created_at", TIMESTAMP),
]
CONSENSUS = [
    ("item_id", pa.string()), ("criterion", pa.string()), ("label", pa.string()), ("source", pa.string()),
    ("share", pa.float64()), ("posterior", pa.float64()), ("tied", pa.bool_()), ("n_judgments", pa.int64()),
    ("adjudicated", pa.bool_()), ("model_a", pa.string()), ("model_b", pa.string()),
]


def scores_type(criteria: list[str]) -> pa.DataType:
    return pa.struct([(key, pa.int64()) for key in criteria])


def pick_a_pic(modality: str) -> list:
    """Pick-a-Pic style aliases: ``<modality>_0/_1`` are outputs a and b, ``label_0/_1`` their
    preference (1, 0; 0.5 each for a tie), ``model_0/_1`` their models."""
    return [(f"{modality}_0", pa.string()), (f"{modality}_1", pa.string()), ("label_0", pa.float64()),
            ("label_1", pa.float64()), ("model_0", pa.string()), ("model_1", pa.string())]


def preferences(modality: str, mode: str) -> pa.Schema:
    fields = list(PREFERENCE)
    if modality != "script":
        fields += MEDIA_PAIR + pick_a_pic(modality)
    if mode == "judgments":
        fields += JUDGMENT
    return pa.schema(fields)


def unpaired(modality: str, mode: str, criteria: list[str]) -> pa.Schema:
    fields = [("prompt", pa.string()), ("completion", pa.string()), ("label", pa.bool_()),
              ("model", pa.string()), ("item_id", pa.string()), ("n_judgments", pa.int64()),
              ("agreement", pa.float64()), ("scores", scores_type(criteria)),
              ("rationales", pa.list_(pa.string())), ("notes", pa.list_(NOTE))]
    if modality != "script":
        fields += [("completion_sha256", pa.string()), ("completion_duration_s", pa.float64())]
    if mode == "judgments":
        fields += JUDGMENT
    return pa.schema(fields)


def ratings(kind: str, criteria: list[str]) -> pa.Schema:
    answer = ([("choice", pa.string()), ("strength", pa.int64()), ("criteria", pa.list_(CRITERION_CHOICE))]
              if kind == "pairwise" else [("scores", scores_type(criteria))])
    return pa.schema([
        ("item_id", pa.string()), ("model_a", pa.string()), ("model_b", pa.string()), *answer,
        ("rationale", pa.string()), ("notes", pa.list_(NOTE)), ("is_gold", pa.bool_()),
        ("superseded", pa.bool_()), ("source", pa.string()), *JUDGMENT])


def consensus() -> pa.Schema:
    return pa.schema(CONSENSUS)
