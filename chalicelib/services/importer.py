"""Import of the people registered in the city's previous SMS system (a CSV export).

Columns (header names in Polish or English, `;` or `,` between them, BOM and Windows-1250
tolerated): telefon/phone, kategorie/categories, osiedla/districts, jezyk/lang. Legacy category
names go through `data/legacy_categories.json` (plus an optional extra mapping). Every row ends as
added, updated, unchanged or skipped (one report line each for skips). A dry run reads only.
Running twice changes nothing: a person already imported with the same choices is unchanged and
gets no second welcome SMS (the record's `welcomed_at` says it went out; a welcome a failed or
interrupted run did not send goes out on the next run); a person who signed up on their own keeps
their own choices.
"""
from __future__ import annotations

import csv
import io
import json
import logging
import re
import time
import unicodedata
from functools import lru_cache
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError, ReadTimeoutError
from pynamodb.exceptions import UpdateError

from ..city import CATEGORIES, LANGUAGES, district_names
from ..errors import Invalid
from ..models.subscribers import SubscriberModel
from . import audit, config, subscriptions
from .clock import now_iso
from .subscriptions import mask

log = logging.getLogger("informator.importer")
SOURCE = "legacy-import"
CONSENT_VERSION = "legacy"  # consent was given in the previous system, not to our current text
MAX_ROWS = 20_000
_COLUMNS = {
    "phone": ("telefon", "phone", "numer", "numer telefonu", "nr telefonu", "tel", "msisdn"),
    "categories": ("kategorie", "categories", "kategoria", "tematy"),
    "districts": ("osiedla", "districts", "osiedle", "rejony", "rejon"),
    "lang": ("jezyk", "lang", "language", "jezyk komunikatow"),
}
_LIST_SPLIT = re.compile(r"[,;|/\n]+")


def fold(text: str) -> str:
    """Compare legacy names without case, Polish letters or extra spaces."""
    text = text.strip().lower().replace("ł", "l")
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return re.sub(r"\s+", " ", text.replace("_", " ").replace("-", " ")).strip()


@lru_cache(maxsize=1)
def legacy_table() -> dict[str, Any]:
    path = Path(__file__).resolve().parent.parent / "data" / "legacy_categories.json"
    return dict(json.loads(path.read_text(encoding="utf-8")))


def category_mapping(extra: dict[str, str] | None = None) -> dict[str, str]:
    table = {fold(k): v for k, v in legacy_table()["categories"].items()}
    table.update({c: c for c in CATEGORIES})
    for key, value in (extra or {}).items():
        if value not in CATEGORIES:
            raise Invalid(f"The mapping names an unknown category: {value}.",
                          {"mapping": f"{key} → {value}: unknown category"})
        table[fold(key)] = value
    return table


def _district_mapping() -> dict[str, str]:
    out: dict[str, str] = {}
    for did, name in district_names().items():
        for key in (did, name, did.replace("-", " ")):
            out[fold(key)] = did
    return out


