"""Feed adapters against captured samples and hand-written payloads of the same shape."""

from __future__ import annotations

import dataclasses
import importlib
import json
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib.feeds import ADAPTERS, FeedError, FeedItem, get_adapter

SHARED = Path(__file__).resolve().parents[3] / "shared/samples/feeds"
EVENTS = Path(__file__).resolve().parents[1] / "events/feeds"  # copies: CI clones only the repo
SAMPLE_FILES = sorted(p.name for p in EVENTS.iterdir()) if EVENTS.is_dir() else []
MODULES = {
    "imgw_meteo": "imgw_meteo",
    "imgw_hydro": "imgw_hydro",
    "energa": "energa",
    "cap_atom": "cap_atom",
    "rss": "rss",
    "json": "json_feed",
}
RSO_OPTIONS = {
    "items_path": "newses",
    "id": "id",
    "title": "title",
    "body": "content",
    "start": "valid_from",
    "end": "valid_to",
}
# options each adapter gets in the property tests
FUZZ_OPTIONS: dict[str, dict[str, Any]] = {
    "imgw_meteo": {},
    "imgw_hydro": {},
    "energa": {},
    "cap_atom": {"geocode": ["PL1402", "1402"]},
    "rss": {},
    "json": RSO_OPTIONS,
}


def sample(name: str) -> bytes:
    return (EVENTS / name).read_bytes()


def run(
    adapter: str, payload: bytes | str | Any, status: int = 200, /, **options: Any
) -> list[FeedItem]:
    if isinstance(payload, str):
        payload = payload.encode("utf-8")
    elif not isinstance(payload, bytes):
        payload = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    return get_adapter(adapter)(payload, status, options)


# ------------------------------------------------------------------------ the interface


def test_adapter_names() -> None:
    assert set(ADAPTERS) == set(MODULES)
    for name in MODULES:
        assert callable(get_adapter(name))


def test_unknown_adapter_is_a_feed_error() -> None:
    with pytest.raises(FeedError, match="unknown feed adapter"):
        get_adapter("nope")


def test_importing_the_package_loads_no_parser() -> None:
    code = (
        "import sys, chalicelib.feeds as f; "
        "assert 'feedparser' not in sys.modules, 'feedparser'; "
        "assert not [m for m in sys.modules if m.startswith('defusedxml')], 'defusedxml'; "
        "assert not [m for m in sys.modules if m.startswith('chalicelib.feeds.')], 'adapters'"
    )
    root = Path(__file__).resolve().parents[2]
    subprocess.run([sys.executable, "-c", code], cwd=root, check=True)


