"""Feed imports: feed settings (CRUD + validation), fetching, and reconciling items into alerts.

A run fetches (timeout, size cap), parses with the feed's adapter and reconciles the items with
the feed's ledger (``feed-items``): a new item becomes an alert (a draft, or published when the
feed auto-publishes); an unchanged item (same ``raw_hash``) writes and sends nothing; a changed
item becomes a new version of its alert; an IMGW warning re-issued under a new id (same
correlation key, overlapping validity) updates the alert of the one it replaces; an item gone
from a complete, error-free snapshot ends its alert where the source means that (IMGW); a CAP
Cancel cancels what it references. Any fetch or parse failure records the error on the feed and
changes no alert.
"""
from __future__ import annotations

import ipaddress
import json
import logging
import re
import socket
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pynamodb.exceptions import UpdateError

from .. import feeds as adapters
from ..city import CATEGORIES, district_ids
from ..errors import Conflict, DomainError, Invalid, NotFound
from ..models.feeds import FeedItemModel, FeedModel
from ..settings import get_settings
from . import alerts, audit
from .clock import iso, new_id, now, now_iso, parse_iso

log = logging.getLogger("informator.feeds")

SCHEDULE_MIN, SCHEDULE_MAX, SCHEDULE_DEFAULT = 5, 1440, 15
FETCH_TIMEOUT_S = 10.0
MAX_BYTES = 5 * 1024 * 1024
LEASE_S = 300
DEFAULT_VALIDITY_H = 24  # an item without an end time: alerts need one (options.default_hours)
ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")
# adapters whose snapshot is the complete list of what is in force: absence means "ended"
ABSENCE_ENDS = frozenset({"imgw_meteo", "imgw_hydro"})
CONFIG_FIELDS = ("name", "adapter", "url", "schedule", "category", "districts", "auto_publish",
                 "enabled", "options")
STATE_FIELDS = ("id", "created_at", "updated_at", "updated_by", "last_run_at", "last_success_at",
                "last_error", "last_error_at", "last_item_count", "consecutive_failures",
                "last_summary")

Fetch = Callable[[str], tuple[int, bytes]]


class FetchError(Exception):
    """The source could not be read (network, timeout, size, refused address)."""


# ---- validation -------------------------------------------------------------------------------

def _is_local_stage() -> bool:
    return get_settings().stage == "local"


