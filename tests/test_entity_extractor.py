"""KerasEntityExtractor: entities learned from English annotations in Rasa's markup (roles and groups kept), found
in other languages through the real encoder's word vectors, decoded as valid BILOU spans."""
import numpy as np
import pytest
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLReader

from components.entity_extractor import KerasEntityExtractor
from components.heads.bilou_decoding import valid_bilou_path
from components.sentence_embedding_featurizer import SentenceEmbeddingFeaturizer
from components.word_tokenizer import WordTokenizer
from tests.conftest import build_component, demo_training_data, load_component, messages

TRAVEL = """
version: "3.1"
nlu:
- intent: travel
  examples: |
    - a ticket from [Berlin]{"entity": "city", "role": "departure"} to [Paris]{"entity": "city", "role": "destination"}
    - I fly from [London]{"entity": "city", "role": "departure"} to [Rome]{"entity": "city", "role": "destination"}
    - from [Madrid]{"entity": "city", "role": "departure"} to [Vienna]{"entity": "city", "role": "destination"} please
    - train to [Prague]{"entity": "city", "role": "destination"} from [Munich]{"entity": "city", "role": "departure"}
    - bus from [Oslo]{"entity": "city", "role": "departure"} to [Stockholm]{"entity": "city", "role": "destination"}
    - flight to [Athens]{"entity": "city", "role": "destination"} from [Lisbon]{"entity": "city", "role": "departure"}
    - [two]{"entity": "count", "group": "1"} [large]{"entity": "size", "group": "1"} pizzas and [one]{"entity": "count", "group": "2"} [small]{"entity": "size", "group": "2"} salad
"""


def pipeline(storage, data, **config):
    tokenizer = WordTokenizer(WordTokenizer.get_default_config())
    featurizer = build_component(SentenceEmbeddingFeaturizer, storage, "featurizer", prompt="query: ")
    extractor = build_component(KerasEntityExtractor, storage, "entities", epochs=80, **config)
    featurizer.process_training_data(tokenizer.process_training_data(data))
    extractor.train(data)
    return tokenizer, featurizer, extractor


def extract(parts, *texts):
    tokenizer, featurizer, extractor = parts
    return [[(e["entity"], m.get("text")[e["start"]:e["end"]], e.get("role"), e.get("group")) for e in m.get("entities") or []]
            for m in extractor.process(featurizer.process(tokenizer.process(messages(*texts))))]


@pytest.fixture(scope="module")
def demo(tmp_path_factory, embedding_cache):
    storage = LocalModelStorage(tmp_path_factory.mktemp("entities"))
    return storage, pipeline(storage, demo_training_data())


@pytest.mark.parametrize("text, expected", [
    ("book a table for 4 people tomorrow at 7pm", {("party_size", "4"), ("time", "tomorrow at 7pm")}),
    ("Yarın akşam 7'de 4 kişilik bir masa ayırtmak istiyorum", {("party_size", "4")}),
    ("Ich möchte einen Tisch für 4 Personen morgen um 19 Uhr", {("party_size", "4"), ("time", "morgen um 19 Uhr")}),
    ("Where is my order A12345?", {("order_number", "A12345")}),
])
def test_learned_in_english_found_in_other_languages(demo, text, expected):
    found = {(name, span) for name, span, *_ in extract(demo[1], text)[0]}
    assert expected <= found, found


def test_persist_and_load_give_the_same_entities(demo, tmp_path):
    storage, (tokenizer, featurizer, extractor) = demo
    loaded = load_component(KerasEntityExtractor, storage, "entities", epochs=80)
    text = "Yarın akşam 7'de 4 kişilik bir masa ayırtmak istiyorum"
    assert extract((tokenizer, featurizer, loaded), text) == extract(demo[1], text)


def test_roles_and_groups_are_learned(tmp_path, embedding_cache):
    data = RasaYAMLReader().reads(TRAVEL)
    parts = pipeline(LocalModelStorage(tmp_path), data)
    found = extract(parts, "a ticket from Hamburg to Milan")[0]
    assert ("city", "Hamburg", "departure", None) in found and ("city", "Milan", "destination", None) in found


SAID_THE_SAME_WAY = ["{} is the one I want to {} tonight", "{} is what we would like to {}",
                     "{} is the one my kids want to {}", "{} is what I would love to {} again",
                     "{} is the one we want to {} now", "{} is what my friends want to {}"]
NAMES = ["Titanic", "Frozen", "Thriller", "Heat", "Help", "Believe"]


def names_by_intent() -> str:
    """Films and songs with the same names, said the same way but for the last words."""
    blocks = [f"- intent: {intent}\n  examples: |\n" + "".join(
        f"    - {phrase.format(f'[{name}]({kind})', verb)}\n" for phrase, name in zip(SAID_THE_SAME_WAY, NAMES))
        for intent, kind, verb in (("watch_movie", "movie", "see"), ("hear_song", "song", "hear"))]
    return 'version: "3.1"\nnlu:\n' + "".join(blocks)


