"""An export's package: the data files, the manifest, the dataset card, and the ``.tar``.

Layout (``load_dataset(folder)`` picks each table up as a named config through the card)::

    README.md                      dataset card with the YAML ``configs:`` block
    manifest.json                  what the export is (see ``manifest``)
    data/<config>/train-00000.<ext>
    media/<sha256>.<ext>           when media are included
"""
from __future__ import annotations

import hashlib
import json
import os
import tarfile
from pathlib import Path

from scoring.exports.schema import SCHEMA_VERSION

SUFFIXES = {"video/mp4": ".mp4", "video/webm": ".webm", "audio/wav": ".wav", "audio/mpeg": ".mp3",
            "audio/ogg": ".ogg", "audio/flac": ".flac", "text/plain": ".txt"}
CONFIG_DOCS = {
    "preferences": "Preference pairs in TRL's standard preference format (`prompt`, `chosen`, `rejected` "
                   "strings) plus `margin` for reward training. Media projects: `chosen`/`rejected` are paths "
                   "of files in this export, with Pick-a-Pic style aliases (`caption`, `<modality>_0/_1`, "
                   "`label_0/_1`, `model_0/_1`).",
    "unpaired": "Unpaired rows for KTO-style training: `prompt`, `completion`, `label` (the pass rule below), "
                "with the per-criterion `scores`.",
    "ratings": "One row per judgment (current and superseded), with the pseudonymous rater, what they were "
               "presented, playback and time on task.",
    "consensus": "One row per item and criterion: `scoring`'s consensus label, its source "
                 "(adjudication, majority, dawid_skene), majority share and posterior.",
}


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def media_name(sha256: str, mime_type: str) -> str:
    return f"media/{sha256}{SUFFIXES.get(mime_type, '.bin')}"


def file_list(root: Path) -> list[dict]:
    """Every file under ``root`` but the manifest, with its sha256 and size."""
    return [{"path": p.relative_to(root).as_posix(), "sha256": sha256_file(p), "bytes": p.stat().st_size}
            for p in sorted(root.rglob("*")) if p.is_file() and p.name != "manifest.json"]


def card(manifest: dict, configs: list[str], file_format: str) -> str:
    """The dataset card: YAML front matter naming each table as a config, then what it is."""
    yaml = ["---", "license: other", f"pretty_name: {json.dumps(manifest['name'])}", "configs:"]
    for index, name in enumerate(configs):
        yaml += [f"- config_name: {name}", "  data_files:", "  - split: train",
                 f"    path: data/{name}/*.{file_format}"]
        if index == 0:
            yaml.append("  default: true")
    yaml.append("---")
    options = manifest["options"]
    counts = "\n".join(f"| {k} | {v} |" for k, v in manifest["row_counts"].items())
    excluded = "\n".join(f"| {unit} | {reason} | {n} |" for unit in ("items", "judgments", "raters")
                         for reason, n in sorted(manifest["excluded"].get(unit, {}).items())) or "| — | — | 0 |"
    tables = "\n".join(f"- **{name}**: {CONFIG_DOCS[name]}" for name in configs)
    return "\n".join(yaml) + f"""

# {manifest['name']}

Exported from Dailies project “{manifest['project']['name']}” ({manifest['project']['kind']},
{manifest['project']['modality']}), version {manifest['version']} of this export, schema version
{SCHEMA_VERSION}. Built {manifest['built_at']} by {manifest['creator']}.

```python
from datasets import load_dataset
ds = load_dataset("path/to/this/folder", "{configs[0]}", split="train")
```

## Tables

{tables}

| table | rows |
| --- | --- |
{counts}

## How the numbers were made

- `agreement`: the majority share of the item's panel (votes for the most chosen answer / judgments);
  rubric items: the lowest share over the criteria. `n_judgments`: the item's current judgments
  (a revised judgment counts once).
- Mode `{options['mode']}`: `consensus` gives one row per item from the same consensus as the
  statistics page (adjudication, else majority, else Dawid–Skene when the majority is tied);
  `judgments` gives one row per current judgment.
- `margin`: the mean strength (1 slightly … 3 much better) of the judgments that chose the winner;
  0 for a tie or when no strength was given. Ties are {'kept and flagged (`is_tie`, `label_0 = label_1 = 0.5`)' if options['ties'] == 'keep' else 'dropped'}.
- Pass rule (`unpaired.label`): every criterion scored at or above its scale's midpoint.
- `playback_s`: seconds of each output (item labels `a`, `b`) played, as the judgment stored it:
  for live judgments the playback **the server observed** (player heartbeats, media byte ranges)
  when it was submitted; for imported judgments, null.
- `presented`: the item label and model shown on each side of the rater's screen (null for
  judgments imported from elsewhere).
- `notes`: the raters' time-coded notes, a list of structs `{{author, label, model, t_in, t_out, frame_in,
  frame_out, timecode_in, timecode_out, line_in, line_out, char_in, char_out, quote, text, created_at}}` in
  item labels (`a`, `b`): video and audio notes have times in seconds (`t_out` null for a point note),
  frames counted from 0 at the media's real frame rate (read with ffprobe or the mp4's sample table; null
  when unknown) and `HH:MM:SS:FF` timecodes; script notes have 1-based line ranges, optional character
  offsets and the quoted text. `author` is the rater's pseudonym; `created_at` the judgment's time.
- `criteria` (pairwise projects with per-criterion comparisons): in `ratings`, each judgment's choices
  `{{key, choice (a / b / tie), strength}}`; in `preferences`, per criterion the panel's majority winner
  relative to the row's pair, `{{key, winner (chosen / rejected / tie; null when the panel split evenly),
  winner_model, share, n_judgments}}` (mode `judgments`: that one judgment's choices).

## Consent scope

An item enters only when every one of its outputs' assets has consent `granted` or
`not_required`: this is a rule, not a filter. Left out for consent: {manifest['excluded']['items'].get('consent', 0)} items.
Licenses present: {', '.join(f'{k} ({v})' for k, v in manifest['licenses'].items()) or 'none'}.

## Rater pool

{manifest['rater_pool']['n_raters']} raters, named by a keyed hash of their account that is stable across this
project's exports and cannot be linked across projects.

## Filters and exclusions

```json
{json.dumps(options, indent=2)}
```

| unit | reason | left out |
| --- | --- | --- |
{excluded}
"""


def write_manifest(root: Path, manifest: dict) -> None:
    (root / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True, default=str) + "\n")


def make_tar(root: Path, target: Path, arcname: str) -> tuple[str, int]:
    """Pack ``root`` into ``target`` (written beside it, then renamed: never half-written)."""
    partial = target.with_suffix(".tar.part")
    with tarfile.open(partial, "w") as tar:
        tar.add(root, arcname=arcname)
    os.replace(partial, target)
    return sha256_file(target), target.stat().st_size
