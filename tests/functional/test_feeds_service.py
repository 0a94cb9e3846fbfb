"""Feed imports through run_feed: every adapter on real-format payloads, the reconcile rules,
and every misbehaviour leaving stored alerts untouched. Fetching is injected (no internet)."""
from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import Stack

EVENTS = Path(__file__).resolve().parents[1] / "events" / "feeds"
WARSAW = ZoneInfo("Europe/Warsaw")
NO_PRODUCTS = b'{"status": false, "message": "No products were found"}'
# a fixed "now" for hand-written payloads, so the same snapshot built twice is byte-identical
T0 = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
WRITES = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}


# ---- helpers ------------------------------------------------------------------------------------

def serve(status: int, body: bytes | str) -> Callable[[str], tuple[int, bytes]]:
    data = body.encode() if isinstance(body, str) else body
    return lambda url: (status, data)


def shifted(name: str) -> bytes:
    """A captured sample with its dates moved so the earliest one is tomorrow (9999 stays)."""
    text = (EVENTS / name).read_text(encoding="utf-8")
    found = [date.fromisoformat(d) for d in re.findall(r"\b(20\d\d-\d\d-\d\d)", text)]
    delta = date.today() + timedelta(days=1) - min(found)
    return re.sub(r"\b(20\d\d-\d\d-\d\d)",
                  lambda m: (date.fromisoformat(m[1]) + delta).isoformat(), text).encode()


def local(dt: datetime) -> str:
    """IMGW's time format: Warsaw local time without an offset."""
    return dt.astimezone(WARSAW).strftime("%Y-%m-%d %H:%M:%S")


def imgw_row(wid: str, event: str = "Silny wiatr", *, start_h: float = -2, end_h: float = 20,
             text: str = "Porywy wiatru do 75 km/h.", level: str = "1",
             teryt: list[str] | None = None) -> dict[str, Any]:
    t = T0
    return {"id": wid, "nazwa_zdarzenia": event, "stopien": level, "prawdopodobienstwo": "80",
            "obowiazuje_od": local(t + timedelta(hours=start_h)),
            "obowiazuje_do": local(t + timedelta(hours=end_h)),
            "opublikowano": local(t - timedelta(hours=3)), "tresc": text, "komentarz": "Brak.",
            "biuro": "Centralne Biuro Prognoz Meteorologicznych w Warszawie",
            "teryt": teryt or ["1401", "1402"]}


def imgw(*rows: dict[str, Any]) -> Callable[[str], tuple[int, bytes]]:
    return serve(200, json.dumps(list(rows), ensure_ascii=False))


def make_feed(feed_id: str, adapter: str, *, auto_publish: bool = False,
              **extra: Any) -> Any:
    from chalicelib.services import feeds

    body = {"adapter": adapter, "url": f"https://example.org/{feed_id}",
            "auto_publish": auto_publish, **extra}
    feeds.put(feed_id, body, "admin@local.test")
    return feeds.get_model(feed_id)


def run(feed_id: str, fetch: Callable[[str], tuple[int, bytes]]) -> dict[str, Any]:
    from chalicelib.services import feeds

    return feeds.run_feed(feeds.get_model(feed_id), fetch=fetch)


def feed_alerts(feed_id: str) -> list[dict[str, Any]]:
    from chalicelib.services import alerts

    return sorted((a for a in alerts.list_admin(None) if a["source"] == feed_id),
                  key=lambda a: a["created_at"])


def ledger(feed_id: str) -> list[dict[str, Any]]:
    from chalicelib.models.feeds import FeedItemModel

    return [row.attribute_values for row in FeedItemModel.query(feed_id)]


def all_versions() -> list[tuple[str, int]]:
    from chalicelib.models.alerts import AlertVersionModel

    return sorted((v.alert_id, int(v.version)) for v in AlertVersionModel.scan())


def topic_publishes() -> list[dict[str, Any]]:
    from infra.outbox import sns_backend, topic_publishes

    return list(topic_publishes(sns_backend()))


@pytest.fixture
def writes(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[str, str]]]:
    """Every DynamoDB write PynamoDB sends, as (operation, table) (a spy: the call still runs)."""
    from pynamodb.connection.base import Connection

    seen: list[tuple[str, str]] = []
    original = Connection._make_api_call

    def spy(self: Any, operation: str, kwargs: dict[str, Any]) -> Any:
        if operation in WRITES:
            table = kwargs.get("TableName") or ",".join(kwargs.get("RequestItems", {}))
            seen.append((operation, str(table)))
        return original(self, operation, kwargs)

    monkeypatch.setattr(Connection, "_make_api_call", spy)
    yield seen


