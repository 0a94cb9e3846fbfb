"""Open311 GeoReport v2: pure functions for its documents in JSON and XML, and its form bodies.

XML is only written here (xml.etree builds it); nothing parses XML. Spec:
http://wiki.open311.org/GeoReport_v2
"""
from __future__ import annotations

import json
import xml.etree.ElementTree as ET  # noqa: S405 - output only; nothing is parsed
from typing import Any
from urllib.parse import parse_qsl

FORMATS = {"json": "application/json; charset=utf-8", "xml": "text/xml; charset=utf-8"}
MAX_FIELDS = 50
MAX_FORM_BYTES = 65536
_ITEM = {"endpoints": "endpoint", "formats": "format", "attributes": "attribute",
         "values": "value", "keywords": "keyword"}
_ROOT_ITEM = {"services": "service", "service_requests": "request", "errors": "error"}


class FormError(ValueError):
    """The body is not a usable application/x-www-form-urlencoded form."""


def parse_form(raw: bytes | str | None) -> dict[str, str]:
    """Decode a form body; the first value of a repeated field wins. Raises FormError."""
    if raw is None:
        return {}
    if isinstance(raw, str):
        raw = raw.encode("utf-8", "surrogatepass")
    if len(raw) > MAX_FORM_BYTES:
        raise FormError("the form is too large")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise FormError("the form is not valid UTF-8") from None
    try:
        pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=False, encoding="utf-8",
                          errors="strict", max_num_fields=MAX_FIELDS)
    except UnicodeDecodeError:
        raise FormError("a field is not valid UTF-8") from None
    except ValueError:
        raise FormError(f"at most {MAX_FIELDS} fields") from None
    out: dict[str, str] = {}
    for key, value in pairs:
        out.setdefault(key, value)
    return out


def split_name(name: str) -> tuple[str, str] | None:
    """`services.json` → ("services", "json"); None without a known format suffix."""
    base, dot, fmt = name.rpartition(".")
    if not dot or not base or fmt not in FORMATS:
        return None
    return base, fmt


def discovery(base_url: str, changeset: str, contact: str) -> dict[str, Any]:
    return {"changeset": changeset, "contact": contact, "key_service": "",
            "endpoints": [{"specification": "http://wiki.open311.org/GeoReport_v2",
                           "url": f"{base_url}/open311/v2", "changeset": changeset,
                           "type": "production", "formats": ["application/json", "text/xml"]}]}


def service(category: dict[str, Any], lang: str = "pl") -> dict[str, Any]:
    names = category.get("name") or {}
    name = str(names.get(lang) or names.get("pl") or category["id"])
    return {"service_code": category["id"], "service_name": name, "description": name,
            "metadata": False, "type": "realtime",
            "keywords": ",".join(sorted({str(v) for v in names.values()})),
            "group": str(category.get("department", ""))}


def service_definition(code: str) -> dict[str, Any]:
    return {"service_code": code, "attributes": []}


def open_or_closed(status: str) -> str:
    return "open" if status in ("new", "acknowledged", "in_progress") else "closed"


def request_item(view: dict[str, Any]) -> dict[str, Any]:
    """A report's public view (services.reports.summary + photos) as a GeoReport request."""
    photos = view.get("photos") or []
    media = photos[0]["display"] if photos else view.get("media_url")
    notes = view.get("public_note") or ""
    if view.get("status") in ("not_ours", "duplicate", "rejected") and not notes:
        notes = str(view["status"]).replace("_", " ")
    return {"service_request_id": view["id"], "status": open_or_closed(str(view["status"])),
            "status_notes": notes, "service_name": view.get("category_name", view["category"]),
            "service_code": view["category"], "description": view.get("description", ""),
            "agency_responsible": view.get("department", ""), "service_notice": "",
            "requested_datetime": view["created_at"], "updated_datetime": view["updated_at"],
            "expected_datetime": "", "address": view.get("address") or "", "address_id": "",
            "zipcode": "", "lat": view["lat"], "long": view["lon"], "media_url": media or ""}


def created(request_id: str, notice: str = "") -> list[dict[str, Any]]:
    return [{"service_request_id": request_id, "service_notice": notice, "account_id": ""}]


def errors(code: int, description: str) -> list[dict[str, Any]]:
    return [{"code": code, "description": description}]


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _add(parent: ET.Element, tag: str, value: Any) -> None:
    el = ET.SubElement(parent, tag)
    if isinstance(value, dict):
        for k, v in value.items():
            _add(el, k, v)
    elif isinstance(value, list):
        for v in value:
            _add(el, _ITEM.get(tag, "item"), v)
    else:
        el.text = _text(value)


def to_xml(root: str, payload: Any) -> str:
    """The spec's XML: a root element with one child per item (or per field of a dict)."""
    top = ET.Element(root)
    if isinstance(payload, list):
        for item in payload:
            _add(top, _ROOT_ITEM.get(root, "item"), item)
    else:
        for k, v in payload.items():
            _add(top, k, v)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(top, encoding="unicode")


def render(root: str, payload: Any, fmt: str) -> tuple[str, str]:
    """(body, content type) in json or xml."""
    if fmt == "xml":
        return to_xml(root, payload), FORMATS["xml"]
    return json.dumps(payload, ensure_ascii=False), FORMATS["json"]
