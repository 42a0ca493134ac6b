"""StructuredEntityExtractor: Duckling in each message's language, its quirks handled, dateparser and digits where
Duckling has no rules, normalised values, and structured spans merged into the learned entities they overlap."""
import datetime
import os
import signal
from zoneinfo import ZoneInfo

import pytest
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.shared.nlu.training_data.message import Message

from components.structured import date_fallback, decades, duckling_parser, times_of_day
from components.structured.duckling_process import DucklingProcess
from components.structured_entity_extractor import StructuredEntityExtractor
from components.word_tokenizer import WordTokenizer, words
from operations.hostile import DUCKLING_ENDERS
from tests.conftest import build_component
from training.evaluate import is_iso_time

ISTANBUL = "Europe/Istanbul"
NOON_UTC = datetime.datetime(2026, 11, 30, 12, 0, tzinfo=datetime.timezone.utc).timestamp()  # a Monday


def found(text, language, dimensions=("time", "number", "duration", "email", "phone-number")):
    return [(e["entity"], text[e["start"]:e["end"]], e["value"])
            for e in duckling_parser.parse(text, language, dimensions, ISTANBUL, NOON_UTC)]


@pytest.mark.parametrize("text, language, time", [
    ("book a table for 4 people tomorrow at 7pm", "en", "tomorrow at 7pm"),
    ("Yarın akşam 7'de 4 kişilik bir masa", "tr", "Yarın akşam 7"),
    ("Einen Tisch für 4 Personen morgen um 19 Uhr", "de", "morgen um 19 Uhr"),
    ("أريد حجز طاولة غدا الساعة السابعة مساء", "ar", "غدا الساعة السابعة مساء"),
])
def test_times_in_the_messages_language_are_iso_in_the_bots_timezone(text, language, time):
    times = [(span, value) for dimension, span, value in found(text, language) if dimension == "time"]
    assert times == [(time, "2026-12-01T19:00:00.000+03:00")]


@pytest.mark.parametrize("text, language", [("Akşam 6", "tr"), ("öğleden sonra 5", "tr"), ("playing in 2 minutes", "en")])
def test_a_time_at_the_end_of_a_message_ends_there(text, language):
    """Duckling's intervals ran into the spaces padded after a message (docs/decisions/0060)."""
    entities = duckling_parser.parse(text, language, ["time"], ISTANBUL, NOON_UTC)
    assert entities and all(e["end"] <= len(text) and not text[e["start"]:e["end"]].endswith(" ") for e in entities)


def test_decades_are_ten_year_intervals():
    eighties = decades.decade("the eighties", "en", ISTANBUL)["value"]
    assert eighties["from"].startswith("1980-01-01T00:00:00.000") and eighties["to"].startswith("1990-01-01T00:00")
    assert decades.decade("70s", "en", ISTANBUL)["value"]["from"].startswith("1970-01-01")
    assert decades.decade("seksenlerden", "tr", ISTANBUL, suffixing=True)["value"]["from"].startswith("1980")
    assert decades.decade("the 2010s", "en", ISTANBUL)["value"]["from"].startswith("2010")
    assert decades.decade("the twenties", "en", ISTANBUL)["value"]["from"].startswith("1920")  # not yet the 2020s
    for not_a_decade in ("twenty", "at 10", "eight", "the morning", "10th"):
        assert decades.decade(not_a_decade, "en", ISTANBUL) is None, not_a_decade


AFTERNOON = datetime.datetime(2026, 11, 30, 15, 0, tzinfo=ZoneInfo(ISTANBUL))


@pytest.mark.parametrize("span, language, start, end", [
    ("Sabah", "tr", "2026-12-01T06:00", "2026-12-01T11:00"),  # this morning is over: tomorrow's
    ("akşam yemeği", "tr", "2026-11-30T19:00", "2026-11-30T21:00"),  # dinner: this evening
    ("akşamları", "tr", "2026-11-30T19:00", "2026-11-30T21:00"),  # in the evenings: an ending glued on
    ("晚上", "zh", "2026-11-30T19:00", "2026-12-01T00:00"),
    ("夕方", "ja", "2026-11-30T16:00", "2026-11-30T19:00"),
    ("abends", "de", "2026-11-30T18:00", "2026-12-01T00:00"),
    ("ព្រឹក", "km", "2026-12-01T00:00", "2026-12-01T12:00"),  # Khmer, which Duckling has no time rules for
    ("in the morning", "en", "2026-12-01T00:00", "2026-12-01T12:00"),
])
def test_a_part_of_the_day_is_its_next_interval_from_cldr(span, language, start, end):
    value = times_of_day.time_of_day(span, language, ISTANBUL, suffixing=language == "tr", now=AFTERNOON)["value"]
    assert (value["from"][:16], value["to"][:16]) == (start, end)


