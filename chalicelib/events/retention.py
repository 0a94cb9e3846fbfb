"""Daily retention: personal data of reports closed longer than the city's setting is removed."""
from __future__ import annotations

import logging
from typing import Any

from chalice import Blueprint

from ..lazy import lazy

reports = lazy("chalicelib.services.reports")
bp = Blueprint(__name__)
log = logging.getLogger("informator.events")


@bp.schedule("rate(1 day)", name="retention")
def retention(event: Any) -> dict[str, int]:
    """Reports closed more than `report_retention_months` ago lose contacts, private messages,
    followers and photos; the anonymised report stays for statistics."""
    return {"reports_purged": reports.purge_closed_reports()}
