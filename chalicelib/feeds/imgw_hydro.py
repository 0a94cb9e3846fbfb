"""IMGW-PIB hydrological warnings (``/api/data/warningshydro``).

Options:
    catchments: catchment names to keep, matched case- and diacritic-insensitively
        as whole words within ``obszary[].opis`` (default ``["Łydynia", "Wkra"]``).

Warnings have no id: one is built from the year of publication, ``numer`` and
``biuro``. Keys may carry diacritics (``stopień``, ``prawdopodobieństwo``); they are
folded to ASCII before use. ``data_do`` 9999-12-31 means "until further notice".
"""

from __future__ import annotations

from typing import Any

from . import (
    FeedError,
    FeedItem,
    as_text,
    check_status,
    clean_text,
    contains_word,
    dedupe,
    fold,
    load_json,
    one_line,
    opt_str_list,
    options_dict,
    parse_time,
    slug,
)

NAME = "imgw_hydro"
DEFAULT_CATCHMENTS = ("Łydynia", "Wkra")
# 1-3: flood warnings by level; -1: hydrological drought (slow, not a direct threat)
SEVERITY = {"1": "moderate", "2": "severe", "3": "extreme", "-1": "minor"}
LINK = "https://hydro.imgw.pl/"


def parse(payload: bytes, http_status: int, options: dict[str, Any]) -> list[FeedItem]:
    opts = options_dict(options, NAME)
    catchments = opt_str_list(opts, "catchments", DEFAULT_CATCHMENTS, NAME) or []
    catchments = [c.strip() for c in catchments if c.strip()]
    if not catchments:
        raise FeedError(f"{NAME}: option 'catchments' must name at least one catchment")
    if http_status == 404:
        data = load_json(payload, NAME)
        if isinstance(data, dict) and data.get("status") is False:
            return []  # the same "No products were found" answer as the meteo API
        raise FeedError(f"{NAME}: HTTP 404 with an unexpected body")
    check_status(http_status, NAME)
    data = load_json(payload, NAME)
    if isinstance(data, dict) and data.get("status") is False and "message" in data:
        return []
    if not isinstance(data, list):
        raise FeedError(f"{NAME}: expected a JSON array of warnings")
    items = []
    for index, row in enumerate(data):
        item = _item(row, index, catchments)
        if item is not None:
            items.append(item)
    return dedupe(items)


def _fold_keys(obj: dict[Any, Any]) -> dict[str, Any]:
    return {fold(str(key)): value for key, value in obj.items()}


def _item(raw: Any, index: int, catchments: list[str]) -> FeedItem | None:
    where = f"warning #{index}"
    if not isinstance(raw, dict):
        raise FeedError(f"{NAME}: {where} is not an object")
    row = _fold_keys(raw)
    areas = row.get("obszary")
    if not isinstance(areas, list):
        raise FeedError(f"{NAME}: {where}: 'obszary' must be a list")
    descriptions: list[str] = []
    for area in areas:
        if not isinstance(area, dict):
            raise FeedError(f"{NAME}: {where}: an area is not an object")
        area_f = _fold_keys(area)
        descriptions.append(as_text(area_f.get("opis"), NAME, f"{where} opis", required=False))

    number = as_text(row.get("numer"), NAME, f"{where} numer").strip()
    office = one_line(as_text(row.get("biuro"), NAME, f"{where} biuro"))
    event = one_line(as_text(row.get("zdarzenie"), NAME, f"{where} zdarzenie"))
    level = as_text(row.get("stopien"), NAME, f"{where} stopien", required=False).strip()
    published = parse_time(row.get("opublikowano"), NAME, f"{where} opublikowano")
    starts_at = parse_time(row.get("data_od"), NAME, f"{where} data_od")
    expires_at = parse_time(row.get("data_do"), NAME, f"{where} data_do")
    course = as_text(row.get("przebieg"), NAME, f"{where} przebieg", required=False)
    comment = as_text(row.get("komentarz"), NAME, f"{where} komentarz", required=False)
    probability = as_text(
        row.get("prawdopodobienstwo"), NAME, f"{where} prawdopodobienstwo", required=False
    )
    year_source = published or starts_at
    if not year_source or not number or not office or not event:
        raise FeedError(f"{NAME}: {where}: missing publication time, numer, biuro or zdarzenie")

    matched = [c for c in catchments if any(contains_word(d, c) for d in descriptions)]
    if not matched:
        return None

    parts = [clean_text(course)]
    if clean_text(comment).rstrip(".").casefold() not in ("", "brak"):
        parts.append(clean_text(comment))
    if probability.strip():
        parts.append(f"Prawdopodobieństwo: {probability.strip()}%.")
    parts.append(f"Źródło: IMGW-PIB, {office}.")
    level_text = f" – ostrzeżenie {level}. stopnia" if level in ("1", "2", "3") else ""
    return FeedItem(
        external_id=f"{year_source[:4]}-{slug(number)}-{slug(office)}",
        title=f"{event}{level_text}: {', '.join(matched)}",
        body="\n\n".join(p for p in parts if p),
        starts_at=starts_at,
        expires_at=expires_at,
        severity=SEVERITY.get(level, "unknown"),
        msg_type="alert",
        correlation_key=f"{NAME}:{slug(event)}:{','.join(slug(m) for m in matched)}",
        category="weather",
        link=LINK,
    )
