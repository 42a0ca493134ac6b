"""Where entities lie in a message's words: overlaps, spans that hold others, digits cut out of a word, and words with
the endings that languages glue onto them taken off (what the StructuredEntityExtractor reads)."""
from typing import Any, Dict, List, Text

import regex
from rasa.nlu.tokenizers.tokenizer import Token

from components.keys import LANGUAGE_SLOT as LANGUAGE_ENTITY

# Alphabets written without spaces between words, where a numeral may be the first letters of another word
# (ICU's words tell). Not Chinese characters: a numeral and its classifier make one word there (四位, four people).
SPACELESS_ALPHABETS = regex.compile(r"[\p{sc=Khmer}\p{sc=Thai}\p{sc=Lao}\p{sc=Myanmar}]")
# Languages that glue case endings and suffixes onto words ("Yarınki", tomorrow's; "holnapi"), where Duckling's
# rules read only the bare word: a learned span it finds nothing in is read again with word endings cut off.
SUFFIXING_LANGUAGES = frozenset({"tr", "hu", "fi", "et"})
MAX_SUFFIX_LETTERS = 3  # "-ki", "-daki", "-nın": the endings tried, shortest first


def cut_out_of_a_word(text: Text, entity: Dict[Text, Any], words: List[Token]) -> bool:
    """Whether a structured entity is part of a word: digits glued to other digits or to ASCII letters (the 12345
    of an order number "A12345"), or a number that ends on a letter inside a word of a script written without
    spaces (ហា, fifty, in ហាង, shop). One that begins after a clitic is a word (أربعة, four, in لأربعة, for four)."""
    start, end = entity["start"], entity["end"]
    begins_inside = start not in {w.start for w in words} and any(w.start < start < w.end for w in words)
    ends_inside = end not in {w.end for w in words} and any(w.start < end < w.end for w in words)
    return (begins_inside and _glued(text[start], text[start - 1])) or ends_inside and (
        _glued(text[end - 1], text[end]) or entity["entity"] in ("number", "ordinal")
        and not text[end - 1].isdigit() and bool(SPACELESS_ALPHABETS.match(text[end])))


def _glued(digit: Text, neighbour: Text) -> bool:
    return digit.isdigit() and (neighbour.isdigit() or neighbour.isascii() and neighbour.isalpha())


def without_endings(span: Text) -> List[Text]:
    """`span` with what follows an apostrophe in a word turned into spaces ("6'ya" is 6 in the dative), then also
    with the last 1, 2, 3 letters of its last word (where the endings of a Turkish phrase go), at least two letters
    kept: "Bugünkü" reads "Bugün  ", "şu anki" reads "şu an  ". Same length, so offsets hold."""
    unsuffixed = regex.sub(r"(?<=\w)'\w+", lambda m: " " * len(m.group()), span)
    cut = [regex.sub(rf"(?<=\w\w)\w{{{n}}}(\W*)$", lambda m: " " * (m.end() - m.start()), unsuffixed)
           for n in range(1, MAX_SUFFIX_LETTERS + 1)]
    return list(dict.fromkeys(variant for variant in [unsuffixed, *cut] if variant != span))


def holds(outer: Dict[Text, Any], inner: Dict[Text, Any]) -> bool:
    """Whether `outer` spans `inner` and more."""
    return outer["start"] <= inner["start"] and inner["end"] <= outer["end"] and \
        outer["end"] - outer["start"] > inner["end"] - inner["start"]


def alone_in(span: Dict[Text, Any], entity: Dict[Text, Any], learned: List[Dict[Text, Any]]) -> bool:
    """Whether no learned entity but `entity` overlaps `span`."""
    return not any(overlap(other, span) for other in learned
                   if other is not entity and other["entity"] != LANGUAGE_ENTITY)


def overlap(first: Dict[Text, Any], second: Dict[Text, Any]) -> int:
    return max(0, min(first["end"], second["end"]) - max(first["start"], second["start"]))