def decode_csv(raw: bytes) -> str:
    """UTF-8 (with or without BOM), else Windows-1250 as Polish legacy systems export."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("cp1250", errors="replace")


def parse_rows(text: str) -> list[tuple[int, dict[str, str]]]:
    """(line number, {phone, categories, districts, lang}) for every non-empty data row."""
    text = text.lstrip("\ufeff")
    header_line = next((ln for ln in text.splitlines() if ln.strip()), "")
    if not header_line:
        raise Invalid("The CSV is empty.", {"csv": "empty"})
    delimiter = max((";", ",", "\t"), key=header_line.count)
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    header: list[str] | None = None
    columns: dict[str, int] = {}
    rows: list[tuple[int, dict[str, str]]] = []
    for cells in reader:
        if not any(c.strip() for c in cells):
            continue
        if header is None:
            header = [fold(c) for c in cells]
            for field, names in _COLUMNS.items():
                for i, h in enumerate(header):
                    if h in names:
                        columns[field] = i
                        break
            if "phone" not in columns:
                raise Invalid("The first row must name the columns, one of them telefon.",
                              {"csv": "no telefon/phone column in the header"})
            continue
        rows.append((reader.line_num, {f: (cells[i].strip() if i < len(cells) else "")
                                       for f, i in columns.items()}))
        if len(rows) > MAX_ROWS:
            raise Invalid(f"At most {MAX_ROWS} rows per import.", {"csv": "too many rows"})
    return rows


def _choices(row: dict[str, str], cats: dict[str, str],
             dists: dict[str, str]) -> tuple[dict[str, Any] | None, str]:
    """The row's choices in Informator's ids, or None and why not."""
    whole_city = {fold(w) for w in legacy_table().get("whole_city", [])}
    languages = {fold(k): v for k, v in legacy_table().get("languages", {}).items()}
    categories: set[str] = set()
    for name in _LIST_SPLIT.split(row.get("categories", "")):
        if not name.strip():
            continue
        cat = cats.get(fold(name))
        if cat is None:
            return None, f"unknown category {name.strip()!r} (add it to the mapping)"
        categories.add(cat)
    districts: set[str] = set()
    for name in _LIST_SPLIT.split(row.get("districts", "")):
        key = re.sub(r"^(os\.?|osiedle)\s+", "", fold(name))
        if not key or key in whole_city:
            continue
        did = dists.get(key)
        if did is None:
            return None, f"unknown district {name.strip()!r}"
        districts.add(did)
    lang_raw = fold(row.get("lang", "")) or "pl"
    lang = languages.get(lang_raw, lang_raw)
    if lang not in LANGUAGES:
        return None, f"unknown language {row.get('lang', '')!r}"
    return subscriptions.validate_choices({"categories": sorted(categories),
                                           "districts": sorted(districts), "lang": lang}), ""


def _same(record: SubscriberModel, choices: dict[str, Any]) -> bool:
    return (sorted(record.categories or []) == choices["categories"]
            and sorted(record.districts or []) == choices["districts"]
            and record.lang == choices["lang"])


def _welcome(phone: str, text: str) -> bool:
    """Send the welcome SMS, then mark the record (`welcomed_at`). The record is saved before,
    so a run that dies before the send leaves it unmarked and the next run sends it; only a
    death between SNS accepting the SMS and the mark (one UpdateItem) could send it twice.
    False when SNS did not take it (the record stays unmarked for the next run)."""
    try:
        subscriptions.send_sms(phone, text)
    except ReadTimeoutError:
        # SNS may have taken it: as for non-critical alerts, not repeated (logged)
        log.warning("welcome SMS unconfirmed (timeout); not repeated", extra={"phone": mask(phone)})
    except (ClientError, BotoCoreError) as exc:
        log.warning("welcome SMS not sent", extra={"phone": mask(phone),
                                                   "error": type(exc).__name__})
        return False
    try:
        SubscriberModel(id=f"sms#{phone}").update(
            actions=[SubscriberModel.welcomed_at.set(now_iso())],
            condition=SubscriberModel.id.exists())
    except UpdateError as exc:
        if getattr(exc, "cause_response_code", "") != "ConditionalCheckFailedException":
            raise
        # the person left in the meantime: nothing to mark
    return True


def welcome_text() -> str:
    from ..formats.sms import transliterate

    return subscriptions.with_leave_hint(transliterate(str(config.get("welcome_sms") or "")))


def import_csv(text: str, *, dry_run: bool, actor: str, extra_mapping: dict[str, str] | None = None,
               start: int = 0, time_budget_s: float | None = None) -> dict[str, Any]:
    """Import every row (from data row `start`); stop early when the time budget runs out."""
    began = time.monotonic()
    rows = parse_rows(text)
    cats, dists = category_mapping(extra_mapping), _district_mapping()
    # numbers SNS will not text (they replied STOP to AWS) are never imported
    opted_out = subscriptions.opted_out_numbers() if rows[start:] else set()
    report: dict[str, Any] = {"dry_run": dry_run, "rows": len(rows), "added": 0, "updated": 0,
                              "unchanged": 0, "skipped": 0, "welcome_sent": 0, "welcome_failed": 0,
                              "lines": [],
                              "complete": True, "next_start": None}
    seen: dict[str, int] = {}
    welcome = welcome_text()

    def line(n: int, outcome: str, why: str) -> None:
        report["lines"].append(f"line {n}: {outcome}: {why}")

    for index, (n, row) in enumerate(rows):
        if index < start:
            continue
        if time_budget_s is not None and time.monotonic() - began > time_budget_s:
            report["complete"], report["next_start"] = False, index
            break
        try:
            phone = subscriptions.normalize_phone(row.get("phone", ""))
        except Invalid as exc:
            report["skipped"] += 1
            line(n, "skipped", f"{exc.fields.get('phone', exc.message)} "
                               f"({mask(row.get('phone', ''))})")
            continue
        if phone in seen:
            report["skipped"] += 1
            line(n, "skipped", f"{mask(phone)} is already on line {seen[phone]}")
            continue
        seen[phone] = n
        if phone in opted_out:
            report["skipped"] += 1
            line(n, "skipped", f"{mask(phone)} has opted out of SMS at the operator")
            continue
        choices, why = _choices(row, cats, dists)
        if choices is None:
            report["skipped"] += 1
            line(n, "skipped", f"{mask(phone)}: {why}")
            continue
        try:
            record: SubscriberModel | None = SubscriberModel.get(f"sms#{phone}",
                                                                 consistent_read=True)
        except SubscriberModel.DoesNotExist:
            record = None
        if record is not None and record.source != SOURCE:
            report["unchanged"] += 1  # signed up on their own since: their choices stand
            continue
        owes_welcome = record is None or not record.welcomed_at
        if record is not None and _same(record, choices):
            report["unchanged"] += 1  # imported before with these choices
        else:
            outcome = "added" if record is None else "updated"
            report[outcome] += 1
            if not dry_run:
                subscriptions.activate_sms(phone, choices, consent_by=SOURCE, source=SOURCE,
                                           consent_version=CONSENT_VERSION)
        if owes_welcome and not dry_run and not _welcome(phone, welcome):
            report["welcome_failed"] += 1
            line(n, "welcome not sent", f"{mask(phone)}: SNS refused or did not answer; "
                                        "run the import again to send it")
        elif owes_welcome and not dry_run:
            report["welcome_sent"] += 1
    summary = {k: report[k] for k in ("rows", "added", "updated", "unchanged", "skipped",
                                      "welcome_sent", "welcome_failed", "complete")}
    if not dry_run:
        audit.record(actor, "subscribers.import", "legacy-csv", summary)
    log.info("legacy import", extra={"dry_run": dry_run, **summary})
    return report