def test_feed_item_is_frozen_and_hashed() -> None:
    item = FeedItem("a", "Tytuł", "Treść", "2026-01-01T00:00:00+01:00", None)
    assert len(item.raw_hash) == 64
    assert (
        item.raw_hash == FeedItem("a", "Tytuł", "Treść", "2026-01-01T00:00:00+01:00", None).raw_hash
    )
    assert item.raw_hash != dataclasses.replace(item, body="Inna", raw_hash="").raw_hash
    assert (item.severity, item.msg_type, item.references, item.districts) == (
        "unknown",
        "alert",
        (),
        (),
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        item.title = "x"  # type: ignore[misc]
    with pytest.raises(ValueError):
        FeedItem("a", "t", "b", None, None, severity="huge")


@pytest.mark.skipif(not SHARED.is_dir(), reason="shared samples not available (CI)")
@pytest.mark.parametrize("name", SAMPLE_FILES)
def test_sample_copies_match_the_shared_samples(name: str) -> None:
    assert (EVENTS / name).read_bytes() == (SHARED / name).read_bytes()


# ---------------------------------------------------------------------------- imgw_meteo


def meteo(
    wid: str,
    teryt: list[str],
    *,
    event: str = "Oblodzenie",
    level: str = "1",
    start: str = "2026-01-10 06:00:00",
    end: str = "2026-01-10 12:00:00",
) -> dict[str, Any]:
    return {
        "id": wid,
        "nazwa_zdarzenia": event,
        "stopien": level,
        "prawdopodobienstwo": "85",
        "obowiazuje_od": start,
        "obowiazuje_do": end,
        "opublikowano": "2026-01-09 21:00:00",
        "tresc": "Prognozuje się zamarzanie mokrej nawierzchni dróg i chodników.",
        "komentarz": "Brak.",
        "biuro": "Centralne Biuro Prognoz Meteorologicznych w Warszawie",
        "teryt": teryt,
    }


def test_imgw_meteo_live_sample_has_nothing_for_ciechanow() -> None:
    # the captured Mazovian warnings cover neighbouring counties, not 1402
    assert run("imgw_meteo", sample("imgw_warningsmeteo_live_mazowieckie.json")) == []


def test_imgw_meteo_live_sample_filtered_by_other_counties() -> None:
    payload = sample("imgw_warningsmeteo_live_mazowieckie.json")
    (heat,) = run("imgw_meteo", payload, teryt="1401")
    assert heat.external_id == "Gd20260814094219487"
    assert heat.title == "Upał – ostrzeżenie 1. stopnia"
    assert heat.severity == "moderate"
    assert heat.starts_at == "2026-08-15T13:00:00+02:00"
    assert heat.expires_at == "2026-08-16T21:00:00+02:00"
    assert heat.body.startswith("Prognozuje się upał.")
    assert "Prawdopodobieństwo: 80%." in heat.body
    assert heat.correlation_key == "imgw_meteo:upal:1401"
    assert heat.category == "weather"
    both = run("imgw_meteo", payload, teryt=["1401", "1413"])
    assert [i.title for i in both] == [
        "Upał – ostrzeżenie 1. stopnia",
        "Gęsta mgła – ostrzeżenie 1. stopnia",
    ]


def test_imgw_meteo_example_sample() -> None:
    payload = sample("imgw_warningsmeteo_example.json")
    assert run("imgw_meteo", payload) == []
    (storm,) = run("imgw_meteo", payload, teryt="2061")
    assert storm.title == "Burze – ostrzeżenie 1. stopnia"
    assert (storm.starts_at, storm.expires_at) == (
        "2026-08-10T19:00:00+02:00",
        "2026-08-11T03:00:00+02:00",
    )
    assert "Brak" not in storm.body  # an empty comment is not shown


def test_imgw_meteo_keeps_only_the_county() -> None:
    payload = [
        meteo("Wa20260109210000001", ["1401", "1402", "1403"], level="2"),
        meteo("Wa20260109210000002", ["1403", "1405"], event="Silny wiatr", level="3"),
    ]
    (ice,) = run("imgw_meteo", payload)
    assert ice.external_id == "Wa20260109210000001"
    assert ice.title == "Oblodzenie – ostrzeżenie 2. stopnia"
    assert ice.severity == "severe"
    assert ice.starts_at == "2026-01-10T06:00:00+01:00"  # winter: CET
    assert ice.expires_at == "2026-01-10T12:00:00+01:00"
    assert ice.correlation_key == "imgw_meteo:oblodzenie:1402"
    assert ice.msg_type == "alert"
    (wind,) = run("imgw_meteo", payload, teryt="1405")
    assert wind.severity == "extreme"


def test_imgw_meteo_updated_warning_shares_the_correlation_key() -> None:
    old = run("imgw_meteo", [meteo("Wa1", ["1402"])])
    new = run("imgw_meteo", [meteo("Wa2", ["1402"], level="2", end="2026-01-10 18:00:00")])
    assert old[0].external_id != new[0].external_id
    assert old[0].correlation_key == new[0].correlation_key
    assert old[0].raw_hash != new[0].raw_hash


def test_imgw_meteo_order_does_not_matter() -> None:
    rows = [meteo(f"Wa{i}", ["1402", "1403", "1404", "1401"]) for i in range(5)]
    first = run("imgw_meteo", rows)
    shuffled = [dict(r, teryt=random.sample(r["teryt"], 4)) for r in random.sample(rows, 5)]
    assert run("imgw_meteo", shuffled) == first
    assert [i.external_id for i in first] == [f"Wa{i}" for i in range(5)]


def test_imgw_meteo_dst_gap_and_summer_time() -> None:
    (item,) = run(
        "imgw_meteo",
        [meteo("Wa3", ["1402"], start="2026-03-29 02:30:00", end="2026-10-25 02:30:00")],
    )
    assert item.starts_at == "2026-03-29T03:30:00+02:00"  # 02:30 does not exist that night
    assert item.expires_at == "2026-10-25T02:30:00+02:00"  # the first of the two 02:30s


def test_imgw_meteo_404_no_products_means_zero_warnings() -> None:
    assert run("imgw_meteo", sample("imgw_warningsmeteo_empty_404.json"), 404) == []
    assert run("imgw_meteo", '{"status":false,"message":"No products were found"}', 404) == []


@pytest.mark.parametrize(
    "body",
    [
        '{"status":false,"message":"Not found"}',
        "<html><body>404 Not Found</body></html>",
        "",
        "[]",
    ],
)
def test_imgw_meteo_any_other_404_is_an_error(body: str) -> None:
    with pytest.raises(FeedError, match="404"):
        run("imgw_meteo", body, 404)


@pytest.mark.parametrize(
    ("payload", "status"),
    [
        (b'[{"id": "x"', 200),
        (b"\xff\xfe\x00garbage", 200),
        (b'{"warnings": []}', 200),
        (json.dumps([{"id": "Wa1", "teryt": "1402"}]).encode(), 200),
        (json.dumps([dict(meteo("Wa1", ["1402"]), obowiazuje_od="jutro")]).encode(), 200),
        (json.dumps([dict(meteo("Wa1", ["1403"]), id=None)]).encode(), 200),  # other county too
        (json.dumps([meteo("Wa1", ["1402"])]).encode(), 500),
    ],
)
def test_imgw_meteo_malformed_payload_is_a_feed_error(payload: bytes, status: int) -> None:
    with pytest.raises(FeedError):
        get_adapter("imgw_meteo")(payload, status, {})


def test_imgw_meteo_bad_option_is_a_feed_error() -> None:
    with pytest.raises(FeedError, match="teryt"):
        run("imgw_meteo", [meteo("Wa1", ["1402"])], teryt=1402)


# ---------------------------------------------------------------------------- imgw_hydro


def hydro(
    number: str, description: str, *, level: str = "2", diacritics: bool = True
) -> dict[str, Any]:
    row = {
        "opublikowano": "2026-02-03 10:15:00",
        "stopień" if diacritics else "stopien": level,
        "data_od": "2026-02-03 12:00:00",
        "data_do": "2026-02-05 12:00:00",
        "prawdopodobieństwo" if diacritics else "prawdopodobienstwo": "80",
        "numer": number,
        "biuro": "Biuro Prognoz Hydrologicznych w Krakowie, Wydział Prognoz i Opracowań Hydrologicznych w Warszawie",
        "zdarzenie": "Wezbranie z przekroczeniem stanów ostrzegawczych",
        "przebieg": "Prognozowane są wzrosty stanów wody powyżej stanów ostrzegawczych.",
        "komentarz": "Brak.",
        "obszary": [
            {"województwo": "mazowieckie", "opis": description, "kod_zlewni": ["Z_W_MA_1"]}
        ],
    }
    return row


def test_imgw_hydro_live_sample_is_another_catchment() -> None:
    assert run("imgw_hydro", sample("imgw_warningshydro_live.json")) == []  # Radomka


def test_imgw_hydro_live_sample_with_its_catchment() -> None:
    (drought,) = run("imgw_hydro", sample("imgw_warningshydro_live.json"), catchments=["RADOMKA"])
    assert drought.external_id == (
        "2026-72-biuro-prognoz-hydrologicznych-w-krakowie-"
        "wydzial-prognoz-i-opracowan-hydrologicznych-w-warszawie"
    )
    assert drought.title == "Susza hydrologiczna: RADOMKA"
    assert drought.severity == "minor"
    assert drought.starts_at == "2026-04-24T09:30:00+02:00"
    assert drought.expires_at is None  # 9999-12-31: until further notice
    assert "Prawdopodobieństwo: 100%." in drought.body  # key without diacritics


def test_imgw_hydro_example_sample_is_another_voivodeship() -> None:
    assert run("imgw_hydro", sample("imgw_warningshydro_example.json")) == []


def test_imgw_hydro_keeps_only_the_catchments() -> None:
    payload = [
        hydro("15", "mazowieckie, Wkra od Żuromina do ujścia, wezbranie"),
        hydro("16", "mazowieckie, LYDYNIA, wezbranie", level="1", diacritics=False),
        hydro("17", "mazowieckie, Narew, wezbranie", level="3"),
        hydro("18", "mazowieckie, Wkrała, wezbranie"),  # a different word
    ]
    items = run("imgw_hydro", payload)
    assert [i.title for i in items] == [
        "Wezbranie z przekroczeniem stanów ostrzegawczych – ostrzeżenie 2. stopnia: Wkra",
        "Wezbranie z przekroczeniem stanów ostrzegawczych – ostrzeżenie 1. stopnia: Łydynia",
    ]
    assert [i.severity for i in items] == ["severe", "moderate"]
    assert items[0].external_id.startswith("2026-15-biuro-prognoz-hydrologicznych")
    assert items[0].starts_at == "2026-02-03T12:00:00+01:00"
    assert items[0].expires_at == "2026-02-05T12:00:00+01:00"
    assert all("Prawdopodobieństwo: 80%." in i.body for i in items)
    (narew,) = run("imgw_hydro", payload, catchments="narew")
    assert narew.severity == "extreme"


@pytest.mark.parametrize(
    "payload",
    [
        b"not json",
        b'{"a": 1}',
        json.dumps([{k: v for k, v in hydro("1", "Wkra").items() if k != "obszary"}]).encode(),
        json.dumps([{k: v for k, v in hydro("1", "Wkra").items() if k != "numer"}]).encode(),
        json.dumps([dict(hydro("1", "Wkra"), data_od="2026-13-45 99:00")]).encode(),
    ],
)
def test_imgw_hydro_malformed_payload_is_a_feed_error(payload: bytes) -> None:
    with pytest.raises(FeedError):
        get_adapter("imgw_hydro")(payload, 200, {})


# -------------------------------------------------------------------------------- energa


def test_energa_shape_sample() -> None:
    (outage,) = run("energa", sample("energa_shutdowns_shape.json"))
    assert outage.title == "Planowane wyłączenie prądu 01.10.2026 08:00–14:00"
    assert outage.body == "Ciechanów ulice Przykładowa 1, 3, od 5 do 9"
    assert outage.starts_at == "2026-10-01T08:00:00+02:00"
    assert outage.expires_at == "2026-10-01T14:00:00+02:00"
    assert outage.category == "electricity"


def energa(shutdowns: list[dict[str, Any]]) -> dict[str, Any]:
    return {"document": {"payload": {"shutdowns": shutdowns}}}


def test_energa_keeps_the_region_and_the_streets() -> None:
    payload = energa(
        [
            {
                "guid": "g-1",
                "deptName": "Płock",
                "regionName": "Ciechanów",
                "message": "Ciechanów ulice: Sienkiewicza od 10 do 24, Warszawska 5, 7",
                "hours": [
                    {"fromDate": "2026-01-20T12:00:00", "toDate": "2026-01-20T15:00:00"},
                    {"fromDate": "2026-01-19T08:00:00", "toDate": "2026-01-19T11:30:00"},
                ],
            },
            {
                "guid": "g-2",
                "deptName": "Płock",
                "regionName": "Płońsk",
                "message": "Płońsk ulica Ciechanowska 1",
                "hours": [{"fromDate": "2026-01-19T08:00:00", "toDate": "2026-01-19T10:00:00"}],
            },
        ]
    )
    (outage,) = run("energa", payload)
    assert outage.external_id == "g-1"
    assert outage.starts_at == "2026-01-19T08:00:00+01:00"
    assert outage.expires_at == "2026-01-20T15:00:00+01:00"
    assert outage.title == "Planowane wyłączenie prądu od 19.01.2026 08:00 do 20.01.2026 15:00"
    assert outage.body.startswith("Ciechanów ulice: Sienkiewicza od 10 do 24, Warszawska 5, 7")
    assert "- 19.01.2026 08:00–11:30\n- 20.01.2026 12:00–15:00" in outage.body
    assert [i.external_id for i in run("energa", payload, area_match="plonsk")] == ["g-2"]
    assert run("energa", payload, area_match="ciechanow") == [outage]


def test_energa_without_guid_gets_a_stable_id() -> None:
    row = {"regionName": "Ciechanów", "message": "Ciechanów ul. Płońska 3", "hours": []}
    first = run("energa", energa([row]))
    assert first == run("energa", energa([row]))
    assert first[0].external_id.startswith("energa-")
    assert first[0].starts_at is None


@pytest.mark.parametrize(
    "payload", [b"[1, 2", b'{"document": {"payload": {}}}', b'{"shutdowns": [1]}', b"null"]
)
def test_energa_malformed_payload_is_a_feed_error(payload: bytes) -> None:
    with pytest.raises(FeedError):
        get_adapter("energa")(payload, 200, {})


# ------------------------------------------------------------------------------ cap_atom


def test_cap_atom_meteoalarm_sample() -> None:
    payload = sample("meteoalarm_atom_poland_entry.xml")
    (item,) = run("cap_atom", payload)
    assert item.external_id == "2.49.0.0.616.0.PL.Sk20260815100248479.PL1061"
    assert item.title.startswith("Yellow High-temperature Warning issued for Poland")
    assert item.msg_type == "update"
    assert item.severity == "moderate"
    assert item.starts_at == "2026-08-15T12:02:34+02:00"  # onset, in Warsaw time
    assert item.expires_at == "2026-08-16T18:00:00+02:00"
    assert item.link and item.link.startswith("https://feeds.meteoalarm.org/api/v1/warnings/")
    assert len(run("cap_atom", payload, geocode="PL1061")) == 1
    assert run("cap_atom", payload, geocode=["PL1402"]) == []


CAP_NS = "urn:oasis:names:tc:emergency:cap:1.2"


def cap_entry(
    identifier: str,
    msg_type: str,
    *,
    sent: str,
    references: str = "",
    status: str = "Actual",
    teryt: str = "1402",
) -> str:
    refs = f"<references>{references}</references>" if references else ""
    return f"""
  <entry>
    <id>urn:test:{identifier}</id>
    <title>Intensywne opady deszczu</title>
    <updated>{sent}</updated>
    <link rel="alternate" href="https://example.pl/alerts/{identifier}"/>
    <content type="application/cap+xml">
      <alert xmlns="{CAP_NS}">
        <identifier>{identifier}</identifier>
        <sender>rcb@example.pl</sender>
        <sent>{sent}</sent>
        <status>{status}</status>
        <msgType>{msg_type}</msgType>
        <scope>Public</scope>
        {refs}
        <info>
          <language>pl-PL</language>
          <category>Met</category>
          <event>Intensywne opady deszczu</event>
          <urgency>Expected</urgency>
          <severity>Severe</severity>
          <certainty>Likely</certainty>
          <onset>2026-07-01T18:00:00+02:00</onset>
          <expires>2026-07-02T06:00:00Z</expires>
          <headline>Intensywne opady deszczu, stopień 2</headline>
          <description>Opady do 50 mm.</description>
          <instruction>Unikaj przejazdów przez zalane drogi.</instruction>
          <area>
            <areaDesc>powiat ciechanowski</areaDesc>
            <geocode><valueName>TERYT</valueName><value>{teryt}</value></geocode>
          </area>
        </info>
      </alert>
    </content>
  </entry>"""


def cap_feed(*entries: str) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<feed xmlns="http://www.w3.org/2005/Atom"><id>urn:test</id><title>t</title>'
        "<updated>2026-07-01T12:00:00Z</updated>" + "".join(entries) + "</feed>"
    )


