"""Public reading: categories, districts, alerts (JSON, CAP 1.2, Atom)."""
from __future__ import annotations

from chalice import Blueprint, Response

from ..city import city
from ..errors import Invalid
from ..lazy import lazy
from .http import api, cached_json, query

alerts = lazy("chalicelib.services.alerts")

bp = Blueprint(__name__)


@bp.route("/v1/categories", methods=["GET"], cors=True)
@api
def categories() -> Response:
    return cached_json(bp.current_request, {"items": city()["categories"]}, max_age=3600)


@bp.route("/v1/districts", methods=["GET"], cors=True)
@api
def districts() -> Response:
    items = [{"id": d["id"], "name": d["name"], "polygon": d["polygon"]} for d in city()["districts"]]
    return cached_json(bp.current_request, {"items": items, "boundary": city()["boundary"],
                                            "centre": city()["centre"],
                                            "approximate": True}, max_age=3600)


@bp.route("/v1/report-categories", methods=["GET"], cors=True)
@api
def report_categories() -> Response:
    return cached_json(bp.current_request, {"items": city()["report_categories"]}, max_age=3600)


@bp.route("/v1/alerts", methods=["GET"], cors=True)
@api
def list_alerts() -> Response:
    q = query(bp.current_request)
    try:
        limit = int(q.get("limit", "50"))
        if not 1 <= limit <= 100:
            raise ValueError
    except ValueError:
        raise Invalid("limit must be 1–100.", {"limit": "an integer from 1 to 100"}) from None
    include = q.get("include", "")
    if include not in ("", "expired"):
        raise Invalid("include may only be `expired`.", {"include": "use include=expired"})
    page = alerts.list_public(category=q.get("category") or None, district=q.get("district") or None,
                              lang=q.get("lang", "pl"), include_expired=include == "expired",
                              cursor=q.get("cursor"), limit=limit)
    return cached_json(bp.current_request, page, max_age=30)


@bp.route("/v1/alerts/{alert_id}", methods=["GET"], cors=True)
@api
def get_alert(alert_id: str) -> Response:
    """One alert that went out, texts in `lang` (falling back to pl)."""
    full = alerts.to_dict(alerts.public_model(alert_id))
    lang = query(bp.current_request).get("lang", "pl")
    if lang not in ("pl", "en", "uk"):
        raise Invalid("Unknown language.", {"lang": "must be one of: pl, en, uk"})
    return cached_json(bp.current_request, alerts.public_view(full, lang), max_age=30)


def _cached_xml(content: bytes, content_type: str, max_age: int) -> Response:
    """XML with an ETag and Cache-Control; 304 when the client already has it."""
    import hashlib

    etag = '"' + hashlib.sha256(content).hexdigest()[:32] + '"'
    headers: dict[str, str | list[str]] = {
        "ETag": etag, "Cache-Control": f"public, max-age={max_age}",
        "Content-Type": f"{content_type}; charset=utf-8"}
    inm = bp.current_request.headers.get("if-none-match") or ""
    if etag in [t.strip() for t in inm.split(",")] or inm.strip() == "*":
        return Response(body="", status_code=304, headers=headers)
    return Response(body=content.decode("utf-8"), status_code=200, headers=headers)


@bp.route("/v1/alerts/{alert_id}/cap", methods=["GET"], cors=True)
@api
def get_alert_cap(alert_id: str) -> Response:
    """One alert as CAP 1.2 XML (its current version; a cancelled alert as msgType Cancel)."""
    return _cached_xml(alerts.cap_xml(alert_id), "application/cap+xml", max_age=60)


@bp.route("/v1/feeds/alerts.atom", methods=["GET"], cors=True)
@api
def alerts_atom() -> Response:
    """An Atom index of the active alerts, each linking to its CAP document."""
    return _cached_xml(alerts.atom_xml(), "application/atom+xml", max_age=60)
