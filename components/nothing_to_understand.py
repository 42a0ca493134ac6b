"""Messages with nothing to understand get `nlu_fallback`, whatever the classifiers made of them.

Digits, punctuation, control or zero-width characters alone carry no intent in any language, yet the head
always names one and was confident about some ("9" x 4,096 was thanks, "!!!???..." asked for help). Put
last in the pipeline, after Rasa's FallbackClassifier, so that its decision is final; the `language` slot
keeps its value (nothing to detect), so the bot asks to rephrase in the conversation's language.
"""
import logging
from typing import Any, Dict, List, Text, Type

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.constants import DEFAULT_NLU_FALLBACK_INTENT_NAME
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, INTENT_RANKING_KEY, PREDICTED_CONFIDENCE_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from components.languages.message_text import has_content

logger = logging.getLogger(__name__)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class NothingToUnderstandClassifier(GraphComponent, IntentClassifier):
    """Predicts `nlu_fallback` with full confidence for a message without a letter or an emoji."""

    @classmethod
    def required_components(cls) -> List[Type]:
        return [IntentClassifier]  # it overrides what an intent classifier before it predicted

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {}

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> "NothingToUnderstandClassifier":
        return cls()

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            if self._nothing_to_understand(message):
                fallback = {INTENT_NAME_KEY: DEFAULT_NLU_FALLBACK_INTENT_NAME, PREDICTED_CONFIDENCE_KEY: 1.0}
                ranking = [entry for entry in message.get(INTENT_RANKING_KEY) or []
                           if entry.get(INTENT_NAME_KEY) != DEFAULT_NLU_FALLBACK_INTENT_NAME]
                message.set(INTENT, fallback, add_to_output=True)
                message.set(INTENT_RANKING_KEY, [fallback] + ranking, add_to_output=True)
        return messages

    @staticmethod
    def _nothing_to_understand(message: Message) -> bool:
        text = message.get(TEXT) or ""
        if has_content(text):
            return False
        logger.debug(f"Nothing to understand in {text[:40]!r} (no letter, no emoji): "
                     f"{DEFAULT_NLU_FALLBACK_INTENT_NAME}.")
        return True
