"""Rating tasks: the catalogue (projects, assets, items, import) in `tasks.catalogue`, rating
(routing, judging, overlap, adjudication) in `tasks.rating`."""
from functools import lru_cache

import markdown as md
import nh3
from flask import Flask
from markupsafe import Markup

ALLOWED_TAGS = {"p", "h1", "h2", "h3", "h4", "ul", "ol", "li", "strong", "em", "code", "pre",
                "blockquote", "a", "hr", "br", "table", "thead", "tbody", "tr", "th", "td"}


@lru_cache(maxsize=256)
def render_markdown(text: str | None) -> Markup:
    """Markdown to HTML with every tag and attribute outside a small safe list removed. Pure, so
    kept per text: the rating page shows the same project instructions with every item."""
    html = md.markdown(text or "", extensions=["extra", "sane_lists"])
    return Markup(nh3.clean(html, tags=ALLOWED_TAGS, attributes={"a": {"href", "title"}},
                            url_schemes={"http", "https", "mailto"}, link_rel="noopener noreferrer"))


def init_app(app: Flask) -> None:
    from tasks.catalogue import api, asset_views, views
    from tasks.rating import api as rating_api, views as rating_views

    app.add_template_filter(render_markdown, "markdown")
    app.register_blueprint(views.bp)
    app.register_blueprint(asset_views.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(rating_api.bp)
    app.register_blueprint(rating_views.bp)
