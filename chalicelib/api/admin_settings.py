"""City settings for admins: read all, change some (known keys, checked types, audited)."""
from __future__ import annotations

import re
from typing import Any

from chalice import Blueprint

from ..auth import require
from ..city import CATEGORIES
from ..errors import Invalid
from ..lazy import lazy
from .http import api, json_body

audit = lazy("chalicelib.services.audit")
config = lazy("chalicelib.services.config")
subscriptions = lazy("chalicelib.services.subscriptions")

bp = Blueprint(__name__)
_E164 = re.compile(r"^\+[1-9]\d{7,14}$")
_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")


def _text(value: Any, max_len: int = 300) -> str | None:
    if not isinstance(value, str) or not value.strip() or len(value) > max_len:
        return f"must be a non-empty string of at most {max_len} characters"
    return None


def _str_list(value: Any, ok: Any, what: str) -> str | None:
    if not isinstance(value, list) or not all(isinstance(v, str) and ok(v) for v in value):
        return f"must be a list of {what}"
    return None


def _quiet_hours(value: Any) -> str | None:
    if not isinstance(value, dict) or set(value) - {"start", "end", "categories"}:
        return "must be {\"start\": \"HH:MM\", \"end\": \"HH:MM\", \"categories\": [...]}"
    for key in ("start", "end"):
        if not isinstance(value.get(key), str) or not _HHMM.match(value[key]):
            return f"{key} must be HH:MM"
    if "emergency" in (value.get("categories") or []):
        return "emergencies always go at once; remove emergency"
    return _str_list(value.get("categories", []), lambda c: c in CATEGORIES, "category ids")


def _int_range(lo: int, hi: int) -> Any:
    def check(value: Any) -> str | None:
        if not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= hi:
            return f"must be a whole number from {lo} to {hi}"
        return None
    return check


def _price(value: Any) -> str | None:
    if not isinstance(value, int | float) or isinstance(value, bool) or not 0 <= value <= 10:
        return "must be a number of PLN from 0 to 10"
    return None


def _test_devices(value: Any) -> str | None:
    """Device ids (as POST /v1/devices answered them) of devices that are registered now."""
    err = _str_list(value, lambda d: 1 <= len(d) <= 64, "device ids")
    if err or len(value) > 20:
        return err or "at most 20 devices"
    unknown = subscriptions.unknown_devices(value)
    return f"no registered device: {', '.join(unknown[:5])}" if unknown else None


def _bool(value: Any) -> str | None:
    return None if isinstance(value, bool) else "must be true or false"


CHECKS: dict[str, Any] = {
    "sender_name": lambda v: _text(v, 40),
    "sms_max_parts": _int_range(1, 3),
    "sms_keep_diacritics": _bool,
    "sms_price_per_part": _price,
    "sms_stop_hint": lambda v: None if v == "" else _text(v, 80),
    "approval_categories": lambda v: _str_list(v, lambda c: c in CATEGORIES, "category ids"),
    "quiet_hours": _quiet_hours,
    "consent_version": lambda v: _text(v, 40),
    "allowed_countries": lambda v: _str_list(v, _COUNTRY.match, "ISO country codes (PL)")
    or (None if v else "must name at least one country"),
    "staff_test_phones": lambda v: _str_list(v, _E164.match, "E.164 numbers (+48…)")
    or (None if len(v) <= 20 else "at most 20 numbers"),
    "staff_test_devices": _test_devices,
    "welcome_sms": lambda v: _text(v, 300),
    "report_moderation_new_devices": _bool,
    "report_moderation_first_reports": _int_range(1, 20),
    "report_retention_months": _int_range(1, 120),
}


def validate_settings(data: Any) -> dict[str, Any]:
    """Every key must be a known setting with a value of its type; 422 names each bad one."""
    if not isinstance(data, dict) or not data:
        raise Invalid("Send an object of settings to change.", {"body": "must be a non-empty object"})
    errors: dict[str, str] = {}
    for key, value in data.items():
        if key not in config.DEFAULTS:
            errors[key] = "unknown setting"
            continue
        check = CHECKS.get(key)
        err = check(value) if check else None
        if check is None and type(value) is not type(config.DEFAULTS[key]):
            err = f"must be of type {type(config.DEFAULTS[key]).__name__}"
        if err:
            errors[key] = err
    if errors:
        raise Invalid("Some settings are invalid.", errors)
    return dict(data)


@bp.route("/v1/admin/settings", methods=["GET", "PUT"], cors=True)
@api
def admin_settings() -> dict[str, Any]:
    """The city's settings (GET); change some of them (PUT, admin; audited)."""
    req = bp.current_request
    staff = require(req.headers.get("authorization"), "admin")
    if req.method == "PUT":
        changes = validate_settings(json_body(req))
        for key, value in changes.items():
            config.put(key, value)
        audit.record(staff.email, "settings.change", ",".join(sorted(changes)), changes)
    return {"settings": config.all_settings(), "defaults": config.DEFAULTS}
