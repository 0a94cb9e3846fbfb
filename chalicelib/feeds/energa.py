"""Energa-Operator planned power outages (``document.payload.shutdowns[]``).

Options:
    area_match: the region to keep (default ``"Ciechanów"``), matched case- and
        diacritic-insensitively against ``regionName``, or as a whole word in the
        ``message`` (so "Ciechanowska" street elsewhere does not match).

The free-text ``message`` (streets, "od N do M" house numbers) is kept as the body;
``hours[].fromDate/toDate`` give the validity (earliest start, latest end).
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from . import (
    FeedError,
    FeedItem,
    as_text,
    check_status,
    clean_text,
    contains_word,
    dedupe,
    fold,
    load_json,
    one_line,
    opt_str,
    options_dict,
    parse_time,
)

NAME = "energa"
DEFAULT_AREA = "Ciechanów"
LINK = "https://energa-operator.pl/uslugi/awarie-i-wylaczenia/wylaczenia-planowane"


def parse(payload: bytes, http_status: int, options: dict[str, Any]) -> list[FeedItem]:
    opts = options_dict(options, NAME)
    area = (opt_str(opts, "area_match", DEFAULT_AREA, NAME) or "").strip()
    if not area:
        raise FeedError(f"{NAME}: option 'area_match' must not be empty")
    check_status(http_status, NAME)
    shutdowns = _shutdowns(load_json(payload, NAME))
    items = []
    for index, row in enumerate(shutdowns):
        item = _item(row, index, area)
        if item is not None:
            items.append(item)
    return dedupe(items)


def _shutdowns(data: Any) -> list[Any]:
    node = data
    for key in ("document", "payload"):
        if isinstance(node, dict) and key in node:
            node = node[key]
    if isinstance(node, dict):
        node = node.get("shutdowns")
    if not isinstance(node, list):
        raise FeedError(f"{NAME}: no shutdowns list (expected document.payload.shutdowns)")
    return node


def _window(start: str | None, end: str | None) -> str:
    if not start or not end:
        return f"od {_fmt(start)}" if start else f"do {_fmt(end)}" if end else ""
    s, e = datetime.fromisoformat(start), datetime.fromisoformat(end)
    if s.date() == e.date():
        return f"{s:%d.%m.%Y} {s:%H:%M}–{e:%H:%M}"
    return f"od {_fmt(start)} do {_fmt(end)}"


def _fmt(value: str | None) -> str:
    return f"{datetime.fromisoformat(value):%d.%m.%Y %H:%M}" if value else ""


def _item(row: Any, index: int, area: str) -> FeedItem | None:
    where = f"shutdown #{index}"
    if not isinstance(row, dict):
        raise FeedError(f"{NAME}: {where} is not an object")
    region = one_line(as_text(row.get("regionName"), NAME, f"{where} regionName", required=False))
    dept = one_line(as_text(row.get("deptName"), NAME, f"{where} deptName", required=False))
    message = clean_text(as_text(row.get("message"), NAME, f"{where} message"))
    guid = as_text(row.get("guid"), NAME, f"{where} guid", required=False).strip()
    hours = row.get("hours")
    if hours is None:
        hours = []
    if not isinstance(hours, list):
        raise FeedError(f"{NAME}: {where}: 'hours' must be a list")
    windows: list[tuple[str | None, str | None]] = []
    for span in hours:
        if not isinstance(span, dict):
            raise FeedError(f"{NAME}: {where}: an hours entry is not an object")
        windows.append(
            (
                parse_time(span.get("fromDate"), NAME, f"{where} fromDate"),
                parse_time(span.get("toDate"), NAME, f"{where} toDate"),
            )
        )
    windows = sorted(set(windows), key=lambda w: (w[0] or "", w[1] or ""))

    if (
        fold(region) != fold(area)
        and not contains_word(region, area)
        and not contains_word(message, area)
    ):
        return None

    starts = [datetime.fromisoformat(w[0]) for w in windows if w[0]]
    ends = [datetime.fromisoformat(w[1]) for w in windows if w[1]]
    starts_at = min(starts).isoformat() if starts else None
    expires_at = max(ends).isoformat() if ends else None
    if not guid:
        digest = hashlib.sha256(
            "\x1f".join([dept, region, message, repr(windows)]).encode("utf-8")
        ).hexdigest()
        guid = f"energa-{digest[:24]}"

    title = "Planowane wyłączenie prądu"
    if len(windows) == 1:
        title += f" {_window(*windows[0])}"
    elif starts_at and expires_at:
        title += f" {_window(starts_at, expires_at)}"
    body = message
    if len(windows) > 1:
        body += "\n\nTerminy:\n" + "\n".join(f"- {_window(*w)}" for w in windows)
    return FeedItem(
        external_id=guid,
        title=title.strip(),
        body=body,
        starts_at=starts_at,
        expires_at=expires_at,
        severity="minor",
        msg_type="alert",
        category="electricity",
        link=LINK,
    )
