"""Public reading: categories, districts, alerts (JSON, CAP 1.2, Atom)."""
from __future__ import annotations

from chalice import Blueprint, Response

from ..city import city
from ..errors import Invalid
from ..services import alerts
from .http import api, cached_json, query

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
    full = alerts.get(alert_id)
    if full["status"] in ("draft", "pending_approval", "scheduled"):
        from ..errors import NotFound

        raise NotFound("No such alert.")
    lang = query(bp.current_request).get("lang", "pl")
    return cached_json(bp.current_request, alerts.public_view(full, lang), max_age=30)
