"""Open311 format functions: the form parser (with a property test), names, XML, statuses."""
from __future__ import annotations

from urllib.parse import urlencode

import pytest
from defusedxml import ElementTree
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.formats import open311

texts = st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=40)


@given(st.dictionaries(texts.filter(bool), texts, max_size=open311.MAX_FIELDS))
def test_a_urlencoded_form_reads_back_exactly(fields: dict[str, str]) -> None:
    assert open311.parse_form(urlencode(fields).encode()) == fields


@given(st.binary(max_size=300))
def test_any_bytes_parse_or_raise_form_error_only(raw: bytes) -> None:
    try:
        out = open311.parse_form(raw)
    except open311.FormError:
        return
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in out.items())


def test_form_edge_cases() -> None:
    assert open311.parse_form(None) == {} and open311.parse_form(b"") == {}
    assert open311.parse_form(b"a=1&a=2&b=") == {"a": "1", "b": ""}
    assert open311.parse_form("opis=Dziura+na+ul.+P%C5%82o%C5%84skiej") == {
        "opis": "Dziura na ul. Płońskiej"}
    for bad in (b"x=%ff%fe", b"\xff=1", b"&".join(b"f%d=1" % i for i in range(60)),
                b"a=" + b"x" * 70_000):
        with pytest.raises(open311.FormError):
            open311.parse_form(bad)


def test_names_carry_a_known_format() -> None:
    assert open311.split_name("services.json") == ("services", "json")
    assert open311.split_name("requests/abc.xml") == ("requests/abc", "xml")
    assert open311.split_name("services") is None and open311.split_name(".json") is None
    assert open311.split_name("services.html") is None


def test_statuses_map_to_open_and_closed() -> None:
    assert [open311.open_or_closed(s) for s in ("new", "acknowledged", "in_progress")] == [
        "open"] * 3
    assert {open311.open_or_closed(s) for s in ("resolved", "not_ours", "duplicate",
                                                "rejected")} == {"closed"}
    view = {"id": "r1", "status": "not_ours", "category": "waste", "category_name": "Odpady",
            "created_at": "2026-11-25T10:00:00+01:00", "updated_at": "2026-11-25T11:00:00+01:00",
            "lat": 52.88, "lon": 20.62, "public_note": None}
    item = open311.request_item(view)
    assert item["status"] == "closed" and item["status_notes"] == "not ours"
    assert item["long"] == 20.62 and item["media_url"] == ""


def test_xml_escapes_text_and_names_list_items() -> None:
    body = open311.to_xml("service_requests", [{"service_request_id": "1",
                                                "description": "<b>&\"'", "lat": 1.5,
                                                "flag": True, "none": None}])
    root = ElementTree.fromstring(body)
    assert root.findtext("request/description") == "<b>&\"'"
    assert root.findtext("request/flag") == "true" and root.findtext("request/none") == ""
    errors = ElementTree.fromstring(open311.to_xml("errors", open311.errors(400, "bad")))
    assert errors.findtext("error/code") == "400"
