"""IMGW-PIB meteorological warnings (``/api/data/warningsmeteo``).

Options:
    teryt: county TERYT code(s) to keep, a string or a list (default ``"1402"``).

All values are strings, times are Warsaw local time without offset. HTTP 404 with
exactly ``{"status": false, "message": "No products were found"}`` means zero
warnings; any other 404 is an error. IMGW gives an updated warning a new id, so each
item carries ``correlation_key`` = event name + county for the service to correlate.
"""

from __future__ import annotations

from typing import Any

from . import (
    FeedError,
    FeedItem,
    as_text,
    check_status,
    clean_text,
    dedupe,
    load_json,
    one_line,
    opt_str_list,
    options_dict,
    parse_time,
    slug,
)

NAME = "imgw_meteo"
DEFAULT_TERYT = "1402"
NO_PRODUCTS = {"status": False, "message": "No products were found"}
SEVERITY = {"1": "moderate", "2": "severe", "3": "extreme"}
LINK = "https://meteo.imgw.pl/"


def parse(payload: bytes, http_status: int, options: dict[str, Any]) -> list[FeedItem]:
    opts = options_dict(options, NAME)
    wanted = opt_str_list(opts, "teryt", [DEFAULT_TERYT], NAME) or []
    wanted_set = {t.strip() for t in wanted if t.strip()}
    if not wanted_set:
        raise FeedError(f"{NAME}: option 'teryt' must name at least one county")

    if http_status == 404:
        try:
            data = load_json(payload, NAME)
        except FeedError:
            raise FeedError(f"{NAME}: HTTP 404 with an unexpected body") from None
        if data == NO_PRODUCTS:
            return []
        raise FeedError(f"{NAME}: HTTP 404 with an unexpected body")
    check_status(http_status, NAME)
    data = load_json(payload, NAME)
    if data == NO_PRODUCTS:
        return []
    if not isinstance(data, list):
        raise FeedError(f"{NAME}: expected a JSON array of warnings")

    items = []
    for index, row in enumerate(data):
        item = _item(row, index, wanted_set)
        if item is not None:
            items.append(item)
    return dedupe(items)


def _item(row: Any, index: int, wanted: set[str]) -> FeedItem | None:
    where = f"warning #{index}"
    if not isinstance(row, dict):
        raise FeedError(f"{NAME}: {where} is not an object")
    counties = row.get("teryt")
    if not isinstance(counties, list) or not all(isinstance(c, str) for c in counties):
        raise FeedError(f"{NAME}: {where}: 'teryt' must be a list of strings")
    matched = sorted(wanted.intersection(c.strip() for c in counties))
    # validate every row, even ones for other counties: a broken snapshot is an error
    warning_id = as_text(row.get("id"), NAME, f"{where} id").strip()
    event = one_line(as_text(row.get("nazwa_zdarzenia"), NAME, f"{where} nazwa_zdarzenia"))
    level = as_text(row.get("stopien"), NAME, f"{where} stopien").strip()
    starts_at = parse_time(row.get("obowiazuje_od"), NAME, f"{where} obowiazuje_od")
    expires_at = parse_time(row.get("obowiazuje_do"), NAME, f"{where} obowiazuje_do")
    content = as_text(row.get("tresc"), NAME, f"{where} tresc", required=False)
    comment = as_text(row.get("komentarz"), NAME, f"{where} komentarz", required=False)
    probability = as_text(
        row.get("prawdopodobienstwo"), NAME, f"{where} prawdopodobienstwo", required=False
    )
    office = as_text(row.get("biuro"), NAME, f"{where} biuro", required=False)
    if not warning_id or not event:
        raise FeedError(f"{NAME}: {where}: empty id or event name")
    if not matched:
        return None

    parts = [clean_text(content)]
    if clean_text(comment).rstrip(".").casefold() not in ("", "brak"):
        parts.append(clean_text(comment))
    if probability.strip():
        parts.append(f"Prawdopodobieństwo: {probability.strip()}%.")
    if office.strip():
        parts.append(f"Źródło: IMGW-PIB, {one_line(office)}.")
    title = f"{event} – ostrzeżenie {level}. stopnia" if level in SEVERITY else event
    return FeedItem(
        external_id=warning_id,
        title=title,
        body="\n\n".join(p for p in parts if p),
        starts_at=starts_at,
        expires_at=expires_at,
        severity=SEVERITY.get(level, "unknown"),
        msg_type="alert",
        correlation_key=f"{NAME}:{slug(event)}:{matched[0]}",
        category="weather",
        link=LINK,
    )
