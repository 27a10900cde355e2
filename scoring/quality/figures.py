"""Plotly figures (plain JSON dicts) of the manager's pages; pure, no plotly import. Drawn by
``static/js/charts.js`` from ``data-figure`` (the statistics page's way, no inline script)."""
from __future__ import annotations

import math

from scoring.reports.figures import ACCENT, ACCENT_INK, BLUE, CONFIG, GRID, INK_2, _axis, _errors, _layout

LABEL_ALL_UP_TO = 20
RED, GREEN, GREY = "#c53030", "#2f855a", "#a0aec0"
STATE_COLOURS = {"gold": "#b7791f", "adjudicated": "#6b46c1", "flagged": RED, "auto_accepted": GREY,
                 "agreed": GREEN, "split": "#dd6b20", "extended": "#d69e2e", "in_progress": BLUE, "queued": "#cbd5e0"}


def _figure(data: list, layout: dict) -> dict:
    return {"data": data, "layout": layout, "config": CONFIG}


def panel_scatter(rows: list[dict]) -> dict | None:
    """Time on task (median, ÷ media duration) against κ with the panel; size = judgments.
    Rubber-stampers sit bottom left; flagged raters are red."""
    points = [r for r in rows if r["time"]["median_ratio"] and r["agreement"]["kappa"] is not None]
    if not points:
        return None
    biggest = max(r["n"] for r in points)
    trace = {
        "type": "scatter", "mode": "markers+text", "x": [r["time"]["median_ratio"] for r in points],
        "y": [r["agreement"]["kappa"] for r in points],
        # Names on the chart: everyone in a small panel, only the flagged in a large one.
        "text": [r["name"] if r["flags"] or len(points) <= LABEL_ALL_UP_TO else "" for r in points],
        "hovertext": [r["name"] for r in points],
        "textposition": "top center", "textfont": {"size": 10, "color": INK_2}, "cliponaxis": False,
        "marker": {"size": [10 + 26 * math.sqrt(r["n"] / biggest) for r in points],
                   "color": [RED if r["flags"] else BLUE for r in points], "opacity": 0.75,
                   "line": {"color": "#ffffff", "width": 1}},
        "customdata": [[r["n"], "; ".join(f["reason"] for f in r["flags"]) or "no flags"] for r in points],
        "hovertemplate": ("<b>%{hovertext}</b><br>time %{x:.2f}× the media<br>κ %{y:.2f}<br>%{customdata[0]} "
                          "judgments<br>%{customdata[1]}<extra></extra>"),
    }
    shapes = [{"type": "line", "xref": "x", "yref": "paper", "x0": 1, "x1": 1, "y0": 0, "y1": 1,
               "line": {"color": GREY, "width": 1, "dash": "dot"}}]
    return _figure([trace], _layout(380, shapes=shapes, margin={"l": 10, "r": 20, "t": 20, "b": 50},
                                    xaxis=_axis("median time on task ÷ media duration", type="log"),
                                    yaxis=_axis("Cohen's κ with the other raters' consensus")))


def time_scatter(rows: list[dict]) -> dict | None:
    """Each rater's median time against the media's median duration."""
    points = [r for r in rows if r["time"]["median_s"] is not None and r["time"]["median_media_s"]]
    if not points:
        return None
    top = max(max(r["time"]["median_media_s"], r["time"]["median_s"]) for r in points) * 1.1
    trace = {"type": "scatter", "mode": "markers", "x": [r["time"]["median_media_s"] for r in points],
             "y": [r["time"]["median_s"] for r in points], "text": [r["name"] for r in points],
             "marker": {"size": 10, "color": [RED if r["flags"] else BLUE for r in points], "opacity": 0.75},
             "hovertemplate": "<b>%{text}</b><br>media %{x:.1f} s<br>time on task %{y:.1f} s<extra></extra>"}
    diagonal = {"type": "scatter", "mode": "lines", "x": [0, top], "y": [0, top], "hoverinfo": "skip",
                "line": {"color": GREY, "width": 1, "dash": "dot"}}
    return _figure([diagonal, trace], _layout(320, xaxis=_axis("median media duration (s)", range=[0, top]),
                                               yaxis=_axis("median time on task (s)", range=[0, top])))


