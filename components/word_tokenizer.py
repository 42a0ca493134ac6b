"""Words with character offsets in every script, from ICU's word boundaries (Unicode UAX #29 and dictionaries).

Rasa's WhitespaceTokenizer sees one token in a Khmer, Thai, Chinese or Japanese sentence, which are written
without spaces between words; ICU segments them with its dictionaries, and every other script by Unicode's
rules ("7'de" -> "7", "de"; "A12345" stays whole; "p.m." keeps its last period). Entity annotations then align
with tokens in any language, the featurizer pools the encoder's pieces of each word, and `rasa test nlu` scores
entities. Spaces and punctuation are not tokens, as with Rasa's own tokenizers. Why: docs/decisions/0053, 0064.
"""
import threading
from typing import Any, Dict, List, Text

import regex
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.tokenizers.tokenizer import Token, Tokenizer
from rasa.shared.exceptions import RasaException
from rasa.shared.nlu.training_data.message import Message

# ICU's rule status of a segment that is a word (number, letters, kana, ideographs), not space or punctuation.
WORD_STATUS_FROM = 100
# Letters with a period between each (p.m, U.S, e.g): ICU leaves their last period out of the word.
ABBREVIATION = regex.compile(r"\p{L}(?:\.\p{L})+")


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=False)
class WordTokenizer(Tokenizer):
    """Splits text into words with ICU's root-locale word break iterator."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            # Split intent names on `intent_split_symbol` (Rasa's tokenizer option).
            "intent_tokenization_flag": False,
            # The symbol intent names are split on.
            "intent_split_symbol": "_",
            # A regular expression that further splits each word (Rasa's tokenizer option); null: none.
            "token_pattern": None,
            # A symbol that separates an intent's prefix (Rasa's tokenizer option); null: none.
            "prefix_separator_symbol": None,
        }

    def __init__(self, config: Dict[Text, Any]) -> None:
        super().__init__(config)
        try:
            import icu  # noqa: F401 (Rasa's required_packages cannot name it: its distribution is pyicu-wheels)
        except ImportError as error:
            raise RasaException("The WordTokenizer needs ICU: `make setup` installs it (pyicu-wheels).") from error

    def tokenize(self, message: Message, attribute: Text) -> List[Token]:
        return self._apply_token_pattern(words(message.get(attribute) or ""))


_ITERATORS = threading.local()  # a break iterator holds its text: one per thread


def words(text: str) -> List[Token]:
    """The word segments of `text`, with offsets in Python characters."""
    import icu

    iterator = getattr(_ITERATORS, "word", None)
    if iterator is None:
        iterator = _ITERATORS.word = icu.BreakIterator.createWordInstance(icu.Locale.getRoot())
    iterator.setText(text)
    to_python = _utf16_to_python(text)
    tokens, start = [], iterator.first()
    for end in iterator:
        if iterator.getRuleStatus() >= WORD_STATUS_FROM:
            begin, finish = to_python[start], to_python[end]
            if ABBREVIATION.fullmatch(text[begin:finish]) and text[finish:finish + 1] == ".":
                finish += 1  # "p.m." and "U.S." end on their period, as written and annotated
            tokens.append(Token(text[begin:finish], begin, finish))
        start = end
    return tokens


def _utf16_to_python(text: str):
    """ICU counts UTF-16 code units: a character outside the Basic Multilingual Plane (emoji, some CJK) is two."""
    if text.isascii() or all(ord(character) < 0x10000 for character in text):
        return range(len(text) + 1)
    positions = []
    for index, character in enumerate(text):
        positions += [index] * (2 if ord(character) >= 0x10000 else 1)
    return positions + [len(text)]
