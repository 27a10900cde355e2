"""The demo projects use real rules: every demo project demonstrates every rule."""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

DEMO = Path(__file__).resolve().parent.parent / "demo"


def test_the_demo_data_is_sound_and_every_project_demonstrates_every_rule(capsys):
    spec = importlib.util.spec_from_file_location("check_demo", DEMO / "check_demo.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.check() == []


def test_no_demo_project_switches_a_rule_off():
    for project in json.loads((DEMO / "projects.json").read_text()):
        assert project["min_media_fraction"] >= 0.5, project["name"]  # the scripts' reading time too
        assert project["min_rationale_words"] >= 12 and project["gold_rate"] > 0, project["name"]
