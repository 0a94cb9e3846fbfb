"""Residents' subscriptions: SMS numbers (confirmed by code) and push devices."""
from __future__ import annotations

from typing import Any

from chalice import Blueprint, Response

from ..errors import Invalid
from ..lazy import lazy
from .http import api, client_ip, json_body

subs = lazy("chalicelib.services.subscriptions")

bp = Blueprint(__name__)


def _secret() -> str | None:
    return bp.current_request.headers.get("x-secret")


@bp.route("/v1/sms-subscriptions", methods=["POST"], cors=True)
@api
def sms_subscribe() -> Response:
    body = json_body(bp.current_request)
    if not isinstance(body, dict):
        raise Invalid("The body must be a JSON object.", {"body": "must be an object"})
    choices = subs.validate_sign_up(body)
    subs.request_code(body.get("phone"), "subscribe", choices, client_ip(bp.current_request))
    return code_sent()


def code_sent() -> Response:
    """The one answer to every accepted code request, known number or not."""
    return Response(body={"status": "code_sent", "expires_in": subs.CODE_TTL_S}, status_code=202)


@bp.route("/v1/sms-subscriptions/confirm", methods=["POST"], cors=True)
@api
def sms_confirm() -> Response:
    body = json_body(bp.current_request)
    if not isinstance(body, dict):
        raise Invalid("The body must be a JSON object.", {"body": "must be an object"})
    result = subs.confirm(body.get("phone"), body.get("code"))
    return Response(body=result, status_code=201 if result["status"] == "subscribed" else 200)


@bp.route("/v1/sms-subscriptions/leave", methods=["POST"], cors=True)
@api
def sms_leave() -> Response:
    """Step one of leaving (erasure) or of a data export: a code to the number."""
    body = json_body(bp.current_request)
    if not isinstance(body, dict):
        raise Invalid("The body must be a JSON object.", {"body": "must be an object"})
    purpose = body.get("purpose", "leave")
    if purpose not in ("leave", "export"):
        raise Invalid("purpose is leave or export.", {"purpose": "leave or export"})
    subs.request_code(body.get("phone"), purpose, {}, client_ip(bp.current_request))
    return code_sent()


@bp.route("/v1/devices", methods=["POST"], cors=True)
@api
def device_register() -> Response:
    return Response(body=subs.register_device(json_body(bp.current_request)), status_code=201)


@bp.route("/v1/devices/{device_id}", methods=["GET", "PUT", "DELETE"], cors=True)
@api
def device(device_id: str) -> Any:
    req = bp.current_request
    if req.method == "GET":
        return subs.get_device(device_id, _secret())
    if req.method == "PUT":
        return subs.update_device(device_id, _secret(), json_body(req))
    subs.delete_device(device_id, _secret())
    return Response(body="", status_code=204)
