"""Admin routes for feed imports: list, read, create or replace, delete, run now."""
from __future__ import annotations

from typing import Any

from chalice import Blueprint, Response

from ..auth import Staff, require
from ..lazy import lazy
from .http import api, json_body

feeds = lazy("chalicelib.services.feeds")

bp = Blueprint(__name__)


def _admin() -> Staff:
    return require(bp.current_request.headers.get("authorization"), "admin")


@bp.route("/v1/admin/feeds", methods=["GET"], cors=True)
@api
def admin_feeds() -> Any:
    """Feeds with their settings and the state of their last runs."""
    _admin()
    return {"items": feeds.list_feeds()}


@bp.route("/v1/admin/feeds/{feed_id}", methods=["GET", "PUT", "DELETE"], cors=True)
@api
def admin_feed(feed_id: str) -> Any:
    """One feed: read it, create or replace it (PUT), or delete it."""
    staff = _admin()
    req = bp.current_request
    if req.method == "GET":
        return feeds.get(feed_id)
    if req.method == "DELETE":
        feeds.delete(feed_id, staff.email)
        return Response(body="", status_code=204)
    feed, created = feeds.put(feed_id, json_body(req), staff.email)
    return Response(body=feed, status_code=201 if created else 200)


@bp.route("/v1/admin/feeds/{feed_id}/run", methods=["POST"], cors=True)
@api
def admin_feed_run(feed_id: str) -> Any:
    """Import a feed now; answers what the run created, updated, cancelled or left unchanged."""
    staff = _admin()
    return feeds.run_now(feed_id, staff.email)