# ---- every adapter on the sample payloads -------------------------------------------------------

RSO = {"items_path": "newses", "id": "id", "title": "title", "body": "content",
       "start": "valid_from", "end": "valid_to"}
SAMPLES = [
    # (adapter, sample, http status, options, expected alert titles, category, severity)
    ("imgw_meteo", "imgw_warningsmeteo_example.json", 200, {"teryt": ["2002"]},
     ["Burze – ostrzeżenie 1. stopnia"], "weather", "moderate"),
    ("imgw_meteo", "imgw_warningsmeteo_live_mazowieckie.json", 200, {"teryt": ["1401", "1413"]},
     ["Upał – ostrzeżenie 1. stopnia", "Gęsta mgła – ostrzeżenie 1. stopnia"], "weather",
     "moderate"),
    ("imgw_meteo", "imgw_warningsmeteo_live_mazowieckie.json", 200, {}, [], None, None),
    ("imgw_meteo", "imgw_warningsmeteo_empty_404.json", 404, {}, [], None, None),
    ("imgw_hydro", "imgw_warningshydro_live.json", 200, {"catchments": ["Radomka"]},
     ["Susza hydrologiczna: Radomka"], "weather", "minor"),
    ("imgw_hydro", "imgw_warningshydro_live.json", 200, {}, [], None, None),
    ("energa", "energa_shutdowns_shape.json", 200, {},
     ["Planowane wyłączenie prądu"], "electricity", "minor"),
    ("cap_atom", "meteoalarm_atom_poland_entry.xml", 200, {"geocode": ["PL1061"]},
     ["Yellow High-temperature Warning issued for Poland - Łódzkie Province Łódź County"],
     "other", "moderate"),  # the legacy Atom has no cap:category: the feed's setting decides
    ("json", "rso_komunikaty_example.json", 200, RSO, ["ALERT RCB - BURZE/2"], "other",
     "unknown"),
]


@pytest.mark.parametrize(("adapter", "name", "status", "options", "titles", "category",
                          "severity"), SAMPLES, ids=[f"{s[0]}:{s[1]}:{i}"
                                                     for i, s in enumerate(SAMPLES)])
def test_each_adapter_imports_its_sample_and_a_rerun_changes_nothing(
        stack: Stack, adapter: str, name: str, status: int, options: dict[str, Any],
        titles: list[str], category: str | None, severity: str | None) -> None:
    make_feed("f1", adapter, options=options)
    payload = shifted(name) if status == 200 else (EVENTS / name).read_bytes()
    first = run("f1", serve(status, payload))
    assert first["ok"], first
    assert first["created"] == len(titles), first
    got = feed_alerts("f1")
    # Energa's title carries the outage window: "Planowane wyłączenie prądu 26.11.2026 08:00–14:00"
    assert sorted(re.sub(r" \d.*$", "", a["title"]["pl"]) if adapter == "energa"
                  else a["title"]["pl"] for a in got) == sorted(titles)
    for a in got:
        assert a["status"] == "draft" and a["source"] == "f1"
        assert a["category"] == category and a["severity"] == severity
        assert a["body"]["pl"] and a["expires_at"]
    before = (ledger("f1"), all_versions(), [a["updated_at"] for a in feed_alerts("f1")])
    again = run("f1", serve(status, payload))
    assert again["created"] == again["updated"] == again["cancelled"] == 0
    assert again["unchanged"] == len(titles)
    assert (ledger("f1"), all_versions(), [a["updated_at"] for a in feed_alerts("f1")]) == before


def test_energa_keeps_the_street_text_and_the_outage_window(stack: Stack) -> None:
    make_feed("energa", "energa", category="electricity")
    run("energa", serve(200, shifted("energa_shutdowns_shape.json")))
    (alert,) = feed_alerts("energa")
    assert alert["body"]["pl"] == "Ciechanów ulice Przykładowa 1, 3, od 5 do 9"
    assert alert["starts_at"].endswith(("+02:00", "+01:00"))
    assert alert["title"]["pl"].endswith("08:00–14:00")


