"""Plotly figures (as plain JSON dicts) from a statistics report; pure, no plotly import.

The page puts each figure in ``<div class="plot" data-figure="…">`` and ``static/js/charts.js``
draws it with ``Plotly.newPlot`` (no inline scripts under the CSP).
"""
from __future__ import annotations

FONT = {"family": 'system-ui, -apple-system, "Segoe UI", "DejaVu Sans", Roboto, sans-serif',
        "size": 13, "color": "#1b2230"}
GRID = "#e2e6ee"
ACCENT, ACCENT_INK, BLUE, INK_2 = "#d99a1e", "#5c3d00", "#2b6cb0", "#4a5568"
CONFIG = {"displaylogo": False, "responsive": True,
          "modeBarButtonsToRemove": ["select2d", "lasso2d", "autoScale2d", "toggleSpikelines"]}
# Krippendorff's guide (2004, p. 241): alpha >= .800 to rely on data, >= .667 for tentative
# conclusions. Every line and band on a chart carries its label.
ALPHA_GUIDES = ((0.667, "0.667 tentative"), (0.8, "0.800 reliable"))


def _layout(height: int, **extra) -> dict:
    return {"height": height, "font": FONT, "paper_bgcolor": "rgba(0,0,0,0)", "plot_bgcolor": "#ffffff",
            "margin": {"l": 10, "r": 20, "t": 10, "b": 50}, "hoverlabel": {"font": FONT | {"color": "#ffffff"}},
            "showlegend": False, **extra}


def _axis(title: str | None = None, **extra) -> dict:
    axis = {"gridcolor": GRID, "zerolinecolor": GRID, "linecolor": GRID, "automargin": True, **extra}
    if title:
        axis["title"] = {"text": title, "font": {"size": 12, "color": INK_2}}
    return axis


def _errors(centre: list, low: list, high: list) -> dict:
    return {"type": "data", "symmetric": False,
            "array": [h - c if h is not None and c is not None else 0 for c, h in zip(centre, high)],
            "arrayminus": [c - lo if lo is not None and c is not None else 0 for c, lo in zip(centre, low)],
            "thickness": 1.6, "width": 7, "color": INK_2}


def leaderboard_figure(board: dict) -> dict | None:
    """Bradley-Terry score of each model with its bootstrap interval, best at the top."""
    models = board.get("models") or []
    if not models:
        return None
    names = [m["model"] for m in models]
    scores = [m["score"] for m in models]
    low, high = [m.get("ci_low") for m in models], [m.get("ci_high") for m in models]
    trace = {
        "type": "scatter", "mode": "markers", "orientation": "h", "x": scores, "y": names,
        "error_x": _errors(scores, low, high),
        "marker": {"size": 11, "color": ACCENT, "line": {"color": ACCENT_INK, "width": 1}},
        "customdata": [[lo, hi, m["n_comparisons"], m["win_rate"]] for lo, hi, m in zip(low, high, models)],
        "hovertemplate": ("<b>%{y}</b><br>score %{x:.1f}<br>95% interval %{customdata[0]:.1f} – "
                          "%{customdata[1]:.1f}<br>%{customdata[2]} comparisons, win rate "
                          "%{customdata[3]:.1%}<extra></extra>"),
    }
    trace["customdata"] = [[lo, hi, m["n_comparisons"], m["win_rate"], m.get("rank_best"), m.get("rank_worst")]
                           for lo, hi, m in zip(low, high, models)]
    trace["hovertemplate"] = trace["hovertemplate"].replace(
        "<extra>", "<br>rank between %{customdata[4]} and %{customdata[5]}<extra>")
    layout = _layout(110 + 44 * len(models),
                     xaxis=_axis("Bradley–Terry score (Elo scale: mean 1000, +400 = 10:1 odds); "
                                 "bars: 95% bootstrap interval"),
                     yaxis=_axis(None, autorange="reversed", type="category", showgrid=False),
                     margin={"l": 10, "r": 20, "t": 24, "b": 50},
                     shapes=[{"type": "line", "xref": "x", "yref": "paper", "x0": 1000, "x1": 1000,
                              "y0": 0, "y1": 1, "line": {"color": "#a0aec0", "width": 1, "dash": "dot"}}],
                     annotations=[{"x": 1000, "y": 1, "xref": "x", "yref": "paper", "text": "mean 1000",
                                   "showarrow": False, "yanchor": "bottom", "font": {"size": 11, "color": INK_2}}])
    return {"data": [trace], "layout": layout, "config": CONFIG}


