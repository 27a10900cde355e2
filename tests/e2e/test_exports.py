"""The exports page in Chromium: a researcher builds an export of the demo's video project
through the form, the owner releases it, a second version shows its count changes; screenshots
of the form and the versions list; no console errors under the strict CSP."""
from __future__ import annotations

from sqlalchemy import select

from database import db
from scoring.exports.models import Export, ExportAsset
from tasks.catalogue.models import Project
from tests.e2e.conftest import screenshot, sign_in


def _video_project(app) -> int:
    with app.app_context():
        return db.session.scalar(select(Project.id).where(Project.modality == "video").order_by(Project.id))


def _asset_in(app, project_id: int) -> int:
    with app.app_context():
        return db.session.scalar(select(ExportAsset.asset_id).join(Export, Export.id == ExportAsset.export_id)
                                 .where(Export.project_id == project_id, Export.kind == "preferences")
                                 .order_by(ExportAsset.asset_id).limit(1))


def test_researcher_builds_owner_releases_and_versions_show_changes(app, live_server, page):
    project_id = _video_project(app)
    sign_in(page, live_server, "researcher@dailies.example", "demo-researcher-pass")
    page.goto(f"{live_server}/projects/{project_id}")
    page.click("text=Exports")
    page.wait_for_url(f"{live_server}/projects/{project_id}/exports")
    screenshot(page, "exports-form-empty")
    page.select_option("select[name=mode]", "judgments")
    page.click("button:has-text('Build export')")
    page.wait_for_selector("text=preferences v1")
    assert "awaiting the owner" in page.inner_text("#versions")
    assert page.locator("#versions a:has-text('Download')").count() == 0  # drafts are not for researchers
    page.select_option("select[name=kind]", "ratings")
    page.select_option("select[name=format]", "jsonl")
    page.fill("input[name=min_agreement]", "0.6")
    page.click("button:has-text('Build export')")
    page.wait_for_selector("text=ratings v1")
    assert page.console_errors == []

    page.click("button:has-text('Sign out')")
    sign_in(page, live_server, "manager@dailies.example", "demo-manager-pass")
    page.goto(f"{live_server}/projects/{project_id}/exports")
    row = page.locator("#versions tr[id]", has_text="preferences v1")
    row.locator("input[name=note]").fill("Manifest reviewed: consent exclusions and counts as expected.")
    row.locator("button:has-text('Release')").click()
    page.wait_for_selector("text=released")
    page.select_option("select[name=mode]", "judgments")
    page.click("button:has-text('Build export')")  # unchanged data: the same version
    page.wait_for_selector(".flash")
    assert "Nothing changed" in page.inner_text(".flash")

    # The consent of one of its clips is revoked: v1 is marked affected; v2 leaves the item out.
    page.goto(f"{live_server}/assets/{_asset_in(app, project_id)}")
    assert "preferences v1" in page.inner_text("#asset-exports")
    page.select_option("select[name=consent]", "revoked")
    page.fill("input[name=note]", "The performer withdrew consent.")
    page.click("button:has-text('Save provenance')")
    assert "affected" in page.inner_text("#asset-exports")
    page.goto(f"{live_server}/projects/{project_id}/exports")
    page.select_option("select[name=mode]", "judgments")
    page.click("button:has-text('Build export')")
    page.wait_for_selector("text=preferences v2")
    changes = page.locator("#versions tr[id]", has_text="preferences v2").inner_text()
    assert "preferences -" in changes
    page.locator("#versions summary", has_text="preferences v2").click()
    screenshot(page, "exports-versions")
    assert page.locator("#versions a:has-text('Download')").count() >= 1
    assert page.console_errors == []
