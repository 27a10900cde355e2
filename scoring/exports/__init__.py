"""Exports: consent-safe, versioned preference and rating datasets that load with
``datasets.load_dataset`` (see ``scoring.exports.package`` for the layout).

* ``options`` — what is asked for; ``source`` — reads what an export is made of (items in chunks);
  ``tables`` — rows per table (pure); ``writers`` — Parquet/JSONL/CSV in batches;
  ``package`` — card, manifest, tar; ``builder`` — one build; ``services`` — request, job,
  release, retry, consent revocation; ``views``/``api`` — the web side.
* ``on_consent_changed(session, asset)`` marks the exports containing an asset that lost consent;
  it also runs by itself whenever a consent change is flushed (``consent``).
"""
from __future__ import annotations

from flask import Flask

from scoring.exports import api, consent, views  # consent: listens for consent changes
from scoring.exports.services import on_consent_changed  # the consent code's entry point

__all__ = ["init_app", "on_consent_changed"]


def init_app(app: Flask) -> None:
    app.register_blueprint(views.bp)
    app.register_blueprint(api.bp)
    app.jinja_env.globals["exports_containing_asset"] = consent.exports_for_asset_page
