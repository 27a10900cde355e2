"""A manager withdraws an asset's consent on its page: the page lists what it touches, the rater
working on that item is told why the task closed and can no longer load the media; restoring it
brings the media back."""
import re

from sqlalchemy import select

from database import db
from tasks.catalogue.models import Asset, ItemOutput
from tasks.rating.models import Assignment
from tests.e2e.conftest import screenshot, sign_in


def test_withdrawing_consent_closes_the_raters_task_and_hides_the_media(browser, page, live_server, app):
    rater = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    sign_in(rater, live_server, "editor@dailies.example", "demo-rater-pass")
    rater.locator(".rater-card", has_text="Neon alley chase").locator("button[type=submit]").click()
    rater.wait_for_url(re.compile(r".*/assignments/\d+$"))
    assignment_id = int(rater.url.rsplit("/", 1)[1])
    with app.app_context():
        item_id = db.session.get(Assignment, assignment_id).item_id
        asset = db.session.scalar(select(Asset).join(ItemOutput, ItemOutput.asset_id == Asset.id)
                                  .where(ItemOutput.item_id == item_id, ItemOutput.label == "b"))
        asset_id, public_id = asset.id, asset.public_id
        # the demo's rater-quality drill reuses the same clips: every item using the asset leaves
        n_items = len(set(db.session.scalars(select(ItemOutput.item_id).where(ItemOutput.asset_id == asset_id))))
    sign_in(page, live_server, "manager@dailies.example", "demo-manager-pass")
    page.goto(f"{live_server}/assets/{asset_id}")
    page.select_option("select[name=consent]", "revoked")
    page.fill("input[name=note]", "The rights holder withdrew consent by e-mail today")
    page.click("button:has-text('Save provenance')")
    flash = page.locator(".flash-success").inner_text()
    assert f"Consent withdrawn: {n_items} item(s) left routing, 1 open assignment(s) were closed" in flash
    assert "excluded from statistics" in page.locator("#consent-effect").inner_text()
    screenshot(page, "asset-consent-withdrawn")
    media = rater.request.get(f"{live_server}/media/{public_id}")
    assert media.status == 451 and "consent for this media was withdrawn" in media.text()
    rater.reload()  # the task is closed; the rater is told why
    assert "consent for this item's media was withdrawn" in rater.locator(".flash-info").first.inner_text()
    page.select_option("select[name=consent]", "granted")
    page.fill("input[name=note]", "A new release was signed")
    page.click("button:has-text('Save provenance')")
    assert "Consent restored" in page.locator(".flash-success").inner_text()
    assert rater.request.get(f"{live_server}/media/{public_id}").status == 200
    rater.context.close()
