"""The cost model: writes docs/costs.md from the code's own SMS builder and infra/prices.json.

`make costs` (`python -m infra.costs`) regenerates the document; `python -m infra.costs --check`
exits 1 when docs/costs.md is not what the code and the prices give now (tests/unit/test_costs.py
does the same in memory). Nothing here touches AWS: the SMS texts come from
`chalicelib.services.fanout.sms_text` with the city's default settings (`config.DEFAULTS`), so the
part counts are the ones residents would really be sent; every other number is an assumption
stated in the document next to its arithmetic.
"""
from __future__ import annotations

import argparse
import json
import math
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from unittest import mock

from chalicelib.formats.sms import analyze, build_alert_sms, transliterate
from chalicelib.services import config, fanout, importer, subscriptions
from infra.policies import POLICIES

ROOT = Path(__file__).resolve().parent.parent
PRICES = ROOT / "infra" / "prices.json"
DOC = ROOT / "docs" / "costs.md"
TEMPLATE = ROOT / "infra" / "template.yaml"
SITE_URL = "https://informator.ciechanow.pl"
ALERT_ID = "19abf3c2d10a4f3e2"  # the shape of clock.new_id(): 11 hex digits of ms + 6 random
MINUTES_PER_MONTH = 30 * 24 * 60
GB = 1024 * 1024 * 1024
MB = 1024 * 1024
KB = 1024

# Realistic alerts of the kinds Ciechanów sends (water, IMGW warnings, river, power outages).
SAMPLE_ALERTS: tuple[tuple[str, str], ...] = (
    ("Awaria wodociągu: brak wody w Śródmieściu",
     "Do godz. 18:00 nie będzie wody przy ul. Warszawskiej, Pułtuskiej i Płońskiej. Beczkowóz "
     "stoi przy ul. Płońskiej 5. Przepraszamy za utrudnienia."),
    ("Ostrzeżenie IMGW 2. stopnia: silny wiatr",
     "Od dziś 15:00 do jutra 6:00 porywy wiatru do 90 km/h. Zabezpiecz luźne przedmioty na "
     "balkonach, nie parkuj pod drzewami."),
    ("Wysoki stan rzeki Łydyni",
     "Przekroczony stan alarmowy na Łydyni przy ul. Mławskiej. Mieszkańcy ulic nadrzecznych: "
     "przygotujcie się do ewakuacji i śledźcie komunikaty."),
    ("Przerwa w dostawie prądu",
     "Jutro 8:00–14:00 bez prądu: ul. Sienkiewicza, Mickiewicza, Żeromskiego. Przerwa "
     "planowana, prace na sieci Energa."),
)


# ---- prices ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Prices:
    recorded_on: str
    region: str
    currency: str
    status: str
    table: dict[str, dict[str, Any]]

    def __getitem__(self, key: str) -> float:
        return float(self.table[key]["value"])


def load_prices(path: Path = PRICES) -> Prices:
    raw = json.loads(path.read_text())
    return Prices(raw["recorded_on"], raw["region"], raw["currency"], raw["status"],
                  raw["prices"])


# ---- the SMS the code builds ------------------------------------------------------------------

@contextmanager
def city_defaults(**overrides: Any) -> Iterator[None]:
    """The services read the city's settings (DynamoDB): answer with the code's defaults."""
    values = {**config.DEFAULTS, **overrides}
    with mock.patch.object(config, "get", values.get), \
            mock.patch.object(fanout, "get_settings", lambda: SimpleNamespace(site_url=SITE_URL)):
        yield


def alert_sms(title: str, body: str, *, keep_diacritics: bool = False, max_parts: int = 1) -> str:
    """The Polish SMS of a new alert exactly as the fan-out builds it (fanout.sms_text)."""
    alert = SimpleNamespace(id=ALERT_ID, title={"pl": title}, body={"pl": body},
                            cap_status="actual", msg_type="alert")
    with city_defaults(sms_keep_diacritics=keep_diacritics, sms_max_parts=max_parts):
        return fanout.sms_text(alert, "pl")


