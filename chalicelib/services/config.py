"""City settings: defaults in code, staff overrides in the settings table."""
from __future__ import annotations

import time
from typing import Any

from ..models.ops import SettingModel

DEFAULTS: dict[str, Any] = {
    "sender_name": "UM Ciechanow",
    "sms_max_parts": 1,
    "sms_keep_diacritics": False,
    "sms_price_per_part": 0.17,  # PLN, an estimate shown in the preview
    "sms_stop_hint": "Rezygnacja: informator.ciechanow.pl/sms",
    "approval_categories": [],
    "quiet_hours": {"start": "22:00", "end": "07:00", "categories": ["events", "other"]},
    "consent_version": "2026-11-01",
    "allowed_countries": ["PL"],
    "staff_test_phones": [],
    "staff_test_devices": [],  # ids of push devices registered through POST /v1/devices
    # an alphanumeric sender ID cannot receive replies: name STOP only with a two-way number
    # residents' reports (issue 5): hold first reports of new devices for an editor; personal data
    # of closed reports is removed this many months after closing (the daily retention job)
    "report_moderation_new_devices": False,
    "report_moderation_first_reports": 1,
    "report_retention_months": 12,
    "welcome_sms": "Informator Ciechanow: zapisano Cie do alertow SMS miasta. Rezygnacja:"
                   " informator.ciechanow.pl/sms",
}
_cache: dict[str, tuple[float, Any]] = {}
_TTL = 30.0


def get(key: str) -> Any:
    hit = _cache.get(key)
    if hit and time.monotonic() - hit[0] < _TTL:
        return hit[1]
    try:
        value = SettingModel.get(key).value
    except SettingModel.DoesNotExist:
        value = DEFAULTS.get(key)
    _cache[key] = (time.monotonic(), value)
    return value


def put(key: str, value: Any) -> None:
    SettingModel(key=key, value=value).save()
    _cache.pop(key, None)


def all_settings() -> dict[str, Any]:
    return {k: get(k) for k in DEFAULTS}


def clear_cache() -> None:
    _cache.clear()
