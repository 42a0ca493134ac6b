"""Duckling: dates, times, durations, numbers, ordinals, money, emails, phone numbers and URLs in the
message's language, with normalised values, in the shape of Rasa's DucklingEntityExtractor.

`pyduckling-native-phihos` wraps Duckling 0.2.0.1 (no server), run in a child process that may die instead of
the bot (components/structured/duckling_process.py). Its quirks, handled here: `body` comes back garbled for non-ASCII text
(the text is sliced by `start`/`end` instead), an unknown language silently becomes English (only
DUCKLING_LANGUAGES are asked for), and a few false positives are dropped (`misread`). Its cost grows
faster than the text (5 ms at 150 characters, 270 ms at 1,500), so it reads at most `max_characters`, in windows of
at most WINDOW_CHARACTERS cut at spaces: a chat message is one window, a long one costs in proportion to its length.
"""
import re
import time
from typing import Any, Dict, List, Optional, Sequence, Tuple

from components.structured.duckling_process import DucklingProcess

# Duckling 0.2.0.1's languages (Duckling/Locale.hs), as ISO 639-1 codes.
DUCKLING_LANGUAGES = frozenset(
    "af ar bg bn ca cs da de el en es et fa fi fr ga he hi hr hu id is it ja ka km kn ko lo ml mn my nb ne nl pl pt "
    "ro ru sk sv sw ta te th tr uk vi zh".split())
# Those with rules for dates and times; the others fall back to dateparser (components/structured/date_fallback.py).
TIME_LANGUAGES = frozenset(
    "ar bg ca da de el en es fr ga he hr hu it ja ka ko nb nl pl pt ro ru sv tr uk vi zh".split())
# fastText's codes that Duckling spells otherwise.
LANGUAGE_ALIASES = {"no": "nb", "nn": "nb", "iw": "he", "in": "id"}
TIME_DIMENSIONS = ("time", "duration")
_DIGIT = re.compile(r"\d")
_UNREADABLE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\ud800-\udfff]")  # control characters, lone surrogates
_CJK_NUMERALS = set("〇零一二三四五六七八九十百千万萬億两兩")
MIN_PHONE_DIGITS = 7  # an order or a room number is not a phone number
WINDOW_CHARACTERS = 96  # longer than almost every chat message (docs/decisions/0056)
DUCKLING = DucklingProcess()  # this process's one Duckling
# Duckling reads one character past a match of some rules, and dies where that is past the end ("شهر رمضان."):
# two spaces after each window keep it inside the text (docs/decisions/0060).
END_PADDING = "  "


def duckling_language(language: Optional[str]) -> Optional[str]:
    """The Duckling language for an ISO 639-1 code, or None when Duckling does not know it."""
    language = LANGUAGE_ALIASES.get(language or "", language or "")
    return language if language in DUCKLING_LANGUAGES else None


def parse(text: str, language: str, dimensions: Sequence[str], timezone: str,
          reference_time: Optional[float] = None, max_characters: int = 256) -> List[Dict[str, Any]]:
    """Duckling's entities in `text[:max_characters]` for a language of DUCKLING_LANGUAGES (none when Duckling
    failed on it: components/structured/duckling_process.py)."""
    text = text[:max_characters]
    readable = _UNREADABLE.sub(" ", text)  # Duckling panics on a NUL; the same length, so offsets hold
    pieces = windows(text)
    found = DUCKLING.read([readable[start:end] + END_PADDING for start, end in pieces], language, list(dimensions),
                          timezone, int(reference_time or time.time())) if pieces else []
    found = found or []  # None: Duckling died on this text
    entities = [as_rasa_entity({**match, "start": match["start"] + start, "end": _end(match, readable, start, end)},
                               text) for (start, end), matches in zip(pieces, found) for match in matches]
    return _kept(entities, text)


def parse_each(texts: Sequence[str], language: str, dimensions: Sequence[str], timezone: str) -> List[List[Dict]]:
    """Duckling's entities in each of several short texts (words, phrases), all read in one call."""
    readable = [_UNREADABLE.sub(" ", text) for text in texts]
    found = DUCKLING.read([text + END_PADDING for text in readable], language, list(dimensions), timezone,
                          int(time.time())) if texts else []
    found = found or [[] for _ in texts]
    return [_kept([as_rasa_entity({**match, "end": _end(match, plain, 0, len(plain))}, text) for match in matches], text)
            for text, plain, matches in zip(texts, readable, found)]


def _kept(entities: List[Dict[str, Any]], text: str) -> List[Dict[str, Any]]:
    return without_contained([entity for entity in entities if not misread(entity, text)])


def _end(match: Dict[str, Any], text: str, window_start: int, window_end: int) -> int:
    """Where a match ends in `text`: an interval's may run into the padding or the spaces after it ("bu gece  ")."""
    end = min(match["end"] + window_start, window_end)
    return max(match["start"] + window_start + 1, len(text[:end].rstrip()))


def windows(text: str, size: int = WINDOW_CHARACTERS) -> List[Tuple[int, int]]:
    """[start, end) pieces of at most `size` characters, each cut at its last space when it has one."""
    pieces, start = [], 0
    while start < len(text):
        end = min(len(text), start + size)
        if end < len(text) and " " in text[start + 1:end]:
            end = text.rindex(" ", start + 1, end)
        pieces.append((start, end))
        start = end
    return pieces


def as_rasa_entity(match: Dict[str, Any], text: str) -> Dict[str, Any]:
    """Rasa's DucklingEntityExtractor format: the value normalised (an interval as {"from", "to"})."""
    value = match["value"]
    if value.get("type") == "interval":
        normalised = {end: (value.get(end) or {}).get("value") for end in ("from", "to")}
    else:
        normalised = value.get("value")
    return {"entity": match["dim"], "start": match["start"], "end": match["end"],
            "text": text[match["start"]: match["end"]], "value": normalised, "confidence": 1.0,
            "additional_info": value}


def misread(entity: Dict[str, Any], text: str) -> bool:
    """Duckling's false positives: spoken emails without an @, short digit runs as phone numbers, "a"/"ein"/"bir"
    as the number 1, CJK characters that are not numerals as numbers (打 "dozen"), and Turkish "7'de" (at seven)
    as seven minutes."""
    span, dimension = entity["text"], entity["entity"]
    if dimension == "email":
        return "@" not in span
    if dimension == "phone-number":
        return len(_DIGIT.findall(span)) < MIN_PHONE_DIGITS
    if dimension in ("number", "ordinal") and not _DIGIT.search(span):
        return entity["value"] == 1 or (_is_cjk(span) and not set(span) & _CJK_NUMERALS)
    if dimension == "duration":
        return span.endswith("'") and text[entity["end"]: entity["end"] + 1].isalpha()
    return False


def _is_cjk(span: str) -> bool:
    return any("\u3040" <= character <= "\u9fff" for character in span)


def without_contained(entities: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """One entity per stretch of text: those inside a longer one (the 7 in "tomorrow at 7pm") are dropped."""
    kept = []
    for entity in sorted(entities, key=lambda e: (e["start"], -(e["end"] - e["start"]))):
        if not any(k["start"] <= entity["start"] and entity["end"] <= k["end"] for k in kept):
            kept.append(entity)
    return kept