def with_diacritics(title: str, body: str, sent: str) -> str:
    """The SMS `sent` (transliterated) with its Polish letters back: the same words and link.

    Transliteration maps every character of these texts to exactly one character, so the
    transliterated full text lines up with the original position by position; `sent` is that
    text's beginning (up to the builder's cut) followed by the unchanged link and leave hint.
    """
    hint = str(config.DEFAULTS["sms_stop_hint"])
    link = f"{SITE_URL}/alert.html?id={ALERT_ID}"
    used_hint = hint if sent.endswith(" " + hint) else ""
    tail = " " + " ".join(p for p in (link, used_hint) if p)
    full = build_alert_sms(sender_name=str(config.DEFAULTS["sender_name"]), title=title,
                           body=body, link=link, max_parts=99, keep_diacritics=True,
                           stop_hint=used_hint)
    if any(len(transliterate(c)) != 1 for c in full):
        raise ValueError("sample alert with a character that does not transliterate 1:1")
    plain = transliterate(full)
    end = len(sent) - len(tail)
    i = 0
    while i < end and i < len(plain) and sent[i] == plain[i]:
        i += 1
    middle = sent[i:end]
    if middle.strip(" ."):
        raise ValueError(f"cannot line up the sent SMS with its original: {middle!r}")
    return full[:i] + middle.replace("...", "…") + tail


@dataclass(frozen=True)
class SmsSample:
    title: str
    sent: str  # what the code sends (transliterated, the default part budget)
    same_words: str  # the same words with Polish letters
    only_one_part: str  # Polish letters kept within the default part budget
    full_gsm7_parts: int  # the whole alert, not shortened
    full_ucs2_parts: int

    @property
    def parts(self) -> int:
        return analyze(self.sent).parts

    @property
    def same_words_parts(self) -> int:
        return analyze(self.same_words).parts


def sms_samples() -> list[SmsSample]:
    out = []
    for title, body in SAMPLE_ALERTS:
        sent = alert_sms(title, body)
        out.append(SmsSample(
            title=title, sent=sent, same_words=with_diacritics(title, body, sent),
            only_one_part=alert_sms(title, body, keep_diacritics=True),
            full_gsm7_parts=analyze(alert_sms(title, body, max_parts=99)).parts,
            full_ucs2_parts=analyze(alert_sms(title, body, keep_diacritics=True,
                                              max_parts=99)).parts))
    return out


def code_sms() -> str:
    with city_defaults():
        return subscriptions.code_text("123456")


def welcome_sms() -> str:
    """Sent once to each number of the legacy import (services/importer.py)."""
    with city_defaults():
        return importer.welcome_text()


# ---- what the stack is made of (counted from the code) ----------------------------------------

def lambda_timeout() -> int:
    """Seconds every function may run: .chalice/config.json's lambda_timeout, else Chalice's 60."""
    raw = json.loads((ROOT / ".chalice" / "config.json").read_text())
    stage = raw.get("stages", {}).get("prod", {})
    return int(stage.get("lambda_timeout", raw.get("lambda_timeout", 60)))


def counted_resources() -> dict[str, int]:
    """Functions with a policy (each gets an errors alarm), queues with a DLQ (each polled by
    Lambda, each DLQ alarmed), the secrets of the push credentials."""
    text = TEMPLATE.read_text()
    queues = len(re.findall(r"^\s+RedrivePolicy:", text, re.M))
    return {"functions": len(POLICIES), "queues": queues,
            "alarms": len(POLICIES) + queues + 2, "secrets": 2}


# ---- scenarios --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Scenario:
    name: str
    residents: int
    sms_subscribers: int
    app_devices: int
    web_push_browsers: int
    alerts: int  # a month (new alerts and updates that are sent)
    reach: float  # share of subscribers a typical alert reaches (districts, categories)
    sms_signups: int
    reports: int
    site_visits: int
    table_gb: float


CIECHANOW = Scenario("Ciechanów", residents=43_000, sms_subscribers=1_500, app_devices=10_000,
                     web_push_browsers=1_000, alerts=10, reach=0.40, sms_signups=50,
                     reports=100, site_visits=20_000, table_gb=1.0)