def test_cap_atom_alert_update_cancel_with_references() -> None:
    feed = cap_feed(
        cap_entry(
            "A-3",
            "Cancel",
            sent="2026-07-01T20:00:00+02:00",
            references="rcb@example.pl,A-2,2026-07-01T14:00:00+02:00",
        ),
        cap_entry("A-1", "Alert", sent="2026-07-01T12:00:00+02:00"),
        cap_entry(
            "A-2",
            "Update",
            sent="2026-07-01T14:00:00+02:00",
            references="rcb@example.pl,A-1,2026-07-01T12:00:00+02:00",
        ),
        cap_entry("T-1", "Alert", sent="2026-07-01T12:30:00+02:00", status="Test"),
        cap_entry("B-1", "Alert", sent="2026-07-01T12:00:00+02:00", teryt="1403"),
    )
    items = run("cap_atom", feed, geocode="1402")
    assert [(i.external_id, i.msg_type, i.references) for i in items] == [
        ("A-1", "alert", ()),
        ("A-2", "update", ("A-1",)),
        ("A-3", "cancel", ("A-2",)),
    ]
    first = items[0]
    assert first.title == "Intensywne opady deszczu, stopień 2"
    assert first.body == "Opady do 50 mm.\n\nUnikaj przejazdów przez zalane drogi."
    assert first.severity == "severe"
    assert first.category == "weather"
    assert first.starts_at == "2026-07-01T18:00:00+02:00"
    assert first.expires_at == "2026-07-02T08:00:00+02:00"
    assert first.link == "https://example.pl/alerts/A-1"
    assert first.correlation_key == "cap_atom:intensywne-opady-deszczu:1402"
    assert len(run("cap_atom", feed)) == 4  # no filter: B-1 too, never the test message


