"""NothingToUnderstandClassifier: a message without a letter or an emoji gets `nlu_fallback`, whatever came before."""
import pytest
from rasa.engine.storage.local_model_storage import LocalModelStorage

from components.nothing_to_understand import NothingToUnderstandClassifier
from tests.conftest import build_component, messages

HEAD_SAID = {"name": "thank", "confidence": 0.91}


def classified(tmp_path, text):
    message, = messages(text)
    message.set("intent", HEAD_SAID)
    message.set("intent_ranking", [HEAD_SAID, {"name": "greet", "confidence": 0.09}])
    component = build_component(NothingToUnderstandClassifier, LocalModelStorage(tmp_path), "nothing")
    return component.process([message])[0]


@pytest.mark.parametrize("text", ["9" * 4096, "!!!???...", "\x00\x07\x1b[31m", "\u200b\u200d", "12:30 / 45 %", ""])
def test_nothing_to_understand_falls_back_and_keeps_the_heads_ranking_behind(tmp_path, text):
    message = classified(tmp_path, text)
    assert message.get("intent") == {"name": "nlu_fallback", "confidence": 1.0}
    assert [r["name"] for r in message.get("intent_ranking")] == ["nlu_fallback", "thank", "greet"]


@pytest.mark.parametrize("text", ["thanks", "👍", "ok 12", "ខ្ញុំ", "٩ شكرا", "x"])
def test_a_letter_or_an_emoji_leaves_the_heads_answer(tmp_path, text):
    message = classified(tmp_path, text)
    assert message.get("intent") == HEAD_SAID and len(message.get("intent_ranking")) == 2
