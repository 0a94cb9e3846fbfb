"""Generic JSON: items and fields picked by dotted paths given in the feed's options.

Options (paths are dotted; a numeric segment indexes a list; ``""`` is the root):
    items_path: where the list of items is (required; an object's values also work).
    id, title: path of the item's id and title (required).
    body, start, end, link: paths of the body, start/end times and link (optional).
    severity: path of a severity (extreme|severe|moderate|minor; else unknown).
    category: a category for every item (optional).

Times may carry an offset or be Europe/Warsaw local time (``2026-08-10 13:58:00``);
numbers are Unix seconds. Example, RSO: items_path=newses, id=id, title=title,
body=content, start=valid_from, end=valid_to.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

from . import (
    CATEGORIES,
    SEVERITIES,
    FeedError,
    FeedItem,
    as_text,
    check_status,
    clean_text,
    dedupe,
    iso,
    load_json,
    one_line,
    opt_str,
    options_dict,
    parse_time,
)

NAME = "json"
_MISSING = object()


def get_path(data: Any, path: str) -> Any:
    """Follow a dotted path; returns _MISSING when it leads nowhere."""
    node = data
    for segment in (s for s in path.split(".") if s != ""):
        if isinstance(node, dict):
            node = node.get(segment, _MISSING)
        elif isinstance(node, list) and segment.lstrip("-").isdigit():
            i = int(segment)
            node = node[i] if -len(node) <= i < len(node) else _MISSING
        else:
            return _MISSING
        if node is _MISSING:
            return _MISSING
    return node


def _time(value: Any, where: str) -> str | None:
    if value is _MISSING or value is None:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if not math.isfinite(value):
            raise FeedError(f"{NAME}: {where} is not a finite number")
        try:
            return iso(datetime.fromtimestamp(value, tz=UTC))
        except (ValueError, OverflowError, OSError) as exc:
            raise FeedError(f"{NAME}: {where} out of range") from exc
    return parse_time(value, NAME, where)


def parse(payload: bytes, http_status: int, options: dict[str, Any]) -> list[FeedItem]:
    opts = options_dict(options, NAME)
    paths: dict[str, str | None] = {}
    for key in ("items_path", "id", "title"):
        paths[key] = opt_str(opts, key, None, NAME)
        if paths[key] is None or (key != "items_path" and not paths[key]):
            raise FeedError(f"{NAME}: option {key!r} is required")
    for key in ("body", "start", "end", "link", "severity"):
        paths[key] = opt_str(opts, key, None, NAME) or None
    category = opt_str(opts, "category", None, NAME)
    if category is not None and category not in CATEGORIES:
        raise FeedError(f"{NAME}: option 'category' must be one of {', '.join(CATEGORIES)}")
    check_status(http_status, NAME)
    data = load_json(payload, NAME)

    rows = get_path(data, paths["items_path"] or "")
    if isinstance(rows, dict):
        rows = list(rows.values())
    if not isinstance(rows, list):
        raise FeedError(f"{NAME}: items_path {paths['items_path']!r} is not a list")

    items = []
    for index, row in enumerate(rows):
        where = f"item #{index}"

        def field(key: str, *, required: bool = False, row: Any = row, where: str = where) -> str:
            path = paths[key]
            value = get_path(row, path) if path else None
            if value is _MISSING:
                value = None
            return as_text(value, NAME, f"{where} {key}", required=required)

        external_id = field("id", required=True).strip()
        title = one_line(field("title", required=True))
        if not external_id or not title:
            raise FeedError(f"{NAME}: {where}: empty id or title")
        severity = field("severity").strip().lower()
        items.append(
            FeedItem(
                external_id=external_id,
                title=title,
                body=clean_text(field("body")),
                starts_at=_time(
                    get_path(row, paths["start"]) if paths["start"] else None, f"{where} start"
                ),
                expires_at=_time(
                    get_path(row, paths["end"]) if paths["end"] else None, f"{where} end"
                ),
                severity=severity if severity in SEVERITIES else "unknown",
                category=category,
                link=field("link").strip() or None,
            )
        )
    return dedupe(items)
