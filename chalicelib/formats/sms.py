"""SMS text helpers: GSM-7/UCS-2 analysis, transliteration and alert SMS building.

Everything here is pure and deterministic (no I/O), so the admin page preview, the
publisher and the tests all compute exactly the same text and part count.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# GSM 03.38 default alphabet (without the escape character 0x1B).
GSM7_BASIC: frozenset[str] = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# Extension table characters: sent as ESC + char, so two septets each.
GSM7_EXTENSION: frozenset[str] = frozenset("^{}\\[~]|€\f")

GSM7_SINGLE = 160
GSM7_MULTI = 153
UCS2_SINGLE = 70
UCS2_MULTI = 67


@dataclass(frozen=True)
class SmsInfo:
    """Result of :func:`analyze`.

    ``units`` are septets for gsm7 (extension characters count two) and UTF-16 code
    units for ucs2. ``parts`` is 0 for an empty text.
    """

    encoding: str
    units: int
    parts: int
    chars: int


def is_gsm7(text: str) -> bool:
    """True when every character can be sent in the GSM-7 alphabet (incl. extension)."""
    return all(c in GSM7_BASIC or c in GSM7_EXTENSION for c in text)


def _pack(costs: list[int], single: int, multi: int) -> int:
    """Number of parts; a multi-unit character is never split between two parts."""
    total = sum(costs)
    if total == 0:
        return 0
    if total <= single:
        return 1
    parts, used = 1, 0
    for cost in costs:
        if used + cost > multi:
            parts += 1
            used = 0
        used += cost
    return parts


def analyze(text: str) -> SmsInfo:
    """Encoding, length in units and number of parts of ``text`` as one SMS."""
    if is_gsm7(text):
        costs = [2 if c in GSM7_EXTENSION else 1 for c in text]
        return SmsInfo("gsm7", sum(costs), _pack(costs, GSM7_SINGLE, GSM7_MULTI), len(text))
    costs = [2 if ord(c) > 0xFFFF else 1 for c in text]
    return SmsInfo("ucs2", sum(costs), _pack(costs, UCS2_SINGLE, UCS2_MULTI), len(text))


def cost_estimate(parts: int, recipients: int, price_per_part: float) -> float:
    """Total price of sending ``parts`` parts to ``recipients`` numbers, 2 decimals."""
    if parts < 0 or recipients < 0 or price_per_part < 0:
        raise ValueError("parts, recipients and price_per_part must not be negative")
    return round(parts * recipients * price_per_part, 2)


# --- transliteration --------------------------------------------------------------

_POLISH = {
    "ą": "a", "ć": "c", "ę": "e", "ł": "l", "ń": "n", "ó": "o", "ś": "s", "ź": "z", "ż": "z",
    "Ą": "A", "Ć": "C", "Ę": "E", "Ł": "L", "Ń": "N", "Ó": "O", "Ś": "S", "Ź": "Z", "Ż": "Z",
}

_TYPOGRAPHIC = {
    "„": '"', "”": '"', "“": '"', "‟": '"', "«": '"', "»": '"', "″": '"',
    "‚": "'", "‘": "'", "’": "'", "‛": "'", "′": "'", "ʼ": "'", "`": "'", "´": "'",
    "–": "-", "—": "-", "‒": "-", "―": "-", "‐": "-", "‑": "-", "−": "-",
    "…": "...", "•": "-", "·": "-",
    "\u00a0": " ", "\u202f": " ", "\u2007": " ", "\u2009": " ", "\u200a": " ",
    "\u2002": " ", "\u2003": " ", "\t": " ", "\u2028": "\n", "\u2029": "\n",
    "\u00ad": "", "\u200b": "", "\u200c": "", "\u200d": "", "\ufeff": "",
    "°": "", "×": "x", "÷": "/", "⁄": "/", "№": "nr",
}

# Ukrainian national transliteration (Resolution of the Cabinet of Ministers of
# Ukraine No. 55 of 27 January 2010). Tuple: (word-initial form, other positions).
_UK_LOWER: dict[str, tuple[str, str]] = {
    "а": ("a", "a"), "б": ("b", "b"), "в": ("v", "v"), "г": ("h", "h"), "ґ": ("g", "g"),
    "д": ("d", "d"), "е": ("e", "e"), "є": ("ye", "ie"), "ж": ("zh", "zh"), "з": ("z", "z"),
    "и": ("y", "y"), "і": ("i", "i"), "ї": ("yi", "i"), "й": ("y", "i"), "к": ("k", "k"),
    "л": ("l", "l"), "м": ("m", "m"), "н": ("n", "n"), "о": ("o", "o"), "п": ("p", "p"),
    "р": ("r", "r"), "с": ("s", "s"), "т": ("t", "t"), "у": ("u", "u"), "ф": ("f", "f"),
    "х": ("kh", "kh"), "ц": ("ts", "ts"), "ч": ("ch", "ch"), "ш": ("sh", "sh"),
    "щ": ("shch", "shch"), "ь": ("", ""), "ю": ("yu", "iu"), "я": ("ya", "ia"),
    # Not Ukrainian, but common in texts pasted from Russian or Belarusian sources.
    "ы": ("y", "y"), "э": ("e", "e"), "ё": ("yo", "io"), "ъ": ("", ""), "ў": ("u", "u"),
}
_UK_APOSTROPHES = frozenset("'’ʼ`")


def _is_cyrillic(c: str) -> bool:
    return c.lower() in _UK_LOWER


def _uk_letter(text: str, i: int) -> str:
    c = text[i]
    low = c.lower()
    prev = text[i - 1] if i > 0 else ""
    word_start = not prev.isalpha() and prev not in _UK_APOSTROPHES
    if low == "г" and prev.lower() == "з":  # "зг" -> "zgh", not "zh"
        latin = "gh"
    else:
        initial, medial = _UK_LOWER[low]
        latin = initial if word_start else medial
    if not latin or c == low:
        return latin
    # Upper case: whole digraph upper when the neighbours are upper case too.
    nxt = text[i + 1] if i + 1 < len(text) else ""
    if (nxt.isalpha() and nxt.isupper()) or (prev.isalpha() and prev.isupper()):
        return latin.upper()
    return latin[0].upper() + latin[1:]


def _fallback(c: str) -> str:
    decomposed = unicodedata.normalize("NFKD", c)
    stripped = "".join(d for d in decomposed if not unicodedata.combining(d))
    if stripped and is_gsm7(stripped):
        return stripped
    if stripped:
        mapped = "".join(_TYPOGRAPHIC.get(d, d) for d in stripped)
        if mapped and is_gsm7(mapped):
            return mapped
    return "?"


def transliterate(text: str) -> str:
    """Return ``text`` using only GSM-7 characters (Polish, Ukrainian, typography)."""
    out: list[str] = []
    last = len(text) - 1
    for i, c in enumerate(text):
        if c in _POLISH:
            out.append(_POLISH[c])
        elif (
            c in _UK_APOSTROPHES
            and 0 < i < last
            and _is_cyrillic(text[i - 1])
            and _is_cyrillic(text[i + 1])
        ):
            continue  # the apostrophe inside a Ukrainian word is not transliterated
        elif c in _TYPOGRAPHIC:
            out.append(_TYPOGRAPHIC[c])
        elif c in GSM7_BASIC or c in GSM7_EXTENSION:
            out.append(c)
        elif _is_cyrillic(c):
            out.append(_uk_letter(text, i))
        else:
            out.append(_fallback(c))
    return "".join(out)


# --- alert SMS --------------------------------------------------------------------

_ABBREVIATIONS = frozenset(
    """ul al pl os godz nr tel ok np tj dn r w m in św im ks gen płk prof dr mgr inż min
    tys zł gr wg tzw itd itp pn wt śr czw pt sob ndz lit kl st ust pkt art poz ds jw zob
    ang pol sp zoo o e"""
    .split()
)
_SENTENCE_END = re.compile(r"[.!?…]+[\"”»)]*\s+")
_WS = re.compile(r"\s+")
_DANGLING = frozenset(["a", "i", "o", "u", "w", "z", "we", "ze", "na", "do", "od", "po"])
_TRAILING_PUNCT = " ,;:-–—(\"„'"


def _clean(text: str) -> str:
    return _WS.sub(" ", text).strip()


def _sentences(body: str) -> list[str]:
    """Split a body into sentences, not at Polish abbreviations like "ul." or "godz."."""
    out: list[str] = []
    start = 0
    for m in _SENTENCE_END.finditer(body):
        before = body[start : m.start()].rsplit(" ", 1)[-1]
        after = body[m.end() : m.end() + 1]
        if m.group().startswith(".") and (
            before.lower() in _ABBREVIATIONS or before.isdigit() or not after[:1].isupper()
        ):
            continue
        out.append(body[start : m.end()].strip())
        start = m.end()
    rest = body[start:].strip()
    if rest:
        out.append(rest)
    return out


def _word_cut(text: str, n_words: int, ellipsis: str) -> str:
    words = text.split(" ")
    if n_words >= len(words):
        return text
    kept_words = words[:n_words]
    # Do not end on a dangling one-letter preposition or conjunction ("w", "z", "i").
    # nor on an abbreviation that needs the next word ("ul.", "godz.").
    while len(kept_words) > 1 and (
        kept_words[-1].lower() in _DANGLING
        or (kept_words[-1].endswith(".") and kept_words[-1][:-1].lower() in _ABBREVIATIONS)
    ):
        kept_words.pop()
    kept = " ".join(kept_words).rstrip(_TRAILING_PUNCT)
    return kept + ellipsis if kept else ""


def build_alert_sms(
    *,
    sender_name: str,
    title: str,
    body: str,
    link: str,
    max_parts: int = 1,
    keep_diacritics: bool = False,
    prefix: str = "",
    stop_hint: str = "",
) -> str:
    """Alert SMS "<prefix><sender_name>: <title>. <body> <link> <stop_hint>" within
    ``max_parts`` parts.

    Sender name, prefix, link and stop hint are never cut; the body is shortened first
    (whole sentences, then whole words with an ellipsis, then dropped), then the title.
    When even the mandatory pieces do not fit they are returned anyway; the caller reports
    ``analyze(text).parts``. The link is used verbatim (never transliterated, shortened or
    cut).
    """
    conv = (lambda s: s) if keep_diacritics else transliterate
    sender_name, prefix = _clean(conv(sender_name)), _clean(conv(prefix))
    if prefix:
        prefix += " "
    stop_hint, link = _clean(conv(stop_hint)), link.strip()
    title, body = _clean(conv(title)), _clean(conv(body))

    head = f"{prefix}{sender_name}:" if sender_name else prefix.rstrip()
    tail = " ".join(p for p in (link, stop_hint) if p)

    def compose(t: str, b: str) -> str:
        if t and not t.endswith((".", "!", "?", "…", ":")):
            t += "."
        return " ".join(p for p in (head, t, b, tail) if p)

    def fits(t: str, b: str) -> bool:
        return analyze(compose(t, b)).parts <= max_parts

    if fits(title, body):
        return compose(title, body)

    # The ellipsis must not switch a GSM-7 message to UCS-2.
    ellipsis = "…" if keep_diacritics and not is_gsm7(compose(title, body)) else "..."

    # 1. Shorten the body: whole sentences first, then words.
    sentences = _sentences(body)
    best = ""
    for n in range(1, len(sentences)):
        candidate = " ".join(sentences[:n])
        if not fits(title, candidate):
            break
        best = candidate
    if best:
        return compose(title, best)
    first = sentences[0] if sentences else ""
    n_words = len(first.split(" "))
    best = ""
    for n in range(1, n_words):
        candidate = _word_cut(first, n, ellipsis)
        if not fits(title, candidate):
            break
        best = candidate or best
    if best:
        return compose(title, best)

    # 2. No body at all; shorten the title.
    if fits(title, ""):
        return compose(title, "")
    best = ""
    words = title.split(" ")
    for n in range(1, len(words)):
        candidate = _word_cut(title, n, ellipsis)
        if not fits(candidate, ""):
            break
        best = candidate or best
    return compose(best, "")