def test_hydro_warning_until_further_notice_gets_the_feeds_default_validity(stack: Stack) -> None:
    make_feed("hydro", "imgw_hydro", options={"catchments": ["Radomka"], "default_hours": 72})
    run("hydro", serve(200, shifted("imgw_warningshydro_live.json")))
    (alert,) = feed_alerts("hydro")
    from chalicelib.services.clock import parse_iso

    length = parse_iso(alert["expires_at"]) - parse_iso(alert["starts_at"])
    assert length == timedelta(hours=72)


def test_local_stack_samples_import_for_ciechanow(stack: Stack,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """The payloads `make run` serves: each seeded adapter finds Ciechanów's items in them."""
    from chalicelib.services import feeds
    from chalicelib.settings import reset_settings

    monkeypatch.setenv("STAGE", "local")  # http:// to the local web server is allowed there
    reset_settings()
    from infra.local import dev_feed

    feeds.seed_feeds(local_base="http://127.0.0.1:8080")
    expected = {"imgw-meteo": 1, "imgw-hydro": 1, "energa-plock": 1, "meteoalarm-pl": 1,
                "pwik-ciechanow": 1}
    for f in feeds.list_feeds():
        assert f["enabled"] and f["url"].startswith("http://127.0.0.1:8080/dev/feeds/")
        payload = dev_feed(f["url"].split("8080", 1)[1])
        assert payload is not None, f["url"]
        out = feeds.run_feed(f["id"], fetch=serve(200, payload))
        assert out["ok"] and out["created"] == expected[f["id"]], (f["id"], out)
    water = feed_alerts("pwik-ciechanow")[0]
    assert water["category"] == "water"
    assert "<" not in water["body"]["pl"] and "Kopernika 1–15" in water["body"]["pl"]


# ---- the reconcile rules ------------------------------------------------------------------------

def test_rerun_of_the_same_snapshot_writes_nothing_and_sends_nothing(
        stack: Stack, writes: list[tuple[str, str]]) -> None:
    make_feed("meteo", "imgw_meteo", auto_publish=True)
    snapshot = imgw(imgw_row("Wa1"), imgw_row("Wa2", "Oblodzenie"))
    out = run("meteo", snapshot)
    assert out["created"] == 2
    assert {a["status"] for a in feed_alerts("meteo")} == {"published"}
    stack.drain_fanout()
    sent = len(topic_publishes())
    assert sent == 2
    before = (ledger("meteo"), all_versions(), feed_alerts("meteo"))

    writes.clear()
    again = run("meteo", snapshot)
    assert again == {**again, "created": 0, "updated": 0, "cancelled": 0, "unchanged": 2}
    stack.drain_fanout()
    assert len(topic_publishes()) == sent
    assert (ledger("meteo"), all_versions(), feed_alerts("meteo")) == before
    # only the feed's own run record (lease, last run) is written; no alert, ledger or audit write
    assert writes and {table for _, table in writes} == {"informator-feeds"}


def test_changed_item_becomes_a_new_version_that_residents_get(stack: Stack) -> None:
    make_feed("meteo", "imgw_meteo", auto_publish=True)
    run("meteo", imgw(imgw_row("Wa1")))
    stack.drain_fanout()
    out = run("meteo", imgw(imgw_row("Wa1", text="Porywy wiatru do 90 km/h.", level="2")))
    assert out["updated"] == 1 and out["created"] == 0
    (alert,) = feed_alerts("meteo")
    assert alert["version"] == 2 and alert["msg_type"] == "update"
    assert alert["severity"] == "severe" and "90 km/h" in alert["body"]["pl"]
    stack.drain_fanout()
    assert len(topic_publishes()) == 2


def test_imgw_update_under_a_new_id_updates_the_same_alert(stack: Stack) -> None:
    make_feed("meteo", "imgw_meteo", auto_publish=True)
    run("meteo", imgw(imgw_row("Wa20261125A", end_h=10)))
    (first,) = feed_alerts("meteo")
    stack.drain_fanout()
    # IMGW re-issues the warning (longer, stronger) under a new id; the old id disappears
    out = run("meteo", imgw(imgw_row("Wa20261125B", end_h=30, level="2")))
    assert out == {**out, "created": 0, "updated": 1, "cancelled": 0}
    (alert,) = feed_alerts("meteo")
    assert alert["id"] == first["id"]
    assert alert["version"] == 2 and alert["status"] == "published"
    assert alert["msg_type"] == "update" and alert["severity"] == "severe"
    assert alert["expires_at"] != first["expires_at"]
    rows = {r["external_id"]: r for r in ledger("meteo")}
    assert rows["Wa20261125A"]["state"] == "superseded"
    assert rows["Wa20261125B"]["state"] == "active"
    assert rows["Wa20261125B"]["alert_id"] == first["id"]
    stack.drain_fanout()
    assert len(topic_publishes()) == 2  # the alert and its update; no cancellation


def test_a_different_event_with_a_new_id_is_a_new_alert_and_the_old_one_ends(stack: Stack) -> None:
    make_feed("meteo", "imgw_meteo", auto_publish=True)
    run("meteo", imgw(imgw_row("Wa1", "Silny wiatr")))
    out = run("meteo", imgw(imgw_row("Wa2", "Intensywne opady deszczu")))
    assert out == {**out, "created": 1, "updated": 0, "cancelled": 1}
    statuses = {a["title"]["pl"].split(" –")[0]: a["status"] for a in feed_alerts("meteo")}
    assert statuses == {"Silny wiatr": "cancelled", "Intensywne opady deszczu": "published"}


def test_item_gone_from_a_complete_snapshot_is_cancelled(stack: Stack) -> None:
    make_feed("meteo", "imgw_meteo", auto_publish=True)
    run("meteo", imgw(imgw_row("Wa1"), imgw_row("Wa2", "Oblodzenie")))
    stack.drain_fanout()
    out = run("meteo", imgw(imgw_row("Wa2", "Oblodzenie")))
    assert out == {**out, "cancelled": 1, "unchanged": 1, "created": 0, "updated": 0}
    by_title = {a["title"]["pl"].split(" –")[0]: a for a in feed_alerts("meteo")}
    assert by_title["Silny wiatr"]["status"] == "cancelled"
    assert by_title["Silny wiatr"]["msg_type"] == "cancel"
    assert by_title["Oblodzenie"]["status"] == "published"
    stack.drain_fanout()
    assert len(topic_publishes()) == 3  # two alerts and one cancellation
    again = run("meteo", imgw(imgw_row("Wa2", "Oblodzenie")))
    assert again["cancelled"] == 0 and again["unchanged"] == 1


def test_no_products_found_cancels_every_active_imgw_alert_of_the_feed(stack: Stack) -> None:
    make_feed("meteo", "imgw_meteo", auto_publish=True)
    make_feed("other", "imgw_meteo", auto_publish=True)
    run("meteo", imgw(imgw_row("Wa1"), imgw_row("Wa2", "Oblodzenie")))
    run("other", imgw(imgw_row("Wa9", "Upał")))
    out = run("meteo", serve(404, NO_PRODUCTS))
    assert out["ok"] and out["cancelled"] == 2
    assert {a["status"] for a in feed_alerts("meteo")} == {"cancelled"}
    assert {a["status"] for a in feed_alerts("other")} == {"published"}


def test_items_of_feeds_where_absence_is_no_news_stay(stack: Stack) -> None:
    make_feed("rso", "json", options=RSO)
    run("rso", serve(200, shifted("rso_komunikaty_example.json")))
    out = run("rso", serve(200, json.dumps({"newses": []})))
    assert out["ok"] and out["cancelled"] == 0
    assert [a["status"] for a in feed_alerts("rso")] == ["draft"]


MISBEHAVIOUR = [
    ("other 404", serve(404, b'{"status": false, "message": "Not found"}')),
    ("404 html", serve(404, b"<html>Not Found</html>")),
    ("500", serve(500, b"Internal Server Error")),
    ("503 no products body", serve(503, NO_PRODUCTS)),
    ("malformed JSON", serve(200, b'[{"id": "Wa1", ')),
    ("wrong schema", serve(200, b'{"warnings": []}')),
    ("row without teryt", serve(200, b'[{"id": "Wa3", "nazwa_zdarzenia": "Burze"}]')),
    ("empty body", serve(200, b"")),
]


@pytest.mark.parametrize(("label", "fetch"), MISBEHAVIOUR, ids=[m[0] for m in MISBEHAVIOUR])
def test_a_misbehaving_source_changes_no_alert_and_records_the_error(
        stack: Stack, label: str, fetch: Callable[[str], tuple[int, bytes]]) -> None:
    from chalicelib.services import feeds

    make_feed("meteo", "imgw_meteo", auto_publish=True)
    run("meteo", imgw(imgw_row("Wa1"), imgw_row("Wa2", "Oblodzenie")))
    stack.drain_fanout()
    ok = feeds.get("meteo")
    before = (ledger("meteo"), all_versions(), feed_alerts("meteo"), len(topic_publishes()))
    out = run("meteo", fetch)
    assert not out["ok"] and out["errors"]
    out = run("meteo", fetch)
    stack.drain_fanout()
    assert (ledger("meteo"), all_versions(), feed_alerts("meteo"), len(topic_publishes())) == before
    state = feeds.get("meteo")
    assert state["last_error"] and state["consecutive_failures"] == 2
    assert state["last_success_at"] == ok["last_success_at"]
    assert state["last_item_count"] == 2
    # the next good run clears the error
    run("meteo", imgw(imgw_row("Wa1"), imgw_row("Wa2", "Oblodzenie")))
    assert feeds.get("meteo")["last_error"] is None
    assert feeds.get("meteo")["consecutive_failures"] == 0


def test_network_failures_and_oversized_answers_change_nothing(stack: Stack) -> None:
    from chalicelib.services import feeds

    make_feed("meteo", "imgw_meteo", auto_publish=True)
    run("meteo", imgw(imgw_row("Wa1")))
    before = (ledger("meteo"), all_versions(), feed_alerts("meteo"))

    def timeout(url: str) -> tuple[int, bytes]:
        raise feeds.FetchError("TimeoutError: timed out")

    out = run("meteo", timeout)
    assert not out["ok"] and "timed out" in feeds.get("meteo")["last_error"]
    assert (ledger("meteo"), all_versions(), feed_alerts("meteo")) == before


def test_xml_bomb_in_a_cap_feed_is_refused(stack: Stack) -> None:
    from chalicelib.services import feeds

    make_feed("cap", "cap_atom")
    bomb = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
            b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
            b'<feed xmlns="http://www.w3.org/2005/Atom"><title>&lol2;</title></feed>')
    out = run("cap", serve(200, bomb))
    assert not out["ok"] and "refused" in feeds.get("cap")["last_error"]
    assert feed_alerts("cap") == []


