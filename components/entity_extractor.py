"""Entities learned from English annotations in Rasa's markup, extracted in any language.

A small head over the featurizer's word vectors (the body stays frozen, as for intents): each word, its
neighbours and the message's intent go through one hidden layer to a BILOU tag of the entity type, and, where
the training data has them, of its role and group. Decoding keeps the tags a valid BILOU sequence (Viterbi over
the tag probabilities), and Rasa's own machinery turns tags into entities, so the output is what DIET's would be.
Because the word vectors come from a multilingual encoder, `[Istanbul](city)` learned in English finds
"İstanbul" in a Turkish sentence. Why this head and its defaults: docs/decisions/0054, 0055 and 0065.
"""
import json
import logging
from typing import Any, Dict, List, Optional, Text, Type

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import TOKENS_NAMES
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.nlu.tokenizers.tokenizer import Tokenizer
from rasa.nlu.utils import bilou_utils
from rasa.shared.exceptions import InvalidConfigException
from rasa.shared.nlu.constants import (ENTITIES, ENTITY_ATTRIBUTE_GROUP, ENTITY_ATTRIBUTE_ROLE, ENTITY_ATTRIBUTE_TYPE,
                                       INTENT, INTENT_NAME_KEY, INTENT_RANKING_KEY, NO_ENTITY_TAG,
                                       PREDICTED_CONFIDENCE_KEY, SPLIT_ENTITIES_BY_COMMA, TEXT)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from components.heads.bilou_decoding import valid_bilou_path
from components.heads.dense_head import (BATCH_SIZE_KEY, DROPOUT_KEY, EPOCHS_KEY, HIDDEN_UNITS_KEY, LEARNING_RATE_KEY,
                                         RANDOM_SEED_KEY, DenseHead, TrainsDenseHeads)
from components.keys import ENTITY_TYPE_SCORES

logger = logging.getLogger(__name__)

