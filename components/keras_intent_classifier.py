"""A small dense head that predicts intents from frozen sentence embeddings (components/heads/dense_head.py).

The SetFit idea: a model is a body and a head. The body (the multilingual
encoder) stays frozen, so only this head is trained, in seconds, on English
examples, and the encoder's cross-lingual geometry carries it to other languages.

Where the pipeline has a second body that reads only the languages it knows (UniversalSentenceEncoderFeaturizer),
the head is two: one over every body, for the messages all of them read, and one over the bodies that read every
language, trained exactly as it would be without the second body, for the other messages (docs/decisions/0072).
"""
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Text, Type

import numpy as np
import rasa.shared.utils.io
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers import LABEL_RANKING_LENGTH
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.shared.exceptions import InvalidConfigException
from rasa.shared.nlu.constants import (FEATURE_TYPE_SENTENCE, INTENT, INTENT_NAME_KEY, INTENT_RANKING_KEY,
                                       PREDICTED_CONFIDENCE_KEY, TEXT)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from rasa.utils.tensorflow.constants import RANKING_LENGTH

from components.heads.dense_head import (BATCH_SIZE_KEY, DROPOUT_KEY, EPOCHS_KEY, HIDDEN_UNITS_KEY, LEARNING_RATE_KEY,
                                         RANDOM_SEED_KEY, DenseHead, HeadFileError,
                                         TrainsDenseHeads)
from components.keys import CLASSIFIER_KEY, OPTIONAL_BODIES, SAMPLE_WEIGHT_KEY
from components.languages.detection import example_language

logger = logging.getLogger(__name__)

