"""Staff routes for subscribers: sign-up of a resident who phones, counts, the legacy import."""
from __future__ import annotations

import json
from typing import Any

from chalice import Blueprint, Response

from ..auth import Staff, require
from ..errors import BadRequest, Invalid, PayloadTooLarge
from ..lazy import lazy
from .http import api, client_ip, json_body, query

audit = lazy("chalicelib.services.audit")
importer = lazy("chalicelib.services.importer")
subscriptions = lazy("chalicelib.services.subscriptions")

bp = Blueprint(__name__)
MAX_IMPORT_BYTES = 2_000_000  # ~1,500 rows are ~60 kB; far under API Gateway's 10 MB
API_TIME_BUDGET_S = 20.0  # API Gateway answers within 29 s; a longer import resumes by `start`


def _staff(group: str) -> Staff:
    return require(bp.current_request.headers.get("authorization"), group)


@bp.route("/v1/admin/sms-subscriptions", methods=["POST"], cors=True)
@api
def admin_sms_subscribe() -> Response:
    """Sign up a resident who phones the office; they confirm with the code sent to them."""
    staff = _staff("editor")
    body = json_body(bp.current_request)
    if not isinstance(body, dict):
        raise Invalid("The body must be a JSON object.", {"body": "must be an object"})
    choices = subscriptions.validate_sign_up(body)
    phone = subscriptions.request_code(
        body.get("phone"), "subscribe", {**choices, "consent_by": staff.email, "source": "staff"},
        client_ip(bp.current_request), staff=staff.email)
    audit.record(staff.email, "sms.staff_sign_up", subscriptions.mask(phone), choices)
    return Response(body={"status": "code_sent", "expires_in": subscriptions.CODE_TTL_S},
                    status_code=202)


@bp.route("/v1/admin/subscribers/counts", methods=["GET"], cors=True)
@api
def admin_counts() -> Any:
    """Subscriber counts by channel, category, district and language."""
    _staff("editor")
    return subscriptions.counts()


@bp.route("/v1/admin/subscribers/import", methods=["POST"], cors=True,
          content_types=["application/json", "text/plain", "text/csv"])
@api
def admin_import() -> Any:
    """Import the city's previously registered SMS people from a CSV export (admin)."""
    staff = _staff("admin")
    req = bp.current_request
    raw = req.raw_body or b""
    raw = raw.encode() if isinstance(raw, str) else raw
    if len(raw) > MAX_IMPORT_BYTES:
        raise PayloadTooLarge(f"An import is at most {MAX_IMPORT_BYTES} bytes.")
    if not raw:
        raise BadRequest("The request needs the CSV (text/csv) or {\"csv\": ...} (JSON).")
    ctype = (req.headers.get("content-type") or "").split(";")[0].strip().lower()
    if ctype in ("text/csv", "text/plain"):
        text = importer.decode_csv(raw)
        options: dict[str, Any] = {"dry_run": query(req).get("dry_run") in ("1", "true")}
    else:
        try:
            body = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
            raise BadRequest("The body is not valid JSON.") from None
        if not isinstance(body, dict) or not isinstance(body.get("csv"), str):
            raise Invalid("Send {\"csv\": \"...\"} or the CSV itself as text/csv.",
                          {"csv": "is required (the CSV text)"})
        text = body["csv"]
        options = {k: body[k] for k in ("dry_run", "mapping", "start") if k in body}
    dry_run = options.get("dry_run", False)
    if not isinstance(dry_run, bool):
        raise Invalid("dry_run is true or false.", {"dry_run": "must be a boolean"})
    start = options.get("start", 0)
    if not isinstance(start, int) or isinstance(start, bool) or start < 0:
        raise Invalid("start is a row number.", {"start": "must be a whole number ≥ 0"})
    mapping = options.get("mapping")
    if mapping is not None and not (isinstance(mapping, dict) and all(
            isinstance(k, str) and isinstance(v, str) for k, v in mapping.items())):
        raise Invalid("mapping maps legacy names to category ids.",
                      {"mapping": "must be an object of strings"})
    return importer.import_csv(text, dry_run=dry_run, actor=staff.email, extra_mapping=mapping,
                               start=start, time_budget_s=API_TIME_BUDGET_S)
