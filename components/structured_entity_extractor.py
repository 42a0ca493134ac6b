"""Structured entities in each message's own language, normalised, and merged into the learned spans they overlap.

Times (dates, times, intervals, as ISO 8601 in the bot's timezone), durations, numbers (as numbers), ordinals,
amounts of money, emails, phone numbers and URLs, from Duckling in the language the LanguageDetector found
(components/structured/duckling_parser.py), with dateparser and digit runs where Duckling has no rules
(components/structured/date_fallback.py). Output has the shape of Rasa's DucklingEntityExtractor.

Put after the learned extractor: at training it learns from the English annotations which learned entity a
dimension stands for (Duckling's `time` overlaps `[tomorrow at 7pm](time)`, `number` overlaps `[4](party_size)`).
At parse time a structured span inside such a learned entity gives it its normalised `value` (one entity, not
two); a structured span the learned extractor missed takes that entity's name when one name dominates in the
training data, and its dimension's name (`time`, `number`...) otherwise; a time wider than the learned
non-time entities it holds replaces them where the entity head leans to a time; a learned time holding only a
duration is that long from now, and spans the words of the message's time around it ("in 2 minutes"); one
that names a decade, a part of the day or a bare clock hour is that; one that nothing reads as a time is dropped,
and so is a learned entity that the examples always write as a number where nothing reads one in it (the Khmer
word for people, "នាក់", read as a party size beside the "៤" that is one: a number slot cannot hold it).
Why: docs/decisions/0056, 0061, 0064, 0066, 0071.
"""
import itertools
import json
import logging
from typing import Any, Dict, Iterator, List, Optional, Text
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import TOKENS_NAMES
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.shared.exceptions import InvalidConfigException
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from components.keys import ENTITY_TYPE_SCORES, LANGUAGE_SLOT as LANGUAGE_ENTITY
from components.languages.detection import language_candidates, language_of
from components.structured import date_fallback, decades, duckling_parser, entity_spans as spans, relations, \
    times_of_day

logger = logging.getLogger(__name__)

