"""Intents with no training examples, recognised from a one-line description, in any language.

Runs after the Keras head. When the head is unsure, it scores the zero-shot labels together with the
head's best candidates; a zero-shot label that wins with enough confidence becomes the intent, and
`intent_ranking` says which classifier produced each entry. A label wins only when the message is closer
to it than ordinary text is (components/zero_shot/background_null.py): otherwise the head's answer stands, and the
FallbackClassifier asks to rephrase when that answer is unsure too.
"""
import hashlib
import json
import logging
from typing import Any, Callable, Dict, List, Optional, Text, Tuple, Type

import numpy as np
import rasa.shared.utils.io
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

from components.keys import MODEL_NAME_KEY, PROMPT_KEY, RUNTIME_KEY
from components.languages.detection import language_of
from components.zero_shot import label_space as label_space
from components.zero_shot.backends import (SOFTMAX_OVER_LABELS, EmbeddingBackend, MT5XNLIBackend, NLIModelUnavailable,
                                           normalise)
from components.zero_shot.background_null import (DEFAULT_BACKGROUND, HubnessCorrectedNull, background_path, language_bars,
                                        null_thresholds, read_background, threshold_for)
from components.zero_shot.labels import intent_hypothesis, label_spec
from components.zero_shot.rules import WinningRules, shared_ranking

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
BACKGROUND_KEY = "background_texts"
FALSE_CAPTURE_RATE_KEY = "false_capture_rate"
LANGUAGE_FALSE_CAPTURE_RATE_KEY = "language_false_capture_rate"
NEIGHBOURS_KEY = "neighbours"
NLI_BACKGROUND_SIZE_KEY = "nli_background_size"
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
            # A label this sure (and above its null) beats even a confident head; null: off (mt5-xnli: a pass saved).
            OVERRIDE_CONFIDENCE_KEY: 0.99,
            # How many of the head's best intents compete with the zero-shot labels.
            HEAD_CANDIDATES_KEY: 3,
            # Head intents with fewer examples have too noisy a centroid to compete (embedding backend).
            MIN_EXAMPLES_KEY: 5,
            # Ordinary sentences in many languages (never test data) a label must beat; null turns the check off.
            BACKGROUND_KEY: DEFAULT_BACKGROUND,
            # The share of ordinary text all labels together may take (each: its 1 - rate / labels quantile).
            FALSE_CAPTURE_RATE_KEY: 0.005,
            # The same for each language with a bar of its own (docs/decisions/0031).
            LANGUAGE_FALSE_CAPTURE_RATE_KEY: 0.001,
            # Background neighbours that tell how close a text is to everything (embedding backend).
            NEIGHBOURS_KEY: 10,
            # Background sentences the NLI model scores at training time, one NLI pass each (mt5-xnli backend).
            NLI_BACKGROUND_SIZE_KEY: 200,
        }

    def __init__(self, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
                 names: Optional[List[str]] = None, vectors: Optional[np.ndarray] = None,
                 embedding: Optional[EmbeddingBackend] = None, null: Optional[HubnessCorrectedNull] = None,
                 thresholds: Optional[Dict[str, float]] = None,
                 bars: Optional[Dict[str, Dict[str, float]]] = None, encoder: Optional[dict] = None) -> None:
        self.validate_config(config)
        self.component_config = config
        self.labels = {name: label_spec(spec, config[HYPOTHESIS_TEMPLATE_KEY])
                       for name, spec in (config[LABELS_KEY] or {}).items()}
        self._model_storage, self._resource = model_storage, resource
        self.names = names or []  # zero-shot labels and head intents with a vector (embedding backend)
        self.vectors = vectors
        self.embedding = embedding or EmbeddingBackend()
        self.nli = MT5XNLIBackend(config[NLI_MODEL_KEY], config[SCORING_KEY])
        self.null = null  # the labels' background scores (embedding backend)
        self.thresholds = thresholds or {}  # {label: score that ordinary text rarely exceeds}
        self.bars = bars or {}  # {label: {language: threshold}}: the bars of the background's languages
        self.encoder = encoder  # the featurizer's model_name, prompt and runtime, learned at training
        self.rules = WinningRules(config[HEAD_THRESHOLD_KEY], config[MIN_CONFIDENCE_KEY],
                                  config[OVERRIDE_CONFIDENCE_KEY])

    @classmethod
    def validate_config(cls, config: Dict[Text, Any]) -> None:
        named = sorted(set(config) & {MODEL_NAME_KEY, PROMPT_KEY, RUNTIME_KEY})
        if named:
            raise InvalidConfigException(
                f"{cls.__name__} follows the SentenceEmbeddingFeaturizer's encoder: set {', '.join(named)} on the "
                "featurizer in config.yml and remove them here.")
        if config[BACKEND_KEY] not in (EMBEDDING, MT5_XNLI):
            raise InvalidConfigException(f"{cls.__name__}: `{BACKEND_KEY}` must be '{EMBEDDING}' or '{MT5_XNLI}'.")
        for key in (FALSE_CAPTURE_RATE_KEY, LANGUAGE_FALSE_CAPTURE_RATE_KEY):
            if not 0 < config[key] < 1:
                raise InvalidConfigException(f"{cls.__name__}: `{key}` must be between 0 and 1, e.g. 0.005.")

    @classmethod
    def fingerprint_addon(cls, config: Dict[Text, Any]) -> Optional[str]:
        """Label vectors come from the encoder and the background file: changing either must retrain."""
        config = {**cls.get_default_config(), **config}
        if not config[LABELS_KEY]:
            return None
        background = config[BACKGROUND_KEY]
        parts = [hashlib.sha256(background_path(background).read_bytes()).hexdigest() if background else ""]
        return "-".join(parts)  # the encoder is the featurizer's: its output is in the training data

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> "ZeroShotIntentClassifier":
        return cls({**cls.get_default_config(), **config}, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        if self.component_config[BACKEND_KEY] == MT5_XNLI:
            self.nli.class_token_ids()  # loads the model now: a clear error at training, not at parse time
            if self.labels and self.component_config[BACKGROUND_KEY]:
                self._fit_nli_null()
                self.persist()
            return self._resource
        examples = [m for m in training_data.intent_examples if m.get_dense_features(TEXT)[1] is not None]
        intents = [m.get(INTENT) for m in examples]
        if not examples or not self.labels:
            return self._resource
        self.encoder = label_space.featurizers_encoder(examples, f"{type(self).__name__} (backend: {EMBEDDING})")
        vectors = label_space.project(np.stack([label_space.sentence_vector(m, self.encoder) for m in examples]),
                                      self.encoder)
        counts = {name: intents.count(name) for name in set(intents) - set(self.labels)}
        head_names = sorted(n for n, c in counts.items() if c >= self.component_config[MIN_EXAMPLES_KEY])
        centroids = [vectors[[i == name for i in intents]].mean(axis=0) for name in head_names]
        self.names = list(self.labels) + head_names
        self.vectors = normalise(np.stack([label_space.describe(spec, self.encoder) for spec in self.labels.values()]
                                          + centroids))
        kept = [i for i, name in enumerate(intents) if name in self.names]
        self.embedding.fit(self.vectors, vectors[kept], [intents[i] for i in kept], self.names)
        logger.info(f"Zero-shot labels {list(self.labels)}; softmax temperature {self.embedding.temperature:.3f}.")
        if self.component_config[BACKGROUND_KEY]:
            self._fit_embedding_null()
        self.persist()
        return self._resource

    def _fit_embedding_null(self) -> None:
        config = self.component_config
        sentences = read_background(config[BACKGROUND_KEY])
        background, nearest = label_space.encode_background(sentences, self.encoder)
        self.null = HubnessCorrectedNull(background, config[NEIGHBOURS_KEY])
        self._fit_bars(self.null.fit(self.vectors[: len(self.labels)], nearest), sentences)
        logger.info(f"Zero-shot thresholds over {len(background)} background sentences: {self.thresholds}.")

    def _fit_nli_null(self) -> None:
        config = self.component_config
        sentences = read_background(config[BACKGROUND_KEY])
        every = max(1, len(sentences) // config[NLI_BACKGROUND_SIZE_KEY])
        sample = sentences[::every][: config[NLI_BACKGROUND_SIZE_KEY]]  # spread over the file's languages
        self._fit_bars(self.nli.null_scores(sample, [spec["hypothesis"] for spec in self.labels.values()]), sample)

    def _fit_bars(self, null_scores: np.ndarray, sentences: List[str]) -> None:
        """Each label's pooled threshold, and the bars of the languages with enough sentences (with mt5-xnli's 200
        sentences spread over the file, few have)."""
        config = self.component_config
        self.thresholds = dict(zip(self.labels, null_thresholds(null_scores, config[FALSE_CAPTURE_RATE_KEY]).tolist()))
        found = language_bars(null_scores, [language_of(s) for s in sentences], config[LANGUAGE_FALSE_CAPTURE_RATE_KEY])
        self.bars = {name: found[i] for i, name in enumerate(self.labels) if i in found}

    def process(self, messages: List[Message]) -> List[Message]:
        if not self.labels:
            return messages  # nothing declared: the head's intents stand
        if not self._trained():
            rasa.shared.utils.io.raise_warning(f"{type(self).__name__}: labels are declared but the model has no "
                                               "label vectors; retrain with `make train` to use them.")
            return messages
        for message in messages:
            head = message.get(INTENT) or {}
            head_confidence = head.get("confidence") or 0.0
            if not self.rules.worth_scoring(head_confidence):
                continue
            try:
                scored, null_scores = self._score(message)
            except NLIModelUnavailable as error:  # never crash a conversation: keep the head's answer
                logger.error(f"Zero-shot classification skipped: {error}")
                continue
            if all(name in self.labels for name, _ in scored):
                logger.debug("Zero-shot skipped: none of the head's intents has enough examples to compete.")
                continue
            best, probability = max(scored, key=lambda pair: pair[1])
            if not self._contends(best, probability, head_confidence):
                continue  # most messages: no label is near, and its null score is never computed
            reason = self._why_accepted(best, probability, head_confidence, null_scores().get(best), message.get(TEXT))
            if reason:
                logger.debug(f"Zero-shot '{best}' ({probability:.3f}) replaces '{head.get(INTENT_NAME_KEY)}' "
                             f"({head_confidence:.2f}): {reason}.")
                self._set_intent(message, best, probability, scored)
        return messages

    def _trained(self) -> bool:
        """The embedding backend needs label vectors and the featurizer's encoder from training; mt5-xnli scores
        labels as they are."""
        return self.component_config[BACKEND_KEY] == MT5_XNLI or (self.vectors is not None and bool(self.encoder))

    def _contends(self, label: str, probability: float, head_confidence: float) -> bool:
        """Whether a zero-shot label is the best candidate and sure enough to win, before its null is asked."""
        return label in self.labels and self.rules.winning_rule(probability, head_confidence) is not None

    def _above_null(self, label: str, null_score: Optional[float], text: str = "") -> bool:
        """Closer to the label than all but a small share of ordinary text, of the message's language where the
        background has enough of it (always, without a background)."""
        bars = self.bars.get(label)
        threshold = threshold_for(self.thresholds.get(label), bars, language_of(text) if bars else None)
        return threshold is None or (null_score is not None and null_score > threshold)

    def _why_accepted(self, label: str, probability: float, head_confidence: float,
                      null_score: Optional[float] = None, text: str = "") -> Optional[str]:
        """Why the zero-shot label replaces the head's intent, or None when it does not."""
        if not self._contends(label, probability, head_confidence) or not self._above_null(label, null_score, text):
            return None
        return self.rules.winning_rule(probability, head_confidence)

    def _score(self, message: Message) -> Tuple[List[Tuple[str, float]], Callable[[], Dict[str, float]]]:
        """(candidate, probability) for the labels and the head's best intents; what gives each label's null score
        (the embedding backend's costs a pass over the background: asked for only when a label contends)."""
        ranking = message.get(INTENT_RANKING_KEY) or []
        head_candidates = [r[INTENT_NAME_KEY] for r in ranking[: self.component_config[HEAD_CANDIDATES_KEY]]
                           if r[INTENT_NAME_KEY] not in self.labels]
        if self.component_config[BACKEND_KEY] == MT5_XNLI:
            candidates = list(self.labels) + head_candidates
            hypotheses = [self.labels[c]["hypothesis"] if c in self.labels
                          else intent_hypothesis(c, self.component_config[HYPOTHESIS_TEMPLATE_KEY]) for c in candidates]
            probabilities, log_odds = self.nli.probabilities_and_log_odds(message.get(TEXT) or "", hypotheses)
            return list(zip(candidates, probabilities.tolist())), lambda: dict(zip(self.labels, log_odds.tolist()))
        candidates = [n for n in self.names if n in self.labels or n in head_candidates]
        vector = label_space.project(label_space.sentence_vector(message, self.encoder), self.encoder)
        rows = [self.names.index(c) for c in candidates]

        def null_scores() -> Dict[str, float]:
            if self.null is None:
                return {}
            return dict(zip(self.labels, self.null.scores(vector, self.vectors[: len(self.labels)])[0].tolist()))

        return list(zip(candidates, self.embedding.probabilities(vector, self.vectors, rows).tolist())), null_scores

    def _set_intent(self, message: Message, label: str, probability: float, scored) -> None:
        ranking = shared_ranking(scored, list(self.labels), message.get(INTENT_RANKING_KEY) or [], type(self).__name__)
        message.set(INTENT, {INTENT_NAME_KEY: label, "confidence": probability}, add_to_output=True)
        message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)

    def persist(self) -> None:
        with self._model_storage.write_to(self._resource) as directory:
            (directory / LABELS_FILE).write_text(json.dumps(
                {"names": self.names, "temperature": self.embedding.temperature, "thresholds": self.thresholds,
                 "bars": self.bars, "neighbours": self.null.neighbours if self.null else None,
                 "encoder": self.encoder}),
                encoding="utf-8")
            if self.vectors is not None:  # none with mt5-xnli: its thresholds are all it keeps
                np.savez(directory / VECTORS_FILE, vectors=self.vectors, offsets=self.embedding.offsets,
                         scales=self.embedding.scales, **(self.null.arrays() if self.null else {}))

    @classmethod
    def load(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> "ZeroShotIntentClassifier":
        config = {**cls.get_default_config(), **config}
        try:
            with model_storage.read_from(resource) as directory:
                saved = json.loads((directory / LABELS_FILE).read_text(encoding="utf-8"))
                arrays = dict(np.load(directory / VECTORS_FILE)) if (directory / VECTORS_FILE).exists() else {}
        except ValueError:  # nothing persisted: no labels declared
            return cls(config, model_storage, resource)
        if not arrays:
            return cls(config, model_storage, resource, thresholds=saved["thresholds"], bars=saved.get("bars"))
        embedding = EmbeddingBackend(saved["temperature"], arrays["offsets"], arrays["scales"])
        return cls(config, model_storage, resource, saved["names"], arrays["vectors"], embedding,
                   HubnessCorrectedNull.from_arrays(arrays, saved["neighbours"]),
                   saved["thresholds"], saved.get("bars"), saved.get("encoder"))  # no encoder in older models: retrain
