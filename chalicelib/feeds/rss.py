"""A generic RSS/Atom feed (e.g. the water utility's notices), parsed with feedparser.

Options:
    category: category to put on every item (default None: the feed's own setting).
    strict: refuse a feed that feedparser reports as ill-formed (default True), so a
        truncated download never looks like "these notices were withdrawn".

Before feedparser sees the bytes, defusedxml checks them: entity declarations and
external entities are refused. feedparser gets a stream, never a string it could
take for a URL or a file name.
"""

from __future__ import annotations

import calendar
import hashlib
import io
import time
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any

import defusedxml.ElementTree as SafeET
import feedparser
from defusedxml import DefusedXmlException

from . import (
    CATEGORIES,
    FeedError,
    FeedItem,
    check_status,
    clean_text,
    dedupe,
    iso,
    one_line,
    opt_str,
    options_dict,
)

NAME = "rss"
HARMLESS_BOZO = (
    feedparser.CharacterEncodingOverride,
    feedparser.NonXMLContentType,
)
_BLOCK = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "table"}


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def html_to_text(html: str) -> str:
    parser = _TextExtractor()
    parser.feed(html)
    parser.close()
    lines = (" ".join(line.split()) for line in "".join(parser.parts).split("\n"))
    return clean_text("\n".join(line for line in lines if line))


def _check_xml_safety(payload: bytes) -> None:
    """Refuse entity tricks; ill-formed XML is left to feedparser's loose parser."""
    if b"<!ENTITY" in payload.upper():
        raise FeedError(f"{NAME}: refused XML (entity declaration)")
    try:
        SafeET.fromstring(payload, forbid_dtd=False, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise FeedError(f"{NAME}: refused XML ({type(exc).__name__})") from exc
    except (SafeET.ParseError, ValueError, LookupError, RecursionError):
        return


def _time(entry: Any, where: str) -> str | None:
    for key in ("published_parsed", "updated_parsed"):
        value = dict.get(entry, key)  # not entry.get: no deprecated fallback mapping
        if isinstance(value, time.struct_time):
            try:
                dt = datetime.fromtimestamp(calendar.timegm(value), tz=UTC)
            except (ValueError, OverflowError, OSError) as exc:
                raise FeedError(f"{NAME}: {where}: time out of range") from exc
            return iso(dt)
    return None


def parse(payload: bytes, http_status: int, options: dict[str, Any]) -> list[FeedItem]:
    opts = options_dict(options, NAME)
    category = opt_str(opts, "category", None, NAME)
    if category is not None and category not in CATEGORIES:
        raise FeedError(f"{NAME}: option 'category' must be one of {', '.join(CATEGORIES)}")
    strict = opts.get("strict", True)
    if not isinstance(strict, bool):
        raise FeedError(f"{NAME}: option 'strict' must be true or false")
    check_status(http_status, NAME)
    if not isinstance(payload, (bytes, bytearray)):
        raise FeedError(f"{NAME}: payload must be bytes")
    payload = bytes(payload)
    _check_xml_safety(payload)
    try:
        feed = feedparser.parse(io.BytesIO(payload))
    except Exception as exc:  # noqa: BLE001 - feedparser's internals are not ours
        raise FeedError(f"{NAME}: unreadable feed: {type(exc).__name__}: {exc}") from exc
    if not feed.get("version") and not feed.entries:
        raise FeedError(f"{NAME}: not an RSS or Atom feed")
    problem = feed.get("bozo_exception")
    if feed.get("bozo") and strict and not isinstance(problem, HARMLESS_BOZO):
        raise FeedError(f"{NAME}: ill-formed feed: {problem}")

    items = []
    for index, entry in enumerate(feed.entries):
        where = f"entry #{index}"
        title = one_line(html_to_text(str(entry.get("title") or "")))
        contents = entry.get("content") or []
        html = str(entry.get("summary") or "")
        if not html and contents:
            html = str(contents[0].get("value") or "")
        body = html_to_text(html)
        link = str(entry.get("link") or "").strip() or None
        starts_at = _time(entry, where)
        if not title:
            title = one_line(body)[:120]
        if not title:
            raise FeedError(f"{NAME}: {where}: no title and no text")
        external_id = str(entry.get("id") or "").strip() or link
        if not external_id:
            digest = hashlib.sha256(f"{title}\x1f{starts_at}".encode()).hexdigest()
            external_id = f"rss-{digest[:24]}"
        items.append(
            FeedItem(
                external_id=external_id,
                title=title,
                body=body,
                starts_at=starts_at,
                expires_at=None,
                category=category,
                link=link,
            )
        )
    return dedupe(items)
