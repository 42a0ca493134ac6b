"""Dates and numbers where Duckling has no rules: dateparser's locales (about 190 languages, Khmer and Thai
among them) for dates, and any script's decimal digits (Khmer ១២៣, Arabic-Indic ١٢٣...) for numbers.

dateparser finds nothing in text written without spaces, so it reads the message's words (components/
word_tokenizer.py) joined by spaces, and its matches are mapped back onto the message. It is given the language
(auto-detection costs 8-48 ms a call instead of 0.3-2 ms) and is less exact than Duckling: it often keeps a
date and drops its hour ("ថ្ងៃស្អែក ម៉ោង ៧ យប់", tomorrow at 7 at night, came back as tomorrow at the current
time). Where it did, a number among the matched words (or the two after them) is taken as the hour, moved past noon
by a word of the language's afternoon, evening or night (CLDR's day periods, from Babel). It also reads the
language's word for hour with a number as a month ("ម៉ោង ៧", seven o'clock, came back as July) and that word alone
as today: next to a number, the language's hour word (CLDR's unit names) makes a clock time on the day the other
words name (today or, once that hour has passed, tomorrow), and a match of unit words alone is no time. Values are
ISO 8601 strings in the bot's timezone, as Duckling's are.
"""
import datetime
import re
import unicodedata
from functools import lru_cache
from typing import Any, Dict, List, Optional, Sequence, Tuple

from rasa.nlu.tokenizers.tokenizer import Token

_DIGITS = re.compile(r"\d+")


def dates(tokens: Sequence[Token], language: str, timezone: str, reference_time: Optional[float] = None,
          max_characters: int = 256) -> List[Dict[str, Any]]:
    """Time entities that dateparser finds in the words of a message."""
    from dateparser.search import search_dates

    joined, starts = _joined(tokens, max_characters)
    if not joined:
        return []
    settings = {"TIMEZONE": timezone, "RETURN_AS_TIMEZONE_AWARE": True, "PREFER_DATES_FROM": "future",
                "RELATIVE_BASE": _reference(timezone, reference_time)}
    try:
        found = search_dates(joined, languages=[language], settings=settings) or []
    except (ValueError, KeyError):  # a language dateparser does not know
        return []
    entities, position = [], 0
    for matched, moment in found:
        offset = joined.find(matched, position)
        if offset < 0:
            continue
        position = offset + len(matched)
        first, last = _covered(starts, offset, position)
        start, end = tokens[first].start, tokens[last].end
        words, after = tokens[first: last + 1], tokens[first: last + 3]
        if _at_hour(after, language):  # "ម៉ោង ៧" is seven o'clock, not July: the day from the other words
            moment = _on_day(words, language, settings, timezone)
            moment = _with_hour(moment, after, language, later=not _day_words(words, language))
        elif all(w.text in _unit_words(language) for w in words):
            continue  # "hour", "ម៉ោង" alone: a word about time, not a time
        elif _clock_of(moment) == _clock_of(settings["RELATIVE_BASE"]):  # dateparser kept the current time of day
            moment = _with_hour(moment, after, language)
        entities.append({"entity": "time", "start": start, "end": end, "value": moment.isoformat(),
                         "confidence": 1.0, "additional_info": {"type": "value", "value": moment.isoformat()}})
    return entities


def numbers(text: str, max_characters: int = 256) -> List[Dict[str, Any]]:
    """Runs of decimal digits in any script, as numbers."""
    entities = []
    for match in _DIGITS.finditer(text[:max_characters]):
        value = _value(match.group())
        entities.append({"entity": "number", "start": match.start(), "end": match.end(), "value": value,
                         "confidence": 1.0, "additional_info": {"type": "value", "value": value}})
    return entities


def _clock_of(moment: datetime.datetime) -> Tuple[int, int]:
    return moment.hour, moment.minute


