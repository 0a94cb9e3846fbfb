"""The photo function: S3 upload notifications arrive through the photos queue (S3 → SQS)."""
from __future__ import annotations

import logging
import os
from typing import Any

from chalice import Blueprint

from ..lazy import lazy

photos = lazy("chalicelib.services.photos")
bp = Blueprint(__name__)
log = logging.getLogger("informator.events.photos")
PREFIX = os.environ.get("RESOURCE_PREFIX", "informator")


@bp.on_sqs_message(queue=f"{PREFIX}-photos", batch_size=1, name="photo_worker")
def photo_worker(event: Any) -> None:
    """Validate and clean each uploaded photo; an exception sends the message back for a retry."""
    for record in event:
        results = photos.handle_notification(record.body)
        log.info("photos handled", extra={"results": results})
