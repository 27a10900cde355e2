"""The statistics page and API: what a researcher sees, the same numbers (same snapshot) in both,
the consensus in pages and filters, rubric and empty projects, and the OpenAPI description."""
from __future__ import annotations

import html
import json
import re

import pytest

from tests.scoring.stats_factories import adjudicate, item, judge, pairwise_panel, rater, stats_project

PANEL = {  # three models on two kinds of item; one contested, one tied, one imported-only
    "p1": ["a", "a", "a"], "p2": ["a", "b", "a"], "p3": ["b", "b", "a"], "p4": ["a", "tie", "b"],
    "p5": ["a", "a", None], "p6": ["b", "a", "a"],
}


@pytest.fixture
def project(app, session, make_user):
    app.config["STATS_RESAMPLES"] = 100
    manager = make_user("manager")
    project = stats_project(session, manager.id)
    items, raters = pairwise_panel(session, project, dict(list(PANEL.items())[:3]), models=("gen-a", "gen-b"))
    more, _ = pairwise_panel(session, project, dict(list(PANEL.items())[3:]), raters=raters, models=("gen-b", "gen-c"))
    live = item(session, project, ("gen-a", "gen-c"), external_id="p7")
    judge(session, live, raters[0], "a", source="live")
    judge(session, live, raters[1], "a", source="live")
    adjudicate(session, more[0], choice="b")
    session.commit()
    return project


def figure(page: str, name: str) -> dict:
    found = re.search(rf'id="plot-{name}" data-figure="([^"]+)"', page)
    return json.loads(html.unescape(found.group(1)))


def test_a_researcher_sees_agreement_leaderboard_win_rates_and_consensus(login_as, project):
    web, _ = login_as("researcher")
    response = web.get(f"/projects/{project.id}/statistics")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "<h1>Statistics</h1>" in page and "Computed " in page
    assert "19</span><span class=\"tile-label\">judgments" in page
    assert "2 live · <span class=\"imported-count\">17 imported</span>" in page
    assert page.count('<tr data-criterion=') == 2  # choice and preference
    assert "vendor/plotly/plotly.min.js" in page and "js/charts.js" in page
    assert "<script>" not in page and "onclick" not in page  # CSP: no inline scripts or handlers
    board = figure(page, "leaderboard")
    assert board["data"][0]["y"][0] in ("gen-a", "gen-b", "gen-c") and len(board["data"][0]["y"]) == 3
    heat = figure(page, "win-rates")
    assert heat["data"][0]["type"] == "heatmap" and len(heat["data"][0]["z"]) == 3
    assert figure(page, "agreement")["data"][0]["x"]
    assert page.count("<code>p") == 7  # every judged item in the consensus table
    assert page.count('badge adjudicated">adjudicated</span>') == 1  # p4: tied panel, decided by adjudication
    assert 'id="import"' in page  # researchers bring judgments too


def test_the_api_returns_the_numbers_of_the_page(login_as, api, project):
    web, _ = login_as("researcher")
    page = web.get(f"/projects/{project.id}/statistics").get_data(as_text=True)
    client, _ = api("researcher")
    agreement = client.get(f"/api/v1/projects/{project.id}/agreement").json
    board = client.get(f"/api/v1/projects/{project.id}/leaderboard").json
    consensus = client.get(f"/api/v1/projects/{project.id}/consensus?per_page=500").json
    key = re.search(r'data-snapshot-key="([^"]+)"', page).group(1)
    assert agreement["key"] == board["key"] == consensus["key"] == key
    assert agreement["computed_at"] == board["computed_at"]
    for row in agreement["criteria"]:
        cells = re.search(rf'<tr data-criterion="{row["criterion"]}">(.*?)</tr>', page, re.S).group(1)
        assert f'{row["alpha"]:.3f}' in cells
        assert f'{row["alpha_ci"][0]:.3f} – {row["alpha_ci"][1]:.3f}' in cells
        assert f'{row["percent_agreement"] * 100:.1f}%' in cells
    plotted = figure(page, "leaderboard")["data"][0]
    assert plotted["y"] == [m["model"] for m in board["models"]]
    assert plotted["x"] == [m["score"] for m in board["models"]]
    for m in board["models"]:
        assert f'{m["score"]:.1f}' in page
    assert figure(page, "win-rates")["data"][0]["z"] == board["win_rates"]["matrix"]
    assert consensus["total"] == 7
    for record in consensus["items"]:
        assert f"<code>{record['external_id']}</code>" in page