@pytest.mark.parametrize(
    "payload",
    [
        b"<feed",
        b"not xml at all",
        b'<?xml version="1.0"?><rss version="2.0"><channel/></rss>',
        (  # billion laughs
            b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
            b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;">]><feed xmlns="http://www.w3.org/2005/Atom">'
            b"<title>&lol2;</title></feed>"
        ),
        (  # external entity
            b'<?xml version="1.0"?><!DOCTYPE feed [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
            b'<feed xmlns="http://www.w3.org/2005/Atom"><title>&xxe;</title></feed>'
        ),
        cap_feed(cap_entry("A-1", "Maybe", sent="2026-07-01T12:00:00+02:00")).encode(),
        cap_feed(cap_entry("A-1", "Alert", sent="yesterday")).encode(),
    ],
)
def test_cap_atom_malformed_or_hostile_payload_is_a_feed_error(payload: bytes) -> None:
    with pytest.raises(FeedError):
        get_adapter("cap_atom")(payload, 200, {})


# ----------------------------------------------------------------------------------- rss

WATER_RSS = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel>
  <title>PWiK Ciechanów – komunikaty</title>
  <link>https://pwik.example.pl/</link>
  <description>Komunikaty</description>
  <item>
    <title>Przerwa w dostawie wody – ul. Sienkiewicza</title>
    <link>https://pwik.example.pl/komunikaty/101</link>
    <guid isPermaLink="false">pwik-101</guid>
    <pubDate>Tue, 13 Jan 2026 07:30:00 +0000</pubDate>
    <description><![CDATA[<p>W dniu 14.01.2026 w godz. 8:00&ndash;14:00</p><p>brak wody: ul. Sienkiewicza 1&ndash;25.</p><script>alert(1)</script>]]></description>
  </item>
  <item>
    <title>Płukanie sieci wodociągowej</title>
    <link>https://pwik.example.pl/komunikaty/102</link>
    <pubDate>Mon, 06 Jul 2026 06:00:00 GMT</pubDate>
    <description>Możliwe chwilowe zmętnienie wody.</description>
  </item>