# The same shares of residents as Ciechanów; more alerts, each for a smaller part of the city.
MILLION = Scenario("City of 1,000,000", residents=1_000_000, sms_subscribers=35_000,
                   app_devices=233_000, web_push_browsers=23_000, alerts=30, reach=0.15,
                   sms_signups=1_200, reports=2_300, site_visits=465_000, table_gb=5.0)
SCENARIOS = (CIECHANOW, MILLION)

# Usage per unit, shared by both scenarios (assumptions; stated in the document).
USAGE: dict[str, tuple[float, str]] = {
    "api_per_device": (20, "API requests per app device a month (opening alerts, the map)"),
    "api_per_visit": (5, "API requests per public-site visit"),
    "site_mb_per_visit": (0.4, "MB CloudFront sends per site visit (pages are under 150 KB)"),
    "api_s": (0.15, "seconds per API invocation (128 MB)"),
    "tick_s": (0.3, "seconds per minute tick"),
    "feeds_s": (3.0, "seconds per feed import (every 5 minutes; waits on the sources)"),
    "push_check_s": (0.02, "seconds per device in the daily endpoint check (housekeeping)"),
    "fanout_s": (1.0, "seconds per fan-out message (one per alert × language)"),
    "langs": (2, "languages an alert is sent in on average (pl, sometimes en/uk)"),
    "webpush_s": (0.1, "seconds per browser push"),
    "photo_s": (3.0, "seconds per photo (Pillow: check, rotate, strip, resize)"),
    "photos_per_report": (1.5, "photos per report"),
    "photo_mb_kept": (0.35, "MB kept per photo (display + thumbnail)"),
    "photo_views": (20, "times a kept photo is fetched"),
    "report_sms_share": (0.2, "share of reports whose reporter confirmed a phone number"),
    "report_sms": (3, "SMS to such a reporter (contact code, 2 status changes), 1 part each"),
    "reads_per_api": (2, "DynamoDB read units per API request"),
    "reads_per_tick": (4, "read units per tick (scheduled and expiring alerts)"),
    "reads_per_feed_run": (20, "read units per feed import"),
    "writes_per_signup": (8, "write units per SMS sign-up (code, 2 counters, record, audit)"),
    "writes_per_report": (12, "write units per report (record, photos, thread, counters)"),
    "writes_per_push": (2, "write units per browser push (claim, result)"),
    "writes_per_feed_run": (2, "write units per feed import (lease, state)"),
    "log_kb": (1.5, "KB of logs per invocation (Lambda's START/END/REPORT and the app's lines)"),
    "pollers": (5, "Lambda pollers per queue, each a 20-second long poll"),
}


def u(key: str) -> float:
    return USAGE[key][0]


@dataclass(frozen=True)
class Line:
    item: str
    arithmetic: str
    usd: float


def n(x: float) -> str:
    """A count: thousands separated, at most 2 decimals, no trailing zeros."""
    if float(x).is_integer():
        return f"{int(x):,}"
    return f"{x:,.2f}".rstrip("0").rstrip(".")


def price_text(x: float) -> str:
    """A unit price as written in prices.json, never in exponent notation."""
    return f"{x:.10f}".rstrip("0").rstrip(".")


def usd(x: float) -> str:
    return f"{x:,.2f}"


def sms_lines(s: Scenario, p: Prices, parts: int, worst: bool) -> list[Line]:
    price = p["sms_poland_per_part"]
    reach = 1.0 if worst else s.reach
    sent = s.alerts * s.sms_subscribers * reach
    code_parts = analyze(code_sms()).parts
    report_sms = s.reports * u("report_sms_share") * u("report_sms")
    return [
        Line("SMS alerts, worst case (every alert to every subscriber)" if worst else
             f"SMS alerts (an alert reaches {reach:.0%} of subscribers)",
             f"{n(s.alerts)} alerts × {n(s.sms_subscribers)} × {reach:.0%} = {n(sent)} SMS × "
             f"{parts} part × {price}", sent * parts * price),
        Line("SMS sign-up codes",
             f"{n(s.sms_signups)} × {code_parts} part × {price}",
             s.sms_signups * code_parts * price),
        Line("SMS to reporters",
             f"{n(s.reports)} reports × {u('report_sms_share'):.0%} × {n(u('report_sms'))} SMS "
             f"× 1 part × {price}", report_sms * price),
    ]


