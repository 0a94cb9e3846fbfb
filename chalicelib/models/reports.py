"""Residents' reports, their threads (status changes and messages) and blocked devices."""
from __future__ import annotations

from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    ListAttribute,
    NumberAttribute,
    UnicodeAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from . import region, table_name


class ReportsByStatus(GlobalSecondaryIndex["ReportModel"]):
    """The staff inbox and Open311 listings: one status, newest first."""

    class Meta:
        index_name = "by-status"
        projection = AllProjection()

    status = UnicodeAttribute(hash_key=True)
    created_at = UnicodeAttribute(range_key=True)


class ReportsByCell(GlobalSecondaryIndex["ReportModel"]):
    """Fine map cells (about 1 km): nearby reports and zoomed-in map views."""

    class Meta:
        index_name = "by-cell"
        projection = AllProjection()

    cell = UnicodeAttribute(hash_key=True)
    created_at = UnicodeAttribute(range_key=True)


class ReportsByArea(GlobalSecondaryIndex["ReportModel"]):
    """Coarse map cells (about 5 km): the whole-city map view in a few queries."""

    class Meta:
        index_name = "by-area"
        projection = AllProjection()

    area = UnicodeAttribute(hash_key=True)
    created_at = UnicodeAttribute(range_key=True)


class ReportModel(Model):
    class Meta:
        table_name = table_name("reports")
        region = region()

    id = UnicodeAttribute(hash_key=True)
    secret_hash = UnicodeAttribute()
    category = UnicodeAttribute()
    department = UnicodeAttribute()
    description = UnicodeAttribute()
    lat = NumberAttribute()
    lon = NumberAttribute()
    cell = UnicodeAttribute()
    area = UnicodeAttribute()
    address = UnicodeAttribute(null=True)
    status = UnicodeAttribute(default="new")
    public_note = UnicodeAttribute(null=True)
    duplicate_of = UnicodeAttribute(null=True)
    hidden = BooleanAttribute(default=False)
    source = UnicodeAttribute(default="app")  # app | open311
    media_url = UnicodeAttribute(null=True)  # Open311: a link, stored, never fetched
    contact_device = UnicodeAttribute(null=True)  # a registered device id
    contact_phone = UnicodeAttribute(null=True)  # E.164, only once confirmed by a code
    pending_phone = UnicodeAttribute(null=True)  # waiting for its code; never texted but the code
    photo_slots = NumberAttribute(default=0)
    photos = JSONAttribute(default=list)  # [{"n", "display", "thumb", "width", "height"}]
    refused_photos = JSONAttribute(default=list)  # [{"n", "reason"}]
    followers = ListAttribute[str](default=list)  # device ids
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    closed_at = UnicodeAttribute(null=True)
    # a city setting holds first reports of new devices: pending → approved | rejected (None: no
    # moderation was needed); pending and rejected reports are never public
    moderation = UnicodeAttribute(null=True)
    purged_at = UnicodeAttribute(null=True)  # personal data removed by the retention job
    by_status = ReportsByStatus()
    by_cell = ReportsByCell()
    by_area = ReportsByArea()


class ReportEventModel(Model):
    """One entry of a report's thread: a status change, a staff or reporter message."""

    class Meta:
        table_name = table_name("report-threads")
        region = region()

    report_id = UnicodeAttribute(hash_key=True)
    at_id = UnicodeAttribute(range_key=True)
    kind = UnicodeAttribute()  # status | message
    author = UnicodeAttribute()  # staff | reporter
    staff = UnicodeAttribute(null=True)  # staff e-mail (never shown to the public)
    status = UnicodeAttribute(null=True)
    text = UnicodeAttribute(default="")
    public = BooleanAttribute(default=False)


class BlockModel(Model):
    """A blocked reporter: `dev#<device id>`; its reports are refused."""

    class Meta:
        table_name = table_name("report-blocks")
        region = region()

    key = UnicodeAttribute(hash_key=True)
    by = UnicodeAttribute()
    reason = UnicodeAttribute(default="")
    at = UnicodeAttribute()


class DeviceStandingModel(Model):
    """`standing#<device id>` in the blocks table: how many of a device's reports staff approved
    (a device leaves the moderation queue once it reaches the city's setting)."""

    class Meta:
        table_name = table_name("report-blocks")
        region = region()

    key = UnicodeAttribute(hash_key=True)
    approved = NumberAttribute(default=0)
