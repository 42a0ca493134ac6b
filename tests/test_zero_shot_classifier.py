"""ZeroShotIntentClassifier: the mT5-XNLI mechanics on a tiny random model, the embedding backend for real."""
import numpy as np
import pytest
import torch
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from components.keras_intent_classifier import KerasIntentClassifier
from components.sentence_embedding_featurizer import SentenceEmbeddingFeaturizer
from components.zero_shot.backends import (ENTAILMENT_VS_CONTRADICTION, SOFTMAX_OVER_LABELS, EmbeddingBackend,
                                           MT5XNLIBackend, NLIModelUnavailable, load_nli_model)
from components.zero_shot_classifier import ZeroShotIntentClassifier
from tests.conftest import build_component, demo_training_data, load_component, messages

CANCEL = {"cancel_subscription": "the user wants to cancel their subscription or membership"}


@pytest.fixture(scope="module")
def tiny_nli_model(tmp_path_factory) -> str:
    """A randomly initialised MT5ForConditionalGeneration and a SentencePiece model with ▁0 ▁1 ▁2."""
    import json

    import sentencepiece as spm
    from transformers import AutoTokenizer, MT5Config, MT5ForConditionalGeneration

    folder = tmp_path_factory.mktemp("tiny-mt5-xnli")
    lines = [f"xnli: premise: {p} hypothesis: This example is {h}. {label}"
             for p in ("hello there", "where is my order", "merhaba") for h in ("greeting", "order") for label in "012"]
    (folder / "corpus.txt").write_text("\n".join(lines * 5), encoding="utf-8")
    spm.SentencePieceTrainer.train(input=str(folder / "corpus.txt"), model_prefix=str(folder / "spiece"),
                                   vocab_size=40, pad_id=0, eos_id=1, unk_id=2, bos_id=-1, minloglevel=2)
    (folder / "tokenizer_config.json").write_text(json.dumps(
        {"tokenizer_class": "T5Tokenizer", "extra_ids": 0, "eos_token": "</s>", "pad_token": "<pad>",
         "unk_token": "<unk>"}))
    tokenizer = AutoTokenizer.from_pretrained(str(folder))
    torch.manual_seed(0)
    config = MT5Config(vocab_size=40, d_model=16, d_ff=32, d_kv=8, num_layers=1, num_decoder_layers=1,
                       num_heads=2, decoder_start_token_id=0, pad_token_id=0, eos_token_id=1)
    MT5ForConditionalGeneration(config).save_pretrained(str(folder))
    tokenizer.save_pretrained(str(folder))
    return str(folder)


def nli_classifier(storage_dir, model: str, **config) -> ZeroShotIntentClassifier:
    return build_component(ZeroShotIntentClassifier, LocalModelStorage(storage_dir), "zero_shot",
                           backend="mt5-xnli", nli_model=model, labels=CANCEL, **config)


def unsure_message(text: str):
    """A message as the Keras head leaves it when unsure."""
    message, = messages(text)
    ranking = [{"name": "greet", "confidence": 0.3}, {"name": "track_order", "confidence": 0.25}]
    message.set("intent", ranking[0])
    message.set("intent_ranking", ranking)
    return message


def test_prompts_follow_the_xnli_format():
    assert MT5XNLIBackend.prompts("hi there", ["This example is greeting."]) == [
        "xnli: premise: hi there hypothesis: This example is greeting."]


def test_class_tokens_are_the_pieces_0_1_2(tiny_nli_model):
    import sentencepiece as spm

    pieces = spm.SentencePieceProcessor(model_file=f"{tiny_nli_model}/spiece.model")
    expected = [pieces.piece_to_id(p) for p in ("▁0", "▁1", "▁2")]
    assert MT5XNLIBackend(tiny_nli_model).class_token_ids() == expected
    assert pieces.unk_id() not in expected


