"""SMS encoding, transliteration and alert SMS building."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.formats.sms import (
    GSM7_BASIC,
    GSM7_EXTENSION,
    analyze,
    build_alert_sms,
    cost_estimate,
    transliterate,
)

LINK = "https://informator.ciechanow.pl/alert.html?id=01HZX4K9Q2W7"
TITLE = "Awaria wodociągu na ul. Płońskiej"
BODY = (
    "Awaria wodociągu na ul. Płońskiej — brak wody do godz. 18:00. "
    "Beczkowozy z wodą pitną stoją przy ul. Żeromskiego 12 i przy źródełku na Śródmieściu. "
    "Mieszkańcy ulic Sienkiewicza, Ściegiennego i Łydynia mogą odczuwać spadek ciśnienia."
)


# --- analyze ----------------------------------------------------------------------


def test_plain_ascii_is_gsm7_single_part_up_to_160() -> None:
    info = analyze("a" * 160)
    assert (info.encoding, info.units, info.parts, info.chars) == ("gsm7", 160, 1, 160)
    assert analyze("a" * 161).parts == 2
    assert analyze("a" * 306).parts == 2
    assert analyze("a" * 307).parts == 3


@pytest.mark.parametrize("char", ["€", "[", "]", "{", "}", "^", "~", "\\", "|"])
def test_extension_character_counts_twice(char: str) -> None:
    info = analyze("Cena 10 " + char)
    assert info.encoding == "gsm7"
    assert info.chars == 9
    assert info.units == 10
    assert analyze("a" * 159 + char).parts == 2  # 161 septets


def test_extension_character_is_not_split_between_parts() -> None:
    # 152 plain septets + "€" (2 septets) cannot share a 153-septet part.
    info = analyze("a" * 152 + "€" + "a" * 10)
    assert info.units == 164
    assert info.parts == 2
    assert analyze("a" * 152 + "€" + "a" * 152).parts == 3


def test_polish_diacritics_switch_to_ucs2_with_70_and_67_limits() -> None:
    single = analyze("ż" * 70)
    assert (single.encoding, single.units, single.parts) == ("ucs2", 70, 1)
    assert analyze("ż" * 71).parts == 2
    assert analyze("ż" * 134).parts == 2
    assert analyze("ż" * 135).parts == 3


def test_ucs2_counts_utf16_code_units() -> None:
    info = analyze("Uwaga 🚨")
    assert info.encoding == "ucs2"
    assert info.chars == 7
    assert info.units == 8


def test_gsm7_characters_with_accents_stay_gsm7() -> None:
    assert analyze("Café Ñoño à Ä Ö Ü £ ¥ §").encoding == "gsm7"
    assert analyze("ç").encoding == "ucs2"  # only capital Ç is in GSM-7


def test_empty_text_has_no_parts() -> None:
    assert analyze("").parts == 0


def test_cost_estimate() -> None:
    assert cost_estimate(2, 1500, 0.07) == 210.0
    assert cost_estimate(1, 3, 0.0333) == 0.1
    assert cost_estimate(0, 100, 0.07) == 0.0
    with pytest.raises(ValueError):
        cost_estimate(-1, 1, 0.07)


# --- transliterate ----------------------------------------------------------------


def test_transliterate_polish() -> None:
    assert transliterate("Zażółć gęślą jaźń") == "Zazolc gesla jazn"
    assert transliterate("ĄĆĘŁŃÓŚŹŻ ąćęłńóśźż") == "ACELNOSZZ acelnoszz"
    assert (
        transliterate("Awaria wodociągu na ul. Płońskiej — brak wody do godz. 18:00")
        == "Awaria wodociagu na ul. Plonskiej - brak wody do godz. 18:00"
    )


def test_transliterate_typography() -> None:
    text = "„Uwaga” – «ślisko»… it’s\u00a0zimno"
    assert transliterate(text) == '"Uwaga" - "slisko"... it\'s zimno'


@pytest.mark.parametrize(
    ("uk", "latin"),
    [
        ("Київ", "Kyiv"),
        ("Львів", "Lviv"),
        ("Згорани", "Zghorany"),
        ("Щастя", "Shchastia"),
        ("Юрій", "Yurii"),
        ("Їжакевич", "Yizhakevych"),
        ("Єнакієве", "Yenakiieve"),
        ("Знам'янка", "Znamianka"),
        ("Подвір’я", "Podviria"),
        ("ЖОВТА", "ZHOVTA"),
        ("Тривога! Вода відсутня до 18:00", "Tryvoha! Voda vidsutnia do 18:00"),
    ],
)
def test_transliterate_ukrainian_national_table(uk: str, latin: str) -> None:
    assert transliterate(uk) == latin


def test_transliterate_fallbacks() -> None:
    assert transliterate("ﬁlm") == "film"
    assert transliterate("Čeština") == "Cestina"
    assert transliterate("Alarm 🚨") == "Alarm ?"


# --- build_alert_sms --------------------------------------------------------------


def test_realistic_alert_fits_one_gsm_part_with_intact_link() -> None:
    sms = build_alert_sms(
        sender_name="Ciechanów", title=TITLE, body=BODY, link=LINK, stop_hint="STOP: NIE"
    )
    info = analyze(sms)
    assert info.encoding == "gsm7"
    assert info.parts == 1
    assert info.units <= 160
    assert sms.startswith("Ciechanow: Awaria wodociagu na ul. Plonskiej. Awaria")
    assert sms.endswith(f"... {LINK} STOP: NIE")
    assert LINK in sms


def test_body_is_cut_at_sentence_boundary_when_possible() -> None:
    sms = build_alert_sms(sender_name="Ciechanów", title=TITLE, body=BODY, link=LINK, max_parts=2)
    assert analyze(sms).parts == 2
    # The first two sentences fit in two parts, the third does not; no ellipsis needed.
    assert "Beczkowozy z woda pitna stoja przy ul. Zeromskiego 12" in sms
    assert "Sienkiewicza" not in sms
    assert "..." not in sms
    assert sms.endswith("na Srodmiesciu. " + LINK)


def test_abbreviations_are_not_sentence_ends() -> None:
    body = "Brak wody na ul. Płońskiej do godz. 18:00. Prosimy o cierpliwość i wyrozumiałość."
    sms = build_alert_sms(sender_name="Ciechanów", title="Awaria", body=body, link=LINK)
    assert "Brak wody na ul. Plonskiej do godz. 18:00." in sms


def test_short_alert_is_untouched() -> None:
    sms = build_alert_sms(
        sender_name="Ciechanów", title="Burza", body="Uwaga na silny wiatr.", link=LINK
    )
    assert sms == f"Ciechanow: Burza. Uwaga na silny wiatr. {LINK}"


def test_prefix_and_stop_hint_are_kept() -> None:
    sms = build_alert_sms(
        sender_name="Ciechanów",
        title=TITLE,
        body=BODY,
        link=LINK,
        prefix="ODWOŁANE: ",
        stop_hint="Rezygnacja: STOP",
    )
    assert sms.startswith("ODWOLANE: Ciechanow: ")
    assert sms.endswith(f"{LINK} Rezygnacja: STOP")
    assert analyze(sms).parts == 1


def test_keep_diacritics_uses_ucs2_and_real_ellipsis() -> None:
    sms = build_alert_sms(
        sender_name="Ciechanów", title=TITLE, body=BODY, link=LINK, keep_diacritics=True,
        max_parts=2,
    )
    info = analyze(sms)
    assert info.encoding == "ucs2"
    assert info.parts == 2
    assert sms.startswith("Ciechanów: Awaria wodociągu na ul. Płońskiej. Awaria wodociągu")
    assert sms.endswith("… " + LINK)
    assert LINK in sms


def test_title_is_cut_when_body_cannot_fit() -> None:
    title = "Bardzo długi tytuł komunikatu o awarii sieci ciepłowniczej " * 3
    sms = build_alert_sms(sender_name="Ciechanów", title=title, body=BODY, link=LINK)
    assert analyze(sms).parts == 1
    assert sms.startswith("Ciechanow: Bardzo dlugi tytul")
    assert "...." not in sms
    assert "... " + LINK in sms
    assert "Awaria wodociagu" not in sms


def test_mandatory_pieces_are_returned_even_when_too_long() -> None:
    long_link = "https://informator.ciechanow.pl/alert.html?id=" + "x" * 200
    sms = build_alert_sms(sender_name="Ciechanów", title=TITLE, body=BODY, link=long_link)
    assert sms == f"Ciechanow: {long_link}"
    assert analyze(sms).parts == 2


def test_build_alert_sms_is_deterministic() -> None:
    kwargs: dict[str, Any] = {"sender_name": "Ciechanów", "title": TITLE, "body": BODY, "link": LINK}
    assert build_alert_sms(**kwargs) == build_alert_sms(**kwargs)


# --- properties -------------------------------------------------------------------

GSM_CHARS = sorted(GSM7_BASIC | GSM7_EXTENSION)
polish_text = st.text(
    alphabet=st.sampled_from(list("aąbcćdeęfghijklłmnńoóprsśtuwyzźżAĄĆĘŁŃÓŚŹŻ .,!?—–„”…€[]")),
    max_size=400,
)


@given(st.one_of(st.text(max_size=500), st.text(alphabet=GSM_CHARS, max_size=500)))
def test_parts_consistent_with_units(text: str) -> None:
    info = analyze(text)
    single, multi = (160, 153) if info.encoding == "gsm7" else (70, 67)
    assert info.chars == len(text)
    if info.units == 0:
        assert info.parts == 0
    elif info.units <= single:
        assert info.parts == 1
    else:
        # Multi-unit characters are never split, so a part may carry one unit less.
        assert math.ceil(info.units / multi) <= info.parts <= math.ceil(info.units / (multi - 1))
    assert info.units >= info.chars


@given(st.text(max_size=300))
def test_transliterate_is_always_gsm7(text: str) -> None:
    assert analyze(transliterate(text)).encoding == "gsm7"


@settings(max_examples=200)
@given(
    sender=st.sampled_from(["Ciechanów", "UM Ciechanów", "Informator"]),
    title=polish_text,
    body=polish_text,
    link=st.from_regex(r"https://informator\.ciechanow\.pl/a\?id=[A-Za-z0-9_-]{1,60}", fullmatch=True),
    max_parts=st.integers(min_value=1, max_value=4),
    keep=st.booleans(),
    prefix=st.sampled_from(["", "AKTUALIZACJA: ", "ODWOŁANE: ", "ĆWICZENIA: "]),
    stop=st.sampled_from(["", "STOP: odp. NIE"]),
)
def test_build_alert_sms_keeps_link_and_budget(
    sender: str, title: str, body: str, link: str, max_parts: int, keep: bool, prefix: str, stop: str
) -> None:
    common: dict[str, Any] = {
        "sender_name": sender,
        "link": link,
        "max_parts": max_parts,
        "keep_diacritics": keep,
        "prefix": prefix,
        "stop_hint": stop,
    }
    sms = build_alert_sms(title=title, body=body, **common)
    mandatory = build_alert_sms(title="", body="", **common)
    assert link in sms
    assert stop in sms
    assert sms.endswith(" ".join(p for p in (link, stop) if p))
    if analyze(mandatory).parts <= max_parts:
        assert analyze(sms).parts <= max_parts
    if not keep:
        assert analyze(sms).encoding == "gsm7"
