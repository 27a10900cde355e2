"""Write the demo's earlier judgments (demo/judgments/*.jsonl): a panel of outside raters who
judged about half of each project's items before the demo, so the statistics page has numbers
and the live raters still have work. Deterministic; run `python demo/build_judgments.py`."""
from __future__ import annotations

import json
import random
from pathlib import Path

HERE = Path(__file__).resolve().parent
PANEL = ["panel-ines", "panel-kofi", "panel-mei", "panel-tom"]
JUDGED = {
    "video": ["alley-002", "alley-003", "alley-005", "alley-006", "alley-007"],
    "audio": ["narr-01", "narr-02", "narr-04", "narr-05", "narr-07"],
    "scripts": ["script-01", "script-02", "script-03", "script-05", "script-06"],
}
# Which output the panel tends to prefer per item (probability of "a"), so agreement varies.
LEAN = {"alley-002": .85, "alley-003": .2, "alley-005": .5, "alley-006": .9, "alley-007": .7,
        "narr-01": .8, "narr-02": .3, "narr-04": .6, "narr-05": .9, "narr-07": .15}
SCRIPT_QUALITY = {"script-01": (4, 4, 4), "script-02": (2, 2, 3), "script-03": (5, 4, 4),
                  "script-05": (3, 2, 2), "script-06": (2, 3, 2)}
REASONS = {
    "video": ["{w} keeps the light source in one place while {l} lets the neon flicker between frames",
              "the motion in {w} reads as one continuous move; {l} stutters in its second half",
              "{w} answers the brief's camera move, {l} sways where the brief asks for a locked-off frame",
              "grain crawls across the wall in {l}; {w} stays clean without looking plastic"],
    "audio": ["{w} keeps every consonant clear under the bed while {l} swallows the last word",
              "the delivery of {w} suits the documentary register; {l} sounds rushed and metallic",
              "{l} has a hard cut on the reverb tail, {w} breathes naturally at the end of the line",
              "room tone in {w} sits under the voice; in {l} it fights the narration"],
}
# The video project compares three criteria before the overall choice (projects.json); a panel
# rater mostly agrees with their own overall choice on each, sometimes not (so "the overall
# winner lost a criterion" has something to count).
VIDEO_CRITERIA = ("motion", "fidelity", "continuity")
# Time-coded notes (seconds into the take; the clips are 3–4 s at 24 fps, the audio 2.3–3.9 s).
NOTES = {
    "video": [(0.5, 1.25, "the push-in hitches for two frames here"), (1.0, None, "neon sign flickers off and back"),
              (2.0, 2.5, "grain crawls over the wall"), (1.5, None, "horizon tilts though the brief says locked off")],
    "audio": [(0.4, None, "consonant swallowed under the bed"), (1.0, 1.6, "reverb tail cut hard"),
              (0.8, None, "breath noise right on the cut"), (1.5, 2.0, "level dips under the room tone")],
}
SCRIPT_REASONS = ["the turn lands late but the geography stays clear and the final beat changes the situation",
                  "characters announce what they feel, so the dialogue carries no subtext at all",
                  "a prop vanishes between two lines and the time of day changes without a reason",
                  "the scene enters late and leaves early, every line pulling its weight"]


def build() -> None:
    rng = random.Random(2026)
    for name, items in JUDGED.items():
        rows = []
        for ext in items:
            for rater in rng.sample(PANEL, 3):
                confidence = rng.randint(2, 5)
                when = f"2026-10-{rng.randint(1, 28):02d}T{rng.randint(8, 18):02d}:{rng.randint(0, 59):02d}:00Z"
                if name == "scripts":
                    scores = {k: max(1, min(5, base + rng.choice((-1, 0, 0, 1))))
                              for k, base in zip(("coherence", "dialogue", "structure"), SCRIPT_QUALITY[ext])}
                    rows.append({"external_id": ext, "rater": rater, "scores": scores, "confidence": confidence,
                                 "rationale": rng.choice(SCRIPT_REASONS), "created_at": when})
                    continue
                roll = rng.random()
                choice = "tie" if abs(roll - LEAN[ext]) < .06 else ("a" if roll < LEAN[ext] else "b")
                row = {"external_id": ext, "rater": rater, "choice": choice, "confidence": confidence,
                       "created_at": when}
                if choice == "tie":
                    row["rationale"] = "both takes fail the brief in the same place and neither is usable as is"
                else:
                    row["strength"] = rng.randint(1, 3)
                    w, l = ("take A", "take B") if choice == "a" else ("take B", "take A")
                    row["rationale"] = rng.choice(REASONS[name]).format(w=w, l=l)
                row.update(extras(name, ext, rater, choice))
                rows.append(row)
        (HERE / "judgments" / f"{name}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))


def extras(name: str, ext: str, rater: str, choice: str) -> dict:
    """Per-criterion choices (video) and some time-coded notes, from their own generator so the
    earlier columns stay as they were."""
    rng = random.Random(f"{ext}/{rater}")
    out = {}
    if name == "video":
        other = {"a": "b", "b": "a", "tie": "a"}[choice]
        picks = {key: choice if rng.random() < .75 else rng.choice((other, "tie")) for key in VIDEO_CRITERIA}
        out["criteria"] = {key: {"choice": c, **({"strength": rng.randint(1, 3)} if c != "tie" else {})}
                           for key, c in picks.items()}
    if rng.random() < .5:
        t_in, t_out, text = rng.choice(NOTES[name])
        label = rng.choice("ab")
        out["notes"] = [{"label": label, "t_in": t_in, "t_out": t_out, "text": text}]
    return out


if __name__ == "__main__":
    build()
