"""Dense sentence features from a frozen multilingual sentence encoder.

This replaces Rasa's count-vector featurizers: because the encoder maps a
sentence and its translations close together, a head trained on English
features understands other languages too.
"""
import logging
from typing import Any, Dict, List, Optional, Text

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.shared.exceptions import InvalidConfigException
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from components import sentence_encoder
from components.onnx_runtime import DEFAULT_RUNTIME, RUNTIMES
from components.sentence_encoder import EMBEDDED_ENCODER, EmbeddingCache

logger = logging.getLogger(__name__)

MODEL_NAME_KEY = "model_name"
PROMPT_KEY = "prompt"
BATCH_SIZE_KEY = "batch_size"
CACHE_DIR_KEY = "cache_dir"
USE_CACHE_KEY = "use_cache"
RUNTIME_KEY = "runtime"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class SentenceEmbeddingFeaturizer(DenseFeaturizer, GraphComponent):
    """Adds one sentence-level feature vector per message from a frozen encoder."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            **DenseFeaturizer.get_default_config(),
            # Any sentence-transformers folder or hub name; the default is built offline by `make setup`.
            MODEL_NAME_KEY: EMBEDDED_ENCODER,
            # Text put before every message ("query: " for E5 models); null uses the model's default.
            PROMPT_KEY: None,
            # Messages encoded per forward pass during training.
            BATCH_SIZE_KEY: 32,
            # Where training embeddings are kept; null means $MULTILINGUAL_RASA_CACHE or ~/.cache.
            CACHE_DIR_KEY: None,
            # Reuse embeddings of unchanged training examples when retraining.
            USE_CACHE_KEY: True,
            # Where the transformer layers run: "torch" (eager PyTorch), "onnx" or "onnx-int8" (ONNX Runtime,
            # files exported by `make setup`); give the zero-shot classifier the same.
            RUNTIME_KEY: DEFAULT_RUNTIME,
        }

    @staticmethod
    def required_packages() -> List[Text]:
        return ["sentence_transformers", "torch"]

    @classmethod
    def fingerprint_addon(cls, config: Dict[Text, Any]) -> Optional[str]:
        """The encoder's own fingerprint: rebuilding it (e.g. a new language layer) invalidates Rasa's cache."""
        config = {**cls.get_default_config(), **config}
        return sentence_encoder.fingerprint(config[MODEL_NAME_KEY], config[PROMPT_KEY], config[RUNTIME_KEY])

    @classmethod
    def validate_config(cls, config: Dict[Text, Any]) -> None:
        if not config.get(MODEL_NAME_KEY):
            raise InvalidConfigException(f"{cls.__name__} needs a `{MODEL_NAME_KEY}`.")
        if int(config.get(BATCH_SIZE_KEY, 0)) < 1:
            raise InvalidConfigException(f"{cls.__name__}: `{BATCH_SIZE_KEY}` must be at least 1.")
        if config.get(RUNTIME_KEY, DEFAULT_RUNTIME) not in RUNTIMES:
            raise InvalidConfigException(f"{cls.__name__}: `{RUNTIME_KEY}` must be one of {', '.join(RUNTIMES)}.")

    def __init__(self, config: Dict[Text, Any], name: Text) -> None:
        super().__init__(name, config)
        self.model_name = config[MODEL_NAME_KEY]
        self.prompt: Optional[str] = config[PROMPT_KEY]
        self.batch_size = int(config[BATCH_SIZE_KEY])
        self._cache_dir = config[CACHE_DIR_KEY]
        self._use_cache = config[USE_CACHE_KEY]
        self.runtime = config[RUNTIME_KEY]
        self._cache: Optional[EmbeddingCache] = None
        sentence_encoder.load_encoder(self.model_name, self.runtime)  # fail at load time, not on the first message

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "SentenceEmbeddingFeaturizer":
        return cls({**cls.get_default_config(), **config}, execution_context.node_name)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Featurizes every training example that has text, encoding only unseen texts."""
        messages = [m for m in training_data.training_examples if m.get(TEXT) is not None]
        self._featurize(messages, self._cached_encode)
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        """Featurizes incoming messages (no disk cache: user messages are not stored)."""
        self._featurize(messages, self.embed)
        return messages

    def embed(self, texts: List[str], show_progress: bool = False) -> np.ndarray:
        """Sentence embeddings for `texts` with this featurizer's model and prompt."""
        return sentence_encoder.encode(self.model_name, texts, self.prompt, self.batch_size, show_progress, self.runtime)

    def _featurize(self, messages: List[Message], encoder) -> None:
        if not messages:
            return
        vectors = encoder([m.get(TEXT) or "" for m in messages])
        for message, vector in zip(messages, vectors):
            self.add_features_to_message(sequence=None, sentence=vector[np.newaxis, :],
                                         attribute=TEXT, message=message)

    def _cached_encode(self, texts: List[str]) -> np.ndarray:
        if not self._use_cache:
            return self.embed(texts, show_progress=True)
        if self._cache is None:
            self._cache = EmbeddingCache(self.model_name, self.prompt, self._cache_dir, self.runtime)
        return self._cache.encode(texts, self.batch_size)