def test_auto_publish_off_creates_drafts_and_changes_edit_the_draft(stack: Stack) -> None:
    make_feed("meteo", "imgw_meteo", auto_publish=False)
    run("meteo", imgw(imgw_row("Wa1")))
    (draft,) = feed_alerts("meteo")
    assert draft["status"] == "draft" and draft["version"] == 0
    out = run("meteo", imgw(imgw_row("Wa1", text="Porywy do 100 km/h.")))
    assert out["updated"] == 1
    (draft,) = feed_alerts("meteo")
    assert draft["status"] == "draft" and "100 km/h" in draft["body"]["pl"]
    stack.drain_fanout()
    assert topic_publishes() == []
    # a draft whose warning disappears is withdrawn, and nothing is sent
    run("meteo", serve(404, NO_PRODUCTS))
    assert feed_alerts("meteo")[0]["status"] == "cancelled"
    stack.drain_fanout()
    assert topic_publishes() == []


def test_a_warning_the_staff_cancelled_is_not_brought_back(stack: Stack) -> None:
    from chalicelib.services import alerts

    make_feed("meteo", "imgw_meteo", auto_publish=True)
    run("meteo", imgw(imgw_row("Wa1")))
    (alert,) = feed_alerts("meteo")
    alerts.cancel(alert["id"], "publisher@local.test")
    out = run("meteo", imgw(imgw_row("Wa1", text="Zmieniona treść.")))
    assert out["created"] == 0
    assert [a["status"] for a in feed_alerts("meteo")] == ["cancelled"]


