"""Staff accounts (admin): list, invite, change group, disable or enable."""
from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from chalice import Blueprint, Response

from ..auth import require
from ..lazy import lazy
from .http import api, json_body

staff = lazy("chalicelib.services.staff")

bp = Blueprint(__name__)


def _admin() -> str:
    return require(bp.current_request.headers.get("authorization"), "admin").email


@bp.route("/v1/admin/staff", methods=["GET", "POST"], cors=True)
@api
def staff_accounts() -> Any:
    """List staff accounts, or invite one ({email, group})."""
    actor = _admin()
    if bp.current_request.method == "GET":
        return {"items": staff.list_staff()}
    return Response(body=staff.invite(json_body(bp.current_request), actor), status_code=201)


@bp.route("/v1/admin/staff/{email}", methods=["PATCH"], cors=True)
@api
def staff_account(email: str) -> Any:
    """Change a staff account's group or disable/enable it ({group?, enabled?})."""
    return staff.change(unquote(email), json_body(bp.current_request), _admin())
