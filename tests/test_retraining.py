"""Retraining after a bot author adds an English intent: only the new examples are encoded."""
import shutil

from rasa.core.agent import Agent

from components.zero_shot.labels import label_spec
from components.zero_shot_classifier import HYPOTHESIS_TEMPLATE_KEY, LABELS_KEY, ZeroShotIntentClassifier
from operations.bot_copies import NEW_EXAMPLES, NEW_INTENT, add_intent
from tests.conftest import parse, train_bot
from training.project import component_options


def test_new_intent_is_learned_and_only_new_examples_are_encoded(bot_project, tmp_path, encoded_texts):
    project = tmp_path / "bot"
    shutil.copytree(bot_project, project)
    train_bot(project, tmp_path / "before")  # the bot as it was: its examples are in the embedding cache now
    add_intent(project)
    encoded_texts.clear()

    model = train_bot(project, tmp_path / "after")

    descriptions = zero_shot_label_texts(project / "config.yml")  # a handful, encoded at every training
    assert sorted(t for t in encoded_texts if t not in descriptions) == sorted(NEW_EXAMPLES)
    agent = Agent.load(str(model))
    assert parse(agent, "how much is it?")["intent"]["name"] == NEW_INTENT
    assert parse(agent, "where is my order?")["intent"]["name"] == "track_order"


def zero_shot_label_texts(config_file) -> set:
    options = {**ZeroShotIntentClassifier.get_default_config(),
               **(component_options(config_file, ZeroShotIntentClassifier.__name__) or {})}
    texts = set()
    for spec in options[LABELS_KEY].values():
        spec = label_spec(spec, options[HYPOTHESIS_TEMPLATE_KEY])
        texts |= {spec["description"], spec["hypothesis"], *spec["examples"]}
    return texts
