"""Staff routes under /v1/admin: alerts (editor drafts; publisher publishes), audit, counts."""
from __future__ import annotations

from typing import Any

from chalice import Blueprint, Response

from ..auth import Staff, require
from ..errors import Invalid
from ..lazy import lazy
from .http import api, json_body, query

alerts = lazy("chalicelib.services.alerts")
audit = lazy("chalicelib.services.audit")

bp = Blueprint(__name__)


def _staff(group: str) -> Staff:
    return require(bp.current_request.headers.get("authorization"), group)


@bp.route("/v1/admin/me", methods=["GET"], cors=True)
@api
def me() -> dict[str, Any]:
    s = _staff("editor")
    return {"email": s.email, "groups": list(s.groups), "role": s.role}


@bp.route("/v1/admin/alerts", methods=["GET", "POST"], cors=True)
@api
def admin_alerts() -> Any:
    req = bp.current_request
    if req.method == "GET":
        _staff("editor")
        status = query(req).get("status")
        if status and status not in ("draft", "pending_approval", "scheduled", "published",
                                     "cancelled", "expired"):
            raise Invalid("Unknown status.", {"status": "unknown status"})
        return {"items": alerts.list_admin(status)}
    staff = _staff("editor")
    return Response(body=alerts.create_draft(json_body(req), staff.email), status_code=201)


@bp.route("/v1/admin/alerts/preview", methods=["POST"], cors=True)
@api
def admin_alert_preview() -> Any:
    """The SMS text, encoding, parts, recipients and cost a draft body would have; sends nothing."""
    _staff("editor")
    return alerts.preview(json_body(bp.current_request))


@bp.route("/v1/admin/alerts/{alert_id}/test", methods=["POST"], cors=True)
@api
def admin_alert_test(alert_id: str) -> Any:
    """Send the alert, marked TEST, only to the staff's own phones (staff_test_phones)."""
    staff = _staff("publisher")
    from ..services.fanout import send_direct_sms

    return alerts.send_test(alert_id, staff.email, send_direct_sms)


@bp.route("/v1/admin/alerts/{alert_id}", methods=["GET", "PATCH"], cors=True)
@api
def admin_alert(alert_id: str) -> Any:
    req = bp.current_request
    staff = _staff("editor")
    if req.method == "GET":
        return alerts.get(alert_id)
    return alerts.edit_draft(alert_id, json_body(req), staff.email)


@bp.route("/v1/admin/alerts/{alert_id}/versions", methods=["GET"], cors=True)
@api
def admin_alert_versions(alert_id: str) -> Any:
    _staff("editor")
    return {"items": alerts.versions(alert_id)}


@bp.route("/v1/admin/alerts/{alert_id}/publish", methods=["POST"], cors=True)
@api
def admin_publish(alert_id: str) -> Any:
    staff = _staff("publisher")
    body = json_body(bp.current_request, required=False)
    reason = body.get("override_reason") if isinstance(body, dict) else None
    return alerts.publish(alert_id, staff.email, override_reason=reason)


@bp.route("/v1/admin/alerts/{alert_id}/approve", methods=["POST"], cors=True)
@api
def admin_approve(alert_id: str) -> Any:
    return alerts.approve(alert_id, _staff("publisher").email)


@bp.route("/v1/admin/alerts/{alert_id}/update", methods=["POST"], cors=True)
@api
def admin_update(alert_id: str) -> Any:
    staff = _staff("publisher")
    return alerts.update(alert_id, json_body(bp.current_request), staff.email)


@bp.route("/v1/admin/alerts/{alert_id}/cancel", methods=["POST"], cors=True)
@api
def admin_cancel(alert_id: str) -> Any:
    staff = _staff("publisher")
    return alerts.cancel(alert_id, staff.email, json_body(bp.current_request, required=False))


@bp.route("/v1/admin/audit", methods=["GET"], cors=True)
@api
def admin_audit() -> Any:
    _staff("admin")
    from ..services.clock import now

    day = query(bp.current_request).get("day") or now().strftime("%Y-%m-%d")
    if len(day) != 10 or day[4] != "-" or day[7] != "-" or not day.replace("-", "").isdigit():
        raise Invalid("day is YYYY-MM-DD.", {"day": "YYYY-MM-DD"})
    return {"items": audit.list_day(day)}