</channel></rss>"""

WATER_ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title>Komunikaty</title><id>urn:pwik</id><updated>2026-07-06T06:00:00Z</updated>
  <entry>
    <title>Awaria magistrali</title><id>urn:pwik:7</id>
    <link href="https://pwik.example.pl/7"/>
    <updated>2026-07-06T06:00:00Z</updated>
    <summary type="html">&lt;b&gt;Awaria&lt;/b&gt; na ul. Płońskiej.</summary>
  </entry>
</feed>"""


def test_rss_water_utility_notices() -> None:
    items = run("rss", WATER_RSS, category="water")
    assert [i.title for i in items] == [
        "Płukanie sieci wodociągowej",  # id = link (no guid)
        "Przerwa w dostawie wody – ul. Sienkiewicza",
    ]
    flush, outage = items
    assert outage.external_id == "pwik-101"
    assert outage.body == "W dniu 14.01.2026 w godz. 8:00–14:00\nbrak wody: ul. Sienkiewicza 1–25."
    assert outage.starts_at == "2026-01-13T08:30:00+01:00"
    assert outage.link == "https://pwik.example.pl/komunikaty/101"
    assert outage.category == "water"
    assert flush.external_id == "https://pwik.example.pl/komunikaty/102"
    assert flush.starts_at == "2026-07-06T08:00:00+02:00"
    assert flush.body == "Możliwe chwilowe zmętnienie wody."


