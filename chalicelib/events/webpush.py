"""The Web Push worker: SNS category topics → SQS `webpush` → pushes to browsers."""
from __future__ import annotations

import os
from typing import Any

from chalice import Blueprint

from ..lazy import lazy

webpush = lazy("chalicelib.services.webpush")
bp = Blueprint(__name__)
PREFIX = os.environ.get("RESOURCE_PREFIX", "informator")


def message_attributes(record: Any) -> dict[str, str]:
    """SQS message attributes of a Lambda record as {name: string value}."""
    raw = record.to_dict().get("messageAttributes") or {}
    return {name: str(v.get("stringValue", "")) for name, v in raw.items() if isinstance(v, dict)}


@bp.on_sqs_message(queue=f"{PREFIX}-webpush", batch_size=1, name="webpush_worker")
def webpush_worker(event: Any) -> None:
    """Push one alert publish to the matching browsers; an exception returns the message."""
    for record in event:
        webpush.handle_message(record.body, message_attributes(record))
