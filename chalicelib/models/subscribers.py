"""Subscribers (SMS numbers and push devices) and their SNS subscriptions."""
from __future__ import annotations

from pynamodb.attributes import ListAttribute, MapAttribute, UnicodeAttribute
from pynamodb.models import Model

from . import region, table_name


class SubscriberModel(Model):
    """One resident channel: `sms#+48…` or `dev#<id>`."""

    class Meta:
        table_name = table_name("subscribers")
        region = region()

    id = UnicodeAttribute(hash_key=True)
    kind = UnicodeAttribute()  # sms | device
    address = UnicodeAttribute()  # E.164 number or platform endpoint ARN
    categories = ListAttribute[str](default=list)
    districts = ListAttribute[str](default=list)
    lang = UnicodeAttribute(default="pl")
    subscription_arns = MapAttribute[str, str](default=dict)
    consent_at = UnicodeAttribute(null=True)
    consent_version = UnicodeAttribute(null=True)
    consent_by = UnicodeAttribute(null=True)
    secret_hash = UnicodeAttribute(null=True)
    platform = UnicodeAttribute(null=True)
    token_hash = UnicodeAttribute(null=True)
    source = UnicodeAttribute(default="self")
    # when the welcome SMS of an imported person went out; null until SNS accepted it, so an
    # import that died between saving the record and sending sends it on the next run
    welcomed_at = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
