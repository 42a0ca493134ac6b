"""The checks every graph component of config.yml passes, as rasa-nlu-examples runs one suite on every featurizer:
created as Rasa's graph creates it, trained (or fed the training data) on a tiny set in the pipeline's order,
persisted, loaded back; then an empty message, a 4,096-character one and one in a script no example was written in
are processed by the components up to it, and what the loaded components give equals what the trained ones gave."""
import importlib

import numpy as np
import pytest
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.shared.nlu.training_data.training_data import TrainingData

from tests.conftest import build_component, demo_training_data, load_component, messages
from training.project import CONFIG, ROOT, pipeline

# Ours, in config.yml's order (Rasa's FallbackClassifier is Rasa's to test), with their options.
STEPS = [(step["name"], {k: v for k, v in step.items() if k != "name"}) for step in pipeline(CONFIG)
         if step["name"].startswith("components.")]
INTENTS = {"greet", "book_table", "track_order", "opening_hours"}  # entities among them: party_size, time, order_number
HARD_MESSAGES = {
    "empty": "",
    "4,096 characters": ("Where is my order A12345? Book a table for 4 tomorrow at 7pm. " * 70)[:4096],
    "a script never seen": "᚛ᚁᚂᚃᚄ ᚅᚆᚇᚈ᚜ ⰀⰁⰂ ⰃⰄⰅ",  # Ogham and Glagolitic
}


def component_class(name: str):
    module, _, cls = name.rpartition(".")
    return getattr(importlib.import_module(module), cls)


@pytest.fixture(scope="module")
def pipelines(tmp_path_factory):
    """The trained components, and the same loaded back from what they persisted."""
    storage = LocalModelStorage(tmp_path_factory.mktemp("components"))
    data = TrainingData([m for m in demo_training_data().training_examples if m.get("intent") in INTENTS])
    trained = []
    for index, (name, options) in enumerate(STEPS):
        component = build_component(component_class(name), storage, f"step{index}", **options)
        if hasattr(component, "process_training_data"):
            data = component.process_training_data(data)
        if hasattr(component, "train"):
            component.train(data)
        trained.append(component)
    loaded = [load_component(component_class(name), storage, f"step{index}", **options)
              for index, (name, options) in enumerate(STEPS)]
    return trained, loaded


def outcome(components, text: str) -> dict:
    """What the components make of one message: its data, tokens as spans, features as arrays."""
    message, = messages(text)
    for component in components:
        message, = component.process([message])
    data = {key: value for key, value in message.data.items() if not key.endswith("tokens")}
    data["tokens"] = [(t.text, t.start, t.end) for t in message.get("text_tokens") or []]
    data["features"] = [(f.type, f.origin, np.round(np.asarray(f.features), 5).tolist()) for f in message.features]
    return data


@pytest.mark.parametrize("index", range(len(STEPS)), ids=[name.rpartition(".")[2] for name, _ in STEPS])
@pytest.mark.parametrize("kind", HARD_MESSAGES)
def test_a_loaded_component_does_what_the_trained_one_did(pipelines, index, kind):
    trained, loaded = pipelines
    before = outcome(trained[: index + 1], HARD_MESSAGES[kind])
    after = outcome(loaded[: index + 1], HARD_MESSAGES[kind])
    assert before == after


def test_the_suite_covers_every_graph_component_of_config_yml():
    """Each module of components/ that registers a graph component is in config.yml, or said to be optional."""
    optional = {"components.code_switching_augmenter.CodeSwitchingAugmenter"}  # decision 0025: off by default
    modules = {f"components.{path.stem}" for path in (ROOT / "components").glob("*.py")
               if "@DefaultV1Recipe.register" in path.read_text(encoding="utf-8")}
    named = {name.rpartition(".")[0] for name, _ in STEPS} | {name.rpartition(".")[0] for name in optional}
    assert modules == named
