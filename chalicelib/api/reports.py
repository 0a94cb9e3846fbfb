"""Residents' reports (/v1/reports) and the staff's reports inbox (/v1/admin/reports)."""
from __future__ import annotations

from typing import Any

from chalice import Blueprint, CORSConfig, Response

from ..auth import Staff, require
from ..lazy import lazy
from .http import api, client_ip, json_body, query

reports = lazy("chalicelib.services.reports")

bp = Blueprint(__name__)
# The public site is another origin and sends the reporter's secret in X-Secret: without it in
# the allowed headers, the browser's preflight refuses the reporter's own page.
SECRET_CORS = CORSConfig(allow_origin="*", allow_headers=["X-Secret"], max_age=600)


def _secret() -> str | None:
    return bp.current_request.headers.get("x-secret")


def _staff(group: str) -> Staff:
    return require(bp.current_request.headers.get("authorization"), group)


def _lang() -> str:
    lang = query(bp.current_request).get("lang", "pl")
    return lang if lang in ("pl", "en", "uk") else "pl"


@bp.route("/v1/reports", methods=["POST"], cors=True)
@api
def create_report() -> Response:
    """Report a problem: category, description, lat/lon in the city, photos 0–5, contact."""
    req = bp.current_request
    return Response(body=reports.create(json_body(req), client_ip(req)), status_code=201)


@bp.route("/v1/reports", methods=["GET"], cors=True)
@api
def list_reports() -> dict[str, Any]:
    """Public reports inside bbox=west,south,east,north (optional status, category)."""
    q = query(bp.current_request)
    west, south, east, north = reports.parse_bbox(q.get("bbox"))
    return {"items": reports.in_bbox(west, south, east, north, status=q.get("status") or None,
                                     category=q.get("category") or None, lang=_lang())}


@bp.route("/v1/reports/nearby", methods=["GET"], cors=True)
@api
def nearby_reports() -> dict[str, Any]:
    """Open reports of the same category within 250 m (offer to follow one instead)."""
    q = query(bp.current_request)
    return {"items": reports.nearby(q.get("lat"), q.get("lon"), q.get("category"), _lang()),
            "radius_m": reports.NEARBY_M}


@bp.route("/v1/reports/{report_id}", methods=["GET"], cors=SECRET_CORS)
@api
def get_report(report_id: str) -> dict[str, Any]:
    """A report: the public view, or with X-Secret the reporter's view with the thread."""
    return reports.get_view(report_id, _secret(), _lang())


@bp.route("/v1/reports/{report_id}/follow", methods=["POST"], cors=True)
@api
def follow_report(report_id: str) -> dict[str, Any]:
    """A registered device follows a report: {device_id, device_secret}."""
    return reports.follow(report_id, json_body(bp.current_request))


@bp.route("/v1/reports/{report_id}/messages", methods=["POST"], cors=SECRET_CORS)
@api
def reporter_message(report_id: str) -> Response:
    """The reporter writes to the city (X-Secret): {text}."""
    event = reports.reporter_message(report_id, _secret(), json_body(bp.current_request))
    return Response(body=event, status_code=201)


@bp.route("/v1/reports/{report_id}/contact/confirm", methods=["POST"], cors=SECRET_CORS)
@api
def confirm_contact(report_id: str) -> dict[str, Any]:
    """The reporter confirms their phone number with the SMS code (X-Secret): {code}."""
    return reports.confirm_contact(report_id, _secret(), json_body(bp.current_request))


@bp.route("/v1/reports/{report_id}/reopen", methods=["POST"], cors=SECRET_CORS)
@api
def reopen_report(report_id: str) -> dict[str, Any]:
    """The reporter reopens a report resolved in the last 14 days (X-Secret)."""
    return reports.reopen(report_id, _secret(), json_body(bp.current_request, required=False))


@bp.route("/v1/admin/reports", methods=["GET"], cors=True)
@api
def admin_reports() -> dict[str, Any]:
    """The reports inbox: ?status= (default: the open ones) &category= &moderation=pending."""
    _staff("editor")
    q = query(bp.current_request)
    return {"items": reports.inbox(q.get("status") or None, q.get("category") or None,
                                   moderation=q.get("moderation") or None)}


@bp.route("/v1/admin/reports/{report_id}", methods=["GET"], cors=True)
@api
def admin_report(report_id: str) -> dict[str, Any]:
    """One report with its whole thread, as staff see it."""
    _staff("editor")
    return reports.get_staff(report_id)


@bp.route("/v1/admin/reports/{report_id}", methods=["PATCH"], cors=True)
@api
def admin_update_report(report_id: str) -> dict[str, Any]:
    """Change status (with a public note), duplicate_of, hidden, department or moderation."""
    staff = _staff("editor")
    return reports.staff_update(report_id, json_body(bp.current_request), staff.email)


@bp.route("/v1/admin/reports/{report_id}/messages", methods=["POST"], cors=True)
@api
def admin_report_message(report_id: str) -> Response:
    """A message to the reporter (push to their device or SMS to their confirmed number)."""
    staff = _staff("editor")
    event = reports.staff_message(report_id, json_body(bp.current_request), staff.email)
    return Response(body=event, status_code=201)


@bp.route("/v1/admin/report-blocks/{device_id}", methods=["PUT", "DELETE"], cors=True)
@api
def admin_block_device(device_id: str) -> Any:
    """Block a device from reporting (PUT, optional {reason}) or lift the block (DELETE)."""
    staff = _staff("editor")
    req = bp.current_request
    if req.method == "PUT":
        return reports.block_device(device_id, json_body(req, required=False), staff.email)
    reports.unblock_device(device_id, staff.email)
    return Response(body="", status_code=204)
