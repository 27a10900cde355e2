#!/usr/bin/env python3
"""Sanity-check the demo data: python3 demo/check_demo.py (exit 1 on any problem).

- projects.json is a list of projects with every wire-format key;
- each items file exists, every line parses, ids are unique;
- pairwise rows have exactly 2 outputs, rubric rows exactly 1;
- every asset path exists under demo/media/ and every output has provenance;
- gold answers fit the project (a/b choice, or in-range scores for every criterion);
- every project demonstrates every rule: a rationale minimum, time on task (a media fraction
  above 0: scripts need their reading time), a gold item, the confidence gate with an audit
  share (an item at or above the threshold), adaptive overlap (max_overlap above overlap) and
  consent (an output whose consent is not granted).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

DEMO = Path(__file__).resolve().parent
MEDIA = DEMO / "media"
PROJECT_KEYS = {
    "name", "kind", "modality", "instructions", "rubric", "overlap", "max_overlap",
    "agreement_target", "confidence_threshold", "audit_rate", "gold_rate",
    "min_rationale_words", "min_media_fraction", "items_file",
}
PROVENANCE_KEYS = {"model_version", "generation_params", "rights_holder", "license", "consent"}
CONSENT = {"granted", "pending", "revoked"}


def check() -> list[str]:
    errors: list[str] = []
    projects = json.loads((DEMO / "projects.json").read_text(encoding="utf-8"))
    if not isinstance(projects, list) or not projects:
        return ["projects.json: expected a non-empty list"]
    for project in projects:
        name = project.get("name", "?")
        missing = PROJECT_KEYS - project.keys()
        if missing:
            errors.append(f"{name}: missing keys {sorted(missing)}")
            continue
        kind = project["kind"]
        if kind not in ("pairwise", "rubric"):
            errors.append(f"{name}: bad kind {kind!r}")
        if (kind == "rubric") != bool(project["rubric"]):
            errors.append(f"{name}: rubric must be non-empty exactly for kind 'rubric'")
        criteria = {c["key"]: c for c in project["rubric"]}
        for c in project["rubric"]:
            levels = {str(v) for v in range(c["min"], c["max"] + 1)}
            if set(c["levels"]) != levels:
                errors.append(f"{name}: criterion {c['key']} levels {sorted(c['levels'])}")
        n_outputs = 2 if kind == "pairwise" else 1
        path = DEMO / project["items_file"]
        if not path.exists():
            errors.append(f"{name}: items file {path} missing")
            continue
        seen: set[str] = set()
        gold = confident = withheld = 0
        for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            where = f"{project['items_file']}:{lineno}"
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                errors.append(f"{where}: {exc}")
                continue
            ext_id = row.get("external_id")
            if not ext_id or ext_id in seen:
                errors.append(f"{where}: missing or duplicate external_id {ext_id!r}")
            seen.add(ext_id)
            if not row.get("prompt"):
                errors.append(f"{where}: empty prompt")
            outputs = row.get("outputs", [])
            if len(outputs) != n_outputs:
                errors.append(f"{where}: {kind} row needs {n_outputs} outputs, has {len(outputs)}")
            if not 0.0 <= row.get("model_confidence", 0.0) <= 1.0:
                errors.append(f"{where}: model_confidence out of range")
            confident += row.get("model_confidence", 0.0) >= project["confidence_threshold"]
            withheld += any(o.get("provenance", {}).get("consent") != "granted" for o in outputs)
            for out in outputs:
                if not out.get("model"):
                    errors.append(f"{where}: output without model")
                prov = out.get("provenance", {})
                if PROVENANCE_KEYS - prov.keys() or prov.get("consent") not in CONSENT:
                    errors.append(f"{where}: incomplete provenance for {out.get('model')}")
                if project["modality"] == "script":
                    if not out.get("text", "").strip():
                        errors.append(f"{where}: script output without text")
                else:
                    rel = out.get("asset", {}).get("path", "")
                    if not rel or rel.startswith("/") or not (MEDIA / rel).is_file():
                        errors.append(f"{where}: asset {rel!r} not found under demo/media")
            if "gold" in row:
                gold += 1
                g = row["gold"]
                if kind == "pairwise" and g.get("choice") not in ("a", "b"):
                    errors.append(f"{where}: pairwise gold needs choice a/b")
                if kind == "rubric":
                    scores = g.get("scores", {})
                    if set(scores) != set(criteria) or any(
                            not criteria[k]["min"] <= v <= criteria[k]["max"]
                            for k, v in scores.items()):
                        errors.append(f"{where}: rubric gold scores {scores}")
        if gold < 1:
            errors.append(f"{name}: no gold item")
        for rule, shown in (("rationale minimum", project["min_rationale_words"] >= 1),
                            ("time on task", project["min_media_fraction"] > 0),
                            ("gold", project["gold_rate"] > 0),
                            ("confidence gate", confident >= 1 and project["audit_rate"] > 0),
                            ("adaptive overlap", project["max_overlap"] > project["overlap"]),
                            ("consent", withheld >= 1)):
            if not shown:
                errors.append(f"{name}: does not demonstrate the {rule} rule")
        print(f"{project['items_file']}: {len(seen)} items, {gold} gold, {kind}/{project['modality']}")
    return errors


if __name__ == "__main__":
    problems = check()
    for p in problems:
        print("ERROR:", p, file=sys.stderr)
    sys.exit(1 if problems else 0)
