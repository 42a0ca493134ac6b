"""Language detection for language-aware answers."""
import pytest

from components.languages.detection import detect_language

ANSWERABLE = ["en", "tr", "km", "de", "zh", "ar"]


@pytest.mark.parametrize("text, language", [
    ("Where is my order?", "en"),
    ("merhaba", "tr"),
    ("Şifremi unuttum", "tr"),
    ("សួស្តី", "km"),
    ("អរគុណ", "km"),
    ("Wo ist meine Bestellung?", "de"),
    ("我忘记了密码", "zh"),
    ("أين طلبي؟", "ar"),
    ("Bonjour, comment ça va ?", "fr"),
])
def test_detects_the_language(text, language):
    assert detect_language(text, answer_languages=ANSWERABLE).language == language


@pytest.mark.parametrize("text", ["", "   ", "👍", "123 !!", "?!"])
def test_no_language_when_there_is_nothing_to_go_on(text):
    detection = detect_language(text, answer_languages=ANSWERABLE)
    assert detection.language is None
    assert detection.reason


def test_answerable_runner_up_wins_over_unanswerable_best():
    """Short Arabic words often score as Persian first; the bot answers in Arabic."""
    assert detect_language("شكرا", answer_languages=ANSWERABLE).language == "ar"
    assert detect_language("شكرا", answer_languages=[]).language == "fa"


@pytest.mark.parametrize("text, language, expected", [
    ("asdfgh qwerty zxcv", "ar", False), ("asdfgh qwerty zxcv", "en", True), ("مرحبا", "ar", True),
    ("hello", "km", False), ("ហាងបើក", "km", True), ("我忘记了密码", "ja", False),  # Japanese has kana
    ("すべてのリマインダー", "ja", True), ("123 !?", "ar", None),
])
def test_letters_rule_languages_out(text, language, expected):
    from components.languages.scripts import written_in

    assert written_in(text, language) is expected


def test_a_candidate_the_letters_rule_out_is_never_detected():
    """fastText reads zalgo and odd Latin strings as many things; never as a language of another script."""
    detection = detect_language("asdfgh qwerty zxcv", answer_languages=ANSWERABLE)
    assert detection.language is None or detection.language not in ("ar", "km", "zh")
    assert all(language not in ("ar", "km", "zh") for language, _ in detection.candidates)


@pytest.mark.parametrize("text, conversation, expected", [
    ("asdfgh qwerty zxcv", "ar", "en"),  # Latin gibberish after Arabic: not Arabic
    ("ok", "tr", "tr"),  # letters that fit the conversation's language keep it
    ("👍", "km", "km"),  # no letters: nothing to rule out
    ("趕快!", None, "zh"),  # fastText unsure, the letters are Chinese
    ("Merci beaucoup", "ar", "fr"),
])
def test_the_answer_language_follows_the_conversation_unless_the_letters_rule_it_out(text, conversation, expected):
    from components.languages.detection import answer_language

    answerable = ANSWERABLE + ["fr", "ja"]
    candidates = detect_language(text, answer_languages=answerable).candidates
    assert answer_language(text, conversation, candidates, answerable) == expected


def test_the_detector_answers_in_the_languages_of_the_domain(tmp_path):
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.shared.exceptions import InvalidConfigException
    from rasa.shared.nlu.training_data.training_data import TrainingData

    from components.language_detector import LanguageDetector
    from tests.conftest import build_component, load_component
    from training.project import ROOT

    storage = LocalModelStorage(tmp_path)
    detector = build_component(LanguageDetector, storage, "language", domain_file=str(ROOT / "domain.yml"))
    detector.train(TrainingData())
    assert {"tr", "km", "es", "vi", "hi"} <= set(detector.answer_languages)
    assert load_component(LanguageDetector, storage, "language").answer_languages == detector.answer_languages
    narrowed = build_component(LanguageDetector, storage, "narrow", domain_file=str(ROOT / "domain.yml"),
                               answer_languages=["tr", "km"])
    narrowed.train(TrainingData())
    assert narrowed.answer_languages == ["km", "tr"]
    with pytest.raises(InvalidConfigException, match="has no response variations in them"):
        build_component(LanguageDetector, storage, "wrong", domain_file=str(ROOT / "domain.yml"),
                        answer_languages=["tr", "sw"]).train(TrainingData())
