"""What a message's script says about its language: Latin letters are not Arabic, Khmer or Chinese.

Language identification is unsure on short messages, yet the letters themselves rule languages out. A language's
script comes from CLDR's likely subtags (Babel: ar -> Arab, km -> Khmr, ja -> Jpan); a message is written in a
language's script when most of its letters belong to it (Unicode script properties, `regex`).
"""
from functools import lru_cache
from typing import Optional

import regex

# ISO 15924 codes of writing systems that mix several Unicode scripts.
MIXED_SCRIPTS = {"Jpan": "Hani|Hira|Kana", "Kore": "Hang|Hani", "Hans": "Hani", "Hant": "Hani"}
MOST = 0.5  # the share of a message's letters in a script above which the message is written in it
_LETTER = regex.compile(r"\p{L}")
# Japanese is written with kana among its kanji: a message of Chinese characters alone is not Japanese.
_KANA = regex.compile(r"\p{sc=Hira}|\p{sc=Kana}")


@lru_cache(maxsize=None)
def script_of(language: str) -> Optional[str]:
    """The ISO 15924 script a language is usually written in (CLDR's likely subtags), None when unknown."""
    from babel.core import get_global

    likely = get_global("likely_subtags").get(language.replace("-", "_").split("_")[0])
    parts = likely.split("_") if likely else []
    return parts[1] if len(parts) > 2 else None


@lru_cache(maxsize=None)
def _letters_of(script: str):
    names = MIXED_SCRIPTS.get(script, script).split("|")
    return regex.compile("|".join(r"\p{sc=%s}" % name for name in names))


def written_in(text: str, language: str) -> Optional[bool]:
    """Whether most letters of `text` are in the language's script; None when it has no letters or the language's
    script is unknown (nothing to rule out)."""
    script = script_of(language)
    letters = _LETTER.findall(text)
    if not letters or script is None:
        return None
    if script == "Jpan" and not _KANA.search(text):
        return False
    return sum(1 for letter in letters if _letters_of(script).match(letter)) > MOST * len(letters)
