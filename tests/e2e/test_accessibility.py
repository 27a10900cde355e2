"""Every page, for every role, checked by axe-core (vendored, pinned in scripts/vendor.sh): no
serious or critical WCAG 2.2 A/AA violation; and every page usable at 390×844 without sideways
scrolling, its header unclipped. The page list is built from the demo's data, so a page of every
kind the app serves is visited (rater, manager, researcher and admin pages, the rating page of each
modality, the error page)."""
from __future__ import annotations

from sqlalchemy import select

from database import db
from raters.models import User
from scoring.exports.models import Export
from tasks.catalogue.models import Asset, Project
from tests.e2e.conftest import sign_in, wait_until
from tests.e2e.test_rating import start_rating

AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
RUN_AXE = """async (tags) => {
  const result = await axe.run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] });
  return result.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
    .map(v => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 4).map(n => n.target.join(' ') + ' — ' + (n.failureSummary || '').split('\\n').slice(1, 2).join('')) }));
}"""
PHONE = """(() => {
  const header = document.querySelector('.topbar');
  const clipped = header ? [...header.querySelectorAll('a, button')].some(el => {
    const r = el.getBoundingClientRect(); return r.right > innerWidth + 1 || r.left < -1; }) : false;
  return { wide: document.documentElement.scrollWidth - innerWidth, clipped };
})()"""


def check(page, base, path, problems, phone=True):
    """axe on the page at 1440×900, then the page at 390×844."""
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(f"{base}{path}")
    page.wait_for_load_state("load")
    if page.locator("video[data-side], audio[data-side]").count():
        wait_until(page, "[...document.querySelectorAll('video[data-side], audio[data-side]')].every(m => m.readyState >= 1)")
    page.add_script_tag(url=f"{base}/static/vendor/axe/axe.min.js")
    found = page.evaluate(RUN_AXE, AXE_TAGS)
    if found:
        problems.append((path, found))
    if phone:
        page.set_viewport_size({"width": 390, "height": 844})
        for _ in range(15):  # plots re-lay themselves out after a resize
            page.wait_for_timeout(100)
            fit = page.evaluate(PHONE)
            if fit["wide"] <= 0 and not fit["clipped"]:
                break
        if fit["wide"] > 0 or fit["clipped"]:
            problems.append((path, f"at 390×844: {fit['wide']} px of sideways scroll, header clipped: {fit['clipped']}"))


def _ids(app):
    with app.app_context():
        projects = {p.name: p.id for p in db.session.scalars(select(Project))}
        users = {u.email: u.id for u in db.session.scalars(select(User))}
        asset = db.session.scalar(select(Asset.id).order_by(Asset.id))
        export = db.session.scalar(select(Export.id).order_by(Export.id))
    return projects, users, asset, export


def test_every_page_for_every_role_passes_axe_and_fits_a_phone(app, page, live_server):
    projects, users, asset, export = _ids(app)
    problems = []
    check(page, live_server, "/login", problems)
    pages = {
        "manager@dailies.example": ["/", "/projects/new", "/assets", f"/assets/{asset}", "/account"]
        + [f"/projects/{pid}{suffix}" for pid in projects.values()
           for suffix in ("", "/edit", "/statistics", "/exports", "/raters", "/progress", "/calibration",
                          "/items", "/flags", "/adjudication")]
        + [f"/projects/{next(iter(projects.values()))}/raters/{users['editor@dailies.example']}"]
        + ([f"/exports/{export}"] if export else []),
        "researcher@dailies.example": ["/", f"/projects/{next(iter(projects.values()))}/statistics"],
        "admin@dailies.example": ["/admin/users", f"/admin/users/{users['editor@dailies.example']}", "/admin/audit",
                                  "/no-such-page"],
        "editor@dailies.example": ["/", "/account", "/consent", f"/projects/{projects[next(n for n in projects if n.startswith('Neon'))]}"],
    }
    for email, paths in pages.items():
        page.context.clear_cookies()
        password = "demo-rater-pass" if "editor" in email else f"demo-{email.split('@')[0]}-pass"
        sign_in(page, live_server, email, password)
        for path in paths:
            check(page, live_server, path, problems)
    # the rating page of each modality (kind)
    for email, project in (("editor@dailies.example", "Neon alley chase"), ("sound@dailies.example", "Narration takes"),
                           ("writer@dailies.example", "Short scene scripts")):
        page.context.clear_cookies()
        page.set_viewport_size({"width": 1440, "height": 900})
        sign_in(page, live_server, email, "demo-rater-pass")
        start_rating(page, live_server, project)
        path = page.url.removeprefix(live_server)
        check(page, live_server, path, problems)
        page.set_viewport_size({"width": 1440, "height": 900})
        page.keyboard.press("?")  # the overlay too
        page.add_script_tag(url=f"{live_server}/static/vendor/axe/axe.min.js")
        found = page.evaluate(RUN_AXE, AXE_TAGS)
        if found:
            problems.append((path + " (keys overlay)", found))
    assert not problems, "\n".join(f"{path}: {found}" for path, found in problems)