def test_consensus_pages_and_filters(api, project):
    client, _ = api("manager")
    first = client.get(f"/api/v1/projects/{project.id}/consensus?per_page=3").json
    assert (len(first["items"]), first["total"], first["page"]) == (3, 7, 1)
    assert first["next"].endswith("page=2&per_page=3&show=all")
    last = client.get(first["next"].replace("page=2", "page=3")).json
    assert len(last["items"]) == 1 and last["next"] is None
    labels = first["items"][0]["labels"]["choice"]
    assert set(labels) == {"label", "source", "posterior", "majority", "share", "tied", "ds_label",
                           "ds_posterior", "adjudicated_label", "n_labels", "votes"}
    adjudicated = client.get(f"/api/v1/projects/{project.id}/consensus?show=adjudicated").json
    assert [i["external_id"] for i in adjudicated["items"]] == ["p4"]
    assert adjudicated["items"][0]["labels"]["choice"]["source"] == "adjudication"
    contested = client.get(f"/api/v1/projects/{project.id}/consensus?show=contested").json
    assert [i["external_id"] for i in contested["items"]] == ["p4"]  # tied; 2 of 3 meets the 0.67 target
    imported = client.get(f"/api/v1/projects/{project.id}/consensus?show=imported").json
    assert "p7" not in [i["external_id"] for i in imported["items"]] and imported["total"] == 6
    bad = client.get(f"/api/v1/projects/{project.id}/consensus?show=weird")
    assert bad.status_code == 400 and bad.json["error"]["code"] == "invalid_parameter"
    assert client.get(f"/api/v1/projects/{project.id}/consensus?per_page=0").status_code == 400


def test_the_page_filters_the_consensus_table(login_as, project):
    web, _ = login_as("manager")
    page = web.get(f"/projects/{project.id}/statistics?show=adjudicated").get_data(as_text=True)
    assert page.count("<code>p") == 1 and "<code>p4</code>" in page
    assert 'aria-current="true">adjudicated' in page


def test_a_rubric_project_has_agreement_and_consensus_per_criterion(login_as, api, session, make_user):
    manager = make_user("manager")
    project = stats_project(session, manager.id, kind="rubric")
    raters = [rater(session) for _ in range(3)]
    for levels in ((4, 4, 5), (2, 3, 2), (5, 5, 5)):
        it = item(session, project, ("gen-a",))
        for who, level in zip(raters, levels):
            judge(session, it, who, scores={"coherence": level, "dialogue": 6 - level})
    session.commit()
    web, _ = login_as("researcher")
    page = web.get(f"/projects/{project.id}/statistics").get_data(as_text=True)
    assert page.count("<tr data-criterion=") == 2 and 'id="leaderboard"' not in page
    assert 'id="plot-win-rates"' not in page and 'id="plot-agreement"' in page
    assert "<th class=\"num\" title=\"label · Dawid–Skene P(label) · majority share of the judgments\">Coherence</th>" in page
    client, _ = api("researcher")
    board = client.get(f"/api/v1/projects/{project.id}/leaderboard").json
    assert board["models"] == [] and "rubric" in board["undefined_reason"]
    consensus = client.get(f"/api/v1/projects/{project.id}/consensus").json
    assert consensus["criteria"] == ["coherence", "dialogue"]
    assert [i["labels"]["coherence"]["label"] for i in consensus["items"]] == [4, 2, 5]


def test_a_project_without_judgments(login_as, api, session, make_user):
    manager = make_user("manager")
    project = stats_project(session, manager.id)
    session.commit()
    web, _ = login_as("manager")
    page = web.get(f"/projects/{project.id}/statistics").get_data(as_text=True)
    assert "No statistics yet" in page and "imported below" in page
    assert "plotly" not in page
    client, _ = api("manager")
    body = client.get(f"/api/v1/projects/{project.id}/agreement").json
    assert body["criteria"][0]["alpha"] is None and body["counts"]["judgments"] == 0


def test_readers_find_the_page_from_the_project(login_as, project):
    web, _ = login_as("researcher")
    assert f'href="/projects/{project.id}/statistics"' in web.get(f"/projects/{project.id}").get_data(as_text=True)


def test_openapi_describes_the_statistics_routes(client):
    doc = client.get("/api/v1/openapi.json").json
    for path in ("/projects/{project_id}/agreement", "/projects/{project_id}/leaderboard",
                 "/projects/{project_id}/consensus"):
        op = doc["paths"][path]["get"]
        assert op["x-access"] == "stats.view" and op["responses"]["200"]["content"]
    assert "show" in [p["name"] for p in doc["paths"]["/projects/{project_id}/consensus"]["get"]["parameters"]]
    imp = doc["paths"]["/projects/{project_id}/judgments/import"]["post"]
    assert imp["x-access"] == "judgments.import" and "201" in imp["responses"]
    assert "application/x-ndjson" in imp["requestBody"]["content"]


