"""Time helpers: ISO 8601 with offsets, Europe/Warsaw for residents."""
from __future__ import annotations

import secrets
import time
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

WARSAW = ZoneInfo("Europe/Warsaw")


def now() -> datetime:
    return datetime.now(UTC)


def iso(dt: datetime) -> str:
    return dt.astimezone(WARSAW).isoformat(timespec="seconds")


def now_iso() -> str:
    return iso(now())


def parse_iso(value: str) -> datetime:
    """Parse an ISO 8601 time that carries an offset; raises ValueError otherwise."""
    if not isinstance(value, str):
        raise ValueError("not a string")
    dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if dt.tzinfo is None:
        raise ValueError("time without an offset")
    return dt


def new_id() -> str:
    """A short, time-ordered, URL- and SMS-safe id."""
    return f"{int(time.time() * 1000):x}{secrets.token_hex(3)}"