def cap_alert(identifier: str, msg_type: str, *, references: str = "",
              headline: str = "Ostrzeżenie: silny wiatr") -> str:
    t = datetime.now(UTC)
    refs = f"<references>{references}</references>" if references else ""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><id>tag:test</id>
<entry><id>{identifier}</id><title>{headline}</title><content type="text/xml">
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
 <identifier>{identifier}</identifier><sender>imgw@imgw.pl</sender>
 <sent>{t.isoformat(timespec='seconds')}</sent><status>Actual</status>
 <msgType>{msg_type}</msgType><scope>Public</scope>{refs}
 <info><language>pl-PL</language><category>Met</category><event>Silny wiatr</event>
  <urgency>Expected</urgency><severity>Severe</severity><certainty>Likely</certainty>
  <onset>{(t - timedelta(hours=1)).isoformat(timespec='seconds')}</onset>
  <expires>{(t + timedelta(hours=12)).isoformat(timespec='seconds')}</expires>
  <headline>{headline}</headline><description>Porywy wiatru do 90 km/h.</description>
  <area><areaDesc>powiat ciechanowski</areaDesc>
   <geocode><valueName>EMMA_ID</valueName><value>PL1402</value></geocode></area>
 </info></alert></content></entry></feed>"""


def test_cap_update_and_cancel_are_honoured(stack: Stack) -> None:
    make_feed("cap", "cap_atom", auto_publish=True, options={"geocode": ["PL1402"]})
    run("cap", serve(200, cap_alert("A1", "Alert")))
    (alert,) = feed_alerts("cap")
    assert alert["severity"] == "severe" and alert["category"] == "weather"
    out = run("cap", serve(200, cap_alert("A2", "Update", references="imgw@imgw.pl,A1,2026",
                                          headline="Ostrzeżenie: bardzo silny wiatr")))
    assert out["updated"] == 1 and out["created"] == 0
    (alert,) = feed_alerts("cap")
    assert alert["version"] == 2 and alert["title"]["pl"] == "Ostrzeżenie: bardzo silny wiatr"
    # absence alone ends nothing in a CAP feed; an explicit Cancel does
    out = run("cap", serve(200, '<feed xmlns="http://www.w3.org/2005/Atom"><id>x</id></feed>'))
    assert out["ok"] and out["cancelled"] == 0
    out = run("cap", serve(200, cap_alert("A3", "Cancel", references="imgw@imgw.pl,A2,2026")))
    assert out["cancelled"] == 1
    (alert,) = feed_alerts("cap")
    assert alert["status"] == "cancelled" and alert["msg_type"] == "cancel"
    again = run("cap", serve(200, cap_alert("A3", "Cancel", references="imgw@imgw.pl,A2,2026")))
    assert again["cancelled"] == 0 and again["unchanged"] == 1


def test_feed_text_is_stored_as_plain_text(stack: Stack) -> None:
    make_feed("js", "json", options={"items_path": "items", "id": "id", "title": "t",
                                     "body": "b", "end": "end"})
    end = (datetime.now(UTC) + timedelta(days=1)).isoformat(timespec="seconds")
    payload = {"items": [{"id": "1", "t": "<b>Awaria</b> sieci",
                          "b": "<p>Brak wody</p><script>alert(1)</script><p>ul. Długa &amp; "
                               "Krótka</p>", "end": end}]}
    run("js", serve(200, json.dumps(payload)))
    (alert,) = feed_alerts("js")
    assert alert["title"]["pl"] == "Awaria sieci"
    assert alert["body"]["pl"] == "Brak wody\n\nul. Długa & Krótka"


def test_items_already_over_are_skipped_without_writing(stack: Stack) -> None:
    make_feed("meteo", "imgw_meteo")
    out = run("meteo", imgw(imgw_row("Wa1", start_h=-30, end_h=-5)))
    assert out["ok"] and out["skipped"] == 1 and out["created"] == 0
    assert ledger("meteo") == [] and feed_alerts("meteo") == []


# ---- scale ---------------------------------------------------------------------------------------

def test_a_1000_item_json_feed_imports_in_one_run_and_reruns_with_zero_item_writes(
        stack: Stack, writes: list[tuple[str, str]]) -> None:
    make_feed("big", "json", options={"items_path": "items", "id": "id", "title": "title",
                                      "body": "body", "end": "end"}, category="other")
    end = (datetime.now(UTC) + timedelta(days=2)).isoformat(timespec="seconds")
    payload = json.dumps({"items": [{"id": f"n{i}", "title": f"Komunikat {i}",
                                     "body": f"Treść komunikatu nr {i}.", "end": end}
                                    for i in range(1000)]})
    t0 = time.monotonic()
    out = run("big", serve(200, payload))
    first_s = time.monotonic() - t0
    assert out["ok"] and out["created"] == 1000, out
    first_writes = len(writes)
    writes.clear()
    t0 = time.monotonic()
    again = run("big", serve(200, payload))
    rerun_s = time.monotonic() - t0
    assert again["unchanged"] == 1000 and again["created"] == again["updated"] == 0
    assert {table for _, table in writes} == {"informator-feeds"}, writes[:5]
    assert len(writes) == 2  # the run's lease and its result, whatever the feed's size
    print(f"\n1000-item feed: first run {first_s:.1f}s ({first_writes} writes), "
          f"re-run {rerun_s:.2f}s ({len(writes)} writes, feed record only)")


# ---- schedule and seed --------------------------------------------------------------------------

def test_run_due_feeds_runs_what_is_due_and_a_failing_feed_does_not_stop_the_others(
        stack: Stack) -> None:
    from chalicelib.services import feeds

    make_feed("a-broken", "imgw_meteo", schedule=5)
    make_feed("b-good", "imgw_meteo", schedule=60, auto_publish=True)
    make_feed("c-off", "imgw_meteo", enabled=False)

    def fetch(url: str) -> tuple[int, bytes]:
        if url.endswith("a-broken"):
            return 502, b"Bad Gateway"
        return 200, json.dumps([imgw_row("Wa1")]).encode()

    t = datetime.now(UTC)
    runs = {r["feed"]: r for r in feeds.run_due_feeds(t, fetch=fetch)}
    assert set(runs) == {"a-broken", "b-good"}
    assert not runs["a-broken"]["ok"] and runs["b-good"]["created"] == 1
    assert feeds.run_due_feeds(t + timedelta(minutes=1), fetch=fetch) == []
    later = {r["feed"] for r in feeds.run_due_feeds(t + timedelta(minutes=6), fetch=fetch)}
    assert later == {"a-broken"}
    assert {r["feed"] for r in feeds.run_due_feeds(t + timedelta(minutes=61), fetch=fetch)} == {
        "a-broken", "b-good"}


def test_a_feed_runs_once_at_a_time(stack: Stack) -> None:
    from chalicelib.errors import Conflict
    from chalicelib.services import feeds

    make_feed("meteo", "imgw_meteo")
    inner: list[Any] = []

    def fetch(url: str) -> tuple[int, bytes]:
        with pytest.raises(Conflict):
            feeds.run_feed("meteo", fetch=serve(200, b"[]"))
        inner.append(True)
        return 200, json.dumps([imgw_row("Wa1")]).encode()

    assert run("meteo", fetch)["created"] == 1 and inner == [True]
    assert run("meteo", imgw(imgw_row("Wa1")))["unchanged"] == 1  # the lease was released


def test_schedule_handler_imports_due_feeds(stack: Stack) -> None:
    from chalicelib.events import feeds as feed_events
    from chalicelib.models.feeds import FeedModel
    from chalicelib.services import feeds

    make_feed("meteo", "imgw_meteo", enabled=False)
    # stored before the rules forbade it: the fetch refuses it without opening a connection
    FeedModel(id="refused", adapter="imgw_meteo", url="https://10.0.0.1/w").save()
    from infra.local import schedule_event

    out = feed_events.import_feeds(schedule_event(), None)
    assert out == {**out, "ran": 1, "failed": ["refused"]}
    assert "private or loopback" in feeds.get("refused")["last_error"]
    # the refused feed never succeeded: it is as stale as it is old, which the alarm sees
    later = datetime.now(UTC) + timedelta(hours=2)
    assert feeds.stale_minutes(later) >= 119


def test_seed_feeds_for_ciechanow(stack: Stack) -> None:
    from chalicelib.services import feeds

    assert set(feeds.seed_feeds()) == {"imgw-meteo", "imgw-hydro", "energa-plock",
                                       "meteoalarm-pl", "pwik-ciechanow"}
    assert feeds.seed_feeds() == []  # idempotent: an admin's changes are kept
    by_id = {f["id"]: f for f in feeds.list_feeds()}
    assert by_id["imgw-meteo"]["options"] == {"teryt": ["1402"]}
    assert by_id["imgw-meteo"]["enabled"] and by_id["imgw-hydro"]["enabled"]
    assert by_id["imgw-hydro"]["options"]["catchments"] == ["Łydynia", "Wkra"]
    for f in by_id.values():
        assert f["url"].startswith("https://")
        if "PLACEHOLDER" in f["url"]:
            assert not f["enabled"], f["id"]
