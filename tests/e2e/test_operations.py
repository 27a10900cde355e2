"""Browser: the admin's audit log page."""
from __future__ import annotations

import json

from demo import seed
from tests.e2e.conftest import screenshot, sign_in


def _admin():
    return next(a for a in json.loads(seed.ACCOUNTS.read_text()) if a["role"] == "admin")


def test_admin_reads_and_filters_the_audit_log(live_server, page):
    admin = _admin()
    sign_in(page, live_server, admin["email"], admin["password"])
    page.click("text=Audit log")
    page.wait_for_url(f"{live_server}/admin/audit")
    assert page.locator("table tbody tr").count() > 5
    screenshot(page, "audit-log")
    page.fill("input[name=action]", "project.")
    page.click("button:has-text('Filter')")
    rows = page.locator("table tbody tr code")
    assert rows.count() > 0 and all(t.startswith("project.") for t in rows.all_inner_texts())
    screenshot(page, "audit-log-filtered")
    assert page.console_errors == []
