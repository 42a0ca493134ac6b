"""Where the embedding backend compares messages with zero-shot labels: the featurizer's encoder, through its last
layer's part only when it pools several (on the dev set that found more unseen intents at the same cost than the
head's full features, docs/decisions/0040-descriptions-on-last-layer-only.md).

`encoder` is the featurizer's {model_name, prompt, runtime, origin}, which the classifier learns at training.
"""
import hashlib
from pathlib import Path
from typing import List, Optional, Tuple

import numpy as np
from rasa.shared.exceptions import InvalidConfigException
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message

from components.encoders import sentence_encoder
from components.encoders.embedding_cache import EmbeddingCache
from components.keys import ENCODER_SPEC, MODEL_NAME_KEY, ORIGIN_KEY, PROMPT_KEY, RUNTIME_KEY
from components.zero_shot.backends import normalise
from components.zero_shot.background_null import HubnessCorrectedNull

# The background's vectors for one encoder and one background text, in the encoder's folder (`make setup`).
BACKGROUND_FILE = "zero_shot_background.npz"
# How many of each background sentence's nearest cosines `make setup` stores: the zero-shot step's `neighbours`
# (10 by default) up to this many need no comparison of the background with itself at training.
STORED_NEIGHBOURS = 50


def featurizers_encoder(examples: List[Message], component: str) -> dict:
    """The encoder the featurizer used for the training examples: descriptions and background go through it."""
    encoder = examples[0].get(ENCODER_SPEC)
    if not encoder:
        raise InvalidConfigException(
            f"{component} encodes its descriptions with the pipeline's encoder: put "
            "components.sentence_embedding_featurizer.SentenceEmbeddingFeaturizer before it in config.yml.")
    return encoder


def sentence_vector(message: Message, encoder: dict) -> Optional[np.ndarray]:
    """The message's sentence vector from that encoder's featurizer, other bodies' features left out (a model
    trained before `origin` was recorded had one body)."""
    origin = encoder.get(ORIGIN_KEY)
    _, sentence = message.get_dense_features(TEXT, [origin] if origin else None)
    return None if sentence is None else sentence.features.reshape(-1)


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


def encode_background(sentences: List[str], encoder: dict) -> Tuple[np.ndarray, Optional[np.ndarray]]:
    """The background's vectors and each sentence's highest cosines with the rest of it (`HubnessCorrectedNull.nearest`,
    STORED_NEIGHBOURS wide): those `make setup` wrote into the encoder's folder for these sentences
    (training/encode_background.py), else the vectors encoded now, through the embedding cache, and no cosines."""
    folder = sentence_encoder.local_folder(encoder[MODEL_NAME_KEY])
    if folder and (folder / BACKGROUND_FILE).exists():
        with np.load(folder / BACKGROUND_FILE) as stored:
            if str(stored["key"]) == background_key(sentences, encoder):
                return stored["vectors"], stored["nearest"] if "nearest" in stored.files else None
    cache = EmbeddingCache(encoder[MODEL_NAME_KEY], encoder[PROMPT_KEY], runtime=encoder[RUNTIME_KEY])
    return project(cache.encode(sentences, batch_size=64), encoder), None


def store_background(sentences: List[str], encoder: dict) -> Path:
    """Encodes the background once for the encoder, into its folder, with each sentence's nearest cosines to the
    rest of it: no training has to compute them again."""
    vectors = sentence_encoder.encode(encoder[MODEL_NAME_KEY], sentences, encoder[PROMPT_KEY], batch_size=64,
                                      show_progress=True, runtime=encoder[RUNTIME_KEY])
    vectors = project(vectors, encoder)
    null = HubnessCorrectedNull(vectors, neighbours=STORED_NEIGHBOURS)
    nearest = null.nearest(null.background, STORED_NEIGHBOURS, leave_out_self=True)
    path = sentence_encoder.local_folder(encoder[MODEL_NAME_KEY]) / BACKGROUND_FILE
    np.savez(path, key=background_key(sentences, encoder), vectors=vectors, nearest=nearest)
    return path


def background_key(sentences: List[str], encoder: dict) -> str:
    """What the stored vectors were made from: the encoder's output (its fingerprint) and the sentences."""
    digest = hashlib.sha256(sentence_encoder.fingerprint(encoder[MODEL_NAME_KEY], encoder[PROMPT_KEY],
                                                         encoder[RUNTIME_KEY]).encode())
    digest.update("\n".join(sentences).encode("utf-8", "surrogatepass"))
    return digest.hexdigest()[:20]
