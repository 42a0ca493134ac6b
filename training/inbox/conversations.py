"""The user messages of stored conversations, each with what the bot made of it and why it may need a review.

Conversations are read one at a time through Rasa's own tracker-store API (`TrackerStore.create` from an
endpoints file: Redis as `make serve` runs it, Rasa's SQL store...), so memory stays flat in their number.
A message is flagged for review (`REVIEW_REASONS`) when:
- `nlu_fallback`: the bot asked to rephrase (the FallbackClassifier or NothingToUnderstandClassifier);
- `unsure`: its best intent was below UNSURE_BELOW;
- `rephrased`: the same user wrote nearly the same thing again right after (REPHRASE_*): the answer did not help;
- `no_answers`: its language is one the domain has no response variations in.
"""
import asyncio
import datetime
from dataclasses import dataclass, field
from typing import AsyncIterator, Collection, List, Optional, Set

import regex
from rasa.shared.core.events import BotUttered, SlotSet, UserUttered

from components.keys import LANGUAGE_SLOT

FALLBACK, UNSURE, REPHRASED, NO_ANSWERS = "nlu_fallback", "unsure", "rephrased", "no_answers"
REVIEW_REASONS = (FALLBACK, UNSURE, REPHRASED, NO_ANSWERS)
FALLBACK_INTENT = "nlu_fallback"
# The language of a domain's variations without a condition (config.yml's `language`): every bot answers in it.
DEFAULT_ANSWER_LANGUAGE = "en"
# Below this top confidence a message is worth a look although the bot answered it: on the development folds the
# head was right less than two times in three between the fallback threshold (0.3) and it, nine times in ten above
# (docs/decisions/0073).
UNSURE_BELOW = 0.5
# A next message within this many seconds whose character trigrams overlap this much is the same request again.
REPHRASE_SECONDS = 120
REPHRASE_SIMILARITY = 0.3
# Conversations read at once: the store's round trips overlap, memory stays a few conversations wide.
CONCURRENT_READS = 16
_WORDS = regex.compile(r"\w+")  # letters with their marks (Khmer vowels), in every script


@dataclass
class Turn:
    """One user message, what the bot understood and answered, and why it may need a review."""

    text: str
    timestamp: float
    language: Optional[str]
    intent: Optional[str]
    confidence: float
    runner_up: Optional[str]
    entities: str
    answer: str = ""
    reasons: Set[str] = field(default_factory=set)

    @property
    def day(self) -> str:
        return datetime.datetime.fromtimestamp(self.timestamp, datetime.timezone.utc).date().isoformat()


def turns_of(events, answer_languages: Collection[str]) -> List[Turn]:
    """The user turns of one conversation's events, in order, with their answers and review reasons."""
    turns: List[Turn] = []
    language = None
    for event in events:
        if isinstance(event, SlotSet) and event.key == LANGUAGE_SLOT:
            language = event.value or language
        elif isinstance(event, UserUttered) and event.text is not None:
            turns.append(_turn(event, language))
        elif isinstance(event, BotUttered) and turns and event.text:
            turns[-1].answer = " / ".join(filter(None, [turns[-1].answer, event.text]))
    answered = {*answer_languages, DEFAULT_ANSWER_LANGUAGE}
    for turn in turns:
        turn.language = turn.language or language
        if turn.language and turn.language.split("-")[0] not in answered:
            turn.reasons.add(NO_ANSWERS)
    for turn, following in zip(turns, turns[1:]):
        if _rephrased(turn, following):
            turn.reasons.add(REPHRASED)
    return turns


def _turn(event: UserUttered, language: Optional[str]) -> Turn:
    parse = event.parse_data or {}
    entities = [e for e in parse.get("entities") or [] if e.get("entity") != LANGUAGE_SLOT]
    detected = next((e.get("value") for e in parse.get("entities") or [] if e.get("entity") == LANGUAGE_SLOT), None)
    ranking = [r for r in parse.get("intent_ranking") or [] if r.get("name") != FALLBACK_INTENT]
    fell_back = (parse.get("intent") or {}).get("name") == FALLBACK_INTENT
    best = ranking[0] if ranking else (parse.get("intent") or {})
    confidence = float(best.get("confidence") or 0.0)
    reasons = {FALLBACK} if fell_back else ({UNSURE} if confidence < UNSURE_BELOW else set())
    return Turn(text=event.text, timestamp=event.timestamp, language=detected or language, intent=best.get("name"),
                confidence=round(confidence, 4), runner_up=ranking[1]["name"] if len(ranking) > 1 else None,
                entities="; ".join(f"{e.get('entity')}={e.get('value')}" for e in entities), reasons=reasons)


def _rephrased(turn: Turn, following: Turn) -> bool:
    """The next message soon after, alike in its letters but not the same text: the request said again."""
    soon = following.timestamp - turn.timestamp <= REPHRASE_SECONDS
    return soon and following.text.strip() != turn.text.strip() and \
        _similarity(turn.text, following.text) >= REPHRASE_SIMILARITY


def _similarity(first: str, second: str) -> float:
    """Jaccard overlap of character trigrams within words (works in scripts written without spaces too)."""
    grams = [{word[i:i + 3] for word in _WORDS.findall(text.lower()) for i in range(max(1, len(word) - 2))}
             for text in (first, second)]
    return len(grams[0] & grams[1]) / max(1, len(grams[0] | grams[1]))


def conversation_ids(store, keys) -> List[str]:
    """The conversations' ids from a store's `keys()`: Rasa 3.6's Redis store lists its keys with their prefix,
    which reading a conversation adds again (so every read found nothing); the SQL store lists bare ids."""
    prefix = getattr(store, "key_prefix", None)
    ids = [key.decode() if isinstance(key, bytes) else str(key) for key in keys]
    return sorted(key[len(prefix):] if prefix and key.startswith(prefix) else key for key in ids)


async def stored_turns(store, keys: List[str], answer_languages: Collection[str],
                       since: Optional[float] = None) -> AsyncIterator[Optional[List[Turn]]]:
    """Each conversation's turns (from `since`, a timestamp; None for one the store cannot find under its listed id),
    read CONCURRENT_READS conversations at a time."""
    for start in range(0, len(keys), CONCURRENT_READS):
        trackers = await asyncio.gather(*(store.retrieve_full_tracker(key)
                                          for key in keys[start:start + CONCURRENT_READS]))
        for tracker in trackers:
            if tracker is None:  # listed, but not found under its id
                yield None
                continue
            turns = turns_of(tracker.events, answer_languages)
            yield [turn for turn in turns if since is None or turn.timestamp >= since]
