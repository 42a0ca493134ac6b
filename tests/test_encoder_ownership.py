"""One place names the encoder: the featurizer. The zero-shot step encodes its descriptions with whatever encoder
the featurizer has (here a tiny random model 32 wide, not e5's 384 x 5), and refuses to name one of its own."""
import pytest
import torch
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.shared.exceptions import InvalidConfigException

from components.entity_extractor import KerasEntityExtractor
from components.keras_intent_classifier import KerasIntentClassifier
from components.sentence_embedding_featurizer import SentenceEmbeddingFeaturizer
from components.word_tokenizer import WordTokenizer
from components.zero_shot_classifier import ZeroShotIntentClassifier
from tests.conftest import build_component, demo_training_data, load_component, messages

CANCEL = {"cancel_subscription": "the user wants to cancel their subscription or membership"}
WIDTH = 32


@pytest.fixture(scope="module")
def tiny_encoder(tmp_path_factory) -> str:
    """A sentence-transformers folder: a random two-layer BERT of width 32 with a WordPiece vocabulary, mean pooling."""
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Pooling, Transformer
    from transformers import BertConfig, BertModel, BertTokenizerFast

    folder = tmp_path_factory.mktemp("tiny-encoder")
    words = "book table order where is my cancel subscription hello hi thanks password open hours people".split()
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + list("abcdefghijklmnopqrstuvwxyz0123456789") + words
    (folder / "vocab.txt").write_text("\n".join(vocab), encoding="utf-8")
    torch.manual_seed(0)
    BertModel(BertConfig(vocab_size=len(vocab), hidden_size=WIDTH, num_hidden_layers=2, num_attention_heads=2,
                         intermediate_size=64)).save_pretrained(folder / "bert")
    BertTokenizerFast(vocab_file=str(folder / "vocab.txt")).save_pretrained(folder / "bert")
    SentenceTransformer(modules=[Transformer(str(folder / "bert")), Pooling(WIDTH)]).save(str(folder / "model"))
    return str(folder / "model")


def test_the_zero_shot_step_follows_the_featurizers_encoder(tiny_encoder, tmp_path):
    storage = LocalModelStorage(tmp_path)
    tokenizer = WordTokenizer(WordTokenizer.get_default_config())
    featurizer = build_component(SentenceEmbeddingFeaturizer, storage, "featurizer", model_name=tiny_encoder,
                                 prompt="", runtime="torch", use_cache=False)
    head = build_component(KerasIntentClassifier, storage, "head", epochs=5)
    entities = build_component(KerasEntityExtractor, storage, "entities", epochs=2)
    zero_shot = build_component(ZeroShotIntentClassifier, storage, "zero_shot", labels=CANCEL, background_texts=None)
    data = featurizer.process_training_data(tokenizer.process_training_data(demo_training_data()))
    head.train(data)
    entities.train(data)
    zero_shot.train(data)
    assert zero_shot.vectors.shape[1] == WIDTH
    assert zero_shot.encoder == {"model_name": tiny_encoder, "prompt": "", "runtime": "torch", "origin": "featurizer"}
    loaded = load_component(ZeroShotIntentClassifier, storage, "zero_shot", labels=CANCEL, background_texts=None)
    message, = loaded.process(entities.process(head.process(featurizer.process(tokenizer.process(
        messages("cancel my subscription"))))))
    assert message.get("intent")["name"] and message.get_dense_features("text")[0].features.shape[1] == WIDTH


def test_a_zero_shot_step_that_names_an_encoder_is_refused(tmp_path):
    with pytest.raises(InvalidConfigException, match="follows the SentenceEmbeddingFeaturizer"):
        build_component(ZeroShotIntentClassifier, LocalModelStorage(tmp_path), "zero_shot", labels=CANCEL,
                        model_name="encoders/multilingual-e5-small")


def test_without_a_featurizer_training_stops_with_a_clear_message(tmp_path):
    zero_shot = build_component(ZeroShotIntentClassifier, LocalModelStorage(tmp_path), "zero_shot", labels=CANCEL)
    data = demo_training_data()
    for message in data.intent_examples:  # dense features from somewhere else than our featurizer
        import numpy as np
        from rasa.shared.nlu.training_data.features import Features

        message.add_features(Features(np.ones((1, 8)), "sentence", "text", "other_featurizer"))
    with pytest.raises(InvalidConfigException, match="put components.sentence_embedding_featurizer"):
        zero_shot.train(data)
