"""Language detection for language-aware answers."""
import pytest

from components.language import detect_language

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
