"""Alerts table (current state of each alert) and the append-only versions table."""
from __future__ import annotations

from pynamodb.attributes import (
    JSONAttribute,
    ListAttribute,
    NumberAttribute,
    UnicodeAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from . import region, table_name


class ByStatusIndex(GlobalSecondaryIndex["AlertModel"]):
    class Meta:
        index_name = "by-status"
        projection = AllProjection()

    status = UnicodeAttribute(hash_key=True)
    updated_at = UnicodeAttribute(range_key=True)


class AlertModel(Model):
    class Meta:
        table_name = table_name("alerts")
        region = region()

    id = UnicodeAttribute(hash_key=True)
    version = NumberAttribute(default=0)
    status = UnicodeAttribute()
    category = UnicodeAttribute()
    severity = UnicodeAttribute()
    urgency = UnicodeAttribute(default="unknown")
    certainty = UnicodeAttribute(default="unknown")
    cap_status = UnicodeAttribute(default="actual")
    msg_type = UnicodeAttribute(default="alert")
    title = JSONAttribute()
    body = JSONAttribute()
    instruction = JSONAttribute(default=dict)
    districts = ListAttribute[str](default=list)
    area = JSONAttribute(null=True)
    starts_at = UnicodeAttribute(null=True)
    expires_at = UnicodeAttribute()
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    published_at = UnicodeAttribute(null=True)
    sent_at = UnicodeAttribute(null=True)
    created_by = UnicodeAttribute(default="")
    approved_by = UnicodeAttribute(null=True)
    link = UnicodeAttribute(null=True)
    contact = UnicodeAttribute(null=True)
    source = UnicodeAttribute(default="manual")
    external_id = UnicodeAttribute(null=True)
    references = JSONAttribute(default=list)
    history = JSONAttribute(default=list)
    by_status = ByStatusIndex()


class AlertVersionModel(Model):
    class Meta:
        table_name = table_name("alert-versions")
        region = region()

    alert_id = UnicodeAttribute(hash_key=True)
    version = NumberAttribute(range_key=True)
    snapshot = JSONAttribute()
    created_at = UnicodeAttribute()
