"""Open311 GeoReport v2 at /open311/v2/: discovery, services, requests (read and submit), tokens.

The same service layer as /v1/reports. Errors use the spec's `[{code, description}]` list in the
requested format. Reading is open; submitting needs an `api_key` that an admin issued
(/v1/admin/open311-keys: shown once, stored only as its sha256 hash); the app's limits apply too.
"""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from chalice import Blueprint, Response

from ..auth import require
from ..city import city
from ..errors import DomainError, Invalid, NotFound
from ..formats import open311 as fmt311
from ..lazy import lazy
from ..services.clock import iso, now, parse_iso
from ..settings import get_settings
from .http import api, client_ip, json_body, query

reports = lazy("chalicelib.services.reports")

bp = Blueprint(__name__)
CHANGESET = "2026-11-01T00:00:00+01:00"
FORM = "application/x-www-form-urlencoded"


class _Error(Exception):
    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status, self.description = status, description


def _answer(root: str, payload: Any, fmt: str, status: int = 200) -> Response:
    body, ctype = fmt311.render(root, payload, fmt)
    return Response(body=body, status_code=status, headers={"Content-Type": ctype})


def _error(status: int, description: str, fmt: str) -> Response:
    return _answer("errors", fmt311.errors(status, description), fmt, status)


def _name(name: str) -> tuple[str, str]:
    parsed = fmt311.split_name(name)
    if parsed is None:
        raise _Error(404, "Unknown resource; add .json or .xml.")
    return parsed


def _run(name: str, handler: Any) -> Response:
    fmt = name.rpartition(".")[2] if name.rpartition(".")[2] in fmt311.FORMATS else "json"
    try:
        return handler(fmt)  # type: ignore[no-any-return]
    except _Error as exc:
        return _error(exc.status, exc.description, fmt)
    except Invalid as exc:
        detail = "; ".join(f"{k}: {v}" for k, v in exc.fields.items())
        return _error(400, f"{exc.message} {detail}".strip(), fmt)
    except DomainError as exc:
        return _error(exc.status, exc.message, fmt)


def _services(lang: str) -> list[dict[str, Any]]:
    return [fmt311.service(c, lang) for c in city()["report_categories"]
            if not c.get("private")]


def _lang() -> str:
    lang = query(bp.current_request).get("locale", "pl")[:2]
    return lang if lang in ("pl", "en", "uk") else "pl"


def _view(report: Any) -> dict[str, Any]:
    return reports.public_view(report, _lang())


def _date(value: str | None, field: str) -> str | None:
    if not value:
        return None
    try:
        return iso(parse_iso(value))
    except ValueError:
        raise _Error(400, f"{field} must be a W3C date-time with an offset.") from None


def _list_requests(fmt: str) -> Response:
    q = query(bp.current_request)
    ids = [i for i in (q.get("service_request_id") or "").split(",") if i]
    if ids:
        items = []
        for rid in ids[:100]:
            try:
                items.append(fmt311.request_item(_view(reports.get_public(rid))))
            except NotFound:
                continue
        return _answer("service_requests", items, fmt)
    codes = [c for c in (q.get("service_code") or "").split(",") if c]
    known = {s["service_code"] for s in _services("pl")}
    if any(c not in known for c in codes):
        raise _Error(400, "Unknown service_code.")
    statuses: tuple[str, ...] = reports.STATUSES
    if q.get("status"):
        wanted = set(q["status"].split(","))
        if not wanted <= {"open", "closed"}:
            raise _Error(400, "status is open or closed.")
        statuses = tuple(s for s in reports.STATUSES
                         if fmt311.open_or_closed(s) in wanted)
    start, end = _date(q.get("start_date"), "start_date"), _date(q.get("end_date"), "end_date")
    if start is None and end is None:
        start = iso(now() - timedelta(days=90))
    try:
        page = int(q.get("page", "1"))
        size = int(q.get("page_size", "50"))
        if page < 1 or not 1 <= size <= 1000:
            raise ValueError
    except ValueError:
        raise _Error(400, "page is 1 or more; page_size is 1–1000.") from None
    found = [r for r in reports.search(statuses, start=start, end=end, limit=page * size)
             if not codes or r.category in codes]
    chosen = found[(page - 1) * size: page * size]
    return _answer("service_requests", [fmt311.request_item(_view(r)) for r in chosen], fmt)


