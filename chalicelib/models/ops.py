"""Operational tables: codes, rate limits, delivery idempotency keys, audit log, settings."""
from __future__ import annotations

from pynamodb.attributes import (
    JSONAttribute,
    NumberAttribute,
    UnicodeAttribute,
)
from pynamodb.models import Model

from . import region, table_name


class CodeModel(Model):
    """A pending confirmation code for a phone number (expires via TTL)."""

    class Meta:
        table_name = table_name("codes")
        region = region()

    key = UnicodeAttribute(hash_key=True)
    code_hash = UnicodeAttribute(default="")
    purpose = UnicodeAttribute(default="")
    payload = JSONAttribute(default=dict)
    expires_at = NumberAttribute(default=0)
    attempts = NumberAttribute(default=0)
    locked_until = NumberAttribute(default=0)
    ttl = NumberAttribute(default=0)


class CounterModel(Model):
    """Fixed-window counters for rate limits (expire via TTL)."""

    class Meta:
        table_name = table_name("counters")
        region = region()

    key = UnicodeAttribute(hash_key=True)
    hits = NumberAttribute(default=0)
    ttl = NumberAttribute(default=0)


class DeliveryModel(Model):
    """Idempotency key per alert version × language × channel group: a send happens once."""

    class Meta:
        table_name = table_name("deliveries")
        region = region()

    key = UnicodeAttribute(hash_key=True)
    state = UnicodeAttribute()  # sending | sent | unconfirmed
    alert_id = UnicodeAttribute()
    message_id = UnicodeAttribute(null=True)
    started_at = NumberAttribute()
    finished_at = NumberAttribute(null=True)


class AuditModel(Model):
    """Append-only audit log: the app may only put and query (IAM denies update/delete)."""

    class Meta:
        table_name = table_name("audit")
        region = region()

    day = UnicodeAttribute(hash_key=True)
    at_id = UnicodeAttribute(range_key=True)
    actor = UnicodeAttribute()
    action = UnicodeAttribute()
    target = UnicodeAttribute()
    details = JSONAttribute(default=dict)


class SettingModel(Model):
    """City settings that staff may change; defaults live in code."""

    class Meta:
        table_name = table_name("settings")
        region = region()

    key = UnicodeAttribute(hash_key=True)
    value = JSONAttribute()
