"""What an inbox may show of a user: no sender ids at all, and emails and phone numbers masked by default.

The same Duckling that gives the StructuredEntityExtractor its emails and phone numbers finds them here, read with
the rules every language shares.
"""
from typing import Dict

from components.structured import duckling_parser
from training.inbox.sheet import Row

MASKS = {"email": "[email]", "phone-number": "[phone]"}


def masked(text: str) -> str:
    """The text with each email and phone number replaced by its mask."""
    if not text:
        return text
    found = duckling_parser.parse(text, "en", list(MASKS), "UTC", max_characters=len(text))
    for entity in sorted(found, key=lambda e: e["start"], reverse=True):
        text = text[:entity["start"]] + MASKS[entity["entity"]] + text[entity["end"]:]
    return text


def masked_rows(rows: Dict[str, Row]) -> Dict[str, Row]:
    """The rows with their texts, entities and answers masked; rows whose texts then read alike are merged."""
    merged: Dict[str, Row] = {}
    for row in rows.values():
        row.text, row.entities, row.answer = masked(row.text), masked(row.entities), masked(row.answer)
        merged[row.text] = merged[row.text].merged(row) if row.text in merged else row
    return merged
