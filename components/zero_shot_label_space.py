"""Where the embedding backend compares messages with zero-shot labels: the featurizer's encoder, through its last
layer's part only when it pools several (on the dev set that found more unseen intents at the same cost than the
head's full features, docs/decisions/0040-descriptions-on-last-layer-only.md).

`encoder` is the featurizer's {model_name, prompt, runtime}, which the classifier learns at training.
"""
from typing import List

import numpy as np
from rasa.shared.exceptions import InvalidConfigException
from rasa.shared.nlu.training_data.message import Message

from components import sentence_encoder
from components.embedding_cache import EmbeddingCache
from components.sentence_embedding_featurizer import ENCODER_SPEC, MODEL_NAME_KEY, PROMPT_KEY, RUNTIME_KEY
from components.zero_shot_backends import normalise


def featurizers_encoder(examples: List[Message], component: str) -> dict:
    """The encoder the featurizer used for the training examples: descriptions and background go through it."""
    encoder = examples[0].get(ENCODER_SPEC)
    if not encoder:
        raise InvalidConfigException(
            f"{component} encodes its descriptions with the pipeline's encoder: put "
            "components.sentence_embedding_featurizer.SentenceEmbeddingFeaturizer before it in config.yml.")
    return encoder


def project(vectors: np.ndarray, encoder: dict) -> np.ndarray:
    """Sentence vectors of that encoder, cut to its last layer's part and scaled to unit length."""
    part = sentence_encoder.last_layer_part(encoder[MODEL_NAME_KEY], encoder[RUNTIME_KEY])
    return normalise(vectors[..., part])


def describe(spec: dict, encoder: dict) -> np.ndarray:
    """A label's vector: the mean of its description, its hypothesis and its examples."""
    texts = [spec["description"], spec["hypothesis"]] + list(spec["examples"])
    encoded = sentence_encoder.encode(encoder[MODEL_NAME_KEY], texts, encoder[PROMPT_KEY], batch_size=32,
                                      runtime=encoder[RUNTIME_KEY])
    return project(encoded, encoder).mean(axis=0)


def encode_background(sentences: List[str], encoder: dict) -> np.ndarray:
    """The background's vectors, through the embedding cache (the same file is encoded at every training)."""
    cache = EmbeddingCache(encoder[MODEL_NAME_KEY], encoder[PROMPT_KEY], runtime=encoder[RUNTIME_KEY])
    return project(cache.encode(sentences, batch_size=64), encoder)