def _bad_address(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    return bool(ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_multicast
                or ip.is_reserved or ip.is_unspecified)


def url_problem(url: Any) -> str | None:
    """Why a feed URL is refused, or None. https only (http too in the local stage); no
    private or loopback address outside the local stage."""
    if not isinstance(url, str) or not url.strip():
        return "is required"
    if len(url) > 2000:
        return "at most 2000 characters"
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname or ""
        _ = parts.port
    except ValueError:
        return "is not a valid URL"
    local = _is_local_stage()
    allowed = ("https", "http") if local else ("https",)
    if parts.scheme.lower() not in allowed:
        return "must be an https:// URL" + (" (http:// is allowed only locally)" if not local
                                            else "")
    if not host:
        return "has no host"
    if parts.username or parts.password:
        return "must not carry credentials"
    if local:
        return None
    if host.lower() in ("localhost", "localhost.localdomain") or host.lower().endswith(".local"):
        return "must not point at a local address"
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return None
    if _bad_address(ip):
        return "must not point at a private or loopback address"
    return None


def _bool(data: dict[str, Any], key: str, default: bool, errors: dict[str, str]) -> bool:
    value = data.get(key, default)
    if value is None:
        return default
    if not isinstance(value, bool):
        errors[key] = "must be true or false"
        return default
    return value


def validate_feed(feed_id: str, data: Any) -> dict[str, Any]:
    """A whole feed body (PUT replaces); Invalid names every bad field."""
    if not isinstance(data, dict):
        raise Invalid("The body must be a JSON object.", {"body": "must be an object"})
    errors: dict[str, str] = {}
    if not isinstance(feed_id, str) or not ID_RE.match(feed_id):
        errors["id"] = "2-63 characters: lower-case letters, digits and '-'"
    unknown = sorted(k for k in data if k not in CONFIG_FIELDS and k not in STATE_FIELDS)
    for key in unknown[:10]:
        errors[key] = "unknown field"
    if "id" in data and data["id"] != feed_id:
        errors["id"] = "must match the id in the path"
    out: dict[str, Any] = {}

    adapter = data.get("adapter")
    if adapter is None:
        errors["adapter"] = "is required"
    elif not isinstance(adapter, str) or adapter not in adapters.ADAPTERS:
        errors["adapter"] = f"unknown adapter; use one of: {', '.join(sorted(adapters.ADAPTERS))}"
    out["adapter"] = adapter

    problem = url_problem(data.get("url"))
    if problem:
        errors["url"] = problem
    out["url"] = data["url"].strip() if isinstance(data.get("url"), str) else None

    schedule = data.get("schedule", SCHEDULE_DEFAULT)
    if schedule is None:
        schedule = SCHEDULE_DEFAULT
    if (isinstance(schedule, bool) or not isinstance(schedule, int)
            or not SCHEDULE_MIN <= schedule <= SCHEDULE_MAX):
        errors["schedule"] = (f"minutes between runs: a whole number from {SCHEDULE_MIN} "
                              f"to {SCHEDULE_MAX}")
    out["schedule"] = schedule

    category = data.get("category")
    if category is not None and (not isinstance(category, str) or category not in CATEGORIES):
        errors["category"] = f"must be one of: {', '.join(CATEGORIES)} (or null: from the items)"
    out["category"] = category

    districts = data.get("districts", [])
    if districts is None:
        districts = []
    if not isinstance(districts, list) or not all(isinstance(d, str) for d in districts):
        errors["districts"] = "must be a list of district ids ([] = the whole city)"
        districts = []
    bad = [d for d in districts if d not in district_ids()]
    if bad:
        errors["districts"] = f"unknown district: {', '.join(bad[:5])}"
    out["districts"] = sorted(set(districts))

    out["auto_publish"] = _bool(data, "auto_publish", False, errors)
    out["enabled"] = _bool(data, "enabled", True, errors)

    name = data.get("name") or feed_id
    if not isinstance(name, str) or len(name) > 120:
        errors["name"] = "a string of at most 120 characters"
    out["name"] = name if isinstance(name, str) else ""

    options = data.get("options", {})
    if options is None:
        options = {}
    if not isinstance(options, dict):
        errors["options"] = "must be an object of adapter options"
        options = {}
    elif len(json.dumps(options, ensure_ascii=False)) > 4000:
        errors["options"] = "at most 4000 characters of JSON"
    hours = options.get("default_hours", DEFAULT_VALIDITY_H)
    if isinstance(hours, bool) or not isinstance(hours, int) or not 1 <= hours <= 24 * 31:
        errors["options.default_hours"] = "hours from 1 to 744"
    out["options"] = options
    if errors:
        raise Invalid("Some fields of the feed are invalid.", errors)
    return out


# ---- CRUD -------------------------------------------------------------------------------------

def to_dict(f: FeedModel) -> dict[str, Any]:
    return {
        "id": f.id, "name": f.name or f.id, "adapter": f.adapter, "url": f.url,
        "schedule": int(f.schedule), "category": f.category, "districts": list(f.districts or []),
        "auto_publish": bool(f.auto_publish), "enabled": bool(f.enabled),
        "options": dict(f.options or {}), "created_at": f.created_at, "updated_at": f.updated_at,
        "updated_by": f.updated_by, "last_run_at": f.last_run_at,
        "last_success_at": f.last_success_at, "last_error": f.last_error,
        "last_error_at": f.last_error_at,
        "last_item_count": None if f.last_item_count is None else int(f.last_item_count),
        "consecutive_failures": int(f.consecutive_failures or 0),
        "last_summary": f.last_summary,
    }


def get_model(feed_id: str) -> FeedModel:
    if not isinstance(feed_id, str) or not ID_RE.match(feed_id):
        raise NotFound("No such feed.")
    try:
        return FeedModel.get(feed_id)
    except FeedModel.DoesNotExist:
        raise NotFound("No such feed.") from None


def get(feed_id: str) -> dict[str, Any]:
    return to_dict(get_model(feed_id))


def list_feeds() -> list[dict[str, Any]]:
    return sorted((to_dict(f) for f in FeedModel.scan()), key=lambda f: f["id"])


def put(feed_id: str, data: Any, actor: str) -> tuple[dict[str, Any], bool]:
    """Create or replace a feed's settings (run state is kept). Returns (feed, created)."""
    fields = validate_feed(feed_id, data)
    try:
        existing: FeedModel | None = FeedModel.get(feed_id)
    except FeedModel.DoesNotExist:
        existing = None
    ts = now_iso()
    f = FeedModel(id=feed_id)
    # update, not save: a run finishing meanwhile keeps its run state
    f.update(actions=[
        *(getattr(FeedModel, k).set(v) for k, v in fields.items() if v is not None),
        *(getattr(FeedModel, k).remove() for k, v in fields.items() if v is None),
        FeedModel.created_at.set(FeedModel.created_at | ts),
        FeedModel.updated_at.set(ts), FeedModel.updated_by.set(actor),
    ])
    audit.record(actor, "feed.create" if existing is None else "feed.replace", feed_id,
                 {"adapter": fields["adapter"], "enabled": fields["enabled"],
                  "auto_publish": fields["auto_publish"]})
    return to_dict(f), existing is None


def delete(feed_id: str, actor: str) -> None:
    """Remove a feed and its ledger; the alerts it created stay as they are."""
    f = get_model(feed_id)
    with FeedItemModel.batch_write() as batch:
        for row in FeedItemModel.query(feed_id):
            batch.delete(row)
    f.delete()
    audit.record(actor, "feed.delete", feed_id)


# ---- fetching ---------------------------------------------------------------------------------

def _check_host(host: str) -> None:
    if _is_local_stage():
        return
    try:
        infos = socket.getaddrinfo(host, None)
    except OSError as exc:
        raise FetchError(f"cannot resolve {host}: {exc}") from exc
    for info in infos:
        ip = ipaddress.ip_address(str(info[4][0]).split("%")[0])
        if _bad_address(ip):
            raise FetchError(f"{host} resolves to a private or loopback address")


def http_fetch(url: str, *, timeout: float = FETCH_TIMEOUT_S,
               max_bytes: int = MAX_BYTES) -> tuple[int, bytes]:
    """GET a feed URL with a timeout and a size cap; every redirect is checked like the URL."""
    import urllib.error
    import urllib.request

    class CheckedRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, req: Any, fp: Any, code: int, msg: str, headers: Any,
                             newurl: str) -> Any:
            problem = url_problem(newurl)
            if problem:
                raise FetchError(f"redirect to a refused URL ({problem})")
            _check_host(urlsplit(newurl).hostname or "")
            return super().redirect_request(req, fp, code, msg, headers, newurl)

    problem = url_problem(url)
    if problem:
        raise FetchError(f"refused URL: {problem}")
    _check_host(urlsplit(url).hostname or "")
    opener = urllib.request.build_opener(CheckedRedirect)
    request = urllib.request.Request(url, headers={  # noqa: S310 - scheme checked above
        "Accept": "*/*", "User-Agent": "Informator-Ciechanow/1 (feed import)"})

    def read(resp: Any) -> bytes:
        length = resp.headers.get("Content-Length")
        if length and length.isdigit() and int(length) > max_bytes:
            raise FetchError(f"the answer is larger than {max_bytes} bytes")
        body = bytes(resp.read(max_bytes + 1))
        if len(body) > max_bytes:
            raise FetchError(f"the answer is larger than {max_bytes} bytes")
        return body

    try:
        with opener.open(request, timeout=timeout) as resp:
            return int(resp.status), read(resp)
    except urllib.error.HTTPError as exc:  # 4xx/5xx still carry a body (IMGW's 404)
        try:
            return int(exc.code), read(exc)
        finally:
            exc.close()
    except FetchError:
        raise
    except (urllib.error.URLError, TimeoutError, OSError, ValueError) as exc:
        raise FetchError(f"{type(exc).__name__}: {exc}") from exc


