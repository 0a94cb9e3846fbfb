"""Schedule ticks, the fan-out queue worker and inbound SMS (STOP replies)."""
from __future__ import annotations

import json
import logging
import os
from typing import Any

from chalice import Blueprint

from ..lazy import lazy

alerts = lazy("chalicelib.services.alerts")
fanout = lazy("chalicelib.services.fanout")
subscriptions = lazy("chalicelib.services.subscriptions")
bp = Blueprint(__name__)
log = logging.getLogger("informator.events")
PREFIX = os.environ.get("RESOURCE_PREFIX", "informator")


@bp.on_sqs_message(queue=f"{PREFIX}-fanout", batch_size=1, name="fanout_worker")
def fanout_worker(event: Any) -> None:
    """Send one alert version; an exception returns the message to the queue for a retry."""
    for record in event:
        msg = json.loads(record.body)
        result = fanout.deliver(str(msg["alert_id"]), int(msg["version"]))
        log.info("fan-out done", extra={"alert_id": msg["alert_id"], "result": result})


@bp.schedule("rate(1 minute)", name="tick")
def tick(event: Any) -> dict[str, int]:
    """Release scheduled alerts, expire old ones, send held SMS, re-request lost fan-outs."""
    out = alerts.tick()
    out["held_sent"] = fanout.release_held()
    out["rerequested"] = fanout.rerequest_missing()
    return out


@bp.schedule("rate(1 day)", name="housekeeping")
def housekeeping(event: Any) -> dict[str, int]:
    """Daily: devices whose endpoint SNS disabled, numbers SNS reports as opted out."""
    return {"devices_removed": subscriptions.prune_disabled_endpoints(),
            "opted_out_removed": subscriptions.remove_opted_out()}


@bp.on_sns_message(topic=f"{PREFIX}-inbound-sms", name="inbound_sms")
def inbound_sms(event: Any) -> None:
    """Two-way SMS: a reply STOP, NIE, KONIEC or REZYGNUJĘ removes the number."""
    try:
        message = json.loads(event.message)
    except (TypeError, ValueError):
        log.warning("inbound SMS not JSON; ignored")
        return
    if isinstance(message, dict):
        subscriptions.handle_inbound_sms(message)
