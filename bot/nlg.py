"""Rasa's responses, with slot values written the way the conversation's language writes them.

A slot filled from a structured entity holds a normalised value (ISO 8601 for "yarın akşam 7'de", a number for
"dört"); `{time}` in a Turkish answer should read "1 Aralık 2026 Salı 19:00", in Arabic "الثلاثاء، 1 ديسمبر 2026
7:00 م". This generator formats such values with Babel's CLDR data for the `language` slot before Rasa's own
interpolation. It also answers in a language the message's letters allow: when the language detector was unsure
(the slot kept "ar") but the message is Latin gibberish, the answer is not Arabic: it is the most likely
answerable language written in those letters, else English. endpoints.yml: `nlg: type: bot.nlg.LocalizedResponses`
(Rasa loads it in-process).
"""
import datetime
import re
from typing import Any, Dict, Optional, Text

from rasa.core.nlg.response import TemplatedNaturalLanguageGenerator

from components.keys import LANGUAGE_CANDIDATES, LANGUAGE_SLOT
from components.languages.detection import answer_language, answer_languages

ISO_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")
DEFAULT_LOCALE = "en"


class LocalizedResponses(TemplatedNaturalLanguageGenerator):
    """The domain's responses; date, time and number slot values in the conversation's locale."""

    def __init__(self, endpoint_config: Any = None, domain: Any = None) -> None:
        super().__init__(domain.responses if domain else {})
        # Numbers are written as numbers only in float slots: an order number is not "48,213".
        self.number_slots = {slot.name for slot in (domain.slots if domain else []) if slot.type_name == "float"}

    @property
    def answer_languages(self) -> set:
        """The languages of the responses' variations (Rasa replaces `responses` when it loads a model)."""
        return set(answer_languages(self.responses))

    async def generate(self, utter_action: Text, tracker: Any, output_channel: Text,
                       **kwargs: Any) -> Optional[Dict[Text, Any]]:
        slots = tracker.current_slot_values()
        latest = tracker.latest_message
        if latest is not None and latest.text:
            slots[LANGUAGE_SLOT] = self.answer_language(slots.get(LANGUAGE_SLOT), latest.text,
                                                        latest.parse_data.get(LANGUAGE_CANDIDATES) or [])
        return self.generate_from_slots(utter_action, slots, output_channel, **kwargs)

    def answer_language(self, conversation: Optional[Text], text: Text, candidates) -> Optional[Text]:
        """components.languages.detection.answer_language over the domain's languages (English answers the rest)."""
        return answer_language(text, conversation, candidates, self.answer_languages | {DEFAULT_LOCALE})

    def _fill_response(self, response: Dict[Text, Any], filled_slots: Optional[Dict[Text, Any]] = None,
                       **kwargs: Any) -> Dict[Text, Any]:
        slots = filled_slots or {}
        locale = slots.get(LANGUAGE_SLOT) or DEFAULT_LOCALE
        shown = {name: localized(value, locale, name in self.number_slots) if name != LANGUAGE_SLOT else value
                 for name, value in slots.items()}
        return super()._fill_response(response, shown, **kwargs)


def localized(value: Any, locale: Text, as_number: bool = True) -> Any:
    """A date-time (ISO 8601, or a Duckling interval's {"from", "to"}) or, `as_number`, a number as `locale` writes
    it; any other value as it is."""
    from babel import UnknownLocaleError

    try:
        if isinstance(value, dict) and {"from", "to"} & set(value):
            return " – ".join(localized(value[end], locale, as_number) for end in ("from", "to") if value.get(end))
        if isinstance(value, str) and ISO_DATETIME.match(value):
            return date_time(datetime.datetime.fromisoformat(value.replace("Z", "+00:00")), locale)
        if as_number and isinstance(value, (int, float)) and not isinstance(value, bool):
            from babel.numbers import format_decimal

            return format_decimal(value, locale=locale)
    except (UnknownLocaleError, ValueError):  # a language CLDR does not know, or not a date after all
        return value
    return value


def date_time(moment: datetime.datetime, locale: Text) -> Text:
    """Weekday, date and hour in the locale's own order ("{1} {0}" in CLDR's date-time pattern); the date alone
    at midnight (Duckling's value for "tomorrow")."""
    from babel.dates import format_date, format_time, get_datetime_format

    day = format_date(moment, "full", locale=locale)
    if (moment.hour, moment.minute) == (0, 0):
        return day
    hour = format_time(moment, "short", tzinfo=moment.tzinfo, locale=locale)
    return get_datetime_format("medium", locale=locale).replace("{1}", day).replace("{0}", hour)
