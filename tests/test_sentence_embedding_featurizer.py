"""SentenceEmbeddingFeaturizer: sentence features from the frozen encoder, cached on disk for training."""
import numpy as np
import pytest
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.shared.nlu.training_data.training_data import TrainingData

from components.encoders.sentence_encoder import EncoderNotFound
from components.sentence_embedding_featurizer import SentenceEmbeddingFeaturizer
from tests.conftest import build_component, demo_training_data, messages


@pytest.fixture()
def featurizer(tmp_path):
    return build_component(SentenceEmbeddingFeaturizer, LocalModelStorage(tmp_path), "featurizer",
                           prompt="query: ", cache_dir=str(tmp_path / "cache"))


def sentence_vector(message) -> np.ndarray:
    sequence, sentence = message.get_dense_features("text")
    assert sequence is None
    return sentence.features


def test_adds_one_normalised_sentence_vector(featurizer):
    message, = featurizer.process(messages("Wo ist meine Bestellung?"))
    vector = sentence_vector(message)
    assert vector.shape == (1, 5 * 384)  # the last five layers of multilingual-e5-small
    assert np.linalg.norm(vector) == pytest.approx(1.0, abs=1e-4)


def test_translations_land_closer_than_unrelated_sentences(featurizer):
    english, turkish, khmer, unrelated = (sentence_vector(m)[0] for m in featurizer.process(
        messages("What time do you open?", "Saat kaçta açıyorsunuz?", "តើហាងបើកម៉ោងប៉ុន្មាន?",
                 "I forgot my password")))
    assert english @ turkish > english @ unrelated
    assert english @ khmer > english @ unrelated


def test_empty_and_huge_messages_still_get_features(featurizer):
    for message in featurizer.process(messages("", "a" * 5000, "🙂")):
        assert np.isfinite(sentence_vector(message)).all()


def test_a_long_message_is_read_up_to_the_token_window(featurizer):
    """Words past the window change nothing: a message costs at most MAX_TOKENS tokens of encoding."""
    from components.encoders.sentence_encoder import MAX_CHARACTERS, MAX_TOKENS

    long = " ".join(["where is my order"] * (MAX_TOKENS // 2))  # about 2 x MAX_TOKENS tokens, under 512
    cut, longer, emoji = featurizer.process(messages(long, long + " and I want a refund", "🙂" * 10_000))
    assert np.allclose(sentence_vector(cut), sentence_vector(longer), atol=1e-6)
    assert MAX_TOKENS < MAX_CHARACTERS < 10_000 and np.isfinite(sentence_vector(emoji)).all()


def test_retraining_encodes_only_new_examples(featurizer, encoded_texts):
    data = demo_training_data()
    featurizer.process_training_data(data)
    first_pass = len(encoded_texts)
    assert first_pass >= len(data.intent_examples)

    encoded_texts.clear()
    grown = data.merge(TrainingData(messages("how much does shipping cost?")))
    featurizer.process_training_data(grown)
    assert encoded_texts == ["how much does shipping cost?"]
    assert all(m.get_dense_features("text")[1] is not None for m in grown.training_examples if m.get("text"))


def test_cached_and_fresh_features_agree(featurizer):
    data = demo_training_data()
    featurizer.process_training_data(data)
    first = data.intent_examples[0]
    again = featurizer.process_training_data(demo_training_data()).intent_examples[0]
    fresh, = featurizer.process(messages(first.get("text")))
    np.testing.assert_allclose(sentence_vector(again), sentence_vector(fresh), atol=1e-5)


def test_each_word_gets_a_vector_from_the_same_forward_pass(featurizer, monkeypatch):
    from components.encoders import sentence_encoder
    from components.word_tokenizer import WordTokenizer

    encoder = sentence_encoder.load_encoder(featurizer.model_name, featurizer.runtime)
    passes = []
    real_forward = encoder.forward
    monkeypatch.setattr(encoder, "forward", lambda *args, **kwargs: passes.append(1) or real_forward(*args, **kwargs))
    message, = WordTokenizer(WordTokenizer.get_default_config()).process(messages("ហាងបើកម៉ោងប៉ុន្មាន?"))
    featurizer.process([message])
    sequence, sentence = message.get_dense_features("text")
    assert passes == [1]  # one run of the encoder for the sentence and its words
    assert sequence.features.shape == (len(message.get("text_tokens")), 384) and len(message.get("text_tokens")) == 4
    np.testing.assert_allclose(sentence.features[0], sentence_encoder.encode(
        featurizer.model_name, [message.get("text")], "query: ", 1, runtime=featurizer.runtime)[0], atol=1e-6)
    uncentred = sequence.features + featurizer.word_centre  # the encoder folder's mean word vector, taken away
    assert np.allclose(np.linalg.norm(uncentred, axis=1), 1.0, atol=1e-3)  # each word: its one piece, unit length


def test_a_word_vector_from_several_layers_is_their_mean(tmp_path):
    """`token_layers: [7, 8, 9]`: each word's centred states in the three layers, averaged (the encoder's width)."""
    from components.word_tokenizer import WordTokenizer

    def word_vectors(layers):
        featurizer = build_component(SentenceEmbeddingFeaturizer, LocalModelStorage(tmp_path), "featurizer",
                                     prompt="query: ", token_layers=layers)
        message, = WordTokenizer(WordTokenizer.get_default_config()).process(messages("Siparişim nerede?"))
        return featurizer.process([message])[0].get_dense_features("text")[0].features

    averaged = word_vectors([7, 8, 9])
    assert averaged.shape == (2, 384)
    np.testing.assert_allclose(averaged, np.mean([word_vectors([layer]) for layer in (7, 8, 9)], axis=0), atol=1e-5)


def test_a_zalgo_word_keeps_its_place(featurizer):
    from components.word_tokenizer import WordTokenizer
    from operations.hostile import zalgo

    message, = WordTokenizer(WordTokenizer.get_default_config()).process(messages(zalgo("hello") + " there"))
    featurizer.process([message])
    vectors = message.get_dense_features("text")[0].features
    plain, = WordTokenizer(WordTokenizer.get_default_config()).process(messages("hello there"))
    featurizer.process([plain])
    other = plain.get_dense_features("text")[0].features
    similarity = (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)) @ (
        other / np.linalg.norm(other, axis=1, keepdims=True)).T
    assert list(similarity.argmax(axis=1)) == [0, 1] and similarity.diagonal().min() > 0.9


def test_missing_encoder_says_what_to_do(tmp_path):
    with pytest.raises(EncoderNotFound, match="no-such-model"):
        build_component(SentenceEmbeddingFeaturizer, LocalModelStorage(tmp_path), "featurizer",
                        model_name=str(tmp_path / "no-such-model"))
