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


def test_module_imports_are_served_versioned_so_the_next_page_asks_for_nothing(client):
    page_js = client.get("/static/js/rate.js").get_data()
    imports = re.findall(rb"from '\./([a-z]+\.js)\?v=([0-9a-f]{12})'", page_js)
    assert {name for name, _v in imports} >= {b"players.js", b"keys.js", b"notes.js", b"drafts.js"}
    for name, version in imports:
        response = client.get(f"/static/js/{name.decode()}?v={version.decode()}")
        assert response.status_code == 200, name
        assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable", name


def test_a_change_below_a_module_changes_the_module_version(tmp_path):
    import os

    from static_files import _digest, _served, _state
    (tmp_path / "leaf.js").write_text("export const x = 1;\n")
    (tmp_path / "mid.js").write_text("import { x } from './leaf.js';\nexport const y = x;\n")
    (tmp_path / "top.js").write_text("import { y } from \"./mid.js\";\nimport './missing.js';\n")
    top = str(tmp_path / "top.js")
    before = _digest(_state(top))
    served = _served(_state(top)).decode()
    mid_version = _digest(_state(str(tmp_path / "mid.js")))
    assert f'from "./mid.js?v={mid_version}"' in served
    assert "import './missing.js'" in served  # a missing file is left as written
    (tmp_path / "leaf.js").write_text("export const x = 2;\n")
    stat = (tmp_path / "leaf.js").stat()
    os.utime(tmp_path / "leaf.js", ns=(stat.st_atime_ns, stat.st_mtime_ns + 10_000_000))
    assert _digest(_state(top)) != before


def test_module_imports_list_the_whole_graph_once_in_order(tmp_path):
    from static_files import module_imports
    (tmp_path / "js").mkdir()
    (tmp_path / "js" / "leaf.js").write_text("export const x = 1;\n")
    (tmp_path / "js" / "mid.js").write_text("import { x } from './leaf.js';\nexport const y = x;\n")
    (tmp_path / "js" / "side.js").write_text("import { x } from './leaf.js';\nexport const z = x;\n")
    (tmp_path / "js" / "top.js").write_text("import { y } from './mid.js';\nimport { z } from './side.js';\n"
                                            "import './missing.js';\n")
    assert module_imports(str(tmp_path), "js/top.js") == ["js/mid.js", "js/leaf.js", "js/side.js"]
    assert module_imports(str(tmp_path), "js/leaf.js") == []
    assert module_imports(str(tmp_path), "js/nowhere.js") == []


def test_the_rating_page_preloads_every_module_its_script_imports_at_the_version_it_imports(app, client):
    """The page names the whole module graph up front (rel=modulepreload), at the same versioned URLs
    the modules import each other by, so the browser fetches (or finds cached) all of it at once."""
    page_js = client.get("/static/js/rate.js").get_data().decode()
    imported = {f"/static/js/{name}?v={v}" for name, v in re.findall(r"from '\./([a-z]+\.js)\?v=([0-9a-f]{12})'", page_js)}
    from flask import render_template_string
    with app.test_request_context():
        html = render_template_string('{% from "macros.html" import module_script %}{{ module_script("js/rate.js") }}')
    preloaded = set(re.findall(r'<link rel="modulepreload" href="([^"]+)">', html))
    assert imported and imported <= preloaded
    assert re.search(r'<script type="module" src="/static/js/rate\.js\?v=[0-9a-f]{12}"></script>', html)