# -- every number explains itself; rubric projects compare models ---------------------------------

def test_every_agreement_number_carries_its_size_method_and_warning(login_as, api, project):
    web, _ = login_as("researcher")
    page = web.get(f"/projects/{project.id}/statistics").get_data(as_text=True)
    client, _ = api("researcher")
    agreement = client.get(f"/api/v1/projects/{project.id}/agreement").json
    rules = agreement["rules"]
    assert rules["min_units"] == 20 and "Hayes" in rules["methods"]["alpha_ci_pairs"]
    choice = agreement["criteria"][0]
    assert choice["n_units"] == 7 and any("pairable units" in w for w in choice["warnings"])
    cells = re.search(r'<tr data-criterion="choice">(.*?)</tr>', page, re.S).group(1)
    assert "only 7 pairable units (fewer than 20)" in html.unescape(cells)
    low, high = choice["alpha_ci_pairs"]
    assert f"{low:.3f} – {high:.3f}" in cells  # Krippendorff's bootstrap beside the unit bootstrap
    coefficients = re.search(r'<tr data-coefficients="choice">(.*?)</tr>', page, re.S).group(1)
    for name in ("fleiss", "gwet", "brennan_prediger"):
        c = choice["coefficients"][name]
        assert c["n_units"] == 7 and f'{c["value"]:.3f}' in coefficients and f'SE {c["se"]:.3f}' in coefficients
    assert choice["coefficients"]["gwet"]["name"] == "Gwet's AC1"
    assert "Hayes &amp; Krippendorff 2007" in page and "Gwet" in page
    # the summary names both rater counts, so it no longer disagrees with the table
    counts = agreement["counts"]
    assert f'{counts["raters_on_shared_items"]} of them on items two or more raters judged' in page
    assert choice["n_raters"] == counts["raters_on_shared_items"]


def test_the_agreement_chart_labels_its_lines_and_bars(login_as, project):
    web, _ = login_as("researcher")
    page = web.get(f"/projects/{project.id}/statistics").get_data(as_text=True)
    chart = figure(page, "agreement")
    labels = [a["text"] for a in chart["layout"]["annotations"]]
    assert labels == ["0.667 tentative", "0.800 reliable"]
    assert "bars: 95% bootstrap interval" in chart["layout"]["xaxis"]["title"]["text"]
    board = figure(page, "leaderboard")
    assert [a["text"] for a in board["layout"]["annotations"]] == ["mean 1000"]
    assert "rank between" in board["data"][0]["hovertemplate"]


def test_leaderboard_has_rank_intervals_and_top_rank_robustness(login_as, api, project):
    client, _ = api("researcher")
    board = client.get(f"/api/v1/projects/{project.id}/leaderboard").json
    for m in board["models"]:
        assert 1 <= m["rank_best"] <= m["rank"] <= m["rank_worst"] <= len(board["models"])
        assert any("comparisons" in w for w in m["warnings"])  # every model has < 20 here
    rob = board["robustness"]
    assert rob["top"] == board["models"][0]["model"] and rob["n_judgments"] == board["n_comparisons"]
    web, _ = login_as("researcher")
    page = web.get(f"/projects/{project.id}/statistics").get_data(as_text=True)
    assert 'id="robustness"' in page and "Rank between" in page


def test_single_judgment_is_not_shown_as_full_agreement(login_as, api, session, project):
    lone = item(session, project, ("gen-a", "gen-b"), external_id="p8")
    judge(session, lone, rater(session), "b")
    session.commit()
    client, _ = api("researcher")
    client.post(f"/api/v1/projects/{project.id}/statistics/recompute")
    consensus = client.get(f"/api/v1/projects/{project.id}/consensus?per_page=500").json
    p8 = next(i for i in consensus["items"] if i["external_id"] == "p8")["labels"]["choice"]
    assert (p8["source"], p8["share"], p8["n_labels"]) == ("single", None, 1)
    web, _ = login_as("researcher")
    page = web.get(f"/projects/{project.id}/statistics").get_data(as_text=True)
    row = re.search(r"<code>p8</code>(.*?)</tr>", page, re.S).group(1)
    assert "single judgment" in row and "1 judgment" in row and "100%" not in row