def test_a_night_that_began_yesterday_is_tonight_until_it_ends_and_noon_is_a_moment():
    two_am = AFTERNOON.replace(hour=2)
    night = times_of_day.time_of_day("gece", "tr", ISTANBUL, now=two_am)["value"]  # 21:00 to 06:00
    assert (night["from"][:16], night["to"][:16]) == ("2026-11-29T21:00", "2026-11-30T06:00")
    assert times_of_day.time_of_day("noon", "en", ISTANBUL, now=AFTERNOON)["value"][:16] == "2026-12-01T12:00"


@pytest.mark.parametrize("span, moment", [("6", "2026-11-30T18:00"), ("5'e", "2026-11-30T17:00"),
                                          ("11", "2026-11-30T23:00"), ("16", "2026-11-30T16:00")])
def test_a_bare_number_is_the_next_time_the_clock_shows_it(span, moment):
    assert times_of_day.time_of_day(span, "tr", ISTANBUL, now=AFTERNOON)["value"][:16] == moment


@pytest.mark.parametrize("span, language", [("coffee", "en"), ("last", "en"), ("25", "en"), ("Morgenstern", "de"),
                                            ("6 üzerinden", "tr"), ("morning", "xx")])
def test_what_names_no_time_of_day_is_none(span, language):
    assert times_of_day.time_of_day(span, language, ISTANBUL, suffixing=language == "tr", now=AFTERNOON) is None


def test_duckling_quirks_are_dropped():
    assert not any(d == "duration" for d, *_ in found("Yarın akşam 7'de", "tr"))  # 7' is not seven minutes
    assert ("number", "4", 4) in found("Einen Tisch für 4 Personen", "de")
    assert not any(span == "Einen" for _, span, _ in found("Einen Tisch für 4 Personen", "de"))  # "a", not 1
    assert not any(d == "number" for d, *_ in found("打电话给妈妈", "zh"))  # 打 (a dozen) is "to call" here
    assert not any(d == "email" for d, *_ in found("mail me at a.b", "en"))  # no @: not an email
    assert not any(d == "phone-number" for d, *_ in found("Siparişim 48213 numaralı", "tr"))
    assert ("email", "a.b@c.com", "a.b@c.com") in found("write to a.b@c.com", "en")


def test_an_unknown_language_is_never_read_as_english():
    assert duckling_parser.duckling_language("tr") == "tr" and duckling_parser.duckling_language("xx") is None
    assert duckling_parser.duckling_language("no") == "nb"


def test_what_duckling_reads_is_bounded():
    long = "x " * 200 + "tomorrow at 7pm"  # beyond the 256 characters read
    assert found(long, "en") == []


def test_without_duckling_time_rules_dateparser_reads_the_words_and_cldr_gives_the_evening():
    text = "ខ្ញុំចង់កក់តុ ថ្ងៃស្អែក ម៉ោង ៧ យប់"  # Khmer, no spaces inside phrases: tomorrow, hour 7, night
    times = date_fallback.dates(words(text), "km", "Asia/Phnom_Penh", NOON_UTC)
    assert [(text[t["start"]:t["end"]], t["value"]) for t in times] == [
        ("ថ្ងៃស្អែក ម៉ោង ៧", "2026-12-01T19:00:00+07:00")]
    table = "តុ ១២ នាក់"  # a table for 12 people
    assert [(n["value"], table[n["start"]:n["end"]]) for n in date_fallback.numbers(table)] == [(12, "១២")]