def _submit(fmt: str) -> Response:
    req = bp.current_request
    try:
        form = fmt311.parse_form(req.raw_body)
    except fmt311.FormError as exc:
        raise _Error(400, f"The body is not a form: {exc}.") from None
    if not reports.open311_key_valid(form.get("api_key")):
        raise _Error(403, "A valid api_key is required to submit requests; ask the City Hall "
                          "for one.")
    code = form.get("service_code", "")
    if not code:
        raise _Error(400, "service_code was not provided.")
    if code not in {s["service_code"] for s in _services("pl")}:
        raise _Error(404, f"service_code {code} not found.")
    if not form.get("lat") or not form.get("long"):
        raise _Error(400, "lat and long are required (this server does not geocode addresses).")
    media = form.get("media_url") or None
    if media and (len(media) > 1000 or not media.startswith(("https://", "http://"))):
        raise _Error(400, "media_url must be an http(s) link.")
    data = {"category": code, "description": form.get("description", ""),
            "lat": form.get("lat"), "lon": form.get("long"),
            "address": form.get("address_string") or None, "photos": 0}
    made = reports.create(data, client_ip(req), source="open311", media_url=media)
    if made.get("moderation") == "pending":
        # held for an editor: no public id yet, only a token (GET tokens/{token} tells later)
        notice = "The request waits for moderation by the City Hall before it is published."
        return _answer("service_requests", [{"token": made["id"], "service_notice": notice}],
                       fmt, 201)
    return _answer("service_requests", fmt311.created(made["id"]), fmt, 201)


@bp.route("/open311/v2/{name}", methods=["GET"], cors=True)
def open311_index(name: str) -> Response:
    """Open311: discovery.{json,xml}, services.{json,xml}, requests.{json,xml}."""
    def handle(fmt: str) -> Response:
        base, fmt = _name(name)
        if base == "discovery":
            settings = get_settings()
            return _answer("discovery", fmt311.discovery(settings.api_url, CHANGESET,
                                                         f"{settings.site_url}/"), fmt)
        if base == "services":
            return _answer("services", _services(_lang()), fmt)
        if base == "requests":
            return _list_requests(fmt)
        raise _Error(404, "Unknown resource.")
    return _run(name, handle)


@bp.route("/open311/v2/{name}", methods=["POST"], cors=True, content_types=[FORM])
def open311_post(name: str) -> Response:
    """Open311: submit a request (form-encoded; service_code, lat, long, description)."""
    def handle(fmt: str) -> Response:
        base, fmt = _name(name)
        if base != "requests":
            raise _Error(404, "Only requests can be posted.")
        return _submit(fmt)
    return _run(name, handle)


@bp.route("/open311/v2/services/{name}", methods=["GET"], cors=True)
def open311_service(name: str) -> Response:
    """Open311: a service definition (none of ours has extra attributes)."""
    def handle(fmt: str) -> Response:
        code, fmt = _name(name)
        if code not in {s["service_code"] for s in _services("pl")}:
            raise _Error(404, f"service_code {code} not found.")
        return _answer("service_definition", fmt311.service_definition(code), fmt)
    return _run(name, handle)


@bp.route("/open311/v2/requests/{name}", methods=["GET"], cors=True)
def open311_request(name: str) -> Response:
    """Open311: one request."""
    def handle(fmt: str) -> Response:
        rid, fmt = _name(name)
        try:
            report = reports.get_public(rid)
        except NotFound:
            raise _Error(404, f"service_request_id {rid} not found.") from None
        return _answer("service_requests", [fmt311.request_item(_view(report))], fmt)
    return _run(name, handle)


@bp.route("/open311/v2/tokens/{name}", methods=["GET"], cors=True)
def open311_token(name: str) -> Response:
    """Open311: a token is the request id here (requests are created at once)."""
    def handle(fmt: str) -> Response:
        token, fmt = _name(name)
        state = reports.token_state(token)
        if state is None:
            raise _Error(404, f"token {token} not found.")
        if state == "pending":  # known, not yet a public request
            return _answer("service_requests", [{"token": token}], fmt)
        return _answer("service_requests", [{"service_request_id": token, "token": token}], fmt)
    return _run(name, handle)


# ---- admin: the API keys of Open311 clients -----------------------------------------------------

@bp.route("/v1/admin/open311-keys", methods=["GET", "POST"], cors=True)
@api
def admin_open311_keys() -> Any:
    """Open311 API keys: list (names, ids, dates; never keys) or issue one (admin; {name})."""
    req = bp.current_request
    staff = require(req.headers.get("authorization"), "admin")
    if req.method == "POST":
        return Response(body=reports.create_open311_key(json_body(req), staff.email),
                        status_code=201)
    return {"items": reports.list_open311_keys()}


@bp.route("/v1/admin/open311-keys/{key_id}", methods=["DELETE"], cors=True)
@api
def admin_delete_open311_key(key_id: str) -> Response:
    """Revoke an Open311 API key (admin)."""
    staff = require(bp.current_request.headers.get("authorization"), "admin")
    reports.delete_open311_key(key_id, staff.email)
    return Response(body="", status_code=204)
