"""Simulated panels for the rater-quality tests: honest raters and the kinds of bad rater a
manager must find. Each function returns a judgments frame in ``scoring.quality.panel``'s form."""
from __future__ import annotations

import numpy as np
import pandas as pd

MODELS = {"gen-a": 1.5, "gen-b": 0.5, "gen-c": -0.5, "gen-d": -1.5}  # Bradley–Terry strengths
VOCAB = ("grain light neon sway push frame edit pace cut rhythm colour contrast focus motion blur "
         "shadow flicker seam texture depth horizon crowd alley rain glow camera track pan tilt "
         "ghosting stutter timing beat mood brief continuity staging blocking exposure noise hum").split()
COPIED = ["take looks fine to me overall good",
          "this one is better overall good pacing and look",
          "the left one is better overall good"]
START = pd.Timestamp("2026-10-05T09:00:00Z")


def _text(rng, n_words=(14, 30)) -> str:
    return " ".join(rng.choice(VOCAB, size=rng.integers(*n_words)))


def _row(j, item, rater, *, time_s, media_s, left, when, rationale, is_gold=False, gold_correct=None,
         choice=None, scores=None, model_a=None, model_b=None):
    return {"judgment": j, "item": item, "rater": rater, "source": "live", "created_at": when,
            "choice": choice, "scores": scores, "rationale": rationale, "notes": 0, "time_s": time_s,
            "media_s": media_s, "left_label": left, "is_gold": is_gold, "gold_correct": gold_correct,
            "model_a": model_a, "model_b": model_b}


def pairwise_panel(seed: int, *, n_honest=8, n_items=400, per_item=5, n_gold=20, bad=True) -> pd.DataFrame:
    """Honest raters (accuracy 0.75–0.9, unhurried, own words) and, with ``bad``: ``stamper``
    (fast, always Left, copied rationales), ``goldfail`` (misses most check items) and
    ``contrarian`` (votes for the weaker model)."""
    rng = np.random.default_rng(seed)
    raters = [f"honest-{i}" for i in range(n_honest)] + (["stamper", "goldfail", "contrarian"] if bad else [])
    accuracy = {r: rng.uniform(0.75, 0.9) for r in raters}
    names = list(MODELS)
    rows, j = [], 0
    for item in range(n_items + n_gold):
        gold = item >= n_items
        ma, mb = rng.choice(names, size=2, replace=False)
        p_a = 1 / (1 + np.exp(MODELS[mb] - MODELS[ma]))
        truth = "tie" if rng.random() < 0.08 else ("a" if rng.random() < p_a else "b")
        media = rng.uniform(3.0, 12.0)
        panel = raters if gold else rng.choice(raters, size=per_item, replace=False)
        for rater in panel:
            left = "a" if rng.random() < 0.5 else "b"
            time_s = media * rng.lognormal(np.log(1.8), 0.3)
            rationale = _text(rng)
            right = truth if rng.random() < accuracy[rater] else rng.choice([c for c in "ab" if c != truth] + ["tie"])
            choice = right
            if rater == "stamper":
                choice, time_s, rationale = left, media * rng.uniform(0.8, 0.98), COPIED[j % len(COPIED)]
            elif rater == "goldfail" and gold:
                choice = truth if rng.random() < 0.25 else ("b" if truth == "a" else "a")
            elif rater == "contrarian" and rng.random() < 0.95:
                choice = "a" if MODELS[ma] < MODELS[mb] else "b"
            when = START + pd.Timedelta(minutes=int(rng.integers(0, 60 * 24 * 28)))
            rows.append(_row(j, item, rater, time_s=time_s, media_s=media, left=left, when=when, rationale=rationale,
                             choice=choice, is_gold=gold, gold_correct=(choice == truth) if gold else None,
                             model_a=ma, model_b=mb))
            j += 1
    return pd.DataFrame(rows)


RUBRIC = [{"key": k, "label": k.title(), "min": 1, "max": 5} for k in ("structure", "dialogue", "pacing")]


def rubric_panel(seed: int, *, n_honest=8, n_items=150, per_item=5, n_gold=10, bad=True) -> pd.DataFrame:
    """Honest raters (true level + noise) and, with ``bad``, ``flatliner`` (the same level on every
    criterion)."""
    rng = np.random.default_rng(seed)
    raters = [f"honest-{i}" for i in range(n_honest)] + (["flatliner"] if bad else [])
    rows, j = [], 0
    for item in range(n_items + n_gold):
        gold = item >= n_items
        truth = np.clip(np.round(rng.uniform(1.5, 4.5) + rng.normal(0, 1.0, size=3)), 1, 5)
        media = rng.uniform(20, 60)
        panel = raters if gold else rng.choice(raters, size=per_item, replace=False)
        for rater in panel:
            levels = np.clip(np.round(truth + rng.normal(0, 0.6, size=3)), 1, 5).astype(int)
            if rater == "flatliner":
                levels = np.full(3, int(np.clip(round(truth.mean()), 1, 5)))
            scores = dict(zip((c["key"] for c in RUBRIC), (int(v) for v in levels)))
            when = START + pd.Timedelta(minutes=int(rng.integers(0, 60 * 24 * 28)))
            rows.append(_row(j, item, rater, time_s=media * rng.lognormal(np.log(1.6), 0.3), media_s=media,
                             left=None, when=when, rationale=_text(rng), scores=scores, is_gold=gold,
                             gold_correct=bool((np.abs(levels - truth) <= 1).all()) if gold else None))
            j += 1
    return pd.DataFrame(rows)