def test_the_languages_word_for_hour_with_a_number_is_a_clock_time_and_alone_no_time():
    """dateparser read "ម៉ោង ៩ យប់" (9 at night) as September and "ម៉ោង" (hour) alone as today."""
    def times(text):
        return [(text[t["start"]:t["end"]], t["value"]) for t in
                date_fallback.dates(words(text), "km", "Asia/Phnom_Penh", NOON_UTC)]  # 19:00 in Phnom Penh

    assert times("ម៉ោង ៩ យប់") == [("ម៉ោង ៩", "2026-11-30T21:00:00+07:00")]
    assert times("ម៉ោង ៩ ព្រឹក") == [("ម៉ោង ៩", "2026-12-01T09:00:00+07:00")]  # 9 in the morning has passed
    assert times("ហាងបើកម៉ោងប៉ុន្មាន?") == []  # what time does the shop open?


def test_numbers_in_khmer_are_whole_digit_runs_and_never_a_piece_of_a_word(tmp_path):
    extractor = build_component(StructuredEntityExtractor, LocalModelStorage(tmp_path), "structured")
    for text, numbers in [("តុ ៥០ នាក់", [50]),  # a table for 50: Duckling alone reads 5 and 0
                          ("ខ្ញុំចង់កក់តុសម្រាប់៤នាក់", [4]),  # I want to book a table for 4, without spaces
                          ("ហាងបើកម៉ោងប៉ុន្មាន?", [])]:  # Duckling reads ហា of ហាង (shop) as 50
        found = extractor.extract(text, words(text), "km", ["number"])
        assert [e["value"] for e in found] == numbers, text


@pytest.fixture()
def extractor(tmp_path):
    component = build_component(StructuredEntityExtractor, LocalModelStorage(tmp_path), "structured",
                                timezone=ISTANBUL)
    component.fills, component.renames = {"number": ["party_size", "order_number"], "time": ["time"]}, {}
    return component


def message(text, language, learned=()):
    entities = [{"entity": "language", "value": language, "start": 0, "end": len(text)}]
    entities += [{"entity": name, "start": text.index(span), "end": text.index(span) + len(span), "value": span,
                  "extractor": "KerasEntityExtractor"} for name, span in learned]
    result = Message(data={"text": text, "entities": entities})
    WordTokenizer(WordTokenizer.get_default_config()).process([result])
    return result


def entities_of(result):
    return [(e["entity"], result.get("text")[e["start"]:e["end"]], e["value"]) for e in result.get("entities")
            if e["entity"] != "language"]


def test_a_learned_span_gets_the_value_of_its_own_words(extractor):
    text = "我想预订明天晚上7点4个人的桌子"  # the whole text reads "7点4" as 7:04; the learned span alone is 19:00
    result = message(text, "zh", [("time", "明天晚上7点"), ("party_size", "4")])
    extractor.process([result])
    values = {name: value for name, _, value in entities_of(result)}
    assert values["time"].startswith("20") and "T19:00:00" in values["time"] and values["party_size"] == 4
    assert len(entities_of(result)) == 2  # merged: one entity per span, not a learned one and a structured one


def test_digits_inside_an_identifier_are_not_a_number(extractor):
    result = message("Where is my order #A12345?", "en", [("order_number", "A12345")])
    extractor.process([result])
    assert entities_of(result) == [("order_number", "A12345", "A12345")]


def test_structured_spans_the_learned_extractor_missed_are_added_under_their_dimension(extractor):
    result = message("Siparişim 48213 numaralı, nerede?", "tr")
    extractor.process([result])
    assert entities_of(result) == [("number", "48213", 48213)]
    assert result.get("entities")[-1]["extractor"] == "StructuredEntityExtractor"


def test_a_learned_time_with_a_turkish_ending_gets_the_value_of_its_bare_word(extractor):
    """Duckling's Turkish rules read "Yarın" (tomorrow) but not "Yarınki" (tomorrow's) nor "şu anki" (current)."""
    tomorrow = (datetime.datetime.now(ZoneInfo(ISTANBUL)) + datetime.timedelta(days=1)).date().isoformat()
    result = message("Yarınki hatırlatıcıları iptal et", "tr", [("time", "Yarınki")])
    extractor.process([result])
    assert [(name, span, value[:10]) for name, span, value in entities_of(result)] == [("time", "Yarınki", tomorrow)]
    result = message("şu anki sıcaklık nedir?", "tr", [("time", "şu anki")])
    extractor.process([result])
    assert is_iso_time(entities_of(result)[0][2])


