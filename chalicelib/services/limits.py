"""Fixed-window rate limits kept in DynamoDB (atomic counters that expire by TTL)."""
from __future__ import annotations

import time

from pynamodb.exceptions import UpdateError

from ..errors import TooManyRequests
from ..models.ops import CounterModel


def hit(key: str, limit: int, window_s: int, message: str) -> None:
    """Count one event under `key`; refuse with 429 once `limit` is reached in the window."""
    now = int(time.time())
    window = now - now % window_s
    item = CounterModel(f"{key}#{window}")
    try:
        item.update(actions=[CounterModel.hits.add(1), CounterModel.ttl.set(window + window_s * 2)],
                    condition=(CounterModel.hits.does_not_exist()) | (CounterModel.hits < limit))
    except UpdateError as exc:
        if getattr(exc, "cause_response_code", "") == "ConditionalCheckFailedException":
            raise TooManyRequests(message, retry_after=window + window_s - now) from None
        raise
