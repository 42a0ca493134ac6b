"""KerasIntentClassifier: the head trained on frozen sentence features."""
import numpy as np
import pytest
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.shared.nlu.training_data.training_data import TrainingData

from components.keras_intent_classifier import KerasIntentClassifier, ModelFileError
from components.sentence_embedding_featurizer import SentenceEmbeddingFeaturizer
from tests.conftest import build_component, demo_training_data, load_component, messages

PROBES = ("where is my parcel?", "Şifremi unuttum", "ហាងបើកម៉ោងប៉ុន្មាន?", "hi!")


@pytest.fixture(scope="module")
def featurizer(tmp_path_factory):
    directory = tmp_path_factory.mktemp("featurizer")
    return build_component(SentenceEmbeddingFeaturizer, LocalModelStorage(directory), "featurizer",
                           prompt="query: ", cache_dir=str(directory / "cache"))


@pytest.fixture(scope="module")
def training_data(featurizer):
    return featurizer.process_training_data(demo_training_data())


def train_head(storage_dir, training_data, **config) -> KerasIntentClassifier:
    storage_dir.mkdir(exist_ok=True)
    head = build_component(KerasIntentClassifier, LocalModelStorage(storage_dir), "head", epochs=40, **config)
    head.train(training_data)
    return head


def rankings(head, featurizer, texts=PROBES):
    return [m.get("intent_ranking") for m in head.process(featurizer.process(messages(*texts)))]


def test_predicts_intents_with_a_ranking_like_rasas(tmp_path, training_data, featurizer):
    head = train_head(tmp_path, training_data, ranking_length=3)
    parsed, = head.process(featurizer.process(messages("where is my parcel?")))
    assert parsed.get("intent")["name"] == "track_order"
    ranking = parsed.get("intent_ranking")
    assert len(ranking) == 3 and ranking[0] == parsed.get("intent")
    assert [r["confidence"] for r in ranking] == sorted((r["confidence"] for r in ranking), reverse=True)


def test_persist_and_load_give_the_same_predictions(tmp_path, training_data, featurizer):
    trained = train_head(tmp_path, training_data)
    loaded = load_component(KerasIntentClassifier, LocalModelStorage(tmp_path), "head")
    assert loaded.labels == trained.labels
    for before, after in zip(rankings(trained, featurizer), rankings(loaded, featurizer)):
        assert [r["name"] for r in before] == [r["name"] for r in after]
        np.testing.assert_allclose([r["confidence"] for r in before], [r["confidence"] for r in after], atol=1e-6)


def test_numpy_inference_is_the_keras_model(tmp_path, training_data, featurizer):
    head, = train_head(tmp_path, training_data).heads
    features = head.features(featurizer.process(messages(*PROBES)))
    np.testing.assert_allclose(head.probabilities(features), head.model(features, training=False).numpy(), atol=1e-5)


def test_same_seed_same_model(tmp_path, training_data, featurizer):
    first = rankings(train_head(tmp_path / "a", training_data), featurizer)
    second = rankings(train_head(tmp_path / "b", training_data), featurizer)
    assert first == second


def test_rare_intents_are_weighted_up(tmp_path, training_data):
    head = build_component(KerasIntentClassifier, LocalModelStorage(tmp_path), "head")
    head.labels = ["common", "rare"]
    weights = head._class_weights(np.array([0] * 9 + [1]), np.ones(10))
    assert weights[1] == pytest.approx(9 * weights[0])


def test_class_balance_counts_weights_not_messages(tmp_path):
    """Ten augmented copies at 0.1 each weigh as much as one example: the intent is not made rarer or commoner."""
    head = build_component(KerasIntentClassifier, LocalModelStorage(tmp_path), "head")
    head.labels = ["with_copies", "plain"]
    targets = np.array([0] + [0] * 10 + [1])
    weights = np.array([1.0] + [0.1] * 10 + [2.0])
    balance = head._class_weights(targets, weights)
    assert (weights * balance[targets])[targets == 0].sum() == pytest.approx((weights * balance[targets])[targets == 1].sum())


def test_unavailable_head_leaves_messages_unclassified(tmp_path, featurizer):
    storage = LocalModelStorage(tmp_path)
    head = build_component(KerasIntentClassifier, storage, "head")
    head.train(TrainingData())  # nothing to learn: nothing persisted
    loaded = load_component(KerasIntentClassifier, storage, "head")
    parsed, = loaded.process(featurizer.process(messages("hello")))
    assert parsed.get("intent") is None


def test_corrupt_head_says_to_retrain(tmp_path, training_data):
    train_head(tmp_path, training_data)
    next(tmp_path.glob("head/head-0.keras")).write_bytes(b"not a keras file")
    with pytest.raises(ModelFileError, match="make train"):
        load_component(KerasIntentClassifier, LocalModelStorage(tmp_path), "head")


def test_needs_sentence_features(tmp_path):
    head = build_component(KerasIntentClassifier, LocalModelStorage(tmp_path), "head")
    with pytest.raises(Exception, match="SentenceEmbeddingFeaturizer"):
        head.train(demo_training_data())
