"""Consent revocation reaches the exports: whenever a consent change to a state that does not
allow export is flushed (the asset page, the API, an import), the exports containing that asset
are marked affected in the same transaction. ``tasks`` knows nothing of exports; this listens.
"""
from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.orm import Session

from database import db
from raters.models import User
from scoring.exports import services
from tasks.catalogue.models import EXPORTABLE_CONSENT, Asset, ConsentChange


@event.listens_for(Session, "before_flush")
def _mark_affected_exports(session: Session, _flush_context, _instances) -> None:
    changes = [o for o in session.new if isinstance(o, ConsentChange) and o.new_consent not in EXPORTABLE_CONSENT]
    if not changes:
        return
    with session.no_autoflush:
        for change in changes:
            asset = change.asset or session.get(Asset, change.asset_id)
            if asset is not None and asset.id is not None:
                actor = session.get(User, change.changed_by_id) if change.changed_by_id else None
                services.on_consent_changed(session, asset, actor=actor, flush=False)


def exports_for_asset_page(asset_id: int):
    """The exports containing an asset (listed on its page)."""
    return services.exports_containing(db.session, asset_id)
