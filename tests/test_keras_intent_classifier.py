"""KerasIntentClassifier: the head trained on frozen sentence features."""
import numpy as np
import pytest
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.shared.nlu.training_data.training_data import TrainingData

from components.heads.dense_head import HeadFileError
from components.keras_intent_classifier import KerasIntentClassifier
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


def test_same_seed_same_model(tmp_path, training_data, featurizer):
    first = rankings(train_head(tmp_path / "a", training_data), featurizer)
    second = rankings(train_head(tmp_path / "b", training_data), featurizer)
    assert first == second


def synthetic(texts_and_intents, vectors):
    """Training messages whose sentence feature is given (the head sees nothing else)."""
    from rasa.shared.nlu.training_data.features import Features
    from rasa.shared.nlu.training_data.message import Message

    built = []
    for (text, intent), vector in zip(texts_and_intents, vectors):
        message = Message(data={"text": text, "intent": intent} if intent else {"text": text})
        message.add_features(Features(vector[np.newaxis, :].astype(np.float32), "sentence", "text", "body"))
        built.append(message)
    return built


def rare_intent_share(tmp_path, balance: bool, weights=None) -> float:
    """How often probes drawn around a rare intent's examples get it, with 45 common examples beside its 5."""
    rng = np.random.default_rng(0)
    common, rare = rng.normal(0, 1, (45, 8)), rng.normal(0.8, 1, (5, 8))
    examples = synthetic([("c", "common")] * 45 + [("r", "rare")] * 5, np.vstack([common, rare]))
    for message, weight in zip(examples, weights or []):
        message.set("sample_weight", weight)
    tmp_path.mkdir(parents=True, exist_ok=True)
    head = build_component(KerasIntentClassifier, LocalModelStorage(tmp_path), "head", epochs=60,
                           balance_classes=balance, hidden_units=0, dropout=0.0)
    head.train(TrainingData(examples))
    probes = head.process(synthetic([("p", None)] * 200, rng.normal(0.8, 1, (200, 8))))
    return float(np.mean([m.get("intent")["name"] == "rare" for m in probes]))


def test_a_rare_intent_is_found_more_often_when_classes_are_balanced(tmp_path):
    assert rare_intent_share(tmp_path / "balanced", True) > rare_intent_share(tmp_path / "plain", False) + 0.1


def test_balancing_counts_weights_not_messages(tmp_path):
    """Ten copies of each common example at a tenth of its weight leave the balance as it was."""
    weights = [1.0] * 50
    tenth = rare_intent_share(tmp_path / "weighted", True, [0.1] * 45 + [1.0] * 5)
    assert abs(tenth - rare_intent_share(tmp_path / "plain", True, weights)) <= 0.05


def test_unavailable_head_leaves_messages_unclassified(tmp_path, featurizer):
    storage = LocalModelStorage(tmp_path)
    head = build_component(KerasIntentClassifier, storage, "head")
    head.train(TrainingData())  # nothing to learn: nothing persisted
    loaded = load_component(KerasIntentClassifier, storage, "head")
    parsed, = loaded.process(featurizer.process(messages("hello")))
    assert parsed.get("intent") is None


def test_corrupt_head_says_to_retrain(tmp_path, training_data):
    train_head(tmp_path, training_data)
    next(tmp_path.glob("head/head-0.npz")).write_bytes(b"not a head")
    with pytest.raises(HeadFileError, match="make train"):
        load_component(KerasIntentClassifier, LocalModelStorage(tmp_path), "head")


def test_needs_sentence_features(tmp_path):
    head = build_component(KerasIntentClassifier, LocalModelStorage(tmp_path), "head")
    with pytest.raises(Exception, match="SentenceEmbeddingFeaturizer"):
        head.train(demo_training_data())


def reviewed(text: str, intent: str, language: str):
    """An example as `python -m training.inbox import` writes it: a user's message, its language in the metadata."""
    from rasa.shared.nlu.training_data.message import Message

    return Message(data={"text": text, "intent": intent, "metadata": {"example": {"language": language}}})


def test_a_reviewed_message_counts_less_than_an_authors_example_and_is_still_learned(tmp_path, featurizer,
                                                                                     monkeypatch):
    """One reviewed message counts `reviewed_example_weight` (0.1) of one of the author's examples, so that a
    handful of them do not pull the other messages of their language to their intents (docs/decisions/0073); it is
    learned all the same."""
    from components.heads.dense_head import DenseHead

    khmer = reviewed("ខ្ញុំចង់កក់តុមួយ", "book_table", "km")  # "I want to book a table"
    data = featurizer.process_training_data(TrainingData(demo_training_data().training_examples + [khmer]))
    seen = {}
    train = DenseHead.train

    def spy(features, targets, sizes, config, **kwargs):
        seen["weights"] = kwargs["sample_weight"]
        return train(features, targets, sizes, config, **kwargs)

    monkeypatch.setattr(DenseHead, "train", spy)
    head = train_head(tmp_path, data)
    texts = [m.get("text") for m in data.intent_examples]
    book_table = [i for i, m in enumerate(data.intent_examples) if m.get("intent") == "book_table"]
    weights = {texts[i]: seen["weights"][i] for i in book_table}
    authors = {weights[texts[i]] for i in book_table if texts[i] != khmer.get("text")}
    assert len(authors) == 1 and weights[khmer.get("text")] == pytest.approx(0.1 * authors.pop())
    parsed, = head.process(featurizer.process(messages(khmer.get("text"))))
    assert parsed.get("intent")["name"] == "book_table"


def test_a_reviewed_weight_of_zero_is_refused(tmp_path):
    from rasa.shared.exceptions import InvalidConfigException

    with pytest.raises(InvalidConfigException, match="reviewed_example_weight"):
        build_component(KerasIntentClassifier, LocalModelStorage(tmp_path), "head", reviewed_example_weight=0)
