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
                           "ds_posterior", "adjudicated_label"}
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
    assert "<th class=\"num\" title=\"label · Dawid–Skene posterior · majority share\">Coherence</th>" in page
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
