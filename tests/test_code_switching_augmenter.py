"""Code-switched training copies from Debian's FreeDict dictionaries (eng-tur is installed by `make test`)."""
import numpy as np
import pytest
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.shared.exceptions import InvalidConfigException

from components.code_switching_augmenter import CodeSwitchingAugmenter, code_switch
from components.keys import SAMPLE_WEIGHT_KEY
from components.languages.bilingual_dictionary import package_name, translations, translations_in_entry
from tests.conftest import build_component, demo_training_data
from training import dictionaries
from training.project import ROOT

# Entries as FreeDict's dictionaries write them: numbered senses, tags, notes, examples, pronunciations.
ENTRIES = {
    "help /hˈɛlp/\n1. aiutare, assistere\n2. aiuto, assistenza\n": ["aiutare", "assistere"],
    "water /wˈɔːtə/ <n>\nvand\n": ["vand"],
    'help //hɛlp// <n>\n1. bantuan, pertolongan\naction given to provide assistance\n': ["bantuan", "pertolongan"],
    "Help <n>\n [it] Nápověda\n": ["Nápověda"],
    "rain\nhujan 2\n": ["hujan"],
    'cancel /kˈansəl/ <v>\nkündigen <v, trans> [Mitgliedschaft]\n see: {cancelling}\n': ["kündigen"],
    "alarm /ɐlˈɑːm/\n         Note: only a note\n": [],
}


@pytest.mark.parametrize("entry", ENTRIES)
def test_translations_are_read_from_the_first_line_of_an_entry(entry):
    assert translations_in_entry(entry) == ENTRIES[entry]


def test_the_installed_turkish_dictionary_translates_everyday_words():
    found = translations("tur", ["water", "weather", "help", "qwertyuiop"])
    assert "su" in found["water"] and "hava" in found["weather"]
    assert "qwertyuiop" not in found


def test_code_switching_replaces_known_words_at_the_given_rate():
    table = {"where": ["nerede"], "is": ["dır"], "order": ["sipariş"]}
    rng = np.random.default_rng(0)
    assert code_switch("Where is my order?", table, 1.0, rng) == "nerede dır my sipariş?"
    assert code_switch("Where is my order?", table, 0.0, rng) == "Where is my order?"
    switched = [code_switch("where where where where", {"where": ["x"]}, 0.5, rng).split().count("x")
                for _ in range(400)]
    assert np.mean(switched) == pytest.approx(2.0, abs=0.2)


def augmenter(tmp_path, **config):
    return build_component(CodeSwitchingAugmenter, LocalModelStorage(tmp_path), "augmenter", **config)


def test_copies_carry_the_intent_and_share_the_weight(tmp_path):
    data = demo_training_data()
    augmented = augmenter(tmp_path, dictionaries=["tur"], copies=4, copies_weight=0.5).process_training_data(data)
    originals = {m.get("text"): m.get("intent") for m in data.intent_examples}
    copies = [m for m in augmented.intent_examples if m.get("text") not in originals]
    assert len(augmented.intent_examples) == len(originals) + len(copies)
    assert len(originals) < len(copies) <= 4 * len(originals)  # a copy that changed nothing is dropped
    assert [m.get(SAMPLE_WEIGHT_KEY) for m in copies] == pytest.approx([0.125] * len(copies))
    assert all(m.get(SAMPLE_WEIGHT_KEY) is None for m in augmented.intent_examples if m.get("text") in originals)
    assert {m.get("intent") for m in copies} <= set(originals.values())


def test_same_seed_same_copies(tmp_path):
    first = augmenter(tmp_path, dictionaries=["tur"], copies=2).process_training_data(demo_training_data())
    second = augmenter(tmp_path, dictionaries=["tur"], copies=2).process_training_data(demo_training_data())
    assert [m.get("text") for m in first.intent_examples] == [m.get("text") for m in second.intent_examples]


def test_without_dictionaries_the_data_is_unchanged(tmp_path):
    data = demo_training_data()
    assert augmenter(tmp_path).process_training_data(data) is data


def test_a_missing_dictionary_names_its_package(tmp_path):
    with pytest.raises(InvalidConfigException, match="apt-get install dict-freedict-eng-xxx"):
        augmenter(tmp_path, dictionaries=["xxx"])


def test_setup_installs_what_the_config_names(tmp_path):
    config = tmp_path / "config.yml"
    config.write_text("pipeline:\n- name: components.code_switching_augmenter.CodeSwitchingAugmenter\n"
                      "  dictionaries: [tur, deu, tur]\n- name: FallbackClassifier\n", encoding="utf-8")
    assert dictionaries.packages(config) == [package_name("tur"), package_name("deu")]
    assert dictionaries.packages(ROOT / "training" / "baseline_config.yml") == []
