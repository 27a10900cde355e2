"""The foundation's pages as people see them: login, projects, a project, assets, users."""
from tests.e2e.conftest import screenshot, sign_in


def test_login_page_and_a_bad_password(page, live_server):
    page.goto(f"{live_server}/login")
    assert page.title() == "Sign in · Dailies"
    screenshot(page, "login")
    page.fill("input[name=email]", "manager@dailies.example")
    page.fill("input[name=password]", "not the password")
    page.click("button[type=submit]")
    assert page.locator("[role=alert]").inner_text() == "Wrong e-mail or password."
    assert page.console_errors == []


def test_manager_sees_projects_a_project_and_its_items(page, live_server):
    sign_in(page, live_server, "manager@dailies.example", "demo-manager-pass")
    cards = page.locator(".project-card h2")
    assert cards.count() == 4  # three demo projects and the rater-quality drill
    screenshot(page, "projects")
    page.click("text=Neon alley chase")
    assert page.locator("h1").inner_text() == "Neon alley chase — gen-a vs gen-b"
    assert page.locator(".items-table tbody tr").count() == 12
    assert page.locator(".prose h2").first.inner_text() == "What you are judging"
    screenshot(page, "project-video")
    assert page.console_errors == []


def test_rubric_project_assets_and_users_pages(page, live_server):
    sign_in(page, live_server, "admin@dailies.example", "demo-admin-pass")
    page.click("text=Short scene scripts")
    assert page.locator(".rubric-table tbody tr").count() == 3
    screenshot(page, "project-scripts")
    page.click("nav.mainnav >> text=Assets")
    assert "Assets" in page.locator("h1").inner_text()
    page.click("nav.filters >> text=revoked")
    assert page.locator("table tbody tr").count() == 2  # alley-009's gen-b clip and script-07
    page.locator("table tbody tr", has_text="video").locator("a").first.click()
    video = page.locator("video.preview")
    video.wait_for()
    assert page.evaluate("document.querySelector('video.preview').readyState >= 1 || new Promise(r => document.querySelector('video.preview').addEventListener('loadedmetadata', () => r(true)))")
    screenshot(page, "asset")
    page.click("nav.mainnav >> text=Users")
    assert page.locator("table.table tbody tr").count() == 17  # 6 demo accounts, 4 imported panelists, the drill's 7
    assert page.locator("table.table tbody tr.revoked", has_text="(imported)").count() == 4
    screenshot(page, "users")
    assert page.console_errors == []


def test_rater_sees_only_their_projects_and_no_model_names(page, live_server):
    sign_in(page, live_server, "writer@dailies.example", "demo-rater-pass")
    assert page.locator(".project-card").count() == 4
    page.click("text=Narration takes")
    body = page.content()
    assert "voice-a" not in body and "voice-b" not in body
    assert page.locator(".items-table").count() == 0
    page.set_viewport_size({"width": 1024, "height": 768})
    screenshot(page, "project-rater-1024")
