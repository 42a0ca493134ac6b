"""The second body: a sentence vector from the Universal Sentence Encoder Multilingual v3, for the messages written
in a language it was trained on.

Where it knows the language (Turkish, German, Chinese, Arabic, Japanese... `languages`), it adds a second view of
the message beside the first body's (SentenceEmbeddingFeaturizer) and the intent head reads both. Where it does
not (Danish, Khmer, Swahili, a message too short to tell), it adds nothing, and the intent head reads the first body
alone, as if this body were not in the pipeline: a body that never saw a language cannot cost it
(docs/decisions/0072). The language is the LanguageDetector's most likely one, which must run before it.
"""
import logging
from typing import Any, Dict, List, Optional, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.shared.exceptions import InvalidConfigException
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from components.encoders.universal_sentence_encoder import EMBEDDED_USE, knows, load_universal_sentence_encoder
from components.keys import LANGUAGE_CANDIDATES, MODEL_NAME_KEY, OPTIONAL_BODIES
from components.languages.detection import example_language

logger = logging.getLogger(__name__)

LANGUAGES_KEY = "languages"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class UniversalSentenceEncoderFeaturizer(DenseFeaturizer, GraphComponent):
    """Adds a 512-wide sentence feature to the messages in the languages the encoder knows, nothing to the others."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            **DenseFeaturizer.get_default_config(),
            # A folder built by training/build_use.py; the default is built offline by `make setup`.
            MODEL_NAME_KEY: EMBEDDED_USE,
            # The languages it reads (ISO 639 codes); null: all those it was trained on (the folder's config.json).
            LANGUAGES_KEY: None,
        }

    @staticmethod
    def required_packages() -> List[Text]:
        return ["sentencepiece", "onnxruntime"]

    @classmethod
    def fingerprint_addon(cls, config: Dict[Text, Any]) -> Optional[str]:
        """The encoder's output on a probe: rebuilding it invalidates Rasa's cache."""
        config = {**cls.get_default_config(), **config}
        return load_universal_sentence_encoder(config[MODEL_NAME_KEY]).fingerprint()

    @classmethod
    def validate_config(cls, config: Dict[Text, Any]) -> None:
        languages = config.get(LANGUAGES_KEY)
        listed = isinstance(languages, list) and all(isinstance(language, str) for language in languages)
        if languages is not None and not listed:
            raise InvalidConfigException(f"{cls.__name__}: `{LANGUAGES_KEY}` must list ISO 639 codes, e.g. [de, tr], "
                                         "or be null for every language the encoder was trained on.")

    def __init__(self, config: Dict[Text, Any], name: Text) -> None:
        self.validate_config(config)
        super().__init__(name, config)
        self.encoder = load_universal_sentence_encoder(config[MODEL_NAME_KEY])
        wanted = config[LANGUAGES_KEY]
        unknown = sorted(set(wanted or []) - set(self.encoder.languages))
        if unknown:
            raise InvalidConfigException(
                f"{type(self).__name__}: `{LANGUAGES_KEY}` lists {unknown}, which {config[MODEL_NAME_KEY]} was not "
                f"trained on; it knows {', '.join(self.encoder.languages)}.")
        self.languages = sorted(wanted) if wanted else list(self.encoder.languages)

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> "UniversalSentenceEncoderFeaturizer":
        return cls({**cls.get_default_config(), **config}, execution_context.node_name)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Featurizes the examples in languages it knows and tells the intent head that messages may lack this body."""
        examples = [m for m in training_data.training_examples if m.get(TEXT) is not None]
        self._featurize([m for m in examples if self._knows_example(m)])
        for message in examples:
            message.set(OPTIONAL_BODIES, sorted({*(message.get(OPTIONAL_BODIES) or []), self._identifier}))
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        self._featurize([m for m in messages if self._knows_message(m)])
        return messages

    def _knows_example(self, message: Message) -> bool:
        """An example without a language in its metadata is in the training data's language, which the body knows."""
        language = example_language(message)
        return language is None or knows(self.languages, language)

    def _knows_message(self, message: Message) -> bool:
        """Whether the message's most likely language is one this body reads (none when the detector was unsure)."""
        candidates = message.get(LANGUAGE_CANDIDATES)
        if candidates is None:
            logger.warning(f"{type(self).__name__} reads messages in {', '.join(self.languages)} only, and no "
                           "language was detected: put components.language_detector.LanguageDetector before it.")
        language = candidates[0][0] if candidates else None
        logger.debug(f"{type(self).__name__}: language {language}, read: {knows(self.languages, language)}.")
        return knows(self.languages, language)

    def _featurize(self, messages: List[Message]) -> None:
        if not messages:
            return
        vectors = self.encoder.encode([m.get(TEXT) or "" for m in messages])
        for message, vector in zip(messages, vectors):
            self.add_features_to_message(sequence=None, sentence=vector[None, :], attribute=TEXT, message=message)