def test_a_learned_time_that_holds_a_duration_is_that_long_from_now(extractor):
    """Turkish "on beş dakikaya" (in fifteen minutes): Duckling reads "on beş dakika" as a duration, not a time."""
    result = message("on beş dakikaya bir alarm kur", "tr", [("time", "on beş dakikaya")])
    extractor.process([result])
    (name, span, value), = entities_of(result)
    in_fifteen_minutes = datetime.datetime.now(ZoneInfo(ISTANBUL)) + datetime.timedelta(minutes=15)
    assert abs(datetime.datetime.fromisoformat(value) - in_fifteen_minutes) < datetime.timedelta(minutes=1)
    assert result.get("entities")[-1]["additional_info"]["duration"]["unit"] == "minute"


def test_a_learned_duration_takes_the_words_that_make_it_a_time(extractor):
    """"in 2 minutes" is a time, "2 minutes" a duration: the learned span grows to Duckling's time around it, but
    not over another entity."""
    result = message("Find The Twinkler playing in 2 minutes", "en", [("time", "2 minutes")])
    extractor.process([result])
    (name, span, value), = entities_of(result)
    assert (name, span) == ("time", "in 2 minutes") and is_iso_time(value)
    result = message("remind me at 7pm tomorrow", "en", [("time", "tomorrow")])
    extractor.process([result])
    assert [(name, span) for name, span, _ in entities_of(result)] == [("time", "tomorrow")]  # a time, not a duration
    result = message("play In 5 minutes", "en", [("track", "In"), ("time", "5 minutes")])  # the head's other reading
    extractor.process([result])
    assert [(name, span) for name, span, _ in entities_of(result)] == [("track", "In"), ("time", "5 minutes")]


def test_a_learned_time_duckling_cannot_read_alone_gets_the_part_of_the_day_it_names(extractor):
    """Duckling reads "bu akşam" (this evening) but not "akşam" nor "Sabah" (morning) alone."""
    for text, span in [("Sabah ne kadar soğuk olacak?", "Sabah"), ("akşam yemeği vaktine kadar", "akşam yemeği")]:
        result = message(text, "tr", [("time", span)])
        extractor.process([result])
        (name, found, value), = entities_of(result)
        assert (name, found) == ("time", span) and is_iso_time(value), text


def test_a_learned_time_is_read_in_the_next_likely_language_when_the_messages_reads_nothing(extractor):
    """fastText reads "wat is het weer morgen" as French (0.44) before Dutch (0.27): Duckling's French rules find
    no time in "morgen" (tomorrow), its Dutch ones do: fastText's likely languages are tried, in order."""
    tomorrow = (datetime.datetime.now(ZoneInfo(ISTANBUL)) + datetime.timedelta(days=1)).date().isoformat()
    result = message("wat is het weer morgen", "fr", [("time", "morgen")])
    extractor.process([result])
    assert [(name, span, value[:10]) for name, span, value in entities_of(result)] == [("time", "morgen", tomorrow)]


def test_a_learned_time_that_nothing_reads_is_dropped_unless_kept(extractor, tmp_path):
    """"coffee" marked as a time has no value a form could use: the head's mistake (docs/decisions/0066)."""
    text = "Remind me to buy coffee at Starbucks this afternoon"
    result = message(text, "en", [("time", "coffee")])
    extractor.process([result])
    assert [(name, span) for name, span, _ in entities_of(result)] == [("time", "this afternoon")]
    keeping = build_component(StructuredEntityExtractor, LocalModelStorage(tmp_path), "keeping", timezone=ISTANBUL,
                              keep_unread_times=True)
    keeping.fills, keeping.renames = extractor.fills, {}
    result = message(text, "en", [("time", "coffee")])
    keeping.process([result])
    assert ("time", "coffee", "coffee") in entities_of(result)