def _sum(parts: list[tuple[str, float, float]]) -> tuple[float, str]:
    """Σ count × per, and the arithmetic as text ("api 300,000 × 0.15 + …")."""
    total = sum(count * per for _, count, per in parts)
    text = " + ".join(f"{label} {n(round(count, 2))}" + (f" × {n(per)}" if per != 1 else "")
                      for label, count, per in parts)
    return total, text


def infra_lines(s: Scenario, p: Prices, res: dict[str, int]) -> list[Line]:
    api = s.app_devices * u("api_per_device") + s.site_visits * u("api_per_visit")
    ticks, feed_runs, days = MINUTES_PER_MONTH, MINUTES_PER_MONTH / 5, 30
    pushes = s.alerts * s.web_push_browsers * s.reach
    photos = s.reports * u("photos_per_report")
    fanout_msgs = s.alerts * u("langs")
    invocations, inv_text = _sum([
        ("API", api, 1), ("tick", ticks, 1), ("feeds", feed_runs, 1),
        ("daily jobs", days * 2, 1), ("fan-out and web push", fanout_msgs * 2, 1),
        ("photos", photos, 1)])
    seconds, sec_text = _sum([
        ("API", api, u("api_s")), ("tick", ticks, u("tick_s")),
        ("feeds", feed_runs, u("feeds_s")),
        ("device checks (30 days × devices)", days * s.app_devices, u("push_check_s")),
        ("fan-out", fanout_msgs, u("fanout_s")), ("web push", pushes, u("webpush_s")),
        ("photos", photos, u("photo_s"))])
    gb_s = seconds * 128 / 1024
    lam_req = max(0.0, invocations - p["lambda_free_requests"]) / 1e6 * \
        p["lambda_per_million_requests"]
    lam_gbs = max(0.0, gb_s - p["lambda_free_gb_seconds"]) * p["lambda_per_gb_second"]

    reads, reads_text = _sum([
        ("API", api, u("reads_per_api")), ("tick", ticks, u("reads_per_tick")),
        ("feeds", feed_runs, u("reads_per_feed_run")),
        ("device scan (30 days × devices)", days * s.app_devices, 0.5), ("web push", pushes, 1)])
    writes, writes_text = _sum([
        ("sign-ups", s.sms_signups, u("writes_per_signup")),
        ("reports", s.reports, u("writes_per_report")),
        ("web push", pushes, u("writes_per_push")),
        ("feeds", feed_runs, u("writes_per_feed_run"))])
    ddb_r = reads / 1e6 * p["dynamodb_per_million_reads"]
    ddb_w = writes / 1e6 * p["dynamodb_per_million_writes"]
    ddb_store = max(0.0, s.table_gb - p["dynamodb_free_gb"]) * p["dynamodb_per_gb_month"]
    ddb_pitr = s.table_gb * p["dynamodb_pitr_per_gb_month"]

    kept_gb = photos * 13 * u("photo_mb_kept") / 1024  # the 400-day lifecycle rule: ~13 months
    puts, gets = photos * 3, photos * u("photo_views")
    s3 = (kept_gb * p["s3_per_gb_month"] + puts / 1000 * p["s3_per_thousand_puts"]
          + gets / 1000 * p["s3_per_thousand_gets"])
    cf_gb = s.site_visits * u("site_mb_per_visit") / 1024
    cf = max(0.0, cf_gb - p["cloudfront_free_gb"]) * p["cloudfront_per_gb"]
    push = s.alerts * s.app_devices * s.reach
    sns_push = max(0.0, push - p["sns_mobile_push_free_per_month"]) / 1e6 * \
        p["sns_mobile_push_per_million"]
    polls = res["queues"] * u("pollers") * 3 * MINUTES_PER_MONTH
    sqs_req = polls + (fanout_msgs + photos) * 3
    sqs = max(0.0, sqs_req - p["sqs_free_requests"]) / 1e6 * p["sqs_per_million"]
    alarms = max(0, res["alarms"] - int(p["cloudwatch_free_alarms"])) * \
        p["cloudwatch_alarm_per_month"]
    log_gb = invocations * u("log_kb") / 1024 / 1024
    logs = max(0.0, log_gb - p["cloudwatch_logs_free_gb"]) * p["cloudwatch_logs_per_gb"]
    secrets = res["secrets"] * p["secrets_manager_per_secret"]
    return [
        Line("Lambda requests", f"{inv_text} = {n(round(invocations))} − "
             f"{n(p['lambda_free_requests'])} free → × {p['lambda_per_million_requests']} per "
             "million", lam_req),
        Line("Lambda compute", f"({sec_text}) s = {n(round(seconds))} s × 0.125 GB = "
             f"{n(round(gb_s))} GB-s − {n(p['lambda_free_gb_seconds'])} free → × "
             f"{price_text(p['lambda_per_gb_second'])}", lam_gbs),
        Line("API Gateway (REST)", f"{n(s.app_devices)} devices × {n(u('api_per_device'))} + "
             f"{n(s.site_visits)} visits × {n(u('api_per_visit'))} = {n(api)} requests × "
             f"{p['api_gateway_rest_per_million']} per million",
             api / 1e6 * p["api_gateway_rest_per_million"]),
        Line("DynamoDB reads", f"{reads_text} = {n(round(reads))} read units × "
             f"{p['dynamodb_per_million_reads']} per million", ddb_r),
        Line("DynamoDB writes", f"{writes_text} = {n(round(writes))} write units × "
             f"{p['dynamodb_per_million_writes']} per million", ddb_w),
        Line("DynamoDB storage", f"{n(s.table_gb)} GB (first {n(p['dynamodb_free_gb'])} GB "
             f"free) × {p['dynamodb_per_gb_month']}", ddb_store),
        Line("DynamoDB backups (PITR)", f"{n(s.table_gb)} GB × "
             f"{p['dynamodb_pitr_per_gb_month']}", ddb_pitr),
        Line("S3 (report photos)", f"{n(photos)} photos a month kept ~13 months × "
             f"{u('photo_mb_kept')} MB = {kept_gb:.2f} GB × {p['s3_per_gb_month']}; "
             f"{n(puts)} PUTs × {price_text(p['s3_per_thousand_puts'])} and {n(gets)} GETs × "
             f"{price_text(p['s3_per_thousand_gets'])} per 1,000", s3),
        Line("CloudFront (site)", f"{n(s.site_visits)} visits × {u('site_mb_per_visit')} MB = "
             f"{cf_gb:,.1f} GB − {n(p['cloudfront_free_gb'])} GB free → × "
             f"{p['cloudfront_per_gb']}", cf),
        Line("SNS mobile push", f"{n(s.alerts)} alerts × {n(s.app_devices)} devices × "
             f"{s.reach:.0%} = {n(push)} − {n(p['sns_mobile_push_free_per_month'])} free → × "
             f"{p['sns_mobile_push_per_million']} per million", sns_push),
        Line("Web Push", f"{n(pushes)} browser pushes: sent by the webpush function itself "
             "(its Lambda time and DynamoDB writes are counted above)", 0.0),
        Line("SQS", f"{res['queues']} queues × {n(u('pollers'))} pollers × 3 polls a minute × "
             f"{n(MINUTES_PER_MONTH)} min = {n(polls)} + messages × 3 = {n(round(sqs_req))} − "
             f"{n(p['sqs_free_requests'])} free → × {p['sqs_per_million']} per million", sqs),
        Line("CloudWatch alarms", f"{res['alarms']} alarms ({res['functions']} functions, "
             f"{res['queues']} DLQs, SMS spend, stale feed) − "
             f"{n(p['cloudwatch_free_alarms'])} free → × {p['cloudwatch_alarm_per_month']}",
             alarms),
        Line("CloudWatch logs", f"{n(round(invocations))} invocations × {u('log_kb')} KB = "
             f"{log_gb:.2f} GB − {n(p['cloudwatch_logs_free_gb'])} GB free → × "
             f"{p['cloudwatch_logs_per_gb']}", logs),
        Line("Secrets Manager", f"{res['secrets']} secrets (FCM, APNs) × "
             f"{p['secrets_manager_per_secret']}", secrets),
    ]


