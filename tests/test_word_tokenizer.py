"""WordTokenizer: words with character offsets in every script, also those written without spaces."""
import pytest

from components.word_tokenizer import WordTokenizer, words


@pytest.mark.parametrize("text, expected", [
    ("book a table for 4 people", ["book", "a", "table", "for", "4", "people"]),
    ("Yarın akşam 7'de 4 kişilik", ["Yarın", "akşam", "7", "de", "4", "kişilik"]),
    ("ហាងបើកម៉ោងប៉ុន្មាន?", ["ហាង", "បើក", "ម៉ោង", "ប៉ុន្មាន"]),  # Khmer: no spaces between words
    ("ฉันอยากจองโต๊ะ", ["ฉัน", "อยาก", "จอง", "โต๊ะ"]),  # Thai
    ("增加一项提醒在今天下午4点", ["增加", "一项", "提醒", "在", "今天", "下午", "4", "点"]),
    ("すべてのリマインダーを表示", ["すべて", "の", "リマインダー", "を", "表示"]),
    ("أين طلبي؟", ["أين", "طلبي"]),
    ("Where is my order #A12345?", ["Where", "is", "my", "order", "A12345"]),
    ("today at 2 p.m.", ["today", "at", "2", "p.m."]),  # an abbreviation ends on its period
    ("in U.S. Virgin Islands, Mr. Smith", ["in", "U.S.", "Virgin", "Islands", "Mr", "Smith"]),
])
def test_words_and_their_offsets(text, expected):
    found = words(text)
    assert [token.text for token in found] == expected
    assert all(text[token.start:token.end] == token.text for token in found)


def test_offsets_count_python_characters_after_emoji_and_rare_han():
    text = "🙂👍 hello 𠀀 world"  # characters outside the Basic Multilingual Plane are two UTF-16 units in ICU
    assert [(t.text, t.start) for t in words(text) if t.text.isascii()] == [("hello", 3), ("world", 11)]
    assert all(text[t.start:t.end] == t.text for t in words(text))


def test_it_is_a_rasa_tokenizer_that_gives_every_message_its_tokens():
    from rasa.shared.nlu.training_data.message import Message

    tokenizer = WordTokenizer(WordTokenizer.get_default_config())
    message, empty = Message(data={"text": "សួស្តី ពិភពលោក"}), Message(data={"text": ""})
    tokenizer.process([message, empty])
    assert len(message.get("text_tokens")) >= 2 and empty.get("text_tokens") == []
