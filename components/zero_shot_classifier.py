"""Intents with no training examples, recognised from a one-line description, in any language.

Runs after the Keras head. When the head is unsure, it scores the zero-shot labels together with the
head's best candidates; a zero-shot label that wins with enough confidence becomes the intent, and
`intent_ranking` says which classifier produced each entry.
"""
import json
import logging
from typing import Any, Dict, List, Optional, Text, Tuple, Type

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.shared.exceptions import InvalidConfigException
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from components import sentence_encoder
from components.keras_intent_classifier import CLASSIFIER_KEY
from components.zero_shot_backends import (SOFTMAX_OVER_LABELS, EmbeddingBackend, MT5XNLIBackend,
                                           NLIModelUnavailable, normalise)

logger = logging.getLogger(__name__)

LABELS_KEY = "labels"
BACKEND_KEY = "backend"
NLI_MODEL_KEY = "nli_model"
HYPOTHESIS_TEMPLATE_KEY = "hypothesis_template"
SCORING_KEY = "scoring"
HEAD_THRESHOLD_KEY = "head_threshold"
MIN_CONFIDENCE_KEY = "min_confidence"
OVERRIDE_CONFIDENCE_KEY = "override_confidence"
HEAD_CANDIDATES_KEY = "head_candidates"
MIN_EXAMPLES_KEY = "min_examples"
ENCODER_KEY = "model_name"
PROMPT_KEY = "prompt"
EMBEDDING, MT5_XNLI = "embedding", "mt5-xnli"
VECTORS_FILE, LABELS_FILE = "label_vectors.npz", "labels.json"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class ZeroShotIntentClassifier(GraphComponent, IntentClassifier):
    """Entailment-style fallback to intents declared only by a description."""

    @classmethod
    def required_components(cls) -> List[Type]:
        return [DenseFeaturizer]  # put it after the head in config.yml: it reads the head's ranking

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            # {intent: "one-line description"} or {intent: {description, hypothesis_template, examples}}.
            LABELS_KEY: {},
            # "embedding" (the pipeline's own encoder, offline) or "mt5-xnli" (needs the NLI model).
            BACKEND_KEY: EMBEDDING,
            # mT5 fine-tuned on XNLI: a hub name or a local folder (mt5-xnli backend only).
            NLI_MODEL_KEY: "alan-turing-institute/mt5-large-finetuned-mnli-xtreme-xnli",
            # Turns a description into a hypothesis; may be written in any language.
            HYPOTHESIS_TEMPLATE_KEY: "This example is {}.",
            # mt5-xnli: softmax of entailment across labels, or entailment vs contradiction per label.
            SCORING_KEY: SOFTMAX_OVER_LABELS,
            # The head's confidence below which the zero-shot labels are consulted.
            HEAD_THRESHOLD_KEY: 0.75,
            # A zero-shot label must reach this probability to replace the head's intent.
            MIN_CONFIDENCE_KEY: 0.55,
            # A zero-shot label this sure wins even over a confident head (a head trained on a few intents
            # is often sure of one of them for a message about none). It scores every message: with mt5-xnli
            # that is an NLI pass per message; null scores only the messages the head is unsure of.
            OVERRIDE_CONFIDENCE_KEY: 0.999,
            # How many of the head's best intents compete with the zero-shot labels.
            HEAD_CANDIDATES_KEY: 3,
            # Head intents with fewer examples have too noisy a centroid to compete (embedding backend).
            MIN_EXAMPLES_KEY: 5,
            # Encoder and prompt of the embedding backend: use the featurizer's.
            ENCODER_KEY: sentence_encoder.EMBEDDED_ENCODER,
            PROMPT_KEY: "query: ",
        }

    def __init__(self, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
                 names: Optional[List[str]] = None, vectors: Optional[np.ndarray] = None,
                 embedding: Optional[EmbeddingBackend] = None) -> None:
        if config[BACKEND_KEY] not in (EMBEDDING, MT5_XNLI):
            raise InvalidConfigException(f"{BACKEND_KEY} must be '{EMBEDDING}' or '{MT5_XNLI}'.")
        self.component_config = config
        self.labels = {name: label_spec(spec, config[HYPOTHESIS_TEMPLATE_KEY])
                       for name, spec in (config[LABELS_KEY] or {}).items()}
        self._model_storage, self._resource = model_storage, resource
        self.names = names or []  # zero-shot labels and head intents with a vector (embedding backend)
        self.vectors = vectors
        self.embedding = embedding or EmbeddingBackend()
        self.nli = MT5XNLIBackend(config[NLI_MODEL_KEY], config[SCORING_KEY])

    @classmethod
    def fingerprint_addon(cls, config: Dict[Text, Any]) -> Optional[str]:
        """Label vectors come from the encoder: rebuilding it must retrain this component."""
        config = {**cls.get_default_config(), **config}
        if config[BACKEND_KEY] != EMBEDDING or not config[LABELS_KEY]:
            return None
        return sentence_encoder.fingerprint(config[ENCODER_KEY], config[PROMPT_KEY])

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> "ZeroShotIntentClassifier":
        return cls({**cls.get_default_config(), **config}, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        if self.component_config[BACKEND_KEY] == MT5_XNLI:
            self.nli.class_token_ids()  # loads the model now: a clear error at training, not at parse time
            return self._resource
        examples = [m for m in training_data.intent_examples if m.get_dense_features(TEXT)[1] is not None]
        intents = [m.get(INTENT) for m in examples]
        if not examples or not self.labels:
            return self._resource
        vectors = self._description_space(np.stack([m.get_dense_features(TEXT)[1].features.reshape(-1)
                                                    for m in examples]))
        counts = {name: intents.count(name) for name in set(intents) - set(self.labels)}
        head_names = sorted(n for n, c in counts.items() if c >= self.component_config[MIN_EXAMPLES_KEY])
        centroids = [vectors[[i == name for i in intents]].mean(axis=0) for name in head_names]
        self.names = list(self.labels) + head_names
        self.vectors = normalise(np.stack([self._describe(spec) for spec in self.labels.values()] + centroids))
        kept = [i for i, name in enumerate(intents) if name in self.names]
        self.embedding.fit(self.vectors, vectors[kept], [intents[i] for i in kept], self.names)
        logger.info(f"Zero-shot labels {list(self.labels)}; softmax temperature {self.embedding.temperature:.3f}.")
        self.persist()
        return self._resource

    def _describe(self, spec: dict) -> np.ndarray:
        texts = [spec["description"], spec["hypothesis"]] + list(spec["examples"])
        encoded = sentence_encoder.encode(self.component_config[ENCODER_KEY], texts,
                                          self.component_config[PROMPT_KEY], batch_size=32)
        return self._description_space(encoded).mean(axis=0)

    def _description_space(self, vectors: np.ndarray) -> np.ndarray:
        """Descriptions are compared on the encoder's last layer only (when it pools several): on the dev set
        that found more unseen intents at the same cost than the head's full features."""
        return normalise(vectors[..., sentence_encoder.last_layer_part(self.component_config[ENCODER_KEY])])

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            head = message.get(INTENT) or {}
            head_confidence = head.get("confidence") or 0.0
            if not self._ready() or not self._worth_scoring(head_confidence):
                continue
            try:
                scored = self._score(message)
            except NLIModelUnavailable as error:  # never crash a conversation: keep the head's answer
                logger.error(f"Zero-shot classification skipped: {error}")
                continue
            if all(name in self.labels for name, _ in scored):
                logger.debug("Zero-shot skipped: none of the head's intents has enough examples to compete.")
                continue
            best, probability = max(scored, key=lambda pair: pair[1])
            reason = self._why_accepted(best, probability, head_confidence)
            if reason:
                logger.debug(f"Zero-shot '{best}' ({probability:.3f}) replaces '{head.get(INTENT_NAME_KEY)}' "
                             f"({head_confidence:.2f}): {reason}.")
                self._set_intent(message, best, probability, scored)
        return messages

    def _ready(self) -> bool:
        """Labels declared, and for the embedding backend trained (it has label vectors)."""
        return bool(self.labels) and (self.component_config[BACKEND_KEY] == MT5_XNLI or self.vectors is not None)

    def _worth_scoring(self, head_confidence: float) -> bool:
        return (head_confidence < self.component_config[HEAD_THRESHOLD_KEY]
                or self.component_config[OVERRIDE_CONFIDENCE_KEY] is not None)

    def _why_accepted(self, label: str, probability: float, head_confidence: float) -> Optional[str]:
        """Why the zero-shot label replaces the head's intent, or None when it does not."""
        config = self.component_config
        if label not in self.labels:
            return None
        if head_confidence < config[HEAD_THRESHOLD_KEY] and probability >= config[MIN_CONFIDENCE_KEY]:
            return f"head unsure (< {config[HEAD_THRESHOLD_KEY]}), zero-shot >= {config[MIN_CONFIDENCE_KEY]}"
        if config[OVERRIDE_CONFIDENCE_KEY] is not None and probability >= config[OVERRIDE_CONFIDENCE_KEY]:
            return f"zero-shot >= {config[OVERRIDE_CONFIDENCE_KEY]}, sure enough to override the head"
        return None

    def _score(self, message: Message) -> List[Tuple[str, float]]:
        ranking = message.get(INTENT_RANKING_KEY) or []
        head_candidates = [r[INTENT_NAME_KEY] for r in ranking[: self.component_config[HEAD_CANDIDATES_KEY]]
                           if r[INTENT_NAME_KEY] not in self.labels]
        if self.component_config[BACKEND_KEY] == MT5_XNLI:
            candidates = list(self.labels) + head_candidates
            hypotheses = [self.labels[c]["hypothesis"] if c in self.labels
                          else _hypothesis(c.replace("_", " "), self.component_config[HYPOTHESIS_TEMPLATE_KEY])
                          for c in candidates]
            return list(zip(candidates, self.nli.probabilities(message.get(TEXT) or "", hypotheses).tolist()))
        candidates = [n for n in self.names if n in self.labels or n in head_candidates]
        vector = self._description_space(message.get_dense_features(TEXT)[1].features.reshape(-1))
        rows = [self.names.index(c) for c in candidates]
        return list(zip(candidates, self.embedding.probabilities(vector, self.vectors, rows).tolist()))

    def _set_intent(self, message: Message, label: str, probability: float, scored) -> None:
        """One ranking, one distribution: the head's confidences share what the zero-shot labels leave, so
        that the FallbackClassifier's ambiguity check compares like with like."""
        zero_shot = [{INTENT_NAME_KEY: name, "confidence": p, CLASSIFIER_KEY: self.__class__.__name__}
                     for name, p in scored if name in self.labels]
        left = max(0.0, 1.0 - sum(entry["confidence"] for entry in zero_shot))
        head = [{**entry, "confidence": entry["confidence"] * left}
                for entry in message.get(INTENT_RANKING_KEY) or [] if entry[INTENT_NAME_KEY] not in self.labels]
        message.set(INTENT, {INTENT_NAME_KEY: label, "confidence": probability}, add_to_output=True)
        message.set(INTENT_RANKING_KEY, sorted(zero_shot + head, key=lambda e: -e["confidence"]), add_to_output=True)

    def persist(self) -> None:
        with self._model_storage.write_to(self._resource) as directory:
            np.savez(directory / VECTORS_FILE, vectors=self.vectors, offsets=self.embedding.offsets,
                     scales=self.embedding.scales)
            (directory / LABELS_FILE).write_text(json.dumps(
                {"names": self.names, "temperature": self.embedding.temperature}), encoding="utf-8")

    @classmethod
    def load(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> "ZeroShotIntentClassifier":
        config = {**cls.get_default_config(), **config}
        try:
            with model_storage.read_from(resource) as directory:
                saved = json.loads((directory / LABELS_FILE).read_text(encoding="utf-8"))
                arrays = dict(np.load(directory / VECTORS_FILE))
        except ValueError:  # nothing persisted: no labels, or the mt5-xnli backend (no trained state)
            return cls(config, model_storage, resource)
        embedding = EmbeddingBackend(saved["temperature"], arrays["offsets"], arrays["scales"])
        return cls(config, model_storage, resource, saved["names"], arrays["vectors"], embedding)


def label_spec(spec, template: str) -> dict:
    """Normalises a label's declaration: a plain description string, or a dict."""
    spec = {"description": spec} if isinstance(spec, str) else dict(spec or {})
    if not spec.get("description"):
        raise InvalidConfigException(f"Every zero-shot label needs a `description`; got {spec!r}.")
    spec["hypothesis"] = _hypothesis(spec["description"], spec.get("hypothesis_template") or template)
    spec["examples"] = list(spec.get("examples") or [])
    return spec


def _hypothesis(description: str, template: str) -> str:
    return template.format(description)