def test_the_intent_tells_what_kind_of_name_a_word_is(tmp_path, embedding_cache):
    """Films and songs with the same names, said the same way up to the last words, which the head's window does not
    reach: only the intent tells them apart."""
    tokenizer, featurizer, extractor = pipeline(LocalModelStorage(tmp_path), RasaYAMLReader().reads(names_by_intent()))
    found = {}
    for intent in ("watch_movie", "hear_song"):
        message, = featurizer.process(tokenizer.process(messages("Frozen is the one I want")))
        message.set("intent_ranking", [{"name": intent, "confidence": 0.9},
                                       {"name": ({"watch_movie", "hear_song"} - {intent}).pop(), "confidence": 0.1}])
        found[intent] = [(e["entity"], e["value"]) for e in extractor.process([message])[0].get("entities")]
    assert found == {"watch_movie": [("movie", "Frozen")], "hear_song": [("song", "Frozen")]}


PLACES_AND_REMINDERS = """
version: "3.1"
nlu:
- intent: find_place
  examples: |
    - where is the nearest [Starbucks](place)
    - is there a [McDonald's](place) near me
    - how do I get to [Ikea](place)
    - find a [Starbucks](place) around here
    - when does [Ikea](place) open
    - directions to the closest [Burger King](place)
- intent: remind
  examples: |
    - remind me to call mom
    - remind me to water the plants tonight
    - remind me to pay the rent
    - remind me to buy milk tomorrow
    - don't let me forget to feed the cat
    - remind me about the dentist
"""


SURE_OF_A_REMINDER = [{"name": "remind", "confidence": 0.97}, {"name": "find_place", "confidence": 0.03}]
LEANING_TO_A_REMINDER = [{"name": "remind", "confidence": 0.7}, {"name": "find_place", "confidence": 0.3}]


@pytest.mark.parametrize("types_seen_with_intent, text, ranking, expected", [
    (True, "remind me to meet Anna at Starbucks", SURE_OF_A_REMINDER, []),
    (False, "remind me to meet Anna at Starbucks", SURE_OF_A_REMINDER, [("place", "Starbucks")]),
    # Soft, not a cut: a clear place keeps the 0.3 of confidence on the intent that carries places, and is found.
    (True, "where is the nearest Starbucks", LEANING_TO_A_REMINDER, [("place", "Starbucks")]),
])
def test_only_types_annotated_with_the_intent_are_found(tmp_path, embedding_cache, types_seen_with_intent, text,
                                                        ranking, expected):
    """The reminders' examples annotate no place: in a message the intent head is sure is a reminder, "Starbucks" is
    part of what to do, not a place to find (`types_seen_with_intent`); the option off, the word alone decides."""
    storage = LocalModelStorage(tmp_path)
    tokenizer, featurizer, extractor = pipeline(storage, RasaYAMLReader().reads(PLACES_AND_REMINDERS),
                                                types_seen_with_intent=types_seen_with_intent)
    loaded = load_component(KerasEntityExtractor, storage, "entities", types_seen_with_intent=types_seen_with_intent)
    for component in (extractor, loaded):
        message, = featurizer.process(tokenizer.process(messages(text)))
        message.set("intent_ranking", ranking)
        assert [(e["entity"], e["value"]) for e in component.process([message])[0].get("entities")] == expected


def test_without_annotations_nothing_is_trained_and_nothing_extracted(tmp_path, embedding_cache):
    from rasa.shared.nlu.training_data.message import Message
    from rasa.shared.nlu.training_data.training_data import TrainingData

    data = TrainingData([Message(data={"text": t, "intent": "greet"}) for t in ("hello", "hi there")])
    parts = pipeline(LocalModelStorage(tmp_path), data)
    assert parts[2].tags == {} and extract(parts, "book a table for 4") == [[]]


def test_decoding_keeps_bilou_spans_valid():
    tags = ["O", "B-time", "I-time", "L-time", "U-time", "U-size"]
    # The best tag of each word alone would be I-time, L-time, O: an entity that never begins.
    probabilities = np.array([[.1, .1, .6, .1, .05, .05], [.1, .1, .1, .6, .05, .05], [.9, .02, .02, .02, .02, .02]])
    assert [tags[i] for i in valid_bilou_path(np.log(probabilities), tags)] == ["B-time", "L-time", "O"]
    assert [tags[i] for i in valid_bilou_path(np.log(probabilities[2:]), tags)] == ["O"]


def test_the_tags_decide_where_an_entity_ends_not_the_commas(tmp_path):
    """xSID annotates "[may the thirteenth, 2037](datetime)": Rasa's default cut at commas made it two entities."""
    from rasa.shared.nlu.training_data.message import Message

    extractor = build_component(KerasEntityExtractor, LocalModelStorage(tmp_path), "entities")
    text = "on May 13, 2037 in Berlin, Paris"
    tokens = WordTokenizer(WordTokenizer.get_default_config()).process([Message(data={"text": text})])[0].get(
        "text_tokens")
    assert [t.text for t in tokens] == ["on", "May", "13", "2037", "in", "Berlin", "Paris"]
    tags = {"entity": ["O", "B-time", "I-time", "L-time", "O", "U-city", "U-city"]}
    found = extractor.convert_predictions_into_entities(text, tokens, tags, extractor._split_entities_config())
    assert [(e["entity"], e["value"]) for e in found] == [("time", "May 13, 2037"), ("city", "Berlin"),
                                                         ("city", "Paris")]
