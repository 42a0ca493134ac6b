"""What an inbox may show of a user: no sender ids at all, and emails and phone numbers masked by default.

The same Duckling that gives the StructuredEntityExtractor its emails and phone numbers finds them here, read with
the rules every language shares.
"""
import re
from typing import Dict

from components.structured import duckling_parser
from training.inbox.sheet import Row

MASKS = {"email": "[email]", "phone-number": "[phone]"}
# Duckling reads any run of seven digits or more as a phone number: a date (2026-12-06, the day of a time entity) is
# not one, nor a plain number that no national phone format writes (order numbers: 12345678). A run of ten digits
# or more, or one that starts with 0 or +, or is written in groups, stays masked.
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
PLAIN_NUMBER = re.compile(r"[1-9]\d{0,8}")


def masked(text: str) -> str:
    """The text with each email and phone number replaced by its mask."""
    if not text:
        return text
    found = [entity for entity in duckling_parser.parse(text, "en", list(MASKS), "UTC", max_characters=len(text))
             if entity["entity"] == "email" or _may_be_a_phone(text[entity["start"]:entity["end"]])]
    for entity in sorted(found, key=lambda e: e["start"], reverse=True):
        text = text[:entity["start"]] + MASKS[entity["entity"]] + text[entity["end"]:]
    return text


def _may_be_a_phone(written: str) -> bool:
    written = written.strip()
    return not ISO_DATE.fullmatch(written) and not PLAIN_NUMBER.fullmatch(written)


def masked_rows(rows: Dict[str, Row]) -> Dict[str, Row]:
    """The rows with their texts, entities and answers masked; rows whose texts then read alike are merged."""
    merged: Dict[str, Row] = {}
    for row in rows.values():
        row.text, row.entities, row.answer = masked(row.text), masked(row.entities), masked(row.answer)
        merged[row.text] = merged[row.text].merged(row) if row.text in merged else row
    return merged
