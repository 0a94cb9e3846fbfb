"""Feed adapters: turn a fetched payload into a list of :class:`FeedItem`.

Every adapter is a small module with one function::

    parse(payload: bytes, http_status: int, options: dict) -> list[FeedItem]

It never fetches anything itself and never raises anything but :class:`FeedError`
(the feed run records the error and keeps the previous state). Adapters are loaded
lazily, so importing this package does not import feedparser or any XML parser.

Times are ISO 8601 strings with an offset, in Europe/Warsaw, at seconds precision.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

__all__ = [
    "ADAPTERS",
    "CATEGORIES",
    "MSG_TYPES",
    "SEVERITIES",
    "WARSAW",
    "FeedError",
    "FeedItem",
    "get_adapter",
]

WARSAW = ZoneInfo("Europe/Warsaw")
SEVERITIES = ("extreme", "severe", "moderate", "minor", "unknown")
MSG_TYPES = ("alert", "update", "cancel")
CATEGORIES = (
    "water",
    "electricity",
    "gas",
    "heating",
    "roads",
    "events",
    "weather",
    "emergency",
    "other",
)


class FeedError(Exception):
    """A payload (or an adapter's options) could not be turned into feed items."""


@dataclass(frozen=True)
class FeedItem:
    """One item of a feed, normalised for the alert service.

    ``raw_hash`` is the sha256 of the item's normalised content (every other field);
    it is computed automatically when left empty, so an unchanged item always has the
    same hash and the service can write nothing.
    """

    external_id: str
    title: str
    body: str
    starts_at: str | None
    expires_at: str | None
    severity: str = "unknown"
    msg_type: str = "alert"
    references: tuple[str, ...] = ()
    correlation_key: str | None = None
    category: str | None = None
    districts: tuple[str, ...] = ()
    link: str | None = None
    raw_hash: str = ""

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"invalid severity {self.severity!r}")
        if self.msg_type not in MSG_TYPES:
            raise ValueError(f"invalid msg_type {self.msg_type!r}")
        if not self.external_id:
            raise ValueError("external_id must not be empty")
        if not self.raw_hash:
            object.__setattr__(self, "raw_hash", self.content_hash())

    def content_hash(self) -> str:
        """sha256 (hex) of every field except ``raw_hash``, canonically serialised."""
        data = asdict(self)
        data.pop("raw_hash", None)
        canonical = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


Adapter = Callable[[bytes, int, dict[str, Any]], list[FeedItem]]

# adapter name -> module under chalicelib.feeds
_ADAPTER_MODULES: dict[str, str] = {
    "imgw_meteo": "imgw_meteo",
    "imgw_hydro": "imgw_hydro",
    "energa": "energa",
    "cap_atom": "cap_atom",
    "rss": "rss",
    "json": "json_feed",
}


class _LazyAdapter:
    """Imports its module on first call; turns any stray exception into FeedError."""

    def __init__(self, name: str, module: str) -> None:
        self.name = name
        self.module = module
        self.__name__ = f"{name}.parse"

    def load(self) -> Adapter:
        try:
            mod = importlib.import_module(f"{__name__}.{self.module}")
        except ImportError as exc:  # e.g. feedparser missing from the layer
            raise FeedError(f"{self.name}: adapter unavailable: {exc}") from exc
        parse: Adapter = mod.parse
        return parse

    def __call__(self, payload: bytes, http_status: int, options: dict[str, Any]) -> list[FeedItem]:
        parse = self.load()
        try:
            return parse(payload, http_status, options)
        except FeedError:
            raise
        except Exception as exc:  # defence in depth: a feed run must not crash
            raise FeedError(f"{self.name}: unexpected {type(exc).__name__}: {exc}") from exc

    def __repr__(self) -> str:
        return f"<feed adapter {self.name!r} ({__name__}.{self.module})>"


ADAPTERS: dict[str, Adapter] = {
    name: _LazyAdapter(name, module) for name, module in _ADAPTER_MODULES.items()
}


def get_adapter(name: str) -> Adapter:
    """The ``parse`` callable of adapter ``name``; FeedError if there is none."""
    try:
        return ADAPTERS[name]
    except (KeyError, TypeError):
        known = ", ".join(sorted(ADAPTERS))
        raise FeedError(f"unknown feed adapter {name!r} (known: {known})") from None


# ---------------------------------------------------------------- helpers for adapters


def check_status(http_status: int, adapter: str) -> None:
    """Only a 2xx answer carries a payload to parse."""
    if not isinstance(http_status, int) or not 200 <= http_status < 300:
        raise FeedError(f"{adapter}: HTTP status {http_status!r}")