def win_rate_figure(win_rates: dict) -> dict | None:
    """Heatmap: the row model's win rate against the column model (ties count half)."""
    models = win_rates.get("models") or []
    if len(models) < 2:
        return None
    matrix, counts = win_rates["matrix"], win_rates["counts"]
    text = [[f"{v:.0%}" if v is not None else "" for v in row] for row in matrix]
    trace = {
        "type": "heatmap", "z": matrix, "x": models, "y": models, "text": text, "texttemplate": "%{text}",
        "customdata": counts, "zmin": 0, "zmax": 1, "zmid": 0.5, "xgap": 2, "ygap": 2,
        "colorscale": [[0, BLUE], [0.5, "#f5f6f9"], [1, ACCENT]],
        "colorbar": {"tickformat": ".0%", "thickness": 12, "outlinewidth": 0, "len": 0.9},
        "hovertemplate": ("<b>%{y}</b> vs %{x}<br>won %{z:.1%} of %{customdata} comparisons"
                          "<extra></extra>"),
        "hoverongaps": False,
    }
    side = max(260, 70 + 56 * len(models))
    layout = _layout(side, xaxis=_axis("opponent", side="bottom", type="category", showgrid=False),
                     yaxis=_axis(None, autorange="reversed", type="category", showgrid=False, ticksuffix=" "),
                     plot_bgcolor="#ffffff")
    return {"data": [trace], "layout": layout, "config": CONFIG}


def agreement_figure(rows: list[dict]) -> dict | None:
    """Krippendorff's alpha per criterion with its 95% interval, and the .667/.800 guides."""
    defined = [r for r in rows if r.get("alpha") is not None]
    if not defined:
        return None
    names = [r["label"] for r in defined]
    alpha = [r["alpha"] for r in defined]
    low = [r["alpha_ci"][0] for r in defined]
    high = [r["alpha_ci"][1] for r in defined]
    trace = {
        "type": "scatter", "mode": "markers", "orientation": "h", "x": alpha, "y": names,
        "error_x": _errors(alpha, low, high),
        "marker": {"size": 11, "color": BLUE, "line": {"color": "#1f4f8a", "width": 1}},
        "customdata": [[lo, hi, r["level"], r["n_units"]] for lo, hi, r in zip(low, high, defined)],
        "hovertemplate": ("<b>%{y}</b><br>α %{x:.3f} (%{customdata[2]})<br>95% interval "
                          "%{customdata[0]:.3f} – %{customdata[1]:.3f}<br>%{customdata[3]} units"
                          "<extra></extra>"),
    }
    lowest = min([v for v in low + alpha if v is not None] + [0.0])
    shapes = [{"type": "line", "xref": "x", "yref": "paper", "x0": x, "x1": x, "y0": 0, "y1": 1,
               "line": {"color": "#a0aec0", "width": 1, "dash": "dot"}} for x, _ in ALPHA_GUIDES]
    annotations = [{"x": x, "y": 1, "xref": "x", "yref": "paper", "text": label, "showarrow": False,
                    "xanchor": "right" if x < 0.7 else "left", "yanchor": "bottom",
                    "font": {"size": 11, "color": INK_2}} for x, label in ALPHA_GUIDES]
    layout = _layout(100 + 40 * len(defined), shapes=shapes, annotations=annotations,
                     margin={"l": 10, "r": 20, "t": 24, "b": 60},
                     xaxis=_axis("Krippendorff's α (bars: 95% bootstrap interval over units)",
                                 range=[min(lowest, 0.0) - 0.05, 1.02]),
                     yaxis=_axis(None, autorange="reversed", type="category", showgrid=False))
    return {"data": [trace], "layout": layout, "config": CONFIG}


def model_means_figure(section: dict) -> dict | None:
    """Rubric: mean score per model with its 95% bootstrap interval over items (one criterion)."""
    models = section.get("models") or []
    if not models:
        return None
    names = [m["model"] for m in models]
    means = [m["mean"] for m in models]
    low, high = [m.get("ci_low") for m in models], [m.get("ci_high") for m in models]
    trace = {
        "type": "scatter", "mode": "markers", "orientation": "h", "x": means, "y": names,
        "error_x": _errors(means, low, high),
        "marker": {"size": 11, "color": ACCENT, "line": {"color": ACCENT_INK, "width": 1}},
        "customdata": [[m["n_items"], m["n_judgments"], m["rank_best"], m["rank_worst"]] for m in models],
        "hovertemplate": ("<b>%{y}</b><br>mean %{x:.2f}<br>%{customdata[0]} items, %{customdata[1]} "
                          "judgments<br>rank between %{customdata[2]} and %{customdata[3]}<extra></extra>"),
    }
    lo, hi = section["scale"]
    layout = _layout(100 + 44 * len(models),
                     xaxis=_axis(f"{section['label']}: mean item score ({lo}–{hi}); bars: 95% interval",
                                 range=[lo - 0.05 * (hi - lo), hi + 0.05 * (hi - lo)]),
                     yaxis=_axis(None, autorange="reversed", type="category", showgrid=False))
    return {"data": [trace], "layout": layout, "config": CONFIG}