def test_rss_atom_feed() -> None:
    (item,) = run("rss", WATER_ATOM)
    assert (item.external_id, item.title, item.body) == (
        "urn:pwik:7",
        "Awaria magistrali",
        "Awaria na ul. Płońskiej.",
    )
    assert item.starts_at == "2026-07-06T08:00:00+02:00"
    assert item.category is None


def test_rss_empty_channel_is_zero_items() -> None:
    assert run("rss", '<rss version="2.0"><channel><title>t</title></channel></rss>') == []


@pytest.mark.parametrize(
    "payload",
    [
        b"/etc/passwd",  # never taken for a file name
        b"https://example.com/feed.xml",  # never fetched
        b"",
        b'{"items": []}',
        WATER_RSS.encode()[:400],  # truncated download
        (
            b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
            b'<rss version="2.0"><channel><title>&xxe;</title></channel></rss>'
        ),
    ],
)
def test_rss_malformed_or_hostile_payload_is_a_feed_error(payload: bytes) -> None:
    with pytest.raises(FeedError):
        get_adapter("rss")(payload, 200, {})


def test_rss_http_error_is_a_feed_error() -> None:
    with pytest.raises(FeedError, match="503"):
        run("rss", WATER_RSS, 503)


# ---------------------------------------------------------------------------------- json


