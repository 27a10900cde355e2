"""The rating page's key table (static/js/keys.js, from which the `?` overlay is generated) and the
README's key list name the same keys."""
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_every_key_of_the_overlay_table_is_in_the_readme_list():
    table = (ROOT / "static" / "js" / "keys.js").read_text()
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("| Keys | What they do |"):]
    section = section[:section.index("\n\n")]
    rows = re.findall(r"keys: \[([^\]]*)\]", table)
    assert len(rows) > 25
    for row in rows:
        for key in re.findall(r"'([^']+)'", row):
            if key == "…":
                continue
            assert f"`{key}`" in section, f"{key} (keys.js) is missing from the README's key list"
