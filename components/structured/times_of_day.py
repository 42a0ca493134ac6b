"""Times said in words Duckling does not read as times: a part of the day ("morning", "Sabah", "akşam yemeği",
dinner: the evening, "晚上", "夕方", "abends"), a clock hour said as a bare number ("6", "5'e": at five), and a
duration meant as that long from now ("on beş dakikaya", in fifteen minutes: Duckling reads a duration).

Parts of the day come from CLDR's day periods (Babel: each locale's names for them and their hours), so every
language Babel knows has them, Khmer included. Both are read as Duckling reads "tonight" and "at 6": the next such
time in the bot's timezone (today's evening until it has ended, then tomorrow's; 6 o'clock is the next 6:00 or
18:00), shaped like Duckling's values.
"""
import datetime
import functools
from typing import Any, Dict, List, Optional, Tuple
from zoneinfo import ZoneInfo

import regex

from components.structured.entity_spans import SPACELESS_ALPHABETS

DAY = 24 * 3600
ARABIC_VOWEL_MARKS = regex.compile(r"[\u064B-\u065F\u0670]")
# Period ids that are markers on a clock time ("PM"), not parts of the day.
CLOCK_MARKERS = frozenset({"am", "pm"})
# A number alone, with the ending a language may glue onto it ("5'e", "7h"), read as an hour of the day.
BARE_HOUR = regex.compile(r"^\s*(\d{1,2})(?:['’]?\p{L}{0,4})\s*$")
# Letters a language may glue onto a part of the day ("akşamları", in the evenings; "sabahki").
MAX_ENDING_LETTERS = 4
# Alphabets whose one letter can be a word (朝, morning; 夜, night); elsewhere a one-letter name is an abbreviation.
# A name in them, or in an alphabet written without spaces, is found anywhere in a span ("晚上", "ថ្ងៃស្អែកព្រឹក").
IDEOGRAPHIC = regex.compile(r"[\p{sc=Han}\p{sc=Hiragana}\p{sc=Katakana}\p{sc=Hangul}]")


def local_timezone() -> str:
    """The machine's IANA timezone (UTC when it has none): the bot's, unless its config names one."""
    try:
        from tzlocal import get_localzone_name

        return get_localzone_name() or "UTC"
    except Exception:  # no zone configured in a container
        return "UTC"


def time_of_day(span: str, language: str, timezone: str, suffixing: bool = False,
                now: Optional[datetime.datetime] = None) -> Optional[Dict[str, Any]]:
    """The part of the day `span` names, else the hour it is if it is a bare number, as a time entity over `span`."""
    now = now or datetime.datetime.now(ZoneInfo(timezone))
    period = _part_of_day(span, language, suffixing)
    if period and period[1] is None:
        return _entity(span, _next_moment(period[0], now), None)
    if period:
        return _entity(span, *_next(period, now))
    hour = BARE_HOUR.match(span)
    if hour and int(hour.group(1)) <= 24:
        return _entity(span, _next_hour(int(hour.group(1)), now), None)
    return None


def from_now(duration: Dict[str, Any], timezone: str) -> Dict[str, Any]:
    """A Duckling duration as the time that long from now, in `timezone`, as Duckling reads "in 15 minutes"."""
    seconds = duration["additional_info"]["normalized"]["value"]
    moment = (datetime.datetime.now(ZoneInfo(timezone)) + datetime.timedelta(seconds=seconds)).replace(
        microsecond=0).isoformat()
    info = {"type": "value", "value": moment, "grain": duration["additional_info"].get("unit", "second"),
            "duration": duration["additional_info"]}
    return {**duration, "entity": "time", "value": moment, "additional_info": info}


def _part_of_day(span: str, language: str, suffixing: bool) -> Optional[Tuple[int, Optional[int]]]:
    """The (from, before) seconds after midnight of the first part of the day `span` names in `language` (before
    is None for a moment: noon, midnight)."""
    folded = _folded(span)
    words = regex.findall(r"[\w']+", folded)
    for name, hours in _periods(language):
        if _names(name, folded, words, suffixing):
            return hours
    return None


