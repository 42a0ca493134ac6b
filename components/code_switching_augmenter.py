"""Code-switched copies of the English training examples, from bilingual dictionaries.

A head trained on English sentence embeddings learns English as part of every intent. Copies of each example
with some of its words replaced by translations (Debian's FreeDict dictionaries, components/
bilingual_dictionary.py) show it the same intent in mixed-language embeddings. Runs at training time only:
parsing leaves messages as they are. The copies are encoded and cached like the originals, and weighted so
that an example's copies together count `copies_weight` times as much as the example itself.
"""
import logging
import re
from typing import Any, Dict, List, Text

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.exceptions import InvalidConfigException
from rasa.shared.nlu.constants import INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from components.keys import SAMPLE_WEIGHT_KEY
from components.languages import bilingual_dictionary
from components.languages.bilingual_dictionary import DICTIONARIES_KEY

logger = logging.getLogger(__name__)

COPIES_KEY = "copies"
RATE_KEY = "rate"
COPIES_WEIGHT_KEY = "copies_weight"
RANDOM_SEED_KEY = "random_seed"
WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class CodeSwitchingAugmenter(GraphComponent):
    """Adds K code-switched copies of every English intent example to the training data."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            # FreeDict English-to-X dictionaries by ISO 639-3 code (deu, tur, ...); `make setup` installs them.
            DICTIONARIES_KEY: [],
            # Copies of each example, each in one dictionary's language picked at random.
            COPIES_KEY: 10,
            # Chance that a word with a translation is replaced in a copy.
            RATE_KEY: 0.5,
            # An example's copies together weigh this much relative to the example (1: as much as it).
            COPIES_WEIGHT_KEY: 1.0,
            # Same seed, same data: same copies.
            RANDOM_SEED_KEY: 42,
        }

    @classmethod
    def validate_config(cls, config: Dict[Text, Any]) -> None:
        if not 0 <= config[RATE_KEY] <= 1:
            raise InvalidConfigException(f"{cls.__name__}: `{RATE_KEY}` must be between 0 and 1.")
        if int(config[COPIES_KEY]) < 0 or config[COPIES_WEIGHT_KEY] < 0:
            raise InvalidConfigException(f"{cls.__name__}: `{COPIES_KEY}` and `{COPIES_WEIGHT_KEY}` cannot be negative.")

    def __init__(self, config: Dict[Text, Any]) -> None:
        self.validate_config(config)
        self.component_config = config
        for language in config[DICTIONARIES_KEY]:
            bilingual_dictionary.dictionary_files(language)  # a missing dictionary is a clear error, early

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> "CodeSwitchingAugmenter":
        return cls({**cls.get_default_config(), **config})

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        config = self.component_config
        examples = [m for m in training_data.intent_examples if m.get(TEXT)]
        if not config[DICTIONARIES_KEY] or not config[COPIES_KEY] or not examples:
            return training_data
        words = {word.lower() for m in examples for word in WORD.findall(m.get(TEXT))}
        tables = {language: bilingual_dictionary.translations(language, words)
                  for language in config[DICTIONARIES_KEY]}
        rng = np.random.default_rng(config[RANDOM_SEED_KEY])
        weight = config[COPIES_WEIGHT_KEY] / config[COPIES_KEY]
        copies = []
        for message in examples:
            text = message.get(TEXT)
            for _ in range(config[COPIES_KEY]):
                table = tables[config[DICTIONARIES_KEY][rng.integers(len(tables))]]
                switched = code_switch(text, table, config[RATE_KEY], rng)
                if switched != text:
                    copies.append(Message(data={TEXT: switched, INTENT: message.get(INTENT), SAMPLE_WEIGHT_KEY: weight}))
        logger.info(f"{len(copies)} code-switched copies of {len(examples)} examples "
                    f"({', '.join(config[DICTIONARIES_KEY])}).")
        return training_data.merge(TrainingData(training_examples=copies))

    def process(self, messages: List[Message]) -> List[Message]:
        return messages  # training only: a user's message is what it is


def code_switch(text: str, table: Dict[str, List[str]], rate: float, rng: np.random.Generator) -> str:
    """`text` with each word that `table` translates replaced, with probability `rate`, by a translation."""
    def replace(match: "re.Match") -> str:
        options = table.get(match.group(0).lower())
        if not options or rng.random() >= rate:
            return match.group(0)
        return options[rng.integers(len(options))]

    return WORD.sub(replace, text)