L2_KEY = "l2_regularization"
LABEL_SMOOTHING_KEY = "label_smoothing"
BALANCE_CLASSES_KEY = "balance_classes"
REVIEWED_EXAMPLE_WEIGHT_KEY = "reviewed_example_weight"
HEADS_FILE, HEAD_FILE, LABELS_FILE = "heads.json", "head-{}.npz", "labels.json"
OUTPUT = "intent"  # the head's one output


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class KerasIntentClassifier(TrainsDenseHeads, GraphComponent, IntentClassifier):
    """Dense softmax head over the sentence features of the previous featurizer."""

    @classmethod
    def required_components(cls) -> List[Type]:
        return [DenseFeaturizer]

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            # Width of the one hidden layer; 0 trains a plain softmax regression.
            HIDDEN_UNITS_KEY: 256,
            # Dropout on the input embedding and on the hidden layer.
            DROPOUT_KEY: 0.2,
            # Weight decay (L2) on the dense layers.
            L2_KEY: 1e-4,
            # Softens one-hot targets. 0: confidences match accuracy best, in English and in translation
            # (0.1 made the head under-confident, so the FallbackClassifier asked to rephrase far too often).
            LABEL_SMOOTHING_KEY: 0.0,
            # Passes over the training examples.
            EPOCHS_KEY: 100,
            # Examples per gradient step.
            BATCH_SIZE_KEY: 32,
            # Adam step size.
            LEARNING_RATE_KEY: 1e-3,
            # Weight each intent by 1 / its frequency so rare intents are not drowned out.
            BALANCE_CLASSES_KEY: True,
            # What an example labelled from users' messages (its metadata names its language: data/nlu_reviewed.yml)
            # counts beside one of the author's: still learned, without pulling other messages of its language to its
            # intent (docs/decisions/0073).
            REVIEWED_EXAMPLE_WEIGHT_KEY: 0.1,
            # Same seed, same data: same model.
            RANDOM_SEED_KEY: 42,
            # Length of `intent_ranking`; 0 keeps every intent.
            RANKING_LENGTH: LABEL_RANKING_LENGTH,
        }

    @classmethod
    def validate_config(cls, config: Dict[Text, Any]) -> None:
        if not 0 <= config[DROPOUT_KEY] < 1:
            raise InvalidConfigException(f"{cls.__name__}: `{DROPOUT_KEY}` must be in [0, 1).")
        if not 0 < config[REVIEWED_EXAMPLE_WEIGHT_KEY]:
            raise InvalidConfigException(f"{cls.__name__}: `{REVIEWED_EXAMPLE_WEIGHT_KEY}` must be above 0 (1 counts a "
                                         "reviewed example as much as one of yours).")
        for key in (EPOCHS_KEY, BATCH_SIZE_KEY):
            if int(config[key]) < 1:
                raise InvalidConfigException(f"{cls.__name__}: `{key}` must be at least 1.")

    def __init__(self, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
                 heads: Sequence["BodyHead"] = (), labels: Optional[List[Text]] = None) -> None:
        self.validate_config(config)
        self.component_config = config
        self._model_storage = model_storage
        self._resource = resource
        self.heads = list(heads)  # the one over the most bodies first
        self.labels = labels or []

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> "KerasIntentClassifier":
        return cls({**cls.get_default_config(), **config}, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        """Fits a head for each set of bodies a message can have, on the examples that have them, and persists."""
        examples = [m for m in training_data.intent_examples if m.get(INTENT) and m.get(TEXT) is not None]
        if not examples:
            logger.warning(f"{self.__class__.__name__}: no intent examples; nothing to train.")
            return self._resource
        self.labels = sorted({m.get(INTENT) for m in examples})
        targets = np.array([self.labels.index(m.get(INTENT)) for m in examples])
        weights = np.array([self._weight(m) for m in examples], dtype=np.float32)
        if len(self.labels) < 2:
            logger.warning(f"Only one intent ('{self.labels[0]}'): every message will get it.")
        self.heads = []
        for bodies in reversed(body_sets(examples, self.__class__.__name__)):  # the bodies that read every message
            rows = [i for i, m in enumerate(examples) if set(bodies) <= set(origins(m))]  # first, as without the rest
            head = self._fit(BodyHead(bodies).features([examples[i] for i in rows]), targets[rows], weights[rows])
            self.heads.insert(0, BodyHead(bodies, head))
        self.persist()
        return self._resource

    def _weight(self, example: Message) -> float:
        """An augmented copy says what it counts; a reviewed user's message counts `reviewed_example_weight`."""
        if example.get(SAMPLE_WEIGHT_KEY):
            return example.get(SAMPLE_WEIGHT_KEY)
        return self.component_config[REVIEWED_EXAMPLE_WEIGHT_KEY] if example_language(example) else 1.0

    def _fit(self, features: np.ndarray, targets: np.ndarray, weights: np.ndarray) -> DenseHead:
        config = self.component_config
        balanced = weights * self._class_weights(targets, weights)[targets] if config[BALANCE_CLASSES_KEY] else weights
        return DenseHead.train(features, {OUTPUT: targets}, {OUTPUT: len(self.labels)}, config, l2=config[L2_KEY],
                               label_smoothing=config[LABEL_SMOOTHING_KEY], sample_weight=balanced,
                               description=self.__class__.__name__)

    def _class_weights(self, targets: np.ndarray, weights: np.ndarray) -> np.ndarray:
        """1 / each intent's share of the total weight, so that every intent counts as much."""
        totals = np.bincount(targets, weights=weights, minlength=len(self.labels))
        return weights.sum() / (len(self.labels) * np.maximum(totals, 1e-12))

    def process(self, messages: List[Message]) -> List[Message]:
        """Sets `intent` and `intent_ranking` like Rasa's own classifiers, from the head over the bodies that read
        the message."""
        if not self.heads:
            rasa.shared.utils.io.raise_warning(f"{type(self).__name__}: no trained head in the model, so no intents; "
                                               "retrain with `make train` with intent examples in data/.")
            return messages
        for message in messages:
            head = self.head_for(message)
            ranking = self._ranking(head.head.probabilities(head.features([message]))[OUTPUT][0])
            message.set(INTENT, ranking[0], add_to_output=True)
            message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
        return messages

    def head_for(self, message: Message) -> "BodyHead":
        """The head over the most bodies, all of which read the message."""
        present = set(origins(message))
        for head in self.heads:
            if set(head.bodies) <= present:
                return head
        raise InvalidConfigException(
            f"{self.__class__.__name__} was trained on the sentence features of {self.heads[-1].bodies}, and the "
            "message lacks them: keep those featurizers before it in config.yml, or retrain.")

    def _ranking(self, row: np.ndarray) -> List[Dict[Text, Any]]:
        order = np.argsort(-row, kind="stable")
        length = self.component_config[RANKING_LENGTH]
        if length > 0:
            order = order[:length]
        return [{INTENT_NAME_KEY: self.labels[i], PREDICTED_CONFIDENCE_KEY: float(row[i]),
                 CLASSIFIER_KEY: self.__class__.__name__} for i in order]

    def persist(self) -> None:
        with self._model_storage.write_to(self._resource) as directory:
            for index, head in enumerate(self.heads):
                head.head.save(directory / HEAD_FILE.format(index))
            (directory / HEADS_FILE).write_text(json.dumps([head.bodies for head in self.heads]), encoding="utf-8")
            (directory / LABELS_FILE).write_text(json.dumps(self.labels), encoding="utf-8")

    @classmethod
    def load(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> "KerasIntentClassifier":
        config = {**cls.get_default_config(), **config}
        try:
            with model_storage.read_from(resource) as directory:
                heads, labels = _read_heads(directory)
        except ValueError:  # Rasa's storage: nothing was persisted (no intents at training time)
            logger.warning(f"{cls.__name__}: no trained head in the model; intents will be empty.")
            return cls(config, model_storage, resource)
        return cls(config, model_storage, resource, heads=heads, labels=labels)


@dataclass
class BodyHead:
    """A head over the sentence features of some bodies (feature origins, in pipeline order)."""

    bodies: List[str]
    head: Optional[DenseHead] = None

    def features(self, messages: List[Message]) -> np.ndarray:
        rows = []
        for message in messages:
            _, sentence = message.get_dense_features(TEXT, self.bodies)
            if sentence is None:
                raise InvalidConfigException(
                    "KerasIntentClassifier needs sentence features: put a dense featurizer "
                    "such as SentenceEmbeddingFeaturizer before it in config.yml.")
            rows.append(sentence.features.reshape(-1))
        return np.stack(rows).astype(np.float32)


def origins(message: Message) -> List[str]:
    """The featurizers whose sentence features the message has, in pipeline order."""
    return [f.origin for f in message.features if f.attribute == TEXT and f.type == FEATURE_TYPE_SENTENCE
            and f.is_dense()]


def body_sets(examples: List[Message], component: str) -> List[List[str]]:
    """[every body], and, where some read only the languages they know, [the bodies that read every message]."""
    bodies = list(dict.fromkeys(origin for m in examples for origin in origins(m)))
    if not bodies:
        raise InvalidConfigException(f"{component} needs sentence features: put a dense featurizer such as "
                                     "SentenceEmbeddingFeaturizer before it in config.yml.")
    optional = {body for m in examples for body in m.get(OPTIONAL_BODIES) or []}
    always = [body for body in bodies if body not in optional]
    if not always:
        raise InvalidConfigException(f"{component}: every featurizer before it reads only some languages "
                                     f"({', '.join(bodies)}), so messages in the others would have no features: "
                                     "put SentenceEmbeddingFeaturizer before it too.")
    return [bodies, always] if always != bodies else [bodies]


def _read_heads(directory: Path):
    try:
        labels = json.loads((directory / LABELS_FILE).read_text(encoding="utf-8"))
        bodies = json.loads((directory / HEADS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise HeadFileError(f"The trained intent head in the model is missing or corrupt ({error}). Retrain the bot "
                            "with `make train` (or `rasa train --force`).") from error
    return [BodyHead(body, DenseHead.load(directory / HEAD_FILE.format(index), "intent head"))
            for index, body in enumerate(bodies)], labels
