"""Web Push for the public site: the VAPID public key and browser subscriptions."""
from __future__ import annotations

from typing import Any

from chalice import Blueprint, CORSConfig, Response

from ..lazy import lazy
from .http import api, client_ip, json_body

webpush = lazy("chalicelib.services.webpush")

bp = Blueprint(__name__)
# The public site is another origin and sends the resident's secret in X-Secret.
CORS = CORSConfig(allow_origin="*", allow_headers=["X-Secret"], max_age=600)


def _secret() -> str | None:
    return bp.current_request.headers.get("x-secret")


@bp.route("/v1/web-push/key", methods=["GET"], cors=CORS)
@api
def web_push_key() -> Response:
    """The city's VAPID public key (base64url) for PushManager.subscribe."""
    return Response(body={"public_key": webpush.public_key()},
                    headers={"Cache-Control": "public, max-age=300"})


@bp.route("/v1/web-push", methods=["POST"], cors=CORS)
@api
def web_push_register() -> Response:
    """Register a browser's push subscription with categories, districts and language."""
    result = webpush.register(json_body(bp.current_request), client_ip(bp.current_request))
    return Response(body=result, status_code=201)


@bp.route("/v1/web-push/{sub_id}", methods=["GET", "PUT", "DELETE"], cors=CORS)
@api
def web_push_subscription(sub_id: str) -> Any:
    """Read, change or end a browser's push subscription (X-Secret header)."""
    req = bp.current_request
    if req.method == "GET":
        return webpush.get(sub_id, _secret())
    if req.method == "PUT":
        return webpush.update(sub_id, _secret(), json_body(req))
    webpush.delete(sub_id, _secret())
    return Response(body="", status_code=204)