def drift_figure(weeks: list[dict]) -> dict | None:
    """Week by week: agreement with the panel, gold accuracy, Left share; time ratio on the right."""
    if not weeks:
        return None
    x = [w["week"] for w in weeks]
    series = [("agreement with panel", "agreement", BLUE), ("gold accuracy", "gold", GREEN), ("Left share", "left", ACCENT)]
    data = [{"type": "scatter", "mode": "lines+markers", "name": name, "x": x, "y": [w[key]["share"] for w in weeks],
             "line": {"color": colour}, "connectgaps": True, "customdata": [w[key]["n"] for w in weeks],
             "hovertemplate": f"{name} %{{y:.0%}} of %{{customdata}}<extra></extra>"} for name, key, colour in series]
    data.append({"type": "bar", "name": "time ÷ media", "x": x, "y": [w["median_time_ratio"] for w in weeks],
                 "yaxis": "y2", "marker": {"color": "rgba(160,174,192,.35)"},
                 "hovertemplate": "median time %{y:.2f}× the media<extra></extra>"})
    layout = _layout(300, showlegend=True, legend={"orientation": "h", "y": -0.25},
                     xaxis=_axis(None, type="category"), yaxis=_axis("share", range=[0, 1.05], tickformat=".0%"),
                     yaxis2={"overlaying": "y", "side": "right", "title": {"text": "time ÷ media"}, "showgrid": False,
                             "rangemode": "tozero"}, margin={"l": 10, "r": 50, "t": 10, "b": 60})
    return _figure(data, layout)


def states_figure(states: dict, order: list[str]) -> dict | None:
    present = [s for s in order if states.get(s)]
    if not present:
        return None
    trace = {"type": "bar", "orientation": "h", "y": [s.replace("_", " ") for s in present],
             "x": [states[s] for s in present], "marker": {"color": [STATE_COLOURS[s] for s in present]},
             "text": [states[s] for s in present], "textposition": "auto",
             "hovertemplate": "%{y}: %{x} items<extra></extra>"}
    return _figure([trace], _layout(60 + 28 * len(present), xaxis=_axis("items"),
                                    yaxis=_axis(None, autorange="reversed", type="category", showgrid=False)))


def per_day_figure(per_day: list[dict]) -> dict | None:
    if not per_day:
        return None
    x = [d["day"] for d in per_day]
    bars = {"type": "bar", "name": "judgments", "x": x, "y": [d["judgments"] for d in per_day],
            "marker": {"color": BLUE}, "hovertemplate": "%{x}: %{y} judgments<extra></extra>"}
    line = {"type": "scatter", "mode": "lines+markers", "name": "raters", "x": x, "y": [d["raters"] for d in per_day],
            "yaxis": "y2", "line": {"color": ACCENT}, "hovertemplate": "%{x}: %{y} raters<extra></extra>"}
    return _figure([bars, line], _layout(280, showlegend=True, legend={"orientation": "h", "y": -0.3},
                                         xaxis=_axis(None, type="date"), yaxis=_axis("judgments"),
                                         yaxis2={"overlaying": "y", "side": "right", "showgrid": False,
                                                 "title": {"text": "raters"}, "rangemode": "tozero"},
                                         margin={"l": 10, "r": 50, "t": 10, "b": 60}))


def funnel_figure(steps: list[dict]) -> dict | None:
    if not steps or not steps[0]["n"]:
        return None
    trace = {"type": "funnel", "y": [s["step"] for s in steps], "x": [s["n"] for s in steps],
             "textinfo": "value+percent initial", "marker": {"color": [GREY, BLUE, BLUE, BLUE, GREEN, ACCENT][:len(steps)]},
             "connector": {"line": {"color": GRID}}}
    return _figure([trace], _layout(260, margin={"l": 10, "r": 20, "t": 10, "b": 20},
                                    yaxis=_axis(None, type="category", showgrid=False)))


def reliability_figure(cal: dict) -> dict | None:
    """Share of items whose panel label is the model's choice, per confidence bin (95% Wilson)."""
    bins = [b for b in cal.get("bins", []) if b["n"]]
    if not bins:
        return None
    x = [b["mean_confidence"] for b in bins]
    y = [b["share"] for b in bins]
    trace = {"type": "scatter", "mode": "markers+lines", "x": x, "y": y, "name": "panel agrees with model",
             "error_y": _errors(y, [b["ci"][0] for b in bins], [b["ci"][1] for b in bins]),
             "marker": {"size": [8 + min(20, b["n"]) for b in bins], "color": ACCENT, "line": {"color": ACCENT_INK, "width": 1}},
             "customdata": [[b["n"], b["low"], b["high"]] for b in bins],
             "hovertemplate": ("confidence %{customdata[1]:.1f}–%{customdata[2]:.1f}<br>panel agrees %{y:.0%} of "
                               "%{customdata[0]} items<extra></extra>")}
    diagonal = {"type": "scatter", "mode": "lines", "x": [0, 1], "y": [0, 1], "hoverinfo": "skip", "name": "perfect",
                "line": {"color": GREY, "width": 1, "dash": "dot"}}
    shapes = [{"type": "line", "xref": "x", "yref": "paper", "x0": cal["threshold"], "x1": cal["threshold"],
               "y0": 0, "y1": 1, "line": {"color": RED, "width": 1, "dash": "dash"}}]
    return _figure([diagonal, trace], _layout(360, shapes=shapes, xaxis=_axis("model_confidence", range=[0, 1.02]),
                                              yaxis=_axis("panel agrees with the model's choice", range=[0, 1.05],
                                                          tickformat=".0%")))
