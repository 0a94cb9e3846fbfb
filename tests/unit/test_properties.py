"""Property tests the other unit files do not have: phone numbers and the CAP builder.

(SMS text, every feed adapter and the Open311 form parser have theirs in test_sms.py,
test_feeds.py and test_open311.py.)
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import phonenumbers
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib.city import CATEGORIES, district_ids
from chalicelib.errors import Invalid
from chalicelib.formats.cap import build_cap
from chalicelib.services import alerts, subscriptions
from tests.unit.test_cap import NS, SCHEMA, TIME_RE

FAST = settings(max_examples=150, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])
E164 = re.compile(r"^\+[1-9]\d{6,14}$")


# ---- phone numbers ----------------------------------------------------------------------------

@contextmanager
def allowed(countries: list[str]) -> Iterator[None]:
    """The city setting `allowed_countries` without a table behind it."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(subscriptions.config, "get",
                   lambda key: countries if key == "allowed_countries" else None)
        yield


countries = st.sampled_from([["PL"], ["PL", "UA"], ["PL", "DE", "UA", "LT"]])


def _example(region: str, kind: Any) -> str:
    num = phonenumbers.example_number_for_type(region, kind)
    return phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164) if num else "+48"


def _mutate(data: st.DataObject, text: str) -> str:
    """An example number with a few digits changed, spaces or dashes put in, a prefix swapped."""
    chars = list(text)
    for _ in range(data.draw(st.integers(0, 3))):
        i = data.draw(st.integers(0, max(0, len(chars) - 1)))
        chars[i] = data.draw(st.sampled_from("0123456789 -()+./x"))
    out = "".join(chars)
    return data.draw(st.sampled_from([out, out.replace("+48", "0048"), out.replace("+48", ""),
                                      out.replace("+", ""), " " + out + " ", out + "0"]))


def phone_like(data: st.DataObject) -> Any:
    examples = [_example(r, t) for r in ("PL", "UA", "DE", "LT", "US", "GB")
                for t in (phonenumbers.PhoneNumberType.MOBILE,
                          phonenumbers.PhoneNumberType.FIXED_LINE)]
    return data.draw(st.one_of(
        st.text(max_size=40),
        st.text(alphabet="+0123456789 -()", max_size=20),
        st.sampled_from(examples).map(lambda e: _mutate(data, e)),
        st.builds(lambda d: f"+48 {d[:3]} {d[3:6]} {d[6:]}", st.text("0123456789", min_size=9,
                                                                      max_size=9)),
        st.none(), st.integers(), st.lists(st.text(max_size=3), max_size=2),
    ))


@FAST
@given(data=st.data(), allow=countries)
def test_any_phone_input_is_refused_as_invalid_or_becomes_e164_of_an_allowed_country(
        data: st.DataObject, allow: list[str]) -> None:
    raw = phone_like(data)
    with allowed(allow):
        try:
            out = subscriptions.normalize_phone(raw)
        except Invalid as exc:
            assert set(exc.fields) == {"phone"}  # the form can say which field is wrong
            return
        assert E164.match(out), out
        num = phonenumbers.parse(out)
        assert phonenumbers.region_code_for_number(num) in allow
        assert phonenumbers.number_type(num) in (phonenumbers.PhoneNumberType.MOBILE,
                                                 phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE)
        # normalising again, or the number as a person would write it, changes nothing
        assert subscriptions.normalize_phone(out) == out
        pretty = phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
        assert subscriptions.normalize_phone(pretty) == out


@FAST
@given(digits=st.text("0123456789", min_size=9, max_size=9))
def test_a_polish_mobile_written_any_usual_way_gives_one_number(digits: str) -> None:
    with allowed(["PL"]):
        forms = [digits, f"+48{digits}", f"0048 {digits}", f"{digits[:3]}-{digits[3:6]}-{digits[6:]}",
                 f"+48 ({digits[:2]}) {digits[2:]}"]
        results = set()
        for form in forms:
            try:
                results.add(subscriptions.normalize_phone(form))
            except Invalid:
                results.add("invalid")
        assert len(results) == 1, (forms, results)
        assert results in ({"invalid"}, {f"+48{digits}"})


# ---- the CAP builder --------------------------------------------------------------------------

GEO = alerts._district_geo()
WARSAW = ZoneInfo("Europe/Warsaw")
ZONES = st.sampled_from([UTC, WARSAW, timezone(timedelta(hours=5, minutes=30)),
                         timezone(timedelta(hours=-8)), None])
# what the alerts service lets through: any text but surrogates and the C0 controls (XML 1.0
# cannot carry those; see test_control_characters_in_alert_texts_still_give_valid_cap)
TEXT = st.characters(exclude_categories=["Cs", "Cc"], include_characters="\n\t")


def texts(max_size: int) -> st.SearchStrategy[str]:
    return st.text(TEXT, min_size=1, max_size=max_size).filter(lambda t: t.strip() != "")


def times() -> st.SearchStrategy[str]:
    return st.builds(lambda d, tz: d.replace(tzinfo=tz).isoformat(),
                     st.datetimes(min_value=datetime(2000, 1, 2), max_value=datetime(2099, 12, 30)),
                     ZONES)