def test_json_rso_sample() -> None:
    (item,) = run("json", sample("rso_komunikaty_example.json"), **RSO_OPTIONS)
    assert item.external_id == "23233017"
    assert item.title == "ALERT RCB - BURZE/2"
    assert item.body.startswith("Pogoda: dzis i w nocy (10/11.08) burze")
    assert (item.starts_at, item.expires_at) == (
        "2026-08-10T13:58:00+02:00",
        "2026-08-11T04:00:00+02:00",
    )


def test_json_nested_paths_offsets_and_epoch() -> None:
    payload = {
        "data": {
            "results": [
                {
                    "meta": {"uid": 7, "url": "https://x.pl/7"},
                    "texts": [{"pl": "Zamknięta ul. Mickiewicza"}],
                    "opis": "Objazd przez ul. Orylską.",
                    "od": "2026-02-01T10:00:00Z",
                    "do": 1785571200,  # 2026-08-01T08:00:00Z
                    "poziom": "Minor",
                }
            ]
        }
    }
    options = {
        "items_path": "data.results",
        "id": "meta.uid",
        "title": "texts.0.pl",
        "body": "opis",
        "start": "od",
        "end": "do",
        "link": "meta.url",
        "severity": "poziom",
        "category": "roads",
    }
    (item,) = run("json", payload, **options)
    assert item.external_id == "7"
    assert item.title == "Zamknięta ul. Mickiewicza"
    assert item.starts_at == "2026-02-01T11:00:00+01:00"
    assert item.expires_at == "2026-08-01T10:00:00+02:00"
    assert (item.severity, item.category, item.link) == ("minor", "roads", "https://x.pl/7")


@pytest.mark.parametrize(
    ("payload", "options"),
    [
        (b"{", RSO_OPTIONS),
        (b'{"newses": {"a": 1}}', RSO_OPTIONS),
        (b'{"newses": 5}', RSO_OPTIONS),
        (b'{"newses": [{"title": "bez id"}]}', RSO_OPTIONS),
        (b'{"newses": [{"id": 1, "title": "t", "valid_from": "dzis"}]}', RSO_OPTIONS),
        (b'{"newses": []}', {"items_path": "newses", "id": "id"}),  # no title path
        (b'{"newses": []}', dict(RSO_OPTIONS, id=["id"])),
    ],
)
def test_json_malformed_payload_or_options_is_a_feed_error(
    payload: bytes, options: dict[str, Any]
) -> None:
    with pytest.raises(FeedError):
        get_adapter("json")(payload, 200, options)


# ------------------------------------------------------------------- properties, all adapters

SAMPLES_BY_ADAPTER: dict[str, list[tuple[bytes, int, dict[str, Any]]]] = {
    "imgw_meteo": [
        (sample("imgw_warningsmeteo_live_mazowieckie.json"), 200, {"teryt": ["1401", "1413"]}),
        (sample("imgw_warningsmeteo_example.json"), 200, {"teryt": "2061"}),
        (sample("imgw_warningsmeteo_empty_404.json"), 404, {}),
    ],
    "imgw_hydro": [(sample("imgw_warningshydro_live.json"), 200, {"catchments": "Radomka"})],
    "energa": [(sample("energa_shutdowns_shape.json"), 200, {})],
    "cap_atom": [(sample("meteoalarm_atom_poland_entry.xml"), 200, {})],
    "rss": [(WATER_RSS.encode(), 200, {}), (WATER_ATOM.encode(), 200, {})],
    "json": [(sample("rso_komunikaty_example.json"), 200, RSO_OPTIONS)],
}

PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "id",
                    "teryt",
                    "stopien",
                    "stopień",
                    "obszary",
                    "opis",
                    "numer",
                    "biuro",
                    "hours",
                    "fromDate",
                    "document",
                    "payload",
                    "shutdowns",
                    "newses",
                    "title",
                    "valid_from",
                    "x",
                ]
            ),
            children,
            max_size=6,
        )
    ),
    max_leaves=25,
)


def direct(adapter: str) -> Any:
    """The module's own parse, without the package's safety net."""
    return importlib.import_module(f"chalicelib.feeds.{MODULES[adapter]}").parse


def only_items_or_feed_error(adapter: str, payload: bytes, status: int) -> None:
    try:
        items = direct(adapter)(payload, status, FUZZ_OPTIONS[adapter])
    except FeedError:
        return
    assert isinstance(items, list)
    assert all(isinstance(i, FeedItem) for i in items)


@pytest.mark.parametrize("adapter", sorted(MODULES))
@PROPERTY
@given(payload=st.binary(max_size=300), status=st.sampled_from([200, 404, 500]))
def test_arbitrary_bytes_raise_only_feed_error(adapter: str, payload: bytes, status: int) -> None:
    only_items_or_feed_error(adapter, payload, status)


@pytest.mark.parametrize("adapter", sorted(MODULES))
@PROPERTY
@given(value=json_values, status=st.sampled_from([200, 404]))
def test_arbitrary_json_raises_only_feed_error(adapter: str, value: Any, status: int) -> None:
    payload = json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass")
    only_items_or_feed_error(adapter, payload, status)


@pytest.mark.parametrize("adapter", sorted(MODULES))
@PROPERTY
@given(data=st.data())
def test_damaged_samples_raise_only_feed_error(adapter: str, data: st.DataObject) -> None:
    payload, status, _ = data.draw(st.sampled_from(SAMPLES_BY_ADAPTER[adapter]))
    cut = data.draw(st.integers(0, len(payload)))
    junk = data.draw(st.binary(max_size=8))
    only_items_or_feed_error(adapter, payload[:cut] + junk + payload[cut + len(junk) :], status)


@pytest.mark.parametrize(
    ("adapter", "case"),
    [(a, i) for a, cases in SAMPLES_BY_ADAPTER.items() for i in range(len(cases))],
)
def test_same_payload_twice_gives_identical_hashes(adapter: str, case: int) -> None:
    payload, status, options = SAMPLES_BY_ADAPTER[adapter][case]
    first = get_adapter(adapter)(payload, status, options)
    second = get_adapter(adapter)(bytes(payload), status, dict(options))
    assert [i.raw_hash for i in first] == [i.raw_hash for i in second]
    assert first == second


@PROPERTY
@given(
    rows=st.lists(
        st.builds(
            meteo,
            wid=st.text("ABCWa0123456789", min_size=1, max_size=12),
            teryt=st.lists(
                st.sampled_from(["1401", "1402", "1403", "2061"]), min_size=1, unique=True
            ),
            level=st.sampled_from(["1", "2", "3"]),
        ),
        max_size=6,
        unique_by=lambda r: r["id"],
    ),
    seed=st.randoms(use_true_random=False),
)
def test_imgw_meteo_hashes_are_stable_under_reordering(
    rows: list[dict[str, Any]], seed: random.Random
) -> None:
    first = run("imgw_meteo", rows)
    shuffled = [dict(r, teryt=seed.sample(r["teryt"], len(r["teryt"]))) for r in rows]
    seed.shuffle(shuffled)
    second = run("imgw_meteo", shuffled)
    assert [(i.external_id, i.raw_hash) for i in first] == [
        (i.external_id, i.raw_hash) for i in second
    ]
    assert len(first) == sum("1402" in r["teryt"] for r in rows)