def test_a_time_around_a_learned_number_replaces_it_unless_a_learned_time_is_there(extractor):
    text = "Sabah 6'ya alarm kur"  # at six in the morning, set an alarm: the head read the 6 as a party size
    result = message(text, "tr", [("party_size", "6")])
    result.set("entity_type_scores", {"time": [0.4, 0.3, 0.0, 0.0, 0.0], "party_size": [0.0, 0.6, 0.0, 0.0, 0.0]})
    extractor.process([result])
    assert [(name, span) for name, span, _ in entities_of(result)] == [("time", "Sabah 6")]
    text = "a table for 6 tomorrow at 7pm"  # Duckling also reads "6 tomorrow" as a time
    result = message(text, "en", [("party_size", "6"), ("time", "tomorrow at 7pm")])
    result.set("entity_type_scores", {"time": [0.0, 0.0, 0.0, 0.2, 0.9, 0.9, 0.9], "party_size": [0.0] * 7})
    extractor.process([result])
    assert [(name, span) for name, span, _ in entities_of(result)] == [("party_size", "6"), ("time", "tomorrow at 7pm")]


def test_control_characters_reach_duckling_as_spaces():
    """A NUL made Duckling's Rust wrapper panic (a crash, not an error): it reads spaces instead, same offsets."""
    text = "\x00\x07tomorrow at 7pm\x1b[31m"
    assert [(d, text[s:e]) for d, s, e in [(x["entity"], x["start"], x["end"]) for x in duckling_parser.parse(
        text, "en", ["time"], ISTANBUL, NOON_UTC)]] == [("time", "tomorrow at 7pm")]


def test_a_message_that_ends_duckling_ends_only_its_child_process():
    duckling = DucklingProcess(reply_seconds=30)
    reference = int(NOON_UTC)
    assert duckling.read(["شهر رمضان."], "ar", ["time"], ISTANBUL, reference) is None  # Duckling 0.2.0.1 dies here
    [[ramadan]] = duckling.read(["شهر رمضان xy"], "ar", ["time"], ISTANBUL, reference)  # and the next one starts
    assert ramadan["value"]["from"]["value"].startswith("2027-02-08")
    duckling.stop()


def test_a_duckling_that_hangs_is_replaced():
    duckling = DucklingProcess(reply_seconds=1)
    duckling.start()
    os.kill(duckling._process.pid, signal.SIGSTOP)  # as if it were stuck on a message
    assert duckling.read(["tomorrow"], "en", ["time"], ISTANBUL, int(NOON_UTC)) is None
    assert duckling.read(["tomorrow"], "en", ["time"], ISTANBUL, int(NOON_UTC))[0][0]["dim"] == "time"
    duckling.stop()


@pytest.mark.parametrize("text", DUCKLING_ENDERS)
def test_messages_that_ended_duckling_are_read(text):
    times = [span for dimension, span, _ in found(text, "ar") if dimension == "time"]
    assert times and set(times) <= {"رمضان", "في شهر"}  # none, were Duckling to die on it


def test_training_learns_which_dimension_fills_which_entity_and_which_entities_are_numbers(tmp_path):
    """From the demo's English annotations: numbers fill `party_size` and `order_number`, times fill `time`; only
    `party_size` is written as a number ("[4]", "[two]"), not `order_number` ("[A12345]")."""
    from tests.conftest import demo_training_data

    data = demo_training_data()
    WordTokenizer(WordTokenizer.get_default_config()).process_training_data(data)
    component = build_component(StructuredEntityExtractor, LocalModelStorage(tmp_path), "structured")
    component.train(data)
    assert component.fills == {"number": ["order_number", "party_size"], "time": ["time"]}
    assert component.renames == {"time": "time"} and component.numbers == ["party_size"]


def test_a_learned_number_without_a_number_is_dropped_not_the_slots_value(extractor):
    """"for 4 people tomorrow at 7 pm" in Khmer: the head also marked "នាក់" (people) as a party size; a float slot
    cannot hold it, and beside the "៤" it would have cost the booking its party size."""
    extractor.numbers = ["party_size"]
    text = "សម្រាប់ ៤ នាក់ ថ្ងៃស្អែក ម៉ោង ៧ យប់"
    result = message(text, "km", [("party_size", "៤"), ("party_size", "នាក់")])
    extractor.process([result])
    assert [(name, value) for name, _, value in entities_of(result) if name == "party_size"] == [("party_size", 4)]
    kept = message("Where is my order A12345?", "en", [("order_number", "A12345")])  # not written as a number
    extractor.process([kept])
    assert [(name, value) for name, _, value in entities_of(kept)] == [("order_number", "A12345")]