def test_scores_match_a_hand_computation_on_the_same_logits(tiny_nli_model):
    tokenizer, model = load_nli_model(tiny_nli_model)
    hypotheses = ["This example is greeting.", "This example is order."]
    batch = tokenizer(MT5XNLIBackend.prompts("merhaba", hypotheses), return_tensors="pt", padding=True)
    start = torch.full((len(hypotheses), 1), model.config.decoder_start_token_id)
    with torch.inference_mode():
        logits = model(**batch, decoder_input_ids=start).logits[:, 0, :]
    ids = MT5XNLIBackend(tiny_nli_model).class_token_ids()
    by_hand = logits[:, ids].numpy()
    entail = np.exp(by_hand[:, 0]) / np.exp(by_hand[:, 0]).sum()
    versus = np.exp(by_hand[:, 0]) / (np.exp(by_hand[:, 0]) + np.exp(by_hand[:, 2]))
    for scoring, expected in ((SOFTMAX_OVER_LABELS, entail), (ENTAILMENT_VS_CONTRADICTION, versus)):
        probabilities, log_odds = MT5XNLIBackend(tiny_nli_model, scoring).probabilities_and_log_odds("merhaba", hypotheses)
        np.testing.assert_allclose(probabilities, expected, rtol=1e-4)
        np.testing.assert_allclose(log_odds, by_hand[:, 0] - by_hand[:, 2], rtol=1e-4)


def test_one_batched_generate_call_per_message(tiny_nli_model, tmp_path, monkeypatch):
    _, model = load_nli_model(tiny_nli_model)
    classifier = nli_classifier(tmp_path, tiny_nli_model, min_confidence=0.0, nli_background_size=20)
    classifier.train(demo_training_data())
    calls = []
    real_generate = model.generate

    def spy(*args, **kwargs):
        calls.append(kwargs["input_ids"].shape[0])
        return real_generate(*args, **kwargs)

    monkeypatch.setattr(model, "generate", spy)
    classifier.process([unsure_message("I want to cancel"), unsure_message("merhaba")])
    assert calls == [3, 3]  # one call per message: the zero-shot label and the head's two candidates


