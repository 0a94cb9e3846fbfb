"""The feed importer's schedule: every 5 minutes, run the feeds whose own schedule is due."""
from __future__ import annotations

import logging
from typing import Any

from chalice import Blueprint

from ..services import feeds

bp = Blueprint(__name__)
log = logging.getLogger("informator.events")


@bp.schedule("rate(5 minutes)", name="import_feeds")
def import_feeds(event: Any) -> dict[str, Any]:
    """Import due feeds; a failing feed is recorded on the feed and does not stop the others."""
    runs = feeds.run_due_feeds()
    failed = [r["feed"] for r in runs if not r.get("ok")]
    if failed:
        log.warning("feed imports failed: %s", ", ".join(failed))
    return {"ran": len(runs), "failed": failed}
