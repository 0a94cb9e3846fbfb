"""CAP 1.2 and Atom output."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
import xmlschema

from chalicelib.formats.cap import build_atom, build_cap, cap_time

SCHEMA = xmlschema.XMLSchema(str(Path(__file__).resolve().parents[1] / "events" / "CAP-v1.2.xsd"))
NS = {"cap": "urn:oasis:names:tc:emergency:cap:1.2", "atom": "http://www.w3.org/2005/Atom"}
SENDER = "informator@um.ciechanow.pl"
WEB = "https://informator.ciechanow.pl/"
TIME_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$")

DISTRICT_GEO: dict[str, dict[str, Any]] = {
    "srodmiescie": {
        "name": "Śródmieście",
        "polygon": [[20.6, 52.87], [20.63, 52.87], [20.63, 52.89], [20.6, 52.89], [20.6, 52.87]],
    },
    "plonska": {  # ring left open on purpose: output must still be closed
        "name": "Płońska",
        "polygon": [[20.57, 52.87], [20.6, 52.87], [20.6, 52.89], [20.57, 52.89]],
    },
    "_city": {
        "name": "Ciechanów",
        "polygon": [[20.57, 52.85], [20.67, 52.85], [20.67, 52.905], [20.57, 52.905], [20.57, 52.85]],
    },
}


def make_alert(**overrides: Any) -> dict[str, Any]:
    alert: dict[str, Any] = {
        "id": "01HZX4K9Q2W7",
        "version": 1,
        "category": "water",
        "severity": "moderate",
        "urgency": "immediate",
        "certainty": "observed",
        "status": "published",
        "msg_type": "alert",
        "cap_status": "actual",
        "title": {
            "pl": "Awaria wodociągu na ul. Płońskiej",
            "en": "Water main failure on Płońska Street",
            "uk": "Аварія водогону на вулиці Плонській",
        },
        "body": {
            "pl": "Awaria wodociągu na ul. Płońskiej — brak wody do godz. 18:00. "
            "Beczkowozy stoją przy ul. Żeromskiego i na źródełku w Śródmieściu.",
            "en": "No water until 18:00. Water tankers at Żeromskiego Street.",
            "uk": "Води не буде до 18:00.",
        },
        "instruction": {"pl": "Zrób zapas wody pitnej.", "en": "Store drinking water."},
        "districts": ["srodmiescie", "plonska"],
        "area": None,
        "starts_at": "2025-01-15T10:30:00.123456+00:00",
        "expires_at": "2025-07-15T16:00:00Z",
        "sent_at": "2025-01-15T11:31:05+01:00",
        "link": None,
        "contact": "Wodociągi Miejskie, tel. 23 672 20 31",
        "references": [],
    }
    alert.update(overrides)
    return alert


def parse(doc: bytes) -> ET.Element:
    SCHEMA.validate(doc.decode("utf-8"))
    return ET.fromstring(doc)


def text(el: ET.Element, path: str) -> str:
    found = el.find(path, NS)
    assert found is not None, path
    return found.text or ""


def test_alert_validates_and_has_header_fields() -> None:
    doc = build_cap(make_alert(), sender=SENDER, web_base_url=WEB, district_geo=DISTRICT_GEO)
    declaration = doc.split(b"\n", 1)[0]
    assert declaration.startswith(b"<?xml")
    assert b"utf-8" in declaration.lower()
    root = parse(doc)
    assert root.tag == "{urn:oasis:names:tc:emergency:cap:1.2}alert"
    assert text(root, "cap:identifier") == "01HZX4K9Q2W7-v1"
    assert text(root, "cap:sender") == SENDER
    assert text(root, "cap:sent") == "2025-01-15T11:31:05+01:00"
    assert text(root, "cap:status") == "Actual"
    assert text(root, "cap:msgType") == "Alert"
    assert text(root, "cap:scope") == "Public"
    assert root.find("cap:references", NS) is None


def test_one_info_per_language_with_cap_casing() -> None:
    root = parse(build_cap(make_alert(), sender=SENDER, web_base_url=WEB, district_geo=DISTRICT_GEO))
    infos = root.findall("cap:info", NS)
    assert [text(i, "cap:language") for i in infos] == ["pl-PL", "en-GB", "uk-UA"]
    pl, en, uk = infos
    assert text(pl, "cap:category") == "Infra"
    assert text(pl, "cap:event") == "Woda"
    assert text(uk, "cap:event") == "Вода"
    assert (text(pl, "cap:urgency"), text(pl, "cap:severity"), text(pl, "cap:certainty")) == (
        "Immediate",
        "Moderate",
        "Observed",
    )
    assert text(pl, "cap:headline") == "Awaria wodociągu na ul. Płońskiej"
    assert text(en, "cap:headline") == "Water main failure on Płońska Street"
    assert text(pl, "cap:description").startswith("Awaria wodociągu na ul. Płońskiej — brak")
    assert text(pl, "cap:instruction") == "Zrób zapas wody pitnej."
    assert uk.find("cap:instruction", NS) is None
    assert text(pl, "cap:web") == "https://informator.ciechanow.pl/alert.html?id=01HZX4K9Q2W7"
    assert text(pl, "cap:contact") == "Wodociągi Miejskie, tel. 23 672 20 31"


def test_only_languages_present_get_info() -> None:
    alert = make_alert(title={"pl": "Burza"}, body={"pl": "Silny wiatr."}, instruction={})
    root = parse(build_cap(alert, sender=SENDER, web_base_url=WEB, district_geo=DISTRICT_GEO))
    assert [text(i, "cap:language") for i in root.findall("cap:info", NS)] == ["pl-PL"]


def test_times_are_warsaw_with_offset_no_fraction_no_z() -> None:
    root = parse(build_cap(make_alert(), sender=SENDER, web_base_url=WEB, district_geo=DISTRICT_GEO))
    info = root.find("cap:info", NS)
    assert info is not None
    effective, expires = text(info, "cap:effective"), text(info, "cap:expires")
    assert effective == "2025-01-15T11:30:00+01:00"  # winter: CET
    assert expires == "2025-07-15T18:00:00+02:00"  # summer: CEST
    for value in (effective, expires, text(root, "cap:sent")):
        assert TIME_RE.match(value), value


@pytest.mark.parametrize(
    ("category", "cap_category"),
    [
        ("electricity", "Infra"),
        ("heating", "Infra"),
        ("roads", "Transport"),
        ("events", "Other"),
        ("weather", "Met"),
        ("emergency", "Safety"),
        ("other", "Other"),
    ],
)
def test_category_mapping(category: str, cap_category: str) -> None:
    root = parse(
        build_cap(
            make_alert(category=category), sender=SENDER, web_base_url=WEB, district_geo=DISTRICT_GEO
        )
    )
    assert {text(i, "cap:category") for i in root.findall("cap:info", NS)} == {cap_category}


@pytest.mark.parametrize(("msg_type", "expected"), [("update", "Update"), ("cancel", "Cancel")])
def test_update_and_cancel_reference_previous_versions(msg_type: str, expected: str) -> None:
    alert = make_alert(
        version=3,
        msg_type=msg_type,
        sent_at="2025-01-15T14:00:00+01:00",
        references=[
            {"identifier": "01HZX4K9Q2W7-v1", "sent": "2025-01-15T10:31:05+00:00"},
            {"identifier": "01HZX4K9Q2W7-v2", "sent": "2025-01-15T12:00:00+01:00"},
        ],
    )
    root = parse(build_cap(alert, sender=SENDER, web_base_url=WEB, district_geo=DISTRICT_GEO))
    assert text(root, "cap:msgType") == expected
    assert text(root, "cap:identifier") == "01HZX4K9Q2W7-v3"
    assert text(root, "cap:references") == (
        f"{SENDER},01HZX4K9Q2W7-v1,2025-01-15T11:31:05+01:00 "
        f"{SENDER},01HZX4K9Q2W7-v2,2025-01-15T12:00:00+01:00"
    )


@pytest.mark.parametrize(("cap_status", "expected"), [("exercise", "Exercise"), ("test", "Test")])
def test_status(cap_status: str, expected: str) -> None:
    alert = make_alert(cap_status=cap_status)
    root = parse(build_cap(alert, sender=SENDER, web_base_url=WEB, district_geo=DISTRICT_GEO))
    assert text(root, "cap:status") == expected


def _pairs(polygon: str) -> list[tuple[float, float]]:
    return [(float(p.split(",")[0]), float(p.split(",")[1])) for p in polygon.split(" ")]


def test_district_polygons_are_closed_lat_lon() -> None:
    root = parse(build_cap(make_alert(), sender=SENDER, web_base_url=WEB, district_geo=DISTRICT_GEO))
    for info in root.findall("cap:info", NS):
        area = info.find("cap:area", NS)
        assert area is not None
        assert text(area, "cap:areaDesc") == "Śródmieście, Płońska"
        polygons = [p.text or "" for p in area.findall("cap:polygon", NS)]
        assert len(polygons) == 2
        for polygon in polygons:
            pairs = _pairs(polygon)
            assert len(pairs) >= 4
            assert pairs[0] == pairs[-1]
            assert all(52 < lat < 53 and 20 < lon < 21 for lat, lon in pairs)
        assert _pairs(polygons[0])[:2] == [(52.87, 20.6), (52.87, 20.63)]
        assert text(area, "cap:geocode/cap:valueName") == "TERYT"
        assert text(area, "cap:geocode/cap:value") == "1402011"


def test_whole_city_uses_city_name_and_boundary() -> None:
    root = parse(
        build_cap(
            make_alert(districts=[]), sender=SENDER, web_base_url=WEB, district_geo=DISTRICT_GEO
        )
    )
    area = root.find("cap:info/cap:area", NS)
    assert area is not None
    assert text(area, "cap:areaDesc") == "Ciechanów"
    (polygon,) = area.findall("cap:polygon", NS)
    assert _pairs(polygon.text or "")[0] == (52.85, 20.57)


def test_drawn_circle_and_polygon() -> None:
    circle = make_alert(districts=[], area={"type": "Circle", "center": [20.62, 52.881], "radius_m": 1500.0})
    root = parse(build_cap(circle, sender=SENDER, web_base_url=WEB, district_geo=DISTRICT_GEO))
    area = root.find("cap:info/cap:area", NS)
    assert area is not None
    assert text(area, "cap:circle") == "52.881,20.62 1.5"
    assert area.find("cap:polygon", NS) is None  # the drawn area, not the whole city

    ring = [[20.61, 52.88], [20.62, 52.88], [20.62, 52.885], [20.61, 52.88]]
    drawn = make_alert(districts=["srodmiescie"], area={"type": "Polygon", "coordinates": [ring]})
    root = parse(build_cap(drawn, sender=SENDER, web_base_url=WEB, district_geo=DISTRICT_GEO))
    polygons = [p.text or "" for p in root.findall("cap:info[1]/cap:area/cap:polygon", NS)]
    assert len(polygons) == 2
    assert polygons[1] == "52.88,20.61 52.88,20.62 52.885,20.62 52.88,20.61"


def test_cap_time_normalises_to_warsaw() -> None:
    assert cap_time("2025-03-30T01:30:00Z") == "2025-03-30T03:30:00+02:00"
    assert cap_time("2025-12-24T18:00:00") == "2025-12-24T18:00:00+01:00"


# --- Atom ------------------------------------------------------------------------


def _atom_alert(i: int, body: str = "Krótki opis.") -> dict[str, Any]:
    return make_alert(
        id=f"A{i:04d}",
        title={"pl": f"Komunikat nr {i} — Śródmieście"},
        body={"pl": body},
        updated_at=f"2025-01-{1 + i % 28:02d}T{i % 24:02d}:00:00+01:00",
    )


def test_atom_feed_entries() -> None:
    alerts = [_atom_alert(1), _atom_alert(2)]
    doc = build_atom(
        alerts,
        feed_url="https://api.example/v1/feeds/alerts.atom",
        api_base_url="https://api.example/",
        title="Informator Ciechanów",
        updated="2025-01-15T12:00:00+01:00",
    )
    root = ET.fromstring(doc)
    assert root.tag == "{http://www.w3.org/2005/Atom}feed"
    assert text(root, "atom:updated") == "2025-01-15T12:00:00+01:00"
    entries = root.findall("atom:entry", NS)
    assert [text(e, "atom:id") for e in entries] == ["urn:informator:alert:A0002", "urn:informator:alert:A0001"]
    link = entries[0].find("atom:link", NS)
    assert link is not None
    assert link.attrib == {
        "rel": "alternate",
        "type": "application/cap+xml",
        "href": "https://api.example/v1/alerts/A0002/cap",
    }
    assert text(entries[0], "atom:title") == "Komunikat nr 2 — Śródmieście"
    assert text(entries[0], "atom:summary") == "Krótki opis."


def test_atom_drops_oldest_entries_to_stay_under_max_bytes() -> None:
    alerts = [_atom_alert(i, body="Długi opis awarii. " * 50) for i in range(1, 41)]
    kwargs: dict[str, Any] = {
        "feed_url": "https://api.example/v1/feeds/alerts.atom",
        "api_base_url": "https://api.example",
        "title": "Informator Ciechanów",
        "updated": "2025-01-15T12:00:00+01:00",
    }
    full = build_atom(alerts, **kwargs)
    limited = build_atom(alerts, max_bytes=len(full) // 2, **kwargs)
    assert len(limited) <= len(full) // 2
    kept = [text(e, "atom:id") for e in ET.fromstring(limited).findall("atom:entry", NS)]
    assert 10 < len(kept) < 40
    newest_first = sorted(alerts, key=lambda a: a["updated_at"], reverse=True)
    assert kept == [f"urn:informator:alert:{a['id']}" for a in newest_first[: len(kept)]]