# ---- mapping items to alerts ------------------------------------------------------------------

class _Text(HTMLParser):
    _BLOCK = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag in ("script", "style"):
            self.skip += 1
        elif tag in self._BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self.skip = max(0, self.skip - 1)
        elif tag in self._BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.parts.append(data)


_TAG = re.compile(r"</?[a-zA-Z][^>]*>|<!--")


def plain_text(text: str, limit: int) -> str:
    """Feed text as plain text: markup removed, control characters dropped, length capped."""
    if _TAG.search(text):
        parser = _Text()
        parser.feed(text)
        parser.close()
        text = "".join(parser.parts)
    text = "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch)[0] != "C")
    lines = [" ".join(line.split()) for line in text.split("\n")]
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


@dataclass
class Summary:
    feed: str
    ok: bool = True
    items: int = 0
    created: int = 0
    updated: int = 0
    cancelled: int = 0
    unchanged: int = 0
    skipped: int = 0
    errors: list[str] = field(default_factory=list)
    at: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"feed": self.feed, "ok": self.ok, "items": self.items, "created": self.created,
                "updated": self.updated, "cancelled": self.cancelled, "unchanged": self.unchanged,
                "skipped": self.skipped, "errors": self.errors[:20], "at": self.at}


def _alert_body(feed: FeedModel, item: adapters.FeedItem) -> dict[str, Any] | str:
    """The alert fields for an item, or why the item cannot become an alert."""
    title = plain_text(item.title, alerts.TITLE_MAX)
    if not title:
        return "no title"
    body = plain_text(item.body, alerts.BODY_MAX) or title
    category = feed.category or (item.category if item.category in CATEGORIES else None) or "other"
    known = set(district_ids())
    districts = [d for d in item.districts if d in known] or list(feed.districts or [])
    hours = (feed.options or {}).get("default_hours", DEFAULT_VALIDITY_H)
    t = now()
    expires_at = item.expires_at
    if not expires_at:
        base = max(t, parse_iso(item.starts_at)) if item.starts_at else t
        expires_at = iso(base + timedelta(hours=int(hours)))
    if parse_iso(expires_at) <= t:
        return "already over"
    if item.starts_at and parse_iso(item.starts_at) >= parse_iso(expires_at):
        return "ends before it starts"
    link = item.link if item.link and item.link.startswith(("https://", "http://")) \
        and len(item.link) <= 500 else None
    return {"category": category, "severity": item.severity, "title": {"pl": title},
            "body": {"pl": body}, "districts": sorted(set(districts)),
            "starts_at": item.starts_at, "expires_at": expires_at, "link": link}