# ---- the document -----------------------------------------------------------------------------

def _table(lines: list[Line], total_label: str) -> list[str]:
    out = ["| item | arithmetic | USD/month |", "|---|---|---:|"]
    out += [f"| {ln.item} | {ln.arithmetic} | {usd(ln.usd)} |" for ln in lines]
    out.append(f"| **{total_label}** | | **{usd(sum(ln.usd for ln in lines))}** |")
    return out


def render(prices: Prices | None = None) -> str:
    p = prices or load_prices()
    samples = sms_samples()
    res = counted_resources()
    parts = max(x.parts for x in samples)
    same = [x.same_words_parts for x in samples]
    avg_same = sum(same) / len(same)
    price = p["sms_poland_per_part"]
    out = [
        "# Cost model",
        "",
        "<!-- Generated by `make costs` (infra/costs.py) from the code's SMS builder and "
        "infra/prices.json. Do not edit by hand: tests/unit/test_costs.py fails when this file "
        "is not current. -->",
        "",
        f"Monthly running costs in {p.currency}, AWS region {p.region}, for the two scenarios "
        "of issue 10. SMS texts and part counts are computed by the code that sends them "
        "(`chalicelib.services.fanout.sms_text` → `chalicelib.formats.sms.build_alert_sms` / "
        "`analyze`) with the city's default settings; everything else is an assumption stated "
        "below, next to its arithmetic.",
        "",
        f"> **Prices recorded on {p.recorded_on} — check them on that date's terms before "
        f"budgeting.** {p.status}",
        "",
        "## Unit prices (infra/prices.json)",
        "",
        "| price | value | unit | source |",
        "|---|---:|---|---|",
    ]
    for key, row in p.table.items():
        out.append(f"| `{key}` | {n(row['value']) if row['value'] >= 1 else price_text(row['value'])} | "
                   f"{row['unit']} | {row['source']} |")
    out += [
        "",
        "## The alert SMS (what the code sends)",
        "",
        f"Default settings: `sms_max_parts` = {config.DEFAULTS['sms_max_parts']}, "
        f"`sms_keep_diacritics` = {config.DEFAULTS['sms_keep_diacritics']}, sender name "
        f"\"{config.DEFAULTS['sender_name']}\", link `{SITE_URL}/alert.html?id=<id>` "
        f"({len(SITE_URL) + len('/alert.html?id=') + len(ALERT_ID)} characters). The builder "
        "transliterates Polish letters to GSM-7 and shortens the body (whole sentences, then "
        "words) so the SMS fits the part budget; the full text is one tap away on the linked "
        "page. A GSM-7 SMS holds 160 characters in 1 part (153 per part when longer); a UCS-2 "
        "one (any ą, ę, ł, …) 70 (67 per part).",
        "",
        "| alert | sent (GSM-7) | same words with Polish letters (UCS-2) | whole alert, "
        "not shortened: GSM-7 / UCS-2 |",
        "|---|---:|---:|---:|",
    ]
    for sample in samples:
        out.append(f"| {sample.title} | {sample.parts} part ({analyze(sample.sent).units} chars) "
                   f"| {sample.same_words_parts} parts ({analyze(sample.same_words).units} chars) "
                   f"| {sample.full_gsm7_parts} / {sample.full_ucs2_parts} parts |")
    first = samples[0]
    out += [
        "",
        "The first one, as sent:",
        "",
        "```text",
        first.sent,
        "```",
        "",
        "The same words with Polish letters "
        f"({first.same_words_parts} parts):",
        "",
        "```text",
        first.same_words,
        "```",
        "",
        "Polish letters kept within the 1-part budget (`sms_keep_diacritics` = true): the "
        "builder has room for the sender and the link only — the title is gone:",
        "",
        "```text",
        first.only_one_part,
        "```",
        "",
        f"Sign-up code SMS ({analyze(code_sms()).parts} part): `{code_sms()}`  ",
        f"Welcome SMS, once per number of the legacy import "
        f"({analyze(welcome_sms()).parts} part; "
        f"{n(CIECHANOW.sms_subscribers)} × {analyze(welcome_sms()).parts} × "
        f"{p['sms_poland_per_part']} = "
        f"{usd(CIECHANOW.sms_subscribers * analyze(welcome_sms()).parts * p['sms_poland_per_part'])}"
        f" one-off for Ciechanów): `{welcome_sms()}`",
        "",
        "## Assumptions",
        "",
        "| | " + " | ".join(s.name for s in SCENARIOS) + " |",
        "|---|" + "---:|" * len(SCENARIOS),
    ]
    rows = [("residents", "residents"), ("SMS subscribers", "sms_subscribers"),
            ("app devices (FCM/APNs push)", "app_devices"),
            ("browsers with Web Push", "web_push_browsers"),
            ("alerts sent a month (new and updates)", "alerts"),
            ("share of subscribers a typical alert reaches", "reach"),
            ("SMS sign-ups a month", "sms_signups"), ("reports a month", "reports"),
            ("public-site visits a month", "site_visits"),
            ("DynamoDB data (GB)", "table_gb")]
    for label, attr in rows:
        vals = [getattr(s, attr) for s in SCENARIOS]
        shown = [f"{v:.0%}" if attr == "reach" else n(v) for v in vals]
        out.append(f"| {label} | " + " | ".join(shown) + " |")
    out += [
        "",
        "The city of 1,000,000 keeps Ciechanów's shares of residents (3.5% on SMS, 23% with the "
        "app, Web Push 10% of the app's number; reports per resident the same) and has three "
        "times the alerts, each for a smaller part of the city (more districts).",
        "",
        "Per unit (both scenarios):",
        "",
        "| assumption | value |",
        "|---|---:|",
    ]
    out += [f"| {text} | {n(value)} |" for value, text in USAGE.values()]
    out += [
        "",
        f"Counted from the code: {res['functions']} Lambda functions with a policy "
        f"(infra/policies.py), {res['queues']} queues with a dead-letter queue "
        f"(infra/template.yaml), {res['alarms']} alarms, {res['secrets']} secrets. Always-free "
        "tiers are subtracted where AWS gives them every month (not the 12-month ones). "
        "Cognito (under 50 staff), SSM parameters, SNS topic publishes (a few hundred) and the "
        "one custom metric are free at these volumes.",
    ]
    summary = []
    for s in SCENARIOS:
        typical = sms_lines(s, p, parts, worst=False)
        worst = sms_lines(s, p, parts, worst=True)
        infra = infra_lines(s, p, res)
        infra_total = sum(ln.usd for ln in infra)
        out += ["", f"## {s.name}: monthly cost", ""]
        out += _table(typical + infra, "Total, typical month")
        worst_total = sum(ln.usd for ln in worst) + infra_total
        out += ["", f"Worst case: {usd(worst[0].usd)} for alert SMS "
                f"({worst[0].arithmetic}), **{usd(worst_total)} in total**. SMS is "
                f"{sum(ln.usd for ln in typical) / (sum(ln.usd for ln in typical) + infra_total):.0%}"
                " of the typical month."]
        summary.append((s, sum(ln.usd for ln in typical) + infra_total, worst_total,
                        infra_total))
    out += ["", "## What GSM-7 transliteration saves", "",
            f"The same words cost {parts} part transliterated and {n(avg_same)} parts on average "
            f"with Polish letters ({', '.join(str(x) for x in same)} for the sample alerts). "
            "Per month:", "",
            "| scenario | alert SMS a month | GSM-7 (sent) | UCS-2 (same words) | saved |",
            "|---|---:|---:|---:|---:|"]
    for s in SCENARIOS:
        for label, reach in (("typical", s.reach), ("worst", 1.0)):
            sent = s.alerts * s.sms_subscribers * reach
            gsm, ucs = sent * parts * price, sent * avg_same * price
            out.append(f"| {s.name}, {label} | {n(sent)} | {n(sent)} × {parts} × {price} = "
                       f"{usd(gsm)} | {n(sent)} × {n(avg_same)} × {price} = {usd(ucs)} | "
                       f"**{usd(ucs - gsm)}** |")
    full_g = sum(x.full_gsm7_parts for x in samples) / len(samples)
    full_u = sum(x.full_ucs2_parts for x in samples) / len(samples)
    out += ["",
            f"Had the city raised `sms_max_parts` to send whole alerts, transliteration would "
            f"still cut the parts from {n(full_u)} to {n(full_g)} on average "
            f"({usd(CIECHANOW.alerts * CIECHANOW.sms_subscribers * (full_u - full_g) * price)} "
            "a month for Ciechanów's worst case).",
            "",
            "## Limits the scenarios run into (not costs, but they decide whether it works)",
            "",
            "| scenario | SNS subscriptions with a filter policy on the `emergency` topic (SMS + "
            "devices) | daily device check (housekeeping): devices × "
            f"{u('push_check_s')} s | function timeout |",
            "|---|---:|---:|---:|"]
    timeout = lambda_timeout()
    for s in SCENARIOS:
        check_s = s.app_devices * u("push_check_s")
        out.append(f"| {s.name} | {n(s.sms_subscribers + s.app_devices)} | {n(check_s)} s | "
                   f"{timeout} s{' (too short)' if check_s > timeout else ''} |")
    out += ["",
            "Every SMS number and every app device is subscribed to the `emergency` topic with "
            "its own filter policy: AWS's default quota is 200 filter policies per topic "
            "(docs/operations.md#sns-filter-policy-quota-before-importing-the-1500 asks for "
            "10,000). Ciechanów's 1,500 numbers and 10,000 app devices are already above that; "
            "check the current per-topic and per-account quotas before the app is launched. "
            "The daily check of push endpoints (`subscriptions.prune_disabled_endpoints`) calls "
            "SNS once per device in one invocation: beyond a few thousand devices it needs "
            "more time than the function has (Lambda's maximum is 900 s) or must work in "
            "batches. Both are design limits of the code as it is, not priced here.",
            "",
            "## Summary",
            "",
            "| scenario | infrastructure | typical month | worst month | per resident a year "
            "(typical) |",
            "|---|---:|---:|---:|---:|"]
    for s, typical_total, worst_total, infra_total in summary:
        out.append(f"| {s.name} | {usd(infra_total)} | {usd(typical_total)} | "
                   f"{usd(worst_total)} | {typical_total * 12 / s.residents:.3f} |")
    monthly_sms_worst = CIECHANOW.alerts * CIECHANOW.sms_subscribers * parts * price
    out += ["",
            "SMS is nearly the whole bill; everything else costs a few dollars a month because "
            "nothing runs when nobody uses it. What moves the bill: alerts × subscribers reached "
            f"× parts. A resident who moves from SMS to the app or Web Push saves "
            f"{usd(CIECHANOW.alerts * CIECHANOW.reach * parts * price)}–"
            f"{usd(CIECHANOW.alerts * parts * price)} a month (typical–worst, Ciechanów). Set "
            "the SMS spend limit (docs/operations.md#sms-spend-limit-and-the-sandbox) above the "
            f"worst month with room for emergencies, e.g. {usd(math.ceil(monthly_sms_worst * 2 / 50) * 50)} "
            "for Ciechanów (twice the worst month).",
            ""]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write docs/costs.md (the cost model).")
    parser.add_argument("--check", action="store_true",
                        help="exit 1 if docs/costs.md is not current; write nothing")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        if not DOC.exists() or DOC.read_text() != text:
            print("docs/costs.md is not current: run `make costs`", file=sys.stderr)
            return 1
        return 0
    DOC.write_text(text)
    print(f"costs: wrote {DOC}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
