"""CAP 1.2 alerts in an Atom feed (MeteoAlarm's legacy Atom, or full CAP in entries).

Options:
    geocode: keep only entries with one of these geocode values (a string or a list),
        e.g. an EMMA_ID (``"PL1402"``) or a TERYT code; ``"NAME=value"`` is matched too.
        Absent: keep every entry.

Understands both shapes: ``cap:*`` elements flattened into each ``<entry>`` (MeteoAlarm,
including its ``cap:message_type``) and a complete ``<alert>`` inside an entry's
``<content>`` (or as the document root). ``msgType`` Alert/Update/Cancel becomes
``msg_type``; ``references`` ("sender,identifier,sent ...") become the referenced
identifiers. Entries whose status is not Actual (Test, Exercise, ...) and Ack/Error
messages are skipped. Items come ordered by ``sent`` so updates follow what they update.
XML is parsed with defusedxml; DTDs and entities are refused.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from . import (
    SEVERITIES,
    FeedError,
    FeedItem,
    check_status,
    clean_text,
    fold,
    one_line,
    opt_str_list,
    options_dict,
    parse_time,
    slug,
)

if TYPE_CHECKING:
    from xml.etree.ElementTree import Element

NAME = "cap_atom"
CAP_NS_MARK = "emergency:cap"
CATEGORY = {
    "met": "weather",
    "env": "weather",
    "geo": "emergency",
    "safety": "emergency",
    "security": "emergency",
    "rescue": "emergency",
    "fire": "emergency",
    "health": "emergency",
    "cbrne": "emergency",
    "transport": "roads",
    "infra": "other",
    "other": "other",
}


def parse(payload: bytes, http_status: int, options: dict[str, Any]) -> list[FeedItem]:
    opts = options_dict(options, NAME)
    wanted = opt_str_list(opts, "geocode", None, NAME)
    wanted_set = {fold(w.strip()) for w in wanted or [] if w.strip()} if wanted else None
    check_status(http_status, NAME)
    if not isinstance(payload, (bytes, bytearray)):
        raise FeedError(f"{NAME}: payload must be bytes")
    try:
        root = SafeET.fromstring(bytes(payload), forbid_dtd=True)
    except DefusedXmlException as exc:
        raise FeedError(f"{NAME}: refused XML ({type(exc).__name__})") from exc
    except (SafeET.ParseError, ValueError, LookupError, RecursionError) as exc:
        raise FeedError(f"{NAME}: malformed XML: {exc}") from exc

    if _local(root.tag) == "alert":
        entries: list[tuple[Element | None, Element]] = [(None, root)]
    elif _local(root.tag) == "feed":
        entries = []
        for entry in _children(root, "entry"):
            alert = next((el for el in entry.iter() if _is_cap(el, "alert")), None)
            entries.append((entry, alert if alert is not None else entry))
    else:
        raise FeedError(f"{NAME}: not an Atom feed or CAP alert (root <{_local(root.tag)}>)")

    found: dict[str, tuple[str, FeedItem]] = {}
    for index, (atom_entry, cap) in enumerate(entries):
        result = _item(atom_entry, cap, index, wanted_set)
        if result is not None:
            found.setdefault(result[1].external_id, result)
    return [item for _, item in sorted(found.values(), key=lambda r: (r[0], r[1].external_id))]


def _local(tag: Any) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _is_cap(el: Element, name: str) -> bool:
    return isinstance(el.tag, str) and _local(el.tag) == name and CAP_NS_MARK in el.tag


def _children(el: Element, *names: str) -> list[Element]:
    return [child for child in el if _local(child.tag) in names]


def _text(el: Element | None, *names: str) -> str:
    """Text of the first direct child named one of ``names`` (any namespace)."""
    if el is None:
        return ""
    for child in _children(el, *names):
        text = "".join(child.itertext()).strip()
        if text:
            return text
    return ""


def _pick_info(alert: Element) -> Element:
    infos = _children(alert, "info")
    if not infos:
        return alert  # MeteoAlarm's flattened entry: info fields sit in the entry
    for info in infos:
        if _text(info, "language").lower().startswith("pl"):
            return info
    return infos[0]


def _geocodes(scope: list[Element]) -> list[tuple[str, str]]:
    codes = []
    for el in scope:
        for geo in _children(el, "geocode"):
            name, value = _text(geo, "valueName"), _text(geo, "value")
            if value:
                codes.append((name, value))
    return codes


def _link(entry: Element | None) -> str | None:
    if entry is None:
        return None
    links = [
        (ln.get("rel") or "alternate", ln.get("href") or "") for ln in _children(entry, "link")
    ]
    for wanted in ("alternate", None):
        for rel, href in links:
            if href and (wanted is None or rel == wanted):
                return href.strip()
    return None


def _item(
    entry: Element | None, cap: Element, index: int, wanted: set[str] | None
) -> tuple[str, FeedItem] | None:
    where = f"entry #{index}"
    status = _text(cap, "status")
    if status and status.lower() != "actual":
        return None
    msg_type = (_text(cap, "msgType", "message_type") or "Alert").lower()
    if msg_type in ("ack", "error"):
        return None
    if msg_type not in ("alert", "update", "cancel"):
        raise FeedError(f"{NAME}: {where}: unknown msgType {msg_type!r}")

    info = _pick_info(cap)
    areas = _children(info, "area") or [info]
    codes = _geocodes(areas)
    matched: list[str] = []
    if wanted is not None:
        for name, value in codes:
            if fold(value) in wanted or fold(f"{name}={value}") in wanted:
                matched.append(value)
        if not matched:
            return None

    identifier = _text(cap, "identifier") or _text(entry, "id")
    if not identifier:
        raise FeedError(f"{NAME}: {where}: no identifier")
    sent = parse_time(_text(cap, "sent") or None, NAME, f"{where} sent")
    event = one_line(_text(info, "event"))
    area_desc = "; ".join(one_line(_text(a, "areaDesc")) for a in areas if _text(a, "areaDesc"))
    title = one_line(_text(info, "headline") or _text(entry, "title") or event)
    if not title:
        raise FeedError(f"{NAME}: {where}: no headline, title or event")
    parts = [clean_text(_text(info, "description")), clean_text(_text(info, "instruction"))]
    body = "\n\n".join(p for p in parts if p)
    if not body and entry is not None:
        body = clean_text(_text(entry, "summary"))
        if not body and entry is cap:  # a content element holding the CAP is no text
            body = clean_text(_text(entry, "content"))
    if not body:
        body = " – ".join(p for p in (event, area_desc) if p)
    starts_at = parse_time(
        _text(info, "onset") or _text(info, "effective") or sent, NAME, f"{where} onset"
    )
    expires_at = parse_time(_text(info, "expires") or None, NAME, f"{where} expires")
    severity = _text(info, "severity").lower()
    references = []
    for token in _text(cap, "references").split():
        fields = token.split(",")
        references.append(fields[1] if len(fields) == 3 else token)
    categories = ["".join(el.itertext()).strip().lower() for el in _children(info, "category")]
    category = next((CATEGORY[c] for c in categories if c in CATEGORY), None)
    place = ",".join(sorted(set(matched))) or slug(area_desc)
    item = FeedItem(
        external_id=identifier,
        title=title,
        body=body,
        starts_at=starts_at,
        expires_at=expires_at,
        severity=severity if severity in SEVERITIES else "unknown",
        msg_type=msg_type,
        references=tuple(dict.fromkeys(references)),
        correlation_key=f"{NAME}:{slug(event)}:{place}" if event else None,
        category=category,
        link=_link(entry) or _text(info, "web") or None,
    )
    return (sent or "", item)