def langs(required: bool, size: int) -> st.SearchStrategy[dict[str, str]]:
    return st.fixed_dictionaries({"pl": texts(size)} if required else {},
                                 optional={"en": texts(size), "uk": texts(size)})


circles = st.builds(lambda lon, lat, r: {"type": "circle", "center": [lon, lat], "radius_m": r},
                    st.floats(20.55, 20.7), st.floats(52.84, 52.91), st.floats(10, 5000))
polygons = st.builds(lambda x, y, d: {"type": "polygon", "coordinates": [[
    [x, y], [x + d, y], [x + d, y + d], [x, y + d], [x, y]]]},
    st.floats(20.55, 20.65), st.floats(52.84, 52.89), st.floats(0.001, 0.02))


@st.composite
def cap_alerts(draw: st.DrawFn) -> dict[str, Any]:
    msg_type = draw(st.sampled_from(["alert", "update", "cancel"]))
    refs = [] if msg_type == "alert" else draw(st.lists(st.builds(
        lambda v, t: {"identifier": f"01HZX4K9Q2W7-v{v}", "sent": t},
        st.integers(1, 9), times()), max_size=3))
    return {
        "id": draw(st.text("0123456789ABCDEFGHJKMNPQRSTVWXYZ", min_size=10, max_size=26)),
        "version": draw(st.integers(1, 50)),
        "category": draw(st.sampled_from(CATEGORIES)),
        "severity": draw(st.sampled_from(alerts.SEVERITIES)),
        "urgency": draw(st.sampled_from(alerts.URGENCIES)),
        "certainty": draw(st.sampled_from(alerts.CERTAINTIES)),
        "cap_status": draw(st.sampled_from(alerts.CAP_STATUSES)),
        "status": "published", "msg_type": msg_type, "references": refs,
        "title": draw(langs(True, 120)), "body": draw(langs(True, 600)),
        "instruction": draw(langs(False, 200)),
        "districts": draw(st.lists(st.sampled_from(sorted(district_ids())), unique=True,
                                   max_size=4)),
        "area": draw(st.one_of(st.none(), circles, polygons)),
        "starts_at": draw(st.one_of(st.none(), times())),
        "expires_at": draw(times()),
        "sent_at": draw(times()),
        "contact": draw(st.one_of(st.none(), texts(80))),
    }


@settings(max_examples=60, deadline=None)
@given(alert=cap_alerts())
def test_any_valid_alert_gives_cap_that_validates_with_times_carrying_offsets(
        alert: dict[str, Any]) -> None:
    import xml.etree.ElementTree as ET

    doc = build_cap(alert, sender="informator.ciechanow.pl",
                    web_base_url="https://informator.ciechanow.pl", district_geo=GEO)
    SCHEMA.validate(doc.decode("utf-8"))
    root = ET.fromstring(doc)
    stamps = [root.findtext("cap:sent", namespaces=NS)]
    for info in root.findall("cap:info", NS):
        stamps += [info.findtext(f"cap:{t}", namespaces=NS) for t in ("effective", "expires")]
    refs = root.findtext("cap:references", namespaces=NS)
    if refs:
        stamps += [r.rsplit(",", 1)[1] for r in refs.split()]
    for stamp in filter(None, stamps):
        assert TIME_RE.match(stamp), stamp
    assert root.findtext("cap:info/cap:expires", namespaces=NS) is not None
    languages = [i.findtext("cap:language", namespaces=NS) for i in root.findall("cap:info", NS)]
    assert languages[0] == "pl-PL" and len(languages) == len(alert["title"])
    headlines = [i.findtext("cap:headline", namespaces=NS) for i in root.findall("cap:info", NS)]
    assert headlines == [alert["title"][k].strip() for k in ("pl", "en", "uk") if k in alert["title"]]


@settings(max_examples=20, deadline=None)
@given(control=st.characters(min_codepoint=0, max_codepoint=31).filter(lambda c: c not in "\t\n\r"))
def test_control_characters_are_refused_in_alerts_and_never_break_cap(control: str) -> None:
    body = {"category": "water", "severity": "minor", "districts": [],
            "title": {"pl": f"Brak wody{control} na Płońskiej"}, "body": {"pl": "Awaria."},
            "expires_at": "2099-01-01T00:00:00+01:00"}
    with pytest.raises(Invalid) as refused:
        alerts.validate_input(body)
    assert "title.pl" in refused.value.fields
    # and should such text reach the CAP builder by another path, the document stays valid
    clean = alerts.validate_input({**body, "title": {"pl": "Brak wody na Płońskiej"}})
    alert = {**clean, "title": {"pl": f"Brak wody{control} na Płońskiej"}, "id": "01HZX4K9Q2W7",
             "version": 1, "status": "published", "msg_type": "alert",
             "sent_at": "2026-01-01T10:00:00+01:00"}
    doc = build_cap(alert, sender="informator.ciechanow.pl",
                    web_base_url="https://informator.ciechanow.pl", district_geo=GEO)
    SCHEMA.validate(doc.decode("utf-8"))