CONTEXT_KEY = "context_words"
INTENT_CONTEXT_KEY = "intent_context"
TYPES_SEEN_WITH_INTENT_KEY = "types_seen_with_intent"
WEIGHTS_FILE, TAGS_FILE = "entity_head.npz", "entity_tags.json"
TAG_NAMES = (ENTITY_ATTRIBUTE_TYPE, ENTITY_ATTRIBUTE_ROLE, ENTITY_ATTRIBUTE_GROUP)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=True)
class KerasEntityExtractor(TrainsDenseHeads, GraphComponent, EntityExtractorMixin):
    """BILOU tagger over the word vectors of the previous featurizer, trained on the English annotations."""

    @classmethod
    def required_components(cls) -> List[Type]:
        return [Tokenizer, DenseFeaturizer]

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            # Words on each side whose vectors join a word's own (0: the word alone).
            CONTEXT_KEY: 1,
            # Each word also sees the intent: the annotated one in training, the intent head's confidences when
            # parsing (put this after the intent classifier). A name after "find the movie" and one after "add to
            # my playlist" are different kinds of name (docs/decisions/0065).
            INTENT_CONTEXT_KEY: True,
            # Entity types weighed by the intent head's confidence in the intents whose examples annotate them: a type
            # never annotated with the message's intent is not found ("Starbucks" in a reminder is the reminder's,
            # not a location). Needs the intent classifier before this component (docs/decisions/0070).
            TYPES_SEEN_WITH_INTENT_KEY: True,
            # Width of the hidden layer shared by the entity, role and group tags.
            HIDDEN_UNITS_KEY: 256,
            # Dropout on the word vectors and on the hidden layer: the head must not learn English word forms.
            DROPOUT_KEY: 0.3,
            # Passes over the annotated examples.
            EPOCHS_KEY: 200,
            # Sentences per gradient step.
            BATCH_SIZE_KEY: 32,
            # Adam step size.
            LEARNING_RATE_KEY: 1e-3,
            # Same seed, same data: same model.
            RANDOM_SEED_KEY: 42,
            # Rasa's option to cut entities at commas whatever the tags say (its default: True). The BILOU tags
            # already end "[Berlin](city), [Paris](city)" at the comma, and keep "[May 13, 2037](time)" whole.
            SPLIT_ENTITIES_BY_COMMA: False,
        }

    @classmethod
    def validate_config(cls, config: Dict[Text, Any]) -> None:
        if int(config[CONTEXT_KEY]) < 0 or int(config[HIDDEN_UNITS_KEY]) < 1:
            raise InvalidConfigException(f"{cls.__name__}: `{CONTEXT_KEY}` >= 0 and `{HIDDEN_UNITS_KEY}` >= 1.")
        if not 0 <= config[DROPOUT_KEY] < 1:
            raise InvalidConfigException(f"{cls.__name__}: `{DROPOUT_KEY}` must be in [0, 1).")

    def __init__(self, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
                 head: Optional[DenseHead] = None, tags: Optional[Dict[Text, List[Text]]] = None,
                 intents: Optional[List[Text]] = None,
                 types_by_intent: Optional[Dict[Text, List[Text]]] = None) -> None:
        self.validate_config(config)
        self.component_config = config
        self._model_storage, self._resource = model_storage, resource
        self.head = head  # one output per tag name
        self.tags = tags or {}  # {tag name: tags in output order}; only the tag names the training data had
        self.intents = intents or []  # the intents each word sees the confidence of (`intent_context`)
        self.types_by_intent = types_by_intent or {}  # {intent: entity types its examples annotate}
        self._tags_allowed = self._tags_allowed_by_intent()

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> "KerasEntityExtractor":
        return cls({**cls.get_default_config(), **config}, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        examples = [m for m in self.filter_trainable_entities(training_data.nlu_examples)
                    if m.get(TOKENS_NAMES[TEXT]) and m.get_dense_features(TEXT)[0] is not None]
        annotated = [m for m in examples if m.get(ENTITIES)]
        if not annotated:
            logger.debug(f"{type(self).__name__}: no entity annotations; nothing to train.")
            return self._resource
        for message in examples:
            bilou_utils.apply_bilou_schema_to_message(message)
        self.tags = {name: tags for name in TAG_NAMES if len(tags := self._tag_list(examples, name)) > 1}
        self.intents = sorted({m.get(INTENT) for m in examples if m.get(INTENT)}) \
            if self.component_config[INTENT_CONTEXT_KEY] else []
        if self.component_config[TYPES_SEEN_WITH_INTENT_KEY]:
            self.types_by_intent = self._types_by_intent(examples)
            self._tags_allowed = self._tags_allowed_by_intent()
        inputs = [self._windows(m, training=True) for m in examples]
        targets = {name: [np.array([tags.index(t) for t in self._bilou(m, name)]) for m in examples]
                   for name, tags in self.tags.items()}
        self.head = self._fit(inputs, targets)
        self.persist()
        return self._resource

    @staticmethod
    def _types_by_intent(examples: List[Message]) -> Dict[Text, List[Text]]:
        """{intent: the entity types its examples annotate}; an intent whose examples annotate none gets none."""
        found: Dict[Text, set] = {}
        for message in examples:
            if message.get(INTENT):
                types = found.setdefault(message.get(INTENT), set())
                types.update(entity[ENTITY_ATTRIBUTE_TYPE] for entity in message.get(ENTITIES) or [])
        return {intent: sorted(types) for intent, types in found.items()}

    def _tags_allowed_by_intent(self) -> Dict[Text, np.ndarray]:
        """{intent: 1 for each entity-type tag of a type its examples annotate, and for no entity; else 0}."""
        tags = self.tags.get(ENTITY_ATTRIBUTE_TYPE, [])
        return {intent: np.array([tag == NO_ENTITY_TAG or bilou_utils.tag_without_prefix(tag) in types
                                  for tag in tags], np.float32) for intent, types in self.types_by_intent.items()}

    @staticmethod
    def _bilou(message: Message, name: Text) -> List[Text]:
        tags = message.get(bilou_utils.get_bilou_key_for_tag(name))
        return tags or [NO_ENTITY_TAG] * len(message.get(TOKENS_NAMES[TEXT]))

    def _tag_list(self, examples: List[Message], name: Text) -> List[Text]:
        seen = {tag for m in examples for tag in self._bilou(m, name)} - {NO_ENTITY_TAG}
        return [NO_ENTITY_TAG] + sorted(seen)

    def _windows(self, message: Message, training: bool = False) -> np.ndarray:
        """(words, (2 * context + 1) * dim [+ intents]): each word's vector beside its neighbours' (zeros past the
        ends), and the message's intent vector (`_intent_vector`)."""
        words = message.get_dense_features(TEXT)[0].features
        context = int(self.component_config[CONTEXT_KEY])
        padded = np.pad(words, ((context, context), (0, 0)))
        parts = [padded[i: i + len(words)] for i in range(2 * context + 1)]
        if self.intents:
            parts.append(np.tile(self._intent_vector(message, training), (len(words), 1)))
        return np.concatenate(parts, axis=1).astype(np.float32)

    def _intent_vector(self, message: Message, training: bool) -> np.ndarray:
        """The annotated intent, one-hot, in training; the intent head's confidences when parsing (zeros without
        an intent classifier before this component)."""
        vector = np.zeros(len(self.intents), np.float32)
        if training:
            ranking = [{INTENT_NAME_KEY: message.get(INTENT), PREDICTED_CONFIDENCE_KEY: 1.0}]
        else:
            ranking = message.get(INTENT_RANKING_KEY) or []
        for entry in ranking:
            if entry.get(INTENT_NAME_KEY) in self.intents:
                vector[self.intents.index(entry[INTENT_NAME_KEY])] = entry.get(PREDICTED_CONFIDENCE_KEY) or 0.0
        return vector

    def _fit(self, inputs: List[np.ndarray], targets: Dict[Text, List[np.ndarray]]) -> DenseHead:
        """One hidden ReLU layer over every word's window, a softmax per tag name; the words of all sentences are
        trained together (each word's window already holds its context), `batch_size` sentences of about eight
        words a step."""
        config = self.component_config
        return DenseHead.train(np.concatenate(inputs), {name: np.concatenate(targets[name]) for name in self.tags},
                               {name: len(tags) for name, tags in self.tags.items()},
                               {**config, BATCH_SIZE_KEY: config[BATCH_SIZE_KEY] * 8}, description=type(self).__name__)

    def process(self, messages: List[Message]) -> List[Message]:
        if not self.tags:
            return messages  # the training data had no entity annotations: there is nothing to find
        for message in messages:
            tokens = message.get(TOKENS_NAMES[TEXT]) or []
            if not tokens or message.get_dense_features(TEXT)[0] is None:
                continue
            entities = self.add_extractor_name(self._entities(message, tokens))
            message.set(ENTITIES, message.get(ENTITIES, []) + entities, add_to_output=True)
        return messages

    def _entities(self, message: Message, tokens) -> List[Dict[Text, Any]]:
        """Tags for the words the encoder read (those past its window have no vector: nothing to tag them by)."""
        windows = self._windows(message)
        read = np.flatnonzero(message.get_dense_features(TEXT)[0].features.any(axis=1))
        tokens, windows = tokens[: read[-1] + 1 if len(read) else 0], windows[: read[-1] + 1 if len(read) else 0]
        if not tokens:
            return []
        probabilities = self.head.probabilities(windows)
        weights = self._type_weights(message)
        if weights is not None:
            weighted = probabilities[ENTITY_ATTRIBUTE_TYPE] * weights
            probabilities[ENTITY_ATTRIBUTE_TYPE] = weighted / np.maximum(weighted.sum(axis=1, keepdims=True), 1e-12)
        message.set(ENTITY_TYPE_SCORES, self._type_scores(probabilities[ENTITY_ATTRIBUTE_TYPE]))
        tags, confidences = {}, {}
        for name, rows in probabilities.items():
            if name == ENTITY_ATTRIBUTE_TYPE:
                path = valid_bilou_path(np.log(rows + 1e-9), self.tags[name])
            else:
                path = rows.argmax(axis=1)
            tags[name] = [self.tags[name][i] for i in path]
            confidences[name] = rows[np.arange(len(path)), path].tolist()
        return self.convert_predictions_into_entities(message.get(TEXT), tokens, tags,
                                                      self._split_entities_config(), confidences)

    def _type_weights(self, message: Message) -> Optional[np.ndarray]:
        """Each type tag's weight (`types_seen_with_intent`): the intent head's confidence in the intents whose
        examples annotate its type, plus what the ranking leaves to intents it does not list; 1 for no entity."""
        ranking = [entry for entry in message.get(INTENT_RANKING_KEY) or []
                   if entry.get(INTENT_NAME_KEY) in self._tags_allowed]
        if not ranking:
            return None  # no intent head before this component, or none of its intents trained here
        confidences = np.array([entry.get(PREDICTED_CONFIDENCE_KEY) or 0.0 for entry in ranking], np.float32)
        allowed = np.stack([self._tags_allowed[entry[INTENT_NAME_KEY]] for entry in ranking])
        return np.minimum(max(0.0, 1.0 - float(confidences.sum())) + confidences @ allowed, 1.0)

    def _type_scores(self, rows: np.ndarray) -> Dict[Text, List[float]]:
        scores: Dict[Text, np.ndarray] = {}
        for column, tag in enumerate(self.tags[ENTITY_ATTRIBUTE_TYPE]):
            if tag != NO_ENTITY_TAG:
                name = bilou_utils.tag_without_prefix(tag)
                scores[name] = scores.get(name, 0.0) + rows[:, column]
        return {name: values.round(4).tolist() for name, values in scores.items()}

    def _split_entities_config(self) -> Dict[Text, bool]:
        return {SPLIT_ENTITIES_BY_COMMA: self.component_config[SPLIT_ENTITIES_BY_COMMA]}

    def persist(self) -> None:
        with self._model_storage.write_to(self._resource) as directory:
            self.head.save(directory / WEIGHTS_FILE)
            labels = {"tags": self.tags, "intents": self.intents, "types_by_intent": self.types_by_intent}
            (directory / TAGS_FILE).write_text(json.dumps(labels), encoding="utf-8")

    @classmethod
    def load(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> "KerasEntityExtractor":
        config = {**cls.get_default_config(), **config}
        try:
            with model_storage.read_from(resource) as directory:
                labels = json.loads((directory / TAGS_FILE).read_text(encoding="utf-8"))
                head = DenseHead.load(directory / WEIGHTS_FILE, "entity head")
        except ValueError:  # nothing persisted: the training data had no entity annotations
            return cls(config, model_storage, resource)
        return cls(config, model_storage, resource, head, labels["tags"], labels["intents"],
                   labels.get("types_by_intent"))