def _overlaps(a_start: str | None, a_end: str | None, b_start: str | None,
              b_end: str | None) -> bool:
    lo = max((parse_iso(x) for x in (a_start, b_start) if x), default=None)
    ends = [parse_iso(x) for x in (a_end, b_end) if x]
    hi = min(ends) if ends else None
    return lo is None or hi is None or lo <= hi


class _Run:
    """One reconciliation of a parsed snapshot against the feed's ledger."""

    def __init__(self, feed: FeedModel, summary: Summary) -> None:
        self.feed = feed
        self.s = summary
        self.actor = f"feed:{feed.id}"
        self.ledger: dict[str, FeedItemModel] = {
            row.external_id: row for row in FeedItemModel.query(feed.id)}

    # -- ledger writes --
    def _record(self, item: adapters.FeedItem, alert_id: str | None, state: str) -> None:
        row = FeedItemModel(feed_id=self.feed.id, external_id=item.external_id,
                            alert_id=alert_id, raw_hash=item.raw_hash,
                            correlation_key=item.correlation_key, starts_at=item.starts_at,
                            expires_at=item.expires_at, state=state, updated_at=now_iso())
        row.save()
        self.ledger[item.external_id] = row

    def _set_state(self, row: FeedItemModel, state: str) -> None:
        row.update(actions=[FeedItemModel.state.set(state),
                            FeedItemModel.updated_at.set(now_iso())])

    # -- alert operations --
    def _create(self, item: adapters.FeedItem, data: dict[str, Any]) -> str:
        """A new alert for the item. The ledger learns the alert's id first (state `creating`,
        no hash), so a run that fails half-way is finished by the next run with the same id:
        never a second alert, never a second send."""
        row = self.ledger.get(item.external_id)
        if row is not None and row.state == "creating" and row.alert_id:
            alert_id = str(row.alert_id)
        else:
            alert_id = new_id()
            claim = FeedItemModel(feed_id=self.feed.id, external_id=item.external_id,
                                  alert_id=alert_id, raw_hash="",
                                  correlation_key=item.correlation_key, starts_at=item.starts_at,
                                  expires_at=item.expires_at, state="creating",
                                  updated_at=now_iso())
            claim.save()
            self.ledger[item.external_id] = claim
        draft = alerts.create_draft(data, self.actor, source=self.feed.id,
                                    external_id=item.external_id, alert_id=alert_id)
        if self.feed.auto_publish and draft["status"] == "draft":
            alerts.publish(alert_id, self.actor)
        self.s.created += 1
        return alert_id

    def _revise(self, alert_id: str, item: adapters.FeedItem, data: dict[str, Any]) -> str | None:
        """A new version of the item's alert; a new alert if the old one is over. None: the
        staff cancelled it, which the feed respects."""
        try:
            current = alerts.get(alert_id)
        except NotFound:
            return self._create(item, data)
        status = current["status"]
        if status == "cancelled":
            return None
        if status == "expired":
            return self._create(item, data)
        if status in ("draft", "pending_approval"):
            alerts.edit_draft(alert_id, data, self.actor)
        else:
            alerts.update(alert_id, data, self.actor)
        self.s.updated += 1
        return alert_id

    def _end(self, alert_id: str | None) -> bool:
        if not alert_id:
            return False
        try:
            status = alerts.get(alert_id)["status"]
            if status in ("cancelled", "expired"):
                return False
            alerts.cancel(alert_id, self.actor)
        except (NotFound, Conflict):
            return False
        self.s.cancelled += 1
        return True

    # -- the rules --
    def _correlated(self, item: adapters.FeedItem, present: set[str],
                    taken: set[str]) -> FeedItemModel | None:
        if not item.correlation_key:
            return None
        for row in self.ledger.values():
            if (row.state == "active" and row.alert_id and row.external_id not in present
                    and row.external_id not in taken
                    and row.correlation_key == item.correlation_key
                    and _overlaps(row.starts_at, row.expires_at, item.starts_at,
                                  item.expires_at)):
                return row
        return None

    def apply(self, items: list[adapters.FeedItem]) -> None:
        present = {i.external_id for i in items}
        taken: set[str] = set()  # old entries whose alert a newer item took over
        for item in items:
            try:
                self._one(item, present, taken)
            except DomainError as exc:
                self.s.errors.append(f"{item.external_id}: {exc.message} {exc.fields or ''}")
                self.s.skipped += 1
        if self.feed.adapter in ABSENCE_ENDS:
            for row in list(self.ledger.values()):
                if row.state == "active" and row.external_id not in present \
                        and row.external_id not in taken:
                    self._end(row.alert_id)
                    self._set_state(row, "ended")

    def _one(self, item: adapters.FeedItem, present: set[str], taken: set[str]) -> None:
        row = self.ledger.get(item.external_id)
        if row is not None and row.raw_hash == item.raw_hash:
            self.s.unchanged += 1
            return
        if item.msg_type == "cancel":
            for ref in (*item.references, item.external_id):
                old = self.ledger.get(ref)
                if old is not None and old.state == "active" and old.external_id != \
                        item.external_id:
                    self._end(old.alert_id)
                    self._set_state(old, "ended")
            self._record(item, None, "cancelled")
            return
        data = _alert_body(self.feed, item)
        if row is not None and row.alert_id and row.state == "active":
            if isinstance(data, str):  # e.g. the new version is already over: keep the hash
                self._record(item, row.alert_id, "active")
                self.s.skipped += 1
                return
            alert_id = self._revise(row.alert_id, item, data)
            self._record(item, alert_id or row.alert_id, "active")
            return
        previous = None
        if item.msg_type == "update":
            previous = next((self.ledger[r] for r in item.references
                             if r in self.ledger and self.ledger[r].state == "active"
                             and self.ledger[r].alert_id), None)
        if previous is None:
            previous = self._correlated(item, present, taken)
        if isinstance(data, str):
            self.s.skipped += 1  # nothing to show; nothing written, so a re-run does the same
            return
        if previous is not None and previous.alert_id:
            taken.add(previous.external_id)
            alert_id = self._revise(previous.alert_id, item, data)
            self._record(item, alert_id or previous.alert_id, "active")
            self._set_state(previous, "superseded")
            return
        self._record(item, self._create(item, data), "active")