def load_json(payload: bytes, adapter: str) -> Any:
    """Decode a JSON payload or raise FeedError."""
    if not isinstance(payload, (bytes, bytearray)):
        raise FeedError(f"{adapter}: payload must be bytes")
    try:
        return json.loads(bytes(payload))
    except (ValueError, RecursionError) as exc:
        raise FeedError(f"{adapter}: malformed JSON: {exc}") from exc


def options_dict(options: Mapping[str, Any] | None, adapter: str) -> Mapping[str, Any]:
    if options is None:
        return {}
    if not isinstance(options, Mapping):
        raise FeedError(f"{adapter}: options must be an object")
    return options


def opt_str(options: Mapping[str, Any], key: str, default: str | None, adapter: str) -> str | None:
    value = options.get(key, default)
    if value is None:
        return None
    if not isinstance(value, str):
        raise FeedError(f"{adapter}: option {key!r} must be a string")
    return value


def opt_str_list(
    options: Mapping[str, Any],
    key: str,
    default: Iterable[str] | None,
    adapter: str,
) -> list[str] | None:
    """A string or a list of strings; None when absent and there is no default."""
    value = options.get(key, default)
    if value is None:
        return None
    if isinstance(value, str):
        return [value]
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        return list(value)
    raise FeedError(f"{adapter}: option {key!r} must be a string or a list of strings")


def fold(text: str) -> str:
    """Case- and diacritic-insensitive form: 'Łydynia' -> 'lydynia'."""
    text = text.casefold().replace("ł", "l")
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return " ".join(text.split())


def slug(text: str) -> str:
    """ASCII slug: 'Gęsta mgła' -> 'gesta-mgla'."""
    folded = fold(text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", folded).strip("-")


def contains_word(haystack: str, needle: str) -> bool:
    """Whether ``needle`` occurs in ``haystack`` as whole word(s), folded."""
    n = fold(needle)
    if not n:
        return False
    pattern = r"(?<!\w)" + re.escape(n) + r"(?!\w)"
    return re.search(pattern, fold(haystack)) is not None


def one_line(text: str) -> str:
    """Collapse all whitespace (titles are one line)."""
    return " ".join(text.split())


def clean_text(text: str) -> str:
    """Normalise newlines, strip trailing spaces and outer blank lines; keep the text."""
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    lines = [line.rstrip() for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def iso(dt: datetime) -> str:
    """An aware datetime as ISO 8601 in Europe/Warsaw, seconds precision."""
    try:
        return dt.astimezone(WARSAW).replace(microsecond=0).isoformat(timespec="seconds")
    except (ValueError, OverflowError) as exc:
        raise FeedError(f"time out of range: {dt!r}") from exc


def parse_time(value: Any, adapter: str, what: str = "time") -> str | None:
    """Parse an ISO-like time; naive times are Europe/Warsaw local time.

    Empty values and the open-ended sentinel (year 9999) give None.
    """
    if value is None:
        return None
    if not isinstance(value, str):
        raise FeedError(f"{adapter}: {what} must be a string, got {value!r}")
    text = value.strip()
    if not text:
        return None
    if text.endswith(("z", "Z")):
        text = text[:-1] + "+00:00"
    try:
        dt = datetime.fromisoformat(text)
    except ValueError as exc:
        raise FeedError(f"{adapter}: invalid {what} {value!r}") from exc
    if dt.year >= 9999:
        return None
    try:
        if dt.tzinfo is None:
            # via UTC, so a wall time in the spring-forward gap becomes a real instant
            dt = dt.replace(tzinfo=WARSAW).astimezone(UTC)
        return iso(dt)
    except (ValueError, OverflowError, FeedError) as exc:
        raise FeedError(f"{adapter}: {what} out of range {value!r}") from exc


def as_text(value: Any, adapter: str, what: str, *, required: bool = True) -> str:
    """A scalar as text (IMGW sends numbers as strings, others as numbers)."""
    if value is None or value == "":
        if required:
            raise FeedError(f"{adapter}: missing {what}")
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float)):
        return str(value)
    raise FeedError(f"{adapter}: {what} must be text, got {type(value).__name__}")


def dedupe(items: Iterable[FeedItem]) -> list[FeedItem]:
    """One item per external_id, in a stable order (sorted by id, then hash)."""
    out: dict[str, FeedItem] = {}
    for item in sorted(items, key=lambda i: (i.external_id, i.raw_hash)):
        out.setdefault(item.external_id, item)
    return list(out.values())