def test_a_rubric_project_compares_its_models(login_as, api, session, make_user, app):
    app.config["STATS_RESAMPLES"] = 200
    manager = make_user("manager")
    project = stats_project(session, manager.id, kind="rubric")
    raters = [rater(session) for _ in range(2)]
    for n in range(6):  # six prompts, each answered by both models; gen-a better by one level
        for model, bonus in (("gen-a", 1), ("gen-b", 0)):
            it = item(session, project, (model,), prompt=f"Shared brief {n}")
            for who in raters:
                level = 2 + bonus + (n % 2)
                judge(session, it, who, scores={"coherence": level, "dialogue": level})
    session.commit()
    client, _ = api("researcher")
    board = client.get(f"/api/v1/projects/{project.id}/leaderboard").json
    comparison = board["comparison"]
    assert comparison["n_models"] == 2 and comparison["undefined_reason"] is None
    assert [m["model"] for m in comparison["leaderboard"]] == ["gen-a", "gen-b"]
    coherence = next(c for c in comparison["criteria"] if c["criterion"] == "coherence")
    a, b = coherence["models"]
    assert (a["mean"], b["mean"]) == (pytest.approx(3.5), pytest.approx(2.5))
    assert a["n_items"] == 6 and a["n_judgments"] == 12 and any("items" in w for w in a["warnings"])
    diff = coherence["differences"][0]
    assert (diff["model_a"], diff["model_b"], diff["n_prompts"]) == ("gen-a", "gen-b", 6)
    assert diff["mean_difference"] == pytest.approx(1.0) and diff["clear"]
    overall = next(c for c in comparison["criteria"] if c["criterion"] == "overall")
    assert overall["scale"] == [0, 1] and comparison["leaderboard_criterion"] == "overall"
    web, _ = login_as("researcher")
    page = web.get(f"/projects/{project.id}/statistics").get_data(as_text=True)
    assert 'id="models"' in page and 'id="plot-models"' in page
    assert "gen-a − gen-b" in page and "+1.000" in page and "interval excludes 0" in page
    chart = figure(page, "models")
    assert chart["data"][0]["y"] == ["gen-a", "gen-b"] and "bars: 95% interval" in chart["layout"]["xaxis"]["title"]["text"]


def test_dawid_skene_convergence_is_reported_not_capped_silently(login_as, api, project):
    client, _ = api("researcher")
    consensus = client.get(f"/api/v1/projects/{project.id}/consensus").json
    ds = consensus["dawid_skene"]["choice"]
    assert ds["converged"] and 1 <= ds["n_iter"] < ds["max_iter"] == 5000 and ds["tol"] == 1e-6
    web, _ = login_as("researcher")
    page = web.get(f"/projects/{project.id}/statistics").get_data(as_text=True)
    note = re.search(r'id="ds-convergence">(.*?)</p>', page, re.S).group(1)
    assert f"converged in {ds['n_iter']} iteration" in note
    assert ds["final_change"] < ds["tol"]


def test_dawid_skene_stopped_by_its_cap_says_how_far_it_was(login_as, api, project, monkeypatch):
    monkeypatch.setattr("scoring.reports.report.DS_MAX_ITER", 1)
    client, _ = api("researcher")
    ds = client.get(f"/api/v1/projects/{project.id}/consensus").json["dawid_skene"]["choice"]
    assert not ds["converged"] and ds["n_iter"] == 1 and ds["final_change"] >= ds["tol"]
    web, _ = login_as("researcher")
    note = re.search(r'id="ds-convergence">(.*?)</p>', web.get(f"/projects/{project.id}/statistics")
                     .get_data(as_text=True), re.S).group(1)
    assert "did not converge within 1 iterations" in note and f"{ds['final_change']:.1e}" in note


def test_a_consensus_page_reads_only_its_rows(api, project, app):
    """The consensus lives in stats_consensus_rows: a page is a LIMIT/OFFSET query whose rows are
    the page's, and the filters run in SQL (same answers as the in-memory filters)."""
    from sqlalchemy import event

    from database import db
    from scoring.reports import data
    from scoring.reports.report import select_rows

    client, _ = api("researcher")
    client.get(f"/api/v1/projects/{project.id}/consensus")  # computes the snapshot
    with app.app_context():
        snapshot = data.latest_ready_snapshot(db.session, project.id)
        statements = []
        listen = lambda *args: statements.append(args[2])  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listen)
        try:
            header, rows, total = data.consensus_page(db.session, snapshot, "all", 0.67, 2, 3)
        finally:
            event.remove(db.engine, "before_cursor_execute", listen)
        assert total == 7 and len(rows) == 3
        assert any("LIMIT" in s.upper() and "stats_consensus_rows" in s for s in statements)
        everything = {**header, "rows": data.consensus_page(db.session, snapshot, "all", 0.67, 0, 100)[1]}
        for show in ("contested", "adjudicated", "imported"):
            _, got, n = data.consensus_page(db.session, snapshot, show, 0.67, 0, 100)
            assert got == select_rows(everything, show, 0.67) and n == len(got)