# ---- running ----------------------------------------------------------------------------------

def _acquire(feed: FeedModel) -> bool:
    t = int(time.time())
    try:
        feed.update(actions=[FeedModel.lease_until.set(t + LEASE_S),
                             FeedModel.last_run_at.set(now_iso())],
                    condition=FeedModel.id.exists()
                    & (FeedModel.lease_until.does_not_exist() | (FeedModel.lease_until < t)))
        return True
    except UpdateError:
        return False


def _finish(feed: FeedModel, s: Summary, item_count: int | None) -> None:
    ts = now_iso()
    actions: list[Any] = [FeedModel.lease_until.remove(), FeedModel.last_summary.set(s.as_dict())]
    if s.ok:
        actions += [FeedModel.last_success_at.set(ts), FeedModel.last_error.remove(),
                    FeedModel.consecutive_failures.set(0)]
        if item_count is not None:
            actions.append(FeedModel.last_item_count.set(item_count))
    else:
        actions += [FeedModel.last_error.set("; ".join(s.errors)[:1000]),
                    FeedModel.last_error_at.set(ts),
                    FeedModel.consecutive_failures.add(1)]
    feed.update(actions=actions)


def run_feed(feed: FeedModel | str, fetch: Fetch | None = None) -> dict[str, Any]:
    """Fetch, parse and reconcile one feed now; the summary counts what happened."""
    f = get_model(feed) if isinstance(feed, str) else feed
    s = Summary(feed=f.id, at=now_iso())
    if not _acquire(f):
        raise Conflict("This feed is being imported right now; try again in a few minutes.")
    items: list[adapters.FeedItem] | None = None
    try:
        try:
            status, payload = (fetch or http_fetch)(f.url)
            items = adapters.get_adapter(f.adapter)(payload, status, dict(f.options or {}))
        except (FetchError, adapters.FeedError) as exc:
            s.ok = False
            s.errors.append(str(exc)[:500])
            log.warning("feed %s failed: %s", f.id, exc)
        if items is not None:
            s.items = len(items)
            _Run(f, s).apply(items)
    except Exception as exc:  # a broken run must still release the lease and say why
        s.ok = False
        s.errors.append(f"internal error: {type(exc).__name__}: {exc}"[:500])
        log.exception("feed %s: unexpected error", f.id)
    finally:
        _finish(f, s, None if items is None else len(items))
    return s.as_dict()