DIMENSIONS_KEY = "dimensions"
TIMEZONE_KEY = "timezone"
DEFAULT_LANGUAGE_KEY = "default_language"
MAX_CHARACTERS_KEY = "max_characters"
MIN_TYPE_SCORE_KEY = "min_type_score"
MIN_OVERLAPS_KEY = "min_overlaps"
FILL_SHARE_KEY = "fill_share"
NUMBER_SHARE_KEY = "number_share"
DOMINANT_SHARE_KEY = "dominant_share"
KEEP_UNREAD_TIMES_KEY = "keep_unread_times"
ALL_DIMENSIONS = ["time", "duration", "number", "ordinal", "amount-of-money", "email", "phone-number", "url"]
# Dimensions Duckling reads the same way in every language: used with English rules where it lacks the language.
ANY_LANGUAGE_DIMENSIONS = ("email", "phone-number", "url", "amount-of-money")
RELATIONS_FILE = "structured_relations.json"
# Learned entities of a message read in its other likely languages when nothing reads them in its own: bounds what a
# hostile message full of words the head marks as times costs (each is read again in up to two languages).
MAX_ENTITIES_READ_ELSEWHERE = 8


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=True)
class StructuredEntityExtractor(GraphComponent, EntityExtractorMixin):
    """Duckling (and fallbacks) in the message's language, merged with the learned entities."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            # What to look for (Duckling's dimension names).
            DIMENSIONS_KEY: ALL_DIMENSIONS,
            # The bot's timezone (IANA name, e.g. Europe/Istanbul) for "tomorrow at 7pm"; null: the machine's.
            TIMEZONE_KEY: None,
            # The language of a message whose language was not detected (too short, no letters).
            DEFAULT_LANGUAGE_KEY: "en",
            # Characters of a message read (Duckling's cost grows faster than the text: 5 ms at 150).
            MAX_CHARACTERS_KEY: 256,
            # A dimension fills a learned entity after overlapping it this often in the training data...
            MIN_OVERLAPS_KEY: 2,
            # ...and overlapping at least this share of its annotations ("for [two] tonight" is not a time).
            FILL_SHARE_KEY: 0.5,
            # A learned entity numbers overlap at least this share of the time is a number: without one, it is dropped.
            NUMBER_SHARE_KEY: 0.9,
            # A dimension found alone takes a learned entity's name when this share of its overlaps had it...
            DOMINANT_SHARE_KEY: 0.8,
            # ...or the name of the entity it fills that the entity head gives its words this probability at least.
            MIN_TYPE_SCORE_KEY: 0.1,
            # Keep a learned time that nothing reads as one, with its words as its value (false: drop it).
            KEEP_UNREAD_TIMES_KEY: False,
        }

    @classmethod
    def validate_config(cls, config: Dict[Text, Any]) -> None:
        unknown = sorted(set(config[DIMENSIONS_KEY]) - set(ALL_DIMENSIONS))
        if unknown:
            raise InvalidConfigException(f"{cls.__name__}: unknown `{DIMENSIONS_KEY}` {unknown}; "
                                         f"choose among {', '.join(ALL_DIMENSIONS)}.")
        if config[TIMEZONE_KEY]:
            try:
                ZoneInfo(config[TIMEZONE_KEY])
            except (ZoneInfoNotFoundError, ValueError) as error:
                raise InvalidConfigException(f"{cls.__name__}: `{TIMEZONE_KEY}` '{config[TIMEZONE_KEY]}' is not an "
                                             "IANA timezone such as Europe/Istanbul.") from error

    def __init__(self, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
                 fills: Optional[Dict[Text, List[Text]]] = None, renames: Optional[Dict[Text, Text]] = None,
                 numbers: Optional[List[Text]] = None) -> None:
        self.validate_config(config)
        self.component_config = config
        self._model_storage, self._resource = model_storage, resource
        self.timezone = config[TIMEZONE_KEY] or times_of_day.local_timezone()
        self.fills = fills or {}  # {dimension: learned entities it gives a value to}
        self.renames = renames or {}  # {dimension: the learned entity a span of it alone becomes}
        self.numbers = numbers or []  # learned entities the examples write as numbers (`number_share`)

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> "StructuredEntityExtractor":
        return cls({**cls.get_default_config(), **config}, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        """Which learned entities each dimension fills, stands for alone, and which are numbers (structured/relations)."""
        config = self.component_config
        learned = relations.learn(training_data, lambda text, words, dimensions: self.extract(
            text, words, config[DEFAULT_LANGUAGE_KEY], dimensions), config[DIMENSIONS_KEY], config[MIN_OVERLAPS_KEY],
            config[FILL_SHARE_KEY], config[DOMINANT_SHARE_KEY], config[NUMBER_SHARE_KEY])
        self.fills, self.renames, self.numbers = learned.fills, learned.renames, learned.numbers
        logger.info(f"Structured dimensions fill {self.fills}; alone they become {self.renames}; numbers: "
                    f"{self.numbers}.")
        self.persist()
        return self._resource

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            language, text = self.language(message), message.get(TEXT) or ""
            words = message.get(TOKENS_NAMES[TEXT]) or []
            found = self.extract(text, words, language, self.component_config[DIMENSIONS_KEY])
            scores = message.get(ENTITY_TYPE_SCORES) or {}
            learned = message.get(ENTITIES) or []
            filled = [self._filled(entity, text, words, language, found, learned,
                                   read_elsewhere=i < MAX_ENTITIES_READ_ELSEWHERE) for i, entity in enumerate(learned)]
            merged = [entity for entity in filled if entity is not None]
            wider = [entity for entity in found if self._takes_over(entity, merged, words, scores)]
            merged = [entity for entity in merged if not any(spans.overlap(entity, time) for time in wider)]
            merged += [{**entity, "entity": self._name(entity, words, scores)} for entity in found
                       if not any(spans.overlap(entity, other) for other in merged
                                  if other["entity"] != LANGUAGE_ENTITY)]
            message.set(ENTITIES, merged, add_to_output=True)
        return messages

    def language(self, message: Message) -> Text:
        """The detected language, else fastText's best guess, else the configured default."""
        detected = next((e["value"] for e in message.get(ENTITIES) or [] if e.get("entity") == LANGUAGE_ENTITY), None)
        return detected or language_of(message.get(TEXT) or "") or self.component_config[DEFAULT_LANGUAGE_KEY]

    def extract(self, text: Text, words: List[Token], language: Text, wanted: List[Text]) -> List[Dict[Text, Any]]:
        """The structured entities of `text` in `language`, named by their dimension, without those cut out of a
        word (`spans.cut_out_of_a_word`). Runs of digits of other scripts than ASCII's are numbers whatever the
        language: Duckling's Khmer rules read "៥០" (50) as 5 and 0."""
        limit = self.component_config[MAX_CHARACTERS_KEY]
        duckling = duckling_parser.duckling_language(language)
        with_time_rules = duckling in duckling_parser.TIME_LANGUAGES
        dimensions = [d for d in wanted if duckling and (with_time_rules or d not in duckling_parser.TIME_DIMENSIONS)
                      or d in ANY_LANGUAGE_DIMENSIONS]
        entities = duckling_parser.parse(text, duckling or "en", dimensions, self.timezone,
                                         max_characters=limit) if dimensions else []
        if "time" in wanted and not with_time_rules:
            entities += date_fallback.dates(words, language, self.timezone, max_characters=limit)
        if "number" in wanted:
            entities += [n for n in date_fallback.numbers(text, limit)
                         if not duckling or not text[n["start"]:n["end"]].isascii()]
        kept = [e for e in entities if not spans.cut_out_of_a_word(text, e, words)]
        return self.add_extractor_name(duckling_parser.without_contained(kept))

    def _takes_over(self, structured: Dict[Text, Any], learned: List[Dict[Text, Any]], words: List[Token],
                    scores: Dict[Text, List[float]]) -> bool:
        """Whether a time replaces the learned entities inside it: it is wider than all of them, none of them is a
        time, and the entity head leans to a time on its words ("Sabah 6'ya", at six in the morning, over the
        6 the head read as a rating). "6 tomorrow" in "a table for 6 tomorrow at 7pm" overlaps a learned time."""
        inside = [e for e in learned if e["entity"] != LANGUAGE_ENTITY and spans.overlap(e, structured)]
        time_names = self.fills.get(structured["entity"], []) if structured["entity"] == "time" else []
        return bool(inside and time_names) and all(
            structured["start"] <= e["start"] and e["end"] <= structured["end"] and e["entity"] not in time_names
            and e["end"] - e["start"] < structured["end"] - structured["start"] for e in inside
        ) and self._leaning(structured, words, scores, time_names) >= self.component_config[MIN_TYPE_SCORE_KEY]

    def _leaning(self, entity: Dict[Text, Any], words: List[Token], scores: Dict[Text, List[float]],
                 names: List[Text]) -> float:
        """The entity head's highest probability of any of `names` on the words of `entity`."""
        rows = [i for i, w in enumerate(words) if w.start < entity["end"] and entity["start"] < w.end]
        return max((scores[name][i] for name in names if name in scores for i in rows if i < len(scores[name])),
                   default=0.0)

    def _name(self, entity: Dict[Text, Any], words: List[Token], scores: Dict[Text, List[float]]) -> Text:
        """A structured span alone: the learned entity its dimension stands for in the training data, else the one
        among those it fills that the entity head leans to on its words, else the dimension's own name."""
        dimension = entity["entity"]
        if dimension in self.renames:
            return self.renames[dimension]
        leaning = {name: self._leaning(entity, words, scores, [name]) for name in self.fills.get(dimension, [])}
        best = max(leaning, key=leaning.get, default=None)
        return best if best and leaning[best] >= self.component_config[MIN_TYPE_SCORE_KEY] else dimension

    def _filled(self, entity: Dict[Text, Any], text: Text, words: List[Token], language: Text,
                in_message: List[Dict[Text, Any]], learned: List[Dict[Text, Any]],
                read_elsewhere: bool = True) -> Optional[Dict[Text, Any]]:
        """A learned entity with the value of the first structured entity `_readings` finds for it (the longest, or the
        one overlapping it most) in the message's language, else (`read_elsewhere`) in the others it may be in; None
        for a time none is found for (`_drops_unread`). A learned time whose words are only a duration takes the words
        of the message's time around it ("2 minutes" in "in 2 minutes": the "in" makes it a time) where they hold no
        other entity."""
        dimensions = [d for d, names in self.fills.items() if entity.get("entity") in names]
        past_reading = entity["start"] >= self.component_config[MAX_CHARACTERS_KEY]
        if not dimensions or "additional_info" in entity or past_reading:
            return entity  # nothing to fill it with, already filled, or past what is read
        start, end = entity["start"], entity["end"]
        inside = [Token(w.text, w.start - start, w.end - start) for w in words if start <= w.start and w.end <= end]
        own = self.extract(text[start:end], inside, language, _with_durations(dimensions))
        readings = itertools.chain(self._readings(entity, text, inside, language, in_message, dimensions, own),
                                   self._in_other_languages(entity, text, inside, language, dimensions)
                                   if read_elsewhere else ())  # generators: read only as far as needed
        found = next((found for found in readings if found), [])
        best = max(found, key=lambda e: min(e["end"], end) - max(e["start"], start), default=None)
        if not best:
            return None if self._drops_unread(entity, dimensions) else entity
        filled = {**entity, "value": best["value"], "additional_info": best["additional_info"]}
        if best in in_message and _only_a_duration(own, dimensions) and spans.holds(best, entity) and \
                spans.alone_in(best, entity, learned):
            filled.update(start=best["start"], end=best["end"])
        return filled

    def _in_other_languages(self, entity: Dict[Text, Any], text: Text, inside: List[Token], language: Text,
                            dimensions: List[Text]) -> Iterator[List[Dict[Text, Any]]]:
        """`_readings` of a learned entity's own words in fastText's other likely languages for the message, most
        likely first: a short message's language may be misread ("wat is het weer morgen": French 0.44, Dutch 0.27;
        "Sabah 5'e alarm kur": Lojban 0.71). fastText runs only once a reading is needed."""
        for other, _ in language_candidates(text):
            if other != language:
                own = self.extract(text[entity["start"]:entity["end"]], inside, other, _with_durations(dimensions))
                yield from self._readings(entity, text, inside, other, [], dimensions, own)

    def _drops_unread(self, entity: Dict[Text, Any], dimensions: List[Text]) -> bool:
        """Whether a learned entity that nothing read a value in is dropped: a time no reader places was the entity
        head's mistake ("last", "coffee") more often than not on the development folds (docs/decisions/0066); an
        entity the examples always write as a number, without one, cannot fill the number slot it is for."""
        unread_time = "time" in dimensions and not self.component_config[KEEP_UNREAD_TIMES_KEY]
        return unread_time or entity.get("entity") in self.numbers

    def _readings(self, entity: Dict[Text, Any], text: Text, inside: List[Token], language: Text,
                  in_message: List[Dict[Text, Any]], dimensions: List[Text],
                  own: List[Dict[Text, Any]]) -> Iterator[List[Dict[Text, Any]]]:
        """What may give a learned entity its value, best first, read only as far as needed: what its own words make
        (`own`: "明天晚上7点" alone, not with the "4个人" after it); the whole message's entity that overlaps it
        (Duckling may need the words around a span to read it); in a language that glues endings onto words, its
        words without their endings ("Yarınki": tomorrow's); for a time, a duration it holds, from now ("on beş
        dakikaya", in 15 minutes), else the decade it names ("the eighties": components/structured/decades.py), else the part of
        the day or the clock hour it names ("Sabah", morning; "5'e", at five: components/structured/times_of_day.py)."""
        read = [own]
        yield [e for e in own if e["entity"] in dimensions]
        yield [e for e in in_message if spans.overlap(e, entity) and e["entity"] in dimensions]
        suffixing = language in spans.SUFFIXING_LANGUAGES
        for bare in spans.without_endings(text[entity["start"]:entity["end"]]) if suffixing else ():
            read.append(self.extract(bare, inside, language, _with_durations(dimensions)))
            yield [e for e in read[-1] if e["entity"] in dimensions]
        if "time" in dimensions:
            yield [times_of_day.from_now(e, self.timezone) for found in read for e in found
                   if e["entity"] == "duration"]
            for reader in (decades.decade, times_of_day.time_of_day):
                named = reader(text[entity["start"]:entity["end"]], language, self.timezone, suffixing=suffixing)
                yield [{**named, "start": entity["start"], "end": entity["end"]}] if named else []

    def persist(self) -> None:
        with self._model_storage.write_to(self._resource) as directory:
            (directory / RELATIONS_FILE).write_text(json.dumps({"fills": self.fills, "renames": self.renames,
                                                                "numbers": self.numbers}), encoding="utf-8")

    @classmethod
    def load(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> "StructuredEntityExtractor":
        config = {**cls.get_default_config(), **config}
        duckling_parser.DUCKLING.start()  # now, rather than keep the first user waiting for it
        try:
            with model_storage.read_from(resource) as directory:
                relations = json.loads((directory / RELATIONS_FILE).read_text(encoding="utf-8"))
        except ValueError:  # not trained (no training data): structured entities under their own names
            return cls(config, model_storage, resource)
        return cls(config, model_storage, resource, relations["fills"], relations["renames"],
                   relations.get("numbers"))  # none in older models: nothing dropped for want of a number


def _with_durations(dimensions: List[Text]) -> List[Text]:
    """The dimensions to read a learned entity's words for: a time's words are read for durations too."""
    return dimensions + ["duration"] if "time" in dimensions and "duration" not in dimensions else dimensions


def _only_a_duration(read: List[Dict[Text, Any]], dimensions: List[Text]) -> bool:
    """Whether what a learned entity's words make is a duration and nothing it stands for ("2 minutes")."""
    return any(e["entity"] == "duration" for e in read) and not any(e["entity"] in dimensions for e in read)
