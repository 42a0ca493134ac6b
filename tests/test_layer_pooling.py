"""Pooling over the encoder's last layers (components/encoders/layer_pooling.py), on the embedded encoder."""
import numpy as np
import pytest
import torch
from sentence_transformers import SentenceTransformer
from sentence_transformers.models import Normalize, Pooling

from components.encoders import sentence_encoder
from components.encoders.layer_pooling import MultiLayerMeanPooling

SENTENCES = ["Bugün yağmur yağacak mı?", "Set an alarm for 7 am", "明天天气怎么样"]


@pytest.fixture(scope="module")
def transformer():
    """The embedded encoder's transformer, which returns all its hidden states."""
    return sentence_encoder.load_encoder(sentence_encoder.EMBEDDED_ENCODER)[0]


def encode(modules, texts=SENTENCES) -> np.ndarray:
    return SentenceTransformer(modules=modules, device="cpu").encode(texts, prompt="query: ")


def test_one_layer_is_plain_mean_pooling(transformer):
    ours = encode([transformer, MultiLayerMeanPooling(384, layers=1)])
    plain = encode([transformer, Pooling(384, pooling_mode="mean"), Normalize()])
    assert np.allclose(ours, plain, atol=1e-5)


def test_each_layer_is_a_unit_length_block_of_the_output(transformer):
    pooled = encode([transformer, MultiLayerMeanPooling(384, layers=5)])
    assert pooled.shape == (len(SENTENCES), 5 * 384)
    blocks = pooled.reshape(len(SENTENCES), 5, 384)
    assert np.allclose(np.linalg.norm(blocks, axis=2), 1.0, atol=1e-5)
    assert np.allclose(blocks[:, -1], encode([transformer, MultiLayerMeanPooling(384, layers=1)]), atol=1e-5)
    assert not np.allclose(blocks[:, 0], blocks[:, -1], atol=1e-2)  # lower layers do add something


def test_without_hidden_states_the_error_says_what_to_set():
    features = {"token_embeddings": torch.ones(1, 2, 4), "attention_mask": torch.ones(1, 2)}
    with pytest.raises(ValueError, match="output_hidden_states"):
        MultiLayerMeanPooling(4, layers=2)(features)
    with pytest.raises(ValueError, match="at least 1"):
        MultiLayerMeanPooling(4, layers=0)
