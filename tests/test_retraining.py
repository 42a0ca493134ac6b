"""Retraining after a bot author adds an English intent: only the new examples are encoded."""
import shutil

import yaml
from rasa.core.agent import Agent

from components.zero_shot_classifier import ZeroShotIntentClassifier
from components.zero_shot_labels import label_spec
from tests.conftest import parse, train_bot
from operations.bot_copies import NEW_EXAMPLES, NEW_INTENT, add_intent


def test_new_intent_is_learned_and_only_new_examples_are_encoded(bot_project, trained_model,
                                                                 tmp_path, encoded_texts):
    project = tmp_path / "bot"
    shutil.copytree(bot_project, project)
    add_intent(project)

    model = train_bot(project, tmp_path / "models")  # same embedding cache as `trained_model`

    descriptions = zero_shot_label_texts(project / "config.yml")  # a handful, encoded at every training
    assert sorted(t for t in encoded_texts if t not in descriptions) == sorted(NEW_EXAMPLES)
    agent = Agent.load(str(model))
    assert parse(agent, "how much is it?")["intent"]["name"] == NEW_INTENT
    assert parse(agent, "where is my order?")["intent"]["name"] == "track_order"


def zero_shot_label_texts(config_file) -> set:
    pipeline = yaml.safe_load(config_file.read_text(encoding="utf-8"))["pipeline"]
    texts = set()
    for component in pipeline:
        if component["name"].endswith(ZeroShotIntentClassifier.__name__):
            template = component.get("hypothesis_template", "This example is {}.")
            for spec in component.get("labels", {}).values():
                spec = label_spec(spec, template)
                texts |= {spec["description"], spec["hypothesis"], *spec["examples"]}
    return texts
