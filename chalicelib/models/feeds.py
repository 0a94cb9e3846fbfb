"""Feeds table (import settings and run state) and the per-feed import ledger (feed-items)."""
from __future__ import annotations

from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    ListAttribute,
    NumberAttribute,
    UnicodeAttribute,
)
from pynamodb.models import Model

from . import region, table_name


class FeedModel(Model):
    """One external source: what to fetch, how to map it, and how its last runs went."""

    class Meta:
        table_name = table_name("feeds")
        region = region()

    id = UnicodeAttribute(hash_key=True)
    name = UnicodeAttribute(default="")
    adapter = UnicodeAttribute()
    url = UnicodeAttribute()
    schedule = NumberAttribute(default=15)  # minutes between runs
    category = UnicodeAttribute(null=True)  # None: the item's own category, else "other"
    districts = ListAttribute[str](default=list)
    auto_publish = BooleanAttribute(default=False)
    enabled = BooleanAttribute(default=True)
    options = JSONAttribute(default=dict)
    created_at = UnicodeAttribute(null=True)
    updated_at = UnicodeAttribute(null=True)
    updated_by = UnicodeAttribute(null=True)
    # run state, written only by the importer
    last_run_at = UnicodeAttribute(null=True)
    last_success_at = UnicodeAttribute(null=True)
    last_error = UnicodeAttribute(null=True)
    last_error_at = UnicodeAttribute(null=True)
    last_item_count = NumberAttribute(null=True)
    consecutive_failures = NumberAttribute(default=0)
    last_summary = JSONAttribute(null=True)
    lease_until = NumberAttribute(null=True)  # epoch seconds; one run of a feed at a time


class FeedItemModel(Model):
    """The import ledger: which alert an external item became, and the hash it had then.

    ``state``: ``active`` (its alert is the item's), ``superseded`` (a newer item of the same
    event took its alert over), ``ended`` (cancelled by the source or gone from a complete
    snapshot), ``cancelled`` (an explicit CAP Cancel message, kept so it is processed once).
    """

    class Meta:
        table_name = table_name("feed-items")
        region = region()

    feed_id = UnicodeAttribute(hash_key=True)
    external_id = UnicodeAttribute(range_key=True)
    alert_id = UnicodeAttribute(null=True)
    raw_hash = UnicodeAttribute()
    correlation_key = UnicodeAttribute(null=True)
    starts_at = UnicodeAttribute(null=True)
    expires_at = UnicodeAttribute(null=True)
    state = UnicodeAttribute(default="active")
    updated_at = UnicodeAttribute()
