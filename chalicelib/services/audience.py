"""The one shape shared by every SNS publish and every subscription filter policy.

Publishes carry message attributes; subscriptions carry a filter policy on them:
  districts  String.Array  targeted district ids, or ["all"] for the whole city
  lang       String.Array  languages this publish serves (pl also serves missing languages)
  channel    String.Array  channels this publish is for: sms, push, web
A subscriber of some districts matches their districts plus "all"; a subscriber of the whole
city has no districts key and so matches every publish. 3 keys, at most 13 combinations.
"""
from __future__ import annotations

from typing import Any

WHOLE_CITY = "all"
CHANNELS = ("sms", "push", "web")


def filter_policy(districts: list[str], lang: str, channel: str) -> dict[str, list[str]]:
    policy: dict[str, list[str]] = {"lang": [lang], "channel": [channel]}
    if districts:
        policy["districts"] = sorted(set(districts)) + [WHOLE_CITY]
    return policy


def message_attributes(*, districts: list[str], langs: list[str], channels: list[str],
                       category: str, alert_id: str, version: int) -> dict[str, Any]:
    def arr(values: list[str]) -> dict[str, str]:
        import json

        return {"DataType": "String.Array", "StringValue": json.dumps(values)}

    return {
        "districts": arr(sorted(districts) if districts else [WHOLE_CITY]),
        "lang": arr(langs),
        "channel": arr(channels),
        "category": {"DataType": "String", "StringValue": category},
        "alert_id": {"DataType": "String", "StringValue": alert_id},
        "version": {"DataType": "Number", "StringValue": str(version)},
    }
