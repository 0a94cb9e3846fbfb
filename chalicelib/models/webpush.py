"""The `webpush` table: browser push subscriptions, their fan-out index rows and send claims.

One table, three kinds of item, told apart by the hash key:

  pk = "sub#<id>",                  sk = "sub"                     WebPushSubscription
       the resident's record: endpoint, keys, choices, secret hash and `index_keys`, the
       list of every index row it may own (see services/webpush.py for the write order).
  pk = "cat#<category>#<lang>",     sk = "<district|all>#<id>"     WebPushTarget
       one row per (category × district × language) a subscription asked for, carrying what a
       send needs (endpoint, keys). The worker finds the browsers for a publish with Queries
       only: for each served language, `begins_with(sk, "<district>#")` for each targeted
       district plus `"all#"` (whole-city subscribers) — or the whole partition when the alert
       targets the whole city. Never a Scan; the cost is proportional to the matches.
  pk = "sent#<alert>#v<version>",   sk = "<lang>#<id>"             WebPushClaim
       the idempotency key of one push (alert version × language × subscription), taken with a
       conditional put before the push; expires via TTL after a week.
  pk = "outbox",                    sk = "<at>#<id>#…"             WebPushOutboxRecord
       only with DEV_OUTBOX=1 (the local stack): the push as it would be sent, for the dev
       outbox. Never written in production.
"""
from __future__ import annotations

from pynamodb.attributes import ListAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.models import Model

from . import region, table_name


class _Meta:
    table_name = table_name("webpush")
    region = region()


class WebPushSubscription(Model):
    """A browser's push subscription and the resident's choices."""

    class Meta(_Meta):
        pass

    pk = UnicodeAttribute(hash_key=True)  # sub#<id>
    sk = UnicodeAttribute(range_key=True, default="sub")
    endpoint = UnicodeAttribute()
    p256dh = UnicodeAttribute()
    auth = UnicodeAttribute()
    categories = ListAttribute[str](default=list)
    districts = ListAttribute[str](default=list)
    lang = UnicodeAttribute(default="pl")
    secret_hash = UnicodeAttribute()
    index_keys = ListAttribute[str](default=list)  # "<pk>|<sk>" of the index rows it may own
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()


class WebPushTarget(Model):
    """A fan-out index row: this subscription wants this category in this district (or all)."""

    class Meta(_Meta):
        pass

    pk = UnicodeAttribute(hash_key=True)  # cat#<category>#<lang>
    sk = UnicodeAttribute(range_key=True)  # <district|all>#<id>
    sub_id = UnicodeAttribute()
    endpoint = UnicodeAttribute()
    p256dh = UnicodeAttribute()
    auth = UnicodeAttribute()


class WebPushClaim(Model):
    """Idempotency key of one push: state sending | sent | gone | failed | unconfirmed."""

    class Meta(_Meta):
        pass

    pk = UnicodeAttribute(hash_key=True)  # sent#<alert>#v<version>
    sk = UnicodeAttribute(range_key=True)  # <lang>#<id>
    state = UnicodeAttribute()
    started_at = NumberAttribute()
    finished_at = NumberAttribute(null=True)
    status = NumberAttribute(null=True)  # the push service's HTTP status
    ttl = NumberAttribute()


class WebPushOutboxRecord(Model):
    """Dev outbox only (DEV_OUTBOX=1): a push as it would have been sent."""

    class Meta(_Meta):
        pass

    pk = UnicodeAttribute(hash_key=True, default="outbox")
    sk = UnicodeAttribute(range_key=True)
    to = UnicodeAttribute()
    text = UnicodeAttribute()
    at = UnicodeAttribute()
    alert_id = UnicodeAttribute()
    version = NumberAttribute()
    lang = UnicodeAttribute()
    url = UnicodeAttribute()
    endpoint = UnicodeAttribute()
    ttl = NumberAttribute()