def _with_hour(moment: datetime.datetime, words: Sequence[Token], language: str,
               later: bool = False) -> datetime.datetime:
    """`moment` at the hour a number among `words` gives, past noon after an afternoon/evening/night word; `later`:
    the next day when that hour has passed (an hour said without a day)."""
    hours = [int(_value(w.text)) for w in words if _DIGITS.fullmatch(w.text) and 0 < int(_value(w.text)) <= 24]
    if not hours:
        return moment.replace(hour=0, minute=0, second=0, microsecond=0)  # a date alone: its start, as Duckling's
    hour = hours[0]
    if hour < 12 and {w.text for w in words} & _later_day_periods(language):
        hour += 12
    at_hour = moment.replace(hour=hour % 24, minute=0, second=0, microsecond=0)
    return at_hour + datetime.timedelta(days=1) if later and at_hour < moment else at_hour


def _at_hour(words: Sequence[Token], language: str) -> bool:
    """Whether the language's word for hour (CLDR) stands next to a number: a clock time."""
    hour_words = _unit_words(language, "duration-hour")
    return any(w.text in hour_words and any(_DIGITS.fullmatch(n.text) for n in words[max(0, i - 1): i + 2])
               for i, w in enumerate(words))


def _day_words(words: Sequence[Token], language: str) -> List[str]:
    """The words of a clock time that name its day: not the hour word, numbers or day periods."""
    other = _unit_words(language, "duration-hour") | _later_day_periods(language)
    return [w.text for w in words if w.text not in other and not _DIGITS.fullmatch(w.text)]


def _on_day(words: Sequence[Token], language: str, settings: dict, timezone: str) -> datetime.datetime:
    """The day the other words of a clock time name (dateparser), else now; in the bot's timezone."""
    from zoneinfo import ZoneInfo

    from dateparser.search import search_dates

    day = _day_words(words, language)
    found = search_dates(" ".join(day), languages=[language], settings=settings) if day else None
    return found[0][1] if found else settings["RELATIVE_BASE"].replace(tzinfo=ZoneInfo(timezone))


@lru_cache(maxsize=None)
def _unit_words(language: str, unit: str = "duration-") -> frozenset:
    """The language's names of time units (CLDR, every width), or of `unit` alone ("duration-hour")."""
    from babel import Locale, UnknownLocaleError

    try:
        names = Locale.parse(language).unit_display_names
    except (UnknownLocaleError, ValueError):
        return frozenset()
    return frozenset(name for key in names if key.startswith(unit) for name in names[key].values())


@lru_cache(maxsize=None)
def _later_day_periods(language: str) -> frozenset:
    """The last word of each CLDR name for the language's afternoon, evening, night and PM."""
    from babel import Locale, UnknownLocaleError

    try:
        periods = Locale.parse(language).day_periods
    except (UnknownLocaleError, ValueError):
        return frozenset()
    names = [name for context in periods.values() for width in context.values() for key, name in width.items()
             if key.startswith(("pm", "afternoon", "evening", "night"))]
    return frozenset(name.replace("\u200b", " ").split()[-1] for name in names if name.strip())


def _value(digits: str) -> int:
    return int("".join(str(unicodedata.digit(character)) for character in digits))


def _joined(tokens: Sequence[Token], max_characters: int) -> Tuple[str, List[int]]:
    """The words joined by single spaces (at most `max_characters`), and where each word starts in that text."""
    parts, starts, length = [], [], 0
    for token in tokens:
        if length + len(token.text) > max_characters:
            break
        starts.append(length)
        parts.append(token.text)
        length += len(token.text) + 1
    return " ".join(parts), starts


def _covered(starts: List[int], begin: int, end: int) -> Tuple[int, int]:
    """The first and last word of the joined text that the characters [begin, end) touch."""
    first = max(i for i, start in enumerate(starts) if start <= begin)
    last = max(i for i, start in enumerate(starts) if start < end)
    return first, last


def _reference(timezone: str, reference_time: Optional[float]) -> datetime.datetime:
    from zoneinfo import ZoneInfo

    moment = datetime.datetime.fromtimestamp(reference_time, ZoneInfo(timezone)) if reference_time \
        else datetime.datetime.now(ZoneInfo(timezone))
    return moment.replace(tzinfo=None)  # dateparser reads RELATIVE_BASE as naive, in TIMEZONE