# First-step scores (entailment, neutral, contradiction) of the zero-shot label and the head's two candidates.
LABEL_ENTAILED = np.array([[4.0, 0.0, -2.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
HEAD_ENTAILED = np.array([[0.0, 0.0, 1.0], [3.0, 0.0, -1.0], [1.0, 0.0, 0.0]])


@pytest.mark.parametrize("scores, winner", [(LABEL_ENTAILED, "cancel_subscription"), (HEAD_ENTAILED, "greet")])
def test_the_entailed_candidate_wins_when_it_beats_the_null(tiny_nli_model, tmp_path, monkeypatch, scores, winner):
    classifier = nli_classifier(tmp_path, tiny_nli_model, background_texts=None)
    classifier.thresholds = {"cancel_subscription": 5.0}  # the label's log-odds here: 6 (above) or -1 (below)
    monkeypatch.setattr(classifier.nli, "first_step_scores", lambda premise, hypotheses: scores)
    message, = classifier.process([unsure_message("I want to cancel")])
    by_hand = np.exp(scores[:, 0]) / np.exp(scores[:, 0]).sum()  # softmax of entailment over the candidates
    if winner == "cancel_subscription":
        assert message.get("intent") == {"name": winner, "confidence": pytest.approx(by_hand[0])}
        assert message.get("intent_ranking")[0]["classifier"] == "ZeroShotIntentClassifier"
    else:
        assert message.get("intent")["name"] == "greet"  # the head's answer stands


def test_a_label_below_its_null_leaves_the_head_alone(tiny_nli_model, tmp_path, monkeypatch):
    classifier = nli_classifier(tmp_path, tiny_nli_model, background_texts=None)
    classifier.thresholds = {"cancel_subscription": 6.5}  # above the label's log-odds of 6
    monkeypatch.setattr(classifier.nli, "first_step_scores", lambda premise, hypotheses: LABEL_ENTAILED)
    message, = classifier.process([unsure_message("I want to cancel")])
    assert message.get("intent")["name"] == "greet"


def test_nli_null_is_a_quantile_of_background_log_odds_and_survives_persistence(tiny_nli_model, tmp_path):
    background = tmp_path / "background.txt"
    sentences = [f"sentence number {i} about the weather" for i in range(300)]
    background.write_text("\n".join(sentences), encoding="utf-8")
    classifier = nli_classifier(tmp_path, tiny_nli_model, background_texts=str(background),
                                nli_background_size=30, false_capture_rate=0.1)
    classifier.train(demo_training_data())
    hypothesis = classifier.labels["cancel_subscription"]["hypothesis"]
    log_odds = [classifier.nli.first_step_scores(s, [hypothesis])[0] for s in sentences[::10]]
    expected = np.quantile([row[0] - row[2] for row in log_odds], 0.9)  # one label: 1 - rate
    assert classifier.thresholds["cancel_subscription"] == pytest.approx(expected, rel=1e-5)
    loaded = load_component(ZeroShotIntentClassifier, LocalModelStorage(tmp_path), "zero_shot", backend="mt5-xnli",
                            nli_model=tiny_nli_model, labels=CANCEL)
    assert loaded.thresholds == pytest.approx(classifier.thresholds)
    assert not loaded._above_null("cancel_subscription", expected - 1e-3)
    assert loaded._above_null("cancel_subscription", expected + 1e-3)


def test_unloadable_nli_model_is_a_clear_training_error(tmp_path):
    classifier = nli_classifier(tmp_path, str(tmp_path / "no-such-model"))
    with pytest.raises(NLIModelUnavailable, match="backend: embedding"):
        classifier.train(demo_training_data())


def test_unloadable_nli_model_never_crashes_a_parse(tmp_path):
    classifier = nli_classifier(tmp_path, str(tmp_path / "no-such-model"))
    message, = classifier.process([unsure_message("cancel my plan")])
    assert message.get("intent")["name"] == "greet"


def test_temperature_follows_how_tight_the_intents_are():
    rng = np.random.default_rng(0)
    centres = np.eye(4, 16)

    def fitted_temperature(spread):
        points = np.repeat(centres, 10, axis=0) + spread * rng.normal(size=(40, 16))
        points /= np.linalg.norm(points, axis=1, keepdims=True)
        names = [str(i) for i in range(4)]
        backend = EmbeddingBackend()
        backend.fit(centres, points, [str(i) for i in range(4) for _ in range(10)], names)
        return backend.temperature

    assert 0 < fitted_temperature(0.05) < fitted_temperature(0.8)


def test_no_intent_with_enough_examples_still_gives_probabilities():
    backend = EmbeddingBackend()
    backend.fit(np.eye(2, 8), np.empty((0, 8)), [], ["zero_shot", "head_intent"])
    probabilities = backend.probabilities(np.eye(1, 8)[0], np.eye(2, 8), [0, 1])
    assert np.isfinite(probabilities).all() and probabilities.argmax() == 0


@pytest.fixture(scope="module")
def embedding_pipeline(tmp_path_factory, embedding_cache):
    """The real pipeline: featurizer, Keras head and zero-shot classifier with the embedding backend."""
    directory = tmp_path_factory.mktemp("zero-shot")
    storage = LocalModelStorage(directory)
    featurizer = build_component(SentenceEmbeddingFeaturizer, storage, "featurizer", prompt="query: ")
    head = build_component(KerasIntentClassifier, storage, "head")
    zero_shot = build_component(ZeroShotIntentClassifier, storage, "zero_shot", labels=CANCEL)
    data = featurizer.process_training_data(demo_training_data())
    head.train(data)
    zero_shot.train(data)
    return directory, featurizer, head, zero_shot


def classify(pipeline, *texts):
    _, featurizer, head, zero_shot = pipeline
    return zero_shot.process(head.process(featurizer.process(messages(*texts))))


@pytest.mark.parametrize("text", ["I want to cancel my subscription", "Aboneliğimi iptal etmek istiyorum",
                                  "Ich möchte mein Abonnement kündigen"])
def test_embedding_backend_finds_an_intent_without_examples(embedding_pipeline, text):
    message, = classify(embedding_pipeline, text)
    assert message.get("intent")["name"] == "cancel_subscription", message.get("intent_ranking")[:3]
    ranking = message.get("intent_ranking")
    assert ranking[0]["classifier"] == "ZeroShotIntentClassifier"
    assert {e["classifier"] for e in ranking[1:]} == {"KerasIntentClassifier"}


def test_confident_head_is_left_alone(embedding_pipeline):
    message, = classify(embedding_pipeline, "where is my order?")
    assert message.get("intent")["name"] == "track_order"
    assert all(e["classifier"] == "KerasIntentClassifier" for e in message.get("intent_ranking"))


def test_the_background_is_searched_only_when_a_label_contends(embedding_pipeline, monkeypatch):
    """The null score costs a pass over the background sample: messages no label comes near skip it."""
    zero_shot = embedding_pipeline[3]
    searched = []
    monkeypatch.setattr(zero_shot.null, "scores", lambda *args, real=zero_shot.null.scores: searched.append(1) or
                        real(*args))
    classify(embedding_pipeline, "where is my order?", "hello there")
    assert not searched
    message, = classify(embedding_pipeline, "I want to cancel my subscription")
    assert searched and message.get("intent")["name"] == "cancel_subscription"


def test_persist_and_load_give_the_same_decisions(embedding_pipeline):
    directory, featurizer, head, zero_shot = embedding_pipeline
    loaded = load_component(ZeroShotIntentClassifier, LocalModelStorage(directory), "zero_shot", labels=CANCEL)
    texts = ["I want to cancel my subscription", "hello", "Aboneliğimi iptal etmek istiyorum"]
    before = [m.get("intent") for m in classify(embedding_pipeline, *texts)]
    after = [m.get("intent") for m in loaded.process(head.process(featurizer.process(messages(*texts))))]
    assert [b["name"] for b in before] == [a["name"] for a in after]
    np.testing.assert_allclose([b["confidence"] for b in before], [a["confidence"] for a in after], rtol=1e-5)
    assert loaded.embedding.temperature == pytest.approx(zero_shot.embedding.temperature)
    assert loaded.bars == zero_shot.bars


def test_messages_are_held_to_the_bar_of_their_language(embedding_pipeline):
    """The background file has enough English and Turkish sentences for bars of their own; no Italian, and too few
    sentences that fastText calls Dutch (Afrikaans ones)."""
    zero_shot = embedding_pipeline[3]
    pooled, bars = zero_shot.thresholds["cancel_subscription"], zero_shot.bars["cancel_subscription"]
    assert {"en", "tr", "de", "ar", "zh", "ta"} <= set(bars) and not {"it", "nl"} & set(bars)
    assert bars["en"] > pooled  # English text sits closer to an English description than text in other languages
    between = (pooled + bars["en"]) / 2
    assert not zero_shot._above_null("cancel_subscription", between, "I would like to stop paying for this.")
    assert zero_shot._above_null("cancel_subscription", between, "Vorrei smettere di pagare per questo servizio.")
    assert not zero_shot._above_null("cancel_subscription", bars["tr"] - 0.01, "Aboneliğimi iptal etmek istiyorum.")
    assert zero_shot._above_null("cancel_subscription", bars["tr"] + 0.01, "Aboneliğimi iptal etmek istiyorum.")


def test_why_a_zero_shot_label_wins(tmp_path):
    component = build_component(ZeroShotIntentClassifier, LocalModelStorage(tmp_path), "rules", labels=CANCEL,
                                head_threshold=0.45, min_confidence=0.65, override_confidence=0.999)
    assert "head unsure" in component._why_accepted("cancel_subscription", 0.7, head_confidence=0.3)
    assert component._why_accepted("cancel_subscription", 0.6, head_confidence=0.3) is None
    assert component._why_accepted("cancel_subscription", 0.99, head_confidence=0.9) is None
    assert "override" in component._why_accepted("cancel_subscription", 0.9995, head_confidence=0.9)
    assert component._why_accepted("greet", 1.0, head_confidence=0.1) is None  # a head intent is not a zero-shot win
    without_override = build_component(ZeroShotIntentClassifier, LocalModelStorage(tmp_path), "rules", labels=CANCEL,
                                       head_threshold=0.45, min_confidence=0.65, override_confidence=None)
    assert without_override._why_accepted("cancel_subscription", 0.9999, head_confidence=0.9) is None
    assert component.rules.worth_scoring(0.9) and not without_override.rules.worth_scoring(0.9)


def test_without_override_a_confident_head_keeps_its_intent(embedding_pipeline):
    directory, featurizer, head, _ = embedding_pipeline
    strict = load_component(ZeroShotIntentClassifier, LocalModelStorage(directory), "zero_shot", labels=CANCEL,
                            override_confidence=None)
    message, = head.process(featurizer.process(messages("I want to cancel my subscription")))
    head_intent = message.get("intent")
    # The case the override is for: the head, trained on nine other intents, is sure of the wrong one.
    assert head_intent["name"] != "cancel_subscription"
    assert head_intent["confidence"] >= strict.component_config["head_threshold"]
    strict.process([message])
    assert message.get("intent")["name"] == head_intent["name"]


def test_a_label_never_wins_alone_when_no_head_intent_can_compete(tmp_path, embedding_cache):
    """Two examples per intent are too few for a centroid: a softmax over the zero-shot label alone is 1."""
    storage = LocalModelStorage(tmp_path)
    featurizer = build_component(SentenceEmbeddingFeaturizer, storage, "featurizer", prompt="query: ")
    head = build_component(KerasIntentClassifier, storage, "head", epochs=20)
    zero_shot = build_component(ZeroShotIntentClassifier, storage, "zero_shot", labels=CANCEL)
    examples = [("hello", "greet"), ("hi there", "greet"), ("where is my order", "track_order"),
                ("has my parcel shipped", "track_order")]
    data = featurizer.process_training_data(TrainingData([Message(data={"text": t, "intent": i}) for t, i in examples]))
    head.train(data)
    zero_shot.train(data)
    message, = zero_shot.process(head.process(featurizer.process(messages("I want to cancel my subscription"))))
    assert message.get("intent")["name"] in {"greet", "track_order"}


def test_the_background_is_encoded_once_per_encoder_at_setup(embedding_cache, encoded_texts):
    """`make setup` wrote the default background's vectors into the encoder's folder (training/encode_background.py):
    a training reads them instead of encoding 9,000 sentences; another background is encoded, and not mixed up."""
    from components.zero_shot import label_space
    from components.encoders.sentence_encoder import EMBEDDED_ENCODER
    from components.zero_shot.background_null import DEFAULT_BACKGROUND, HubnessCorrectedNull, read_background

    encoder = {"model_name": EMBEDDED_ENCODER, "prompt": "query: ", "runtime": "onnx-int8"}
    sentences = read_background(DEFAULT_BACKGROUND)
    read = lambda: [text for text in encoded_texts if not text.startswith("Fingerprint probe")]  # noqa: E731
    stored, nearest = label_space.encode_background(sentences, encoder)
    assert stored.shape == (len(sentences), 384) and read() == []
    other, none = label_space.encode_background(sentences[:20], {**encoder, "prompt": "passage: "})
    assert len(read()) == 20 and not np.allclose(other, stored[:20]) and none is None
    again, none = label_space.encode_background(sentences[:20], encoder)
    np.testing.assert_allclose(again, stored[:20], atol=1e-5)
    assert none is None  # the nearest cosines of 20 sentences are not those of the whole background
    # with each sentence's nearest cosines to the rest, exactly as a training would compute them
    null = HubnessCorrectedNull(stored, neighbours=10)
    np.testing.assert_array_equal(nearest, null.nearest(null.background, label_space.STORED_NEIGHBOURS,
                                                        leave_out_self=True))
