"""Dense features from a frozen multilingual sentence encoder: one vector per message, and one per word.

This replaces Rasa's count-vector featurizers: because the encoder maps a sentence and its translations close
together, heads trained on English features understand other languages too. The sentence vector feeds the
intent head; the words' vectors (pooled from the same forward pass, components/encoders/token_features.py) feed the
entity extractor. The featurizer owns the encoder: every component that needs it follows this one.
"""
import hashlib
import logging
from typing import Any, Dict, List, Optional, Text

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.nlu.constants import TOKENS_NAMES
from rasa.shared.exceptions import InvalidConfigException
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from components.encoders import sentence_encoder
from components.encoders.embedding_cache import EmbeddingCache
from components.encoders.onnx_runtime import DEFAULT_RUNTIME, RUNTIMES
from components.encoders.sentence_encoder import EMBEDDED_ENCODER
from components.encoders.token_features import EncodedText, encode_with_pieces, encode_with_pieces_cached
from components.keys import ENCODER_SPEC, MODEL_NAME_KEY, ORIGIN_KEY, PROMPT_KEY, RUNTIME_KEY

logger = logging.getLogger(__name__)

BATCH_SIZE_KEY = "batch_size"
CACHE_DIR_KEY = "cache_dir"
USE_CACHE_KEY = "use_cache"
TOKEN_LAYERS_KEY = "token_layers"
CENTRE_WORDS_KEY = "centre_words"


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
            # files exported by `make setup`).
            RUNTIME_KEY: DEFAULT_RUNTIME,
            # Hidden layers whose piece states make each word's vector (-1: the last), averaged (docs/decisions/0070).
            TOKEN_LAYERS_KEY: [-1],
            # Subtract the encoder folder's mean word vector of those layers (word_centres.npy), if it has one.
            CENTRE_WORDS_KEY: True,
        }

    @staticmethod
    def required_packages() -> List[Text]:
        return ["sentence_transformers", "torch"]

    @classmethod
    def fingerprint_addon(cls, config: Dict[Text, Any]) -> Optional[str]:
        """The encoder's own fingerprint and its word centres: rebuilding it (e.g. a new language layer)
        invalidates Rasa's cache."""
        config = {**cls.get_default_config(), **config}
        centres = sentence_encoder.word_centres(config[MODEL_NAME_KEY])
        return sentence_encoder.fingerprint(config[MODEL_NAME_KEY], config[PROMPT_KEY], config[RUNTIME_KEY]) + (
            hashlib.sha256(centres.tobytes()).hexdigest()[:12] if centres is not None else "")

    @classmethod
    def validate_config(cls, config: Dict[Text, Any]) -> None:
        if not config.get(MODEL_NAME_KEY):
            raise InvalidConfigException(f"{cls.__name__} needs a `{MODEL_NAME_KEY}`.")
        if int(config.get(BATCH_SIZE_KEY, 0)) < 1:
            raise InvalidConfigException(f"{cls.__name__}: `{BATCH_SIZE_KEY}` must be at least 1.")
        if config.get(RUNTIME_KEY, DEFAULT_RUNTIME) not in RUNTIMES:
            raise InvalidConfigException(f"{cls.__name__}: `{RUNTIME_KEY}` must be one of {', '.join(RUNTIMES)}.")
        layers = config.get(TOKEN_LAYERS_KEY, [-1])
        if not layers or not all(isinstance(layer, int) for layer in layers):
            raise InvalidConfigException(f"{cls.__name__}: `{TOKEN_LAYERS_KEY}` must list hidden layer numbers, "
                                         "e.g. [7, 8, 9] (-1 is the last).")

    def __init__(self, config: Dict[Text, Any], name: Text) -> None:
        super().__init__(name, config)
        self.model_name = config[MODEL_NAME_KEY]
        self.prompt: Optional[str] = config[PROMPT_KEY]
        self.batch_size = int(config[BATCH_SIZE_KEY])
        self.token_layers = list(config[TOKEN_LAYERS_KEY])
        self._cache_dir = config[CACHE_DIR_KEY]
        self._use_cache = config[USE_CACHE_KEY]
        self.runtime = config[RUNTIME_KEY]
        self._cache: Optional[EmbeddingCache] = None
        sentence_encoder.load_encoder(self.model_name, self.runtime)  # fail at load time, not on the first message
        centres = sentence_encoder.word_centres(self.model_name) if config[CENTRE_WORDS_KEY] else None
        # What words of any language share, taken away so that the entity head cannot learn English from it.
        self.word_centre = centres[self.token_layers].reshape(-1) if centres is not None else None

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
        """Featurizes every training example that has text, encoding only unseen texts, and tells the components
        after it which encoder that was (`ENCODER_SPEC`): the zero-shot step encodes its descriptions with it."""
        messages = [m for m in training_data.training_examples if m.get(TEXT) is not None]
        self._featurize(messages, self._cached_encode)
        for message in messages:
            message.set(ENCODER_SPEC, self.encoder_spec())
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        """Featurizes incoming messages (no disk cache: user messages are not stored)."""
        self._featurize(messages, self._encode)
        return messages

    def encoder_spec(self) -> Dict[Text, Any]:
        return {MODEL_NAME_KEY: self.model_name, PROMPT_KEY: self.prompt, RUNTIME_KEY: self.runtime,
                ORIGIN_KEY: self._identifier}

    def _featurize(self, messages: List[Message], encoder) -> None:
        if not messages:
            return
        for message, encoded in zip(messages, encoder([m.get(TEXT) or "" for m in messages])):
            tokens = message.get(TOKENS_NAMES[TEXT]) or []
            sequence = self._word_vectors(encoded, tokens) if tokens else None
            self.add_features_to_message(sequence=sequence, sentence=encoded.sentence[np.newaxis, :],
                                         attribute=TEXT, message=message)

    def _word_vectors(self, encoded: EncodedText, tokens) -> np.ndarray:
        """(words, width): each word's centred states in `token_layers`, averaged over the layers."""
        vectors = encoded.word_vectors([(token.start, token.end) for token in tokens])
        if self.word_centre is not None:
            read = vectors.any(axis=1)  # words past the encoder's window stay zero: nothing was read
            vectors[read] -= self.word_centre
        return vectors.reshape(len(vectors), len(self.token_layers), -1).mean(axis=1)

    def _encode(self, texts: List[str]) -> List[EncodedText]:
        return encode_with_pieces(self.model_name, texts, self.prompt, self.runtime, self.token_layers, self.batch_size)

    def _cached_encode(self, texts: List[str]) -> List[EncodedText]:
        if not self._use_cache:
            return self._encode(texts)
        if self._cache is None:
            self._cache = EmbeddingCache(self.model_name, self.prompt, self._cache_dir, self.runtime)
        return encode_with_pieces_cached(self._cache, texts, self.token_layers, self.batch_size)
