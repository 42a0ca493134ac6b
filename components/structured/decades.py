"""Decades, which Duckling has no rules for: "the eighties", "70s", "1980s", "80er", "seksenlerden" (Turkish: from
the eighties), as ten-year intervals shaped like Duckling's (`from`, `to`, grain year).

A word names a decade when it is not a number or an ordinal itself but a form of a round one: digits with a
plural or an ending ("70s", "1980s", "80'ler"), or a number word Duckling reads in the message's language once its
plural ("eighties" -> "eighty", "fifties" -> "fifty") or, in languages that glue endings onto words, its endings
are taken off ("seksenlerden" -> "seksen"). Two-digit decades are those of the last century that has seen them end ("the
twenties" said in 2026 are the 1920s, "the tens" the 2010s).
"""
import datetime
from typing import Any, Dict, Iterator, List, Optional
from zoneinfo import ZoneInfo

import regex

from components.structured import duckling_parser

# Digits of a decade with something after them: "70s", "80's", "1980s", "80er", "80'lerde".
DIGIT_DECADE = regex.compile(r"(\d{2}|\d{3}0)(?=[\p{L}'’])")
MIN_STEM_LETTERS = 3  # the shortest beginning of a word read as a number word ("kırk", forty)
# What is read (in one Duckling call), so that no span costs more than a few ms: a decade is said in a word or two
# ("altmışlı yıllardan", the sixties), and no number word is longer than this with its endings.
MAX_WORDS, MAX_WORD_LETTERS = 3, 16


def decade(span: str, language: str, timezone: str, suffixing: bool = False) -> Optional[Dict[str, Any]]:
    """The decade the first word of `span` that names one names, as a time entity over `span`, or None. Every
    form tried is read in one call to Duckling."""
    words = [w for w in regex.findall(r"[\w'’]+", span)[:MAX_WORDS] if len(w) <= MAX_WORD_LETTERS]
    forms = {word: [word, *_stems(word.lower(), suffixing)] for word in words}
    read = _read([form for word in words for form in forms[word]], language, timezone)
    for word in words:
        if read[word]:
            continue  # "twenty", "10th": a number or an ordinal, not a decade
        stem = next((read[stem]["number"] for stem in forms[word][1:] if "number" in read[stem]), None)
        year = _digit_decade(word) or _round(stem)
        if year is not None:
            return _interval(_first_year(year, timezone), timezone, span)
    return None


def _digit_decade(word: str) -> Optional[int]:
    match = DIGIT_DECADE.match(word)
    return int(match.group(1)) if match and int(match.group(1)) % 10 == 0 else None


def _round(value: Optional[float]) -> Optional[int]:
    """A number of tens (10, 20... 90, 1980), else None."""
    return int(value) if value is not None and value == int(value) and value >= 10 and int(value) % 10 == 0 else None


def _stems(word: str, suffixing: bool) -> Iterator[str]:
    """The word without a plural ("-ies" -> "-y", "-s"), then ever shorter beginnings of it where endings glue."""
    if word.endswith("ies"):
        yield word[:-3] + "y"
    if word.endswith("s"):
        yield word[:-1]
    if suffixing:
        yield from (word[:end] for end in range(len(word) - 1, MIN_STEM_LETTERS - 1, -1))


def _read(texts: List[str], language: str, timezone: str) -> Dict[str, Dict[str, float]]:
    """{text: {"number" or "ordinal": the value Duckling reads in the whole of it}}."""
    duckling = duckling_parser.duckling_language(language) or "en"
    unique = list(dict.fromkeys(texts))
    found = duckling_parser.parse_each(unique, duckling, ["number", "ordinal"], timezone)
    return {text: {e["entity"]: float(e["value"]) for e in entities if e["start"] == 0 and e["end"] == len(text)}
            for text, entities in zip(unique, found)}


def _first_year(year: int, timezone: str) -> int:
    if year >= 100:
        return year
    this_year = datetime.datetime.now(ZoneInfo(timezone)).year
    return 2000 + year if 2000 + year + 10 <= this_year else 1900 + year


def _interval(first_year: int, timezone: str, span: str) -> Dict[str, Any]:
    start, end = (datetime.datetime(year, 1, 1, tzinfo=ZoneInfo(timezone)).isoformat(timespec="milliseconds")
                  for year in (first_year, first_year + 10))
    value = {"from": start, "to": end}
    info = {"type": "interval", "from": {"value": start, "grain": "year"}, "to": {"value": end, "grain": "year"}}
    return {"entity": "time", "start": 0, "end": len(span), "value": value, "confidence": 1.0, "additional_info": info}