def run_now(feed_id: str, actor: str, fetch: Fetch | None = None) -> dict[str, Any]:
    f = get_model(feed_id)
    out = run_feed(f, fetch=fetch)
    audit.record(actor, "feed.run", feed_id, {k: out[k] for k in
                                              ("ok", "created", "updated", "cancelled")})
    return out


def is_due(f: FeedModel, at: datetime) -> bool:
    if not f.enabled:
        return False
    if not f.last_run_at:
        return True
    # 30 s of slack: a 5-minute schedule firing every 5 minutes must not skip every other run
    return parse_iso(f.last_run_at) + timedelta(minutes=int(f.schedule)) <= at + timedelta(
        seconds=30)


def run_due_feeds(at: datetime | None = None, fetch: Fetch | None = None) -> list[dict[str, Any]]:
    """Run every enabled feed whose schedule is due; one failing feed does not stop the rest."""
    at = at or now()
    out = []
    for f in FeedModel.scan():
        if not is_due(f, at):
            continue
        try:
            out.append(run_feed(f, fetch=fetch))
        except Conflict:
            continue  # another run holds the lease
        except Exception as exc:  # the other feeds still run
            log.exception("feed %s: run failed", f.id)
            out.append({"feed": f.id, "ok": False, "errors": [f"{type(exc).__name__}: {exc}"]})
    return out


def stale_minutes(at: datetime | None = None) -> float:
    """Minutes since the least recently successful enabled feed last succeeded (0: none)."""
    at = at or now()
    worst = 0.0
    for f in FeedModel.scan():
        if f.enabled:
            since = f.last_success_at or f.created_at or f.last_run_at
            if since:
                worst = max(worst, (at - parse_iso(since)).total_seconds() / 60)
    return round(worst, 1)


# ---- seed -------------------------------------------------------------------------------------

def seed_feeds(local_base: str | None = None) -> list[str]:
    """Create the city's feeds from data/feeds_seed.json where they do not exist yet.

    With ``local_base`` (the local stack's web server) every feed reads the sample payload
    served under ``/dev/feeds/`` instead of the internet, and is enabled.
    """
    path = Path(__file__).resolve().parent.parent / "data" / "feeds_seed.json"
    created = []
    for entry in json.loads(path.read_text(encoding="utf-8"))["feeds"]:
        body = {k: v for k, v in entry.items() if k in CONFIG_FIELDS}
        if local_base:
            body["url"] = f"{local_base.rstrip('/')}/dev/feeds/{entry['local_file']}"
            body["enabled"] = True
            body["schedule"] = SCHEDULE_MIN
        try:
            FeedModel.get(entry["id"])
            continue
        except FeedModel.DoesNotExist:
            pass
        put(entry["id"], body, "seed")
        created.append(entry["id"])
    return created
