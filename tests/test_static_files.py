"""Static files: versioned URLs, immutable caching of the current version, gzip for text."""
import gzip
import hashlib
import re
from pathlib import Path

STATIC = Path(__file__).resolve().parent.parent / "static"


def test_pages_link_static_files_by_version_and_the_version_is_cached_for_good(client):
    page = client.get("/login").get_data(as_text=True)
    href = re.search(r'href="(/static/css/app\.css\?v=([0-9a-f]{12}))"', page)
    assert href, "the stylesheet link carries its version"
    body = (STATIC / "css" / "app.css").read_bytes()
    assert href.group(2) == hashlib.sha256(body).hexdigest()[:12]
    response = client.get(href.group(1), headers={"Accept-Encoding": "gzip, br"})
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert response.headers["Content-Encoding"] == "gzip" and "Accept-Encoding" in response.headers["Vary"]
    assert gzip.decompress(response.get_data()) == body
    assert len(response.get_data()) < len(body) / 2
    again = client.get(href.group(1), headers={"Accept-Encoding": "gzip", "If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304


def test_an_unversioned_or_stale_url_is_revalidated_and_plain_without_gzip(client):
    for url in ("/static/css/app.css", "/static/css/app.css?v=000000000000"):
        response = client.get(url)
        assert response.status_code == 200 and response.headers["Cache-Control"] == "no-cache"
        assert "Content-Encoding" not in response.headers
        assert response.get_data() == (STATIC / "css" / "app.css").read_bytes()


def test_missing_and_escaping_paths_are_404(client):
    assert client.get("/static/css/nope.css").status_code == 404
    assert client.get("/static/../app.py").status_code == 404