def _names(name: str, span: str, words: List[str], suffixing: bool) -> bool:
    """Whether `span` says `name`: one of its words, or that word with an ending glued on where endings glue; a
    name of several words ("öğleden sonra") or in an alphabet written without spaces ("晚上") anywhere in it."""
    if IDEOGRAPHIC.match(name) or SPACELESS_ALPHABETS.match(name):
        return name in span
    if " " in name:
        return regex.search(rf"(?<!\w){regex.escape(name)}(?!\w)", span) is not None
    return any(word == name or suffixing and word.startswith(name) and len(word) - len(name) <= MAX_ENDING_LETTERS
               for word in words)


@functools.lru_cache(maxsize=64)
def _periods(language: str) -> List[Tuple[str, Tuple[int, Optional[int]]]]:
    """[(name, (from, before))] of `language`'s parts of the day, then its moments ("noon", before None), longest
    name first: CLDR's names said alone ("morning") and in a phrase ("in the morning")."""
    from babel import Locale, UnknownLocaleError

    try:
        locale = Locale.parse(language)
    except (UnknownLocaleError, ValueError):
        return []
    rules = dict(locale.day_period_rules.get(None) or {})
    hours = {period: (spans[0].get("from", spans[0].get("at", 0)), spans[0].get("before"))
             for period, spans in rules.items() if period not in CLOCK_MARKERS and spans}
    names: Dict[str, Tuple[int, Optional[int]]] = {}
    for period in sorted(hours, key=lambda period: hours[period][1] is None):  # a part of the day before a moment
        for context in ("stand-alone", "format"):
            for width in ("wide", "abbreviated"):  # not "narrow": one or two letters ("mi", midnight)
                name = _folded(locale.day_periods.get(context, {}).get(width, {}).get(period) or "")
                if len(name) > 1 or IDEOGRAPHIC.match(name or " "):
                    names.setdefault(name, hours[period])
    return sorted(names.items(), key=lambda item: -len(item[0]))


def _folded(text: str) -> str:
    """`text` as names are compared: case folded, one apostrophe ("’s avonds" is "'s avonds"), without zero-width
    spaces and Arabic's optional vowel marks ("صباحًا" and "صباحا" are the same word)."""
    return ARABIC_VOWEL_MARKS.sub("", text.casefold().replace("\u200b", "").replace("’", "'"))


def _next(hours: Tuple[int, int], now: datetime.datetime) -> Tuple[datetime.datetime, datetime.datetime]:
    """The occurrence of a part of the day that has not ended yet (a night that began yesterday may not have)."""
    start, before = hours
    length = datetime.timedelta(seconds=(before - start) % DAY or DAY)
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    occurrences = (midnight + datetime.timedelta(days=days, seconds=start) for days in (-1, 0, 1))
    begins = next(begins for begins in occurrences if begins + length > now)  # tomorrow's always ends after now
    return begins, begins + length


def _next_hour(hour: int, now: datetime.datetime) -> datetime.datetime:
    """The next time the clock shows `hour` (6 is 6:00 or 18:00, whichever comes first; 24 is midnight)."""
    return min(_next_moment(h * 3600, now) for h in [hour % 24] + ([hour + 12] if 1 <= hour <= 11 else []))


def _next_moment(seconds: int, now: datetime.datetime) -> datetime.datetime:
    """The next time that is `seconds` after a midnight."""
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    return min(moment for days in (0, 1) if (moment := midnight + datetime.timedelta(days=days, seconds=seconds)) > now)


def _entity(span: str, start: datetime.datetime, end: Optional[datetime.datetime]) -> Dict[str, Any]:
    """A time entity over `span`: an interval shaped like Duckling's where there is an end, else a moment."""
    first = start.isoformat(timespec="milliseconds")
    if end is None:
        value: Any = first
        info: Dict[str, Any] = {"type": "value", "value": first, "grain": "hour"}
    else:
        last = end.isoformat(timespec="milliseconds")
        value = {"from": first, "to": last}
        info = {"type": "interval", "from": {"value": first, "grain": "hour"}, "to": {"value": last, "grain": "hour"}}
    return {"entity": "time", "start": 0, "end": len(span), "value": value, "confidence": 1.0, "additional_info": info}
