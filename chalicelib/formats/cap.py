"""CAP 1.2 documents and the Atom index of them (pure functions, no I/O)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET  # noqa: S405 - we only build XML, never parse it
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

CAP_NS = "urn:oasis:names:tc:emergency:cap:1.2"
ATOM_NS = "http://www.w3.org/2005/Atom"
TZ = ZoneInfo("Europe/Warsaw")
TERYT_GMINA = "1402011"
CITY_NAME = "Ciechanów"

# Alert text keys -> CAP/RFC 3066 language codes, in output order.
LANGUAGE_CODES: dict[str, str] = {"pl": "pl-PL", "en": "en-GB", "uk": "uk-UA"}

CATEGORY_TO_CAP: dict[str, str] = {
    "water": "Infra",
    "electricity": "Infra",
    "gas": "Infra",
    "heating": "Infra",
    "roads": "Transport",
    "events": "Other",
    "weather": "Met",
    "emergency": "Safety",
    "other": "Other",
}

# Same names as chalicelib/data/city.json; pass category_names to override.
CATEGORY_NAMES: dict[str, dict[str, str]] = {
    "water": {"pl": "Woda", "en": "Water", "uk": "Вода"},
    "electricity": {"pl": "Prąd", "en": "Electricity", "uk": "Електроенергія"},
    "gas": {"pl": "Gaz", "en": "Gas", "uk": "Газ"},
    "heating": {"pl": "Ogrzewanie", "en": "Heating", "uk": "Опалення"},
    "roads": {"pl": "Drogi i utrudnienia", "en": "Roads", "uk": "Дороги"},
    "events": {"pl": "Wydarzenia miejskie", "en": "City events", "uk": "Міські події"},
    "weather": {"pl": "Pogoda", "en": "Weather", "uk": "Погода"},
    "emergency": {
        "pl": "Zagrożenie życia lub zdrowia",
        "en": "Emergency",
        "uk": "Надзвичайна ситуація",
    },
    "other": {"pl": "Inne", "en": "Other", "uk": "Інше"},
}

_MSG_TYPES = {"alert": "Alert", "update": "Update", "cancel": "Cancel"}
_STATUSES = {"actual": "Actual", "exercise": "Exercise", "test": "Test"}
_URGENCY = ("immediate", "expected", "future", "past", "unknown")
_SEVERITY = ("extreme", "severe", "moderate", "minor", "unknown")
_CERTAINTY = ("observed", "likely", "possible", "unlikely", "unknown")


def _parse_time(value: str | datetime) -> datetime:
    dt = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    if dt.tzinfo is None:  # naive times are city-local
        dt = dt.replace(tzinfo=TZ)
    return dt


def cap_time(value: str | datetime) -> str:
    """``YYYY-MM-DDThh:mm:ss±hh:mm`` in Europe/Warsaw: no ``Z``, no fractions."""
    return _parse_time(value).astimezone(TZ).replace(microsecond=0).isoformat()


def cap_identifier(alert: Mapping[str, Any]) -> str:
    """CAP identifier of one version of an alert."""
    return f"{alert['id']}-v{alert['version']}"


def _enum(value: Any, allowed: tuple[str, ...]) -> str:
    v = str(value or "unknown").lower()
    return (v if v in allowed else "unknown").capitalize()


def _num(v: float) -> str:
    text = f"{float(v):.6f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _cap_polygon(ring: Iterable[Iterable[float]]) -> str | None:
    """GeoJSON ``[lon, lat]`` ring -> closed CAP ``lat,lon`` pairs, or None if degenerate."""
    points = [(float(p[1]), float(p[0])) for p in (list(q) for q in ring)]
    if not points:
        return None
    if points[0] != points[-1]:
        points.append(points[0])
    if len(points) < 4 or len(set(points)) < 3:
        return None
    return " ".join(f"{_num(lat)},{_num(lon)}" for lat, lon in points)


_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _sub(parent: ET.Element, tag: str, text: str | None = None) -> ET.Element:
    el = ET.SubElement(parent, f"{{{CAP_NS}}}{tag}")
    if text is not None:
        # characters XML 1.0 cannot carry are dropped, so the document always stays well-formed
        el.text = _XML_INVALID.sub("", text)
    return el


def _area(
    parent: ET.Element, alert: Mapping[str, Any], district_geo: Mapping[str, Mapping[str, Any]]
) -> None:
    area = _sub(parent, "area")
    districts: list[str] = list(alert.get("districts") or [])
    drawn: Mapping[str, Any] | None = alert.get("area")
    polygons: list[str] = []
    if districts:
        names = [str(district_geo.get(slug, {}).get("name") or slug) for slug in districts]
        _sub(area, "areaDesc", ", ".join(names))
        for slug in districts:
            ring = district_geo.get(slug, {}).get("polygon")
            if ring and (poly := _cap_polygon(ring)):
                polygons.append(poly)
    else:
        city = district_geo.get("_city") or {}
        _sub(area, "areaDesc", str(city.get("name") or CITY_NAME))
        if not drawn and city.get("polygon") and (poly := _cap_polygon(city["polygon"])):
            polygons.append(poly)
    circle: str | None = None
    if drawn:
        kind = str(drawn.get("type", "")).lower()
        if kind == "polygon" and drawn.get("coordinates"):
            if poly := _cap_polygon(drawn["coordinates"][0]):
                polygons.append(poly)
        elif kind == "circle":
            lon, lat = drawn["center"]
            circle = f"{_num(lat)},{_num(lon)} {_num(float(drawn['radius_m']) / 1000)}"
    for poly in polygons:
        _sub(area, "polygon", poly)
    if circle:
        _sub(area, "circle", circle)
    geocode = _sub(area, "geocode")
    _sub(geocode, "valueName", "TERYT")
    _sub(geocode, "value", TERYT_GMINA)


def _languages(alert: Mapping[str, Any]) -> list[str]:
    titles: Mapping[str, str] = alert.get("title") or {}
    present = [lang for lang, text in titles.items() if text and str(text).strip()]
    known = [lang for lang in LANGUAGE_CODES if lang in present]
    return known + sorted(lang for lang in present if lang not in LANGUAGE_CODES)


def build_cap(
    alert: dict[str, Any],
    *,
    sender: str,
    web_base_url: str,
    district_geo: Mapping[str, Mapping[str, Any]],
    sender_name: str = "Urząd Miasta Ciechanów",
    category_names: Mapping[str, Mapping[str, str]] | None = None,
) -> bytes:
    """One alert version as a CAP 1.2 document (UTF-8 bytes with XML declaration)."""
    names = category_names or CATEGORY_NAMES
    msg_type = _MSG_TYPES.get(str(alert.get("msg_type") or "alert").lower(), "Alert")
    root = ET.Element(f"{{{CAP_NS}}}alert")
    _sub(root, "identifier", cap_identifier(alert))
    _sub(root, "sender", sender)
    _sub(root, "sent", cap_time(alert["sent_at"]))
    _sub(root, "status", _STATUSES.get(str(alert.get("cap_status") or "actual").lower(), "Actual"))
    _sub(root, "msgType", msg_type)
    _sub(root, "scope", "Public")
    refs = alert.get("references") or []
    if msg_type in ("Update", "Cancel") and refs:
        _sub(
            root,
            "references",
            " ".join(f"{sender},{r['identifier']},{cap_time(r['sent'])}" for r in refs),
        )

    category = str(alert.get("category") or "other")
    web = f"{web_base_url.rstrip('/')}/alert.html?id={quote(str(alert['id']), safe='')}"
    for lang in _languages(alert):
        info = _sub(root, "info")
        _sub(info, "language", LANGUAGE_CODES.get(lang, lang))
        _sub(info, "category", CATEGORY_TO_CAP.get(category, "Other"))
        cat_names = names.get(category, {})
        _sub(info, "event", cat_names.get(lang) or cat_names.get("pl") or category)
        _sub(info, "urgency", _enum(alert.get("urgency"), _URGENCY))
        _sub(info, "severity", _enum(alert.get("severity"), _SEVERITY))
        _sub(info, "certainty", _enum(alert.get("certainty"), _CERTAINTY))
        if alert.get("starts_at"):
            _sub(info, "effective", cap_time(alert["starts_at"]))
        if alert.get("expires_at"):
            _sub(info, "expires", cap_time(alert["expires_at"]))
        _sub(info, "senderName", sender_name)
        _sub(info, "headline", str(alert["title"][lang]).strip())
        body = (alert.get("body") or {}).get(lang)
        if body:
            _sub(info, "description", str(body))
        instruction = (alert.get("instruction") or {}).get(lang)
        if instruction:
            _sub(info, "instruction", str(instruction))
        _sub(info, "web", web)
        if alert.get("contact"):
            _sub(info, "contact", str(alert["contact"]))
        _area(info, alert, district_geo)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True, default_namespace=CAP_NS)


# --- Atom index -------------------------------------------------------------------


def _atom(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    el = ET.SubElement(parent, tag, attrs)  # namespace declared on <feed> (see _feed)
    if text is not None:
        el.text = text
    return el


def _alert_updated(alert: Mapping[str, Any]) -> str:
    value = alert.get("updated_at") or alert.get("sent_at") or alert.get("starts_at")
    if not value:
        raise ValueError(f"alert {alert.get('id')!r} has no updated_at/sent_at/starts_at")
    return cap_time(value)


def _feed(
    entries: Sequence[Mapping[str, Any]], feed_url: str, api_base_url: str, title: str, updated: str,
    author: str,
) -> bytes:
    # Unqualified names + explicit xmlns: ElementTree's default_namespace option cannot
    # serialise unqualified attributes such as rel/href.
    root = ET.Element("feed", {"xmlns": ATOM_NS})
    _atom(root, "id", feed_url)
    _atom(root, "title", title)
    _atom(root, "updated", cap_time(updated))
    _atom(root, "link", rel="self", type="application/atom+xml", href=feed_url)
    _atom(_atom(root, "author"), "name", author)
    base = api_base_url.rstrip("/")
    for alert in entries:
        entry = _atom(root, "entry")
        _atom(entry, "id", f"urn:informator:alert:{alert['id']}")
        titles = alert.get("title") or {}
        _atom(entry, "title", str(titles.get("pl") or next(iter(titles.values()), "")))
        _atom(entry, "updated", _alert_updated(alert))
        _atom(
            entry,
            "link",
            rel="alternate",
            type="application/cap+xml",
            href=f"{base}/v1/alerts/{quote(str(alert['id']), safe='')}/cap",
        )
        if alert.get("category"):
            _atom(entry, "category", term=str(alert["category"]))
        bodies = alert.get("body") or {}
        summary = bodies.get("pl") or next(iter(bodies.values()), "")
        if summary:
            _atom(entry, "summary", str(summary))
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def build_atom(
    alerts: list[dict[str, Any]],
    *,
    feed_url: str,
    api_base_url: str,
    title: str,
    updated: str,
    max_bytes: int = 900_000,
    author: str = "Urząd Miasta Ciechanów",
) -> bytes:
    """Atom 1.0 index of CAP alerts, newest first.

    Entries are ordered by ``updated_at`` (falling back to ``sent_at``/``starts_at``),
    newest first; the oldest are dropped until the document is at most ``max_bytes``.
    """
    ordered = sorted(alerts, key=lambda a: _parse_time(_alert_updated(a)), reverse=True)

    def build(n: int) -> bytes:
        return _feed(ordered[:n], feed_url, api_base_url, title, updated, author)

    doc = build(len(ordered))
    if len(doc) <= max_bytes:
        return doc
    lo, hi = 0, len(ordered) - 1  # the largest n that fits lies in [lo, hi]
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if len(build(mid)) <= max_bytes:
            lo = mid
        else:
            hi = mid - 1
    return build(lo)
