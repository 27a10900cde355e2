"""Every link a page offers opens for the person it is offered to.

On the seeded demo, signed in as each role, follow the same-origin links of every page reached
(one page per URL shape, ids and page numbers folded) and require each to answer 200: a link to
a page the role may not open (403), to nothing (404) or to a crash is a defect of the page that
offered it, whatever the role checks behind it say. A link that redirects is followed to where it
lands."""
from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

import pytest

from database import db
from demo import seed
from tests.conftest import Client

SKIP = ("/logout", "/static/", "/media/")
HREF = re.compile(r'<a\b[^>]*\bhref="([^"#]+)')


def _shape(url: str) -> str:
    parts = urlsplit(url)
    query = "&".join(sorted(re.sub(r"=.*", "", kv) for kv in parts.query.split("&") if kv))
    return re.sub(r"\d+", "N", parts.path) + ("?" + query if query else "")


@pytest.fixture
def demo(app):
    with app.app_context():
        seed.run(lambda _line: None)
        db.session.commit()
    return app


@pytest.mark.parametrize("email, password", [
    ("admin@dailies.example", "demo-admin-pass"), ("manager@dailies.example", "demo-manager-pass"),
    ("researcher@dailies.example", "demo-researcher-pass"), ("editor@dailies.example", "demo-rater-pass")])
def test_every_link_offered_to_a_role_opens(demo, email, password):
    client = Client(demo.test_client())
    assert client.login(email, password).status_code == 302
    queue, seen, broken, opened = ["/"], set(), [], 0
    offered_by: dict[str, str] = {}  # url -> the page whose link led there
    while queue and opened < 120:
        url = queue.pop(0)
        if _shape(url) in seen:
            continue
        seen.add(_shape(url))
        response = client.get(url, follow_redirects=True)  # a link may redirect; where it lands must open
        opened += 1
        if response.status_code != 200:
            broken.append((url, response.status_code, offered_by.get(url)))
            continue
        if response.mimetype != "text/html":
            continue
        for href in HREF.findall(response.get_data(as_text=True)):
            target = urljoin(url, href.replace("&amp;", "&"))
            if target.startswith("/") and not target.startswith(SKIP) and _shape(target) not in seen:
                offered_by.setdefault(target, url)
                queue.append(target)
    assert not broken, broken
    assert opened > (3 if "editor" in email else 15)  # the crawl reached the pages, not just the home

