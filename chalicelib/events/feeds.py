"""The feed importer's schedule: every 5 minutes, run the feeds whose own schedule is due."""
from __future__ import annotations

import json
import logging
import time
from typing import Any

from chalice import Blueprint

from ..lazy import lazy

feeds = lazy("chalicelib.services.feeds")
bp = Blueprint(__name__)
METRIC_NAMESPACE = "Informator"  # emitted as an EMF log line: no PutMetricData grant needed
log = logging.getLogger("informator.events")


@bp.schedule("rate(5 minutes)", name="import_feeds")
def import_feeds(event: Any) -> dict[str, Any]:
    """Import due feeds; a failing feed is recorded on the feed and does not stop the others."""
    runs = feeds.run_due_feeds()
    failed = [r["feed"] for r in runs if not r.get("ok")]
    if failed:
        log.warning("feed imports failed: %s", ", ".join(failed))
    stale = feeds.stale_minutes()
    # CloudWatch embedded metric format: the "feed is stale" alarm reads it from the log
    print(json.dumps({"_aws": {"Timestamp": int(time.time() * 1000), "CloudWatchMetrics": [{
        "Namespace": METRIC_NAMESPACE, "Dimensions": [[]],
        "Metrics": [{"Name": "FeedStaleMinutes", "Unit": "None"}]}]},
        "FeedStaleMinutes": stale}))
    return {"ran": len(runs), "failed": failed, "stale_minutes": stale}
