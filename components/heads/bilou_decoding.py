"""The most probable sequence of BILOU tags that is a valid one: every entity Begins and ends (Last) or is a Unit,
and what is Inside an entity continues the entity before it. Taking each word's best tag alone gives broken
spans ("I-time" after "O"); Viterbi over the tag probabilities with the invalid steps forbidden does not.
"""
from functools import lru_cache
from typing import List, Sequence, Tuple

import numpy as np
from rasa.nlu.utils.bilou_utils import BEGINNING, INSIDE, LAST, bilou_prefix_from_tag, tag_without_prefix

FORBIDDEN = -1e9


@lru_cache(maxsize=16)
def constraints(tags: Tuple[str, ...]) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For a model's tags (its tag list does not change between messages, so this is worked out once): (tags, tags)
    0 where tag j may follow tag i and FORBIDDEN where it may not, and which tags may start and end a sentence."""
    prefix = [bilou_prefix_from_tag(tag) for tag in tags]
    entity = [tag_without_prefix(tag) for tag in tags]
    opens = [p in (BEGINNING, INSIDE) for p in prefix]  # an entity is still open after this tag
    transitions = np.full((len(tags), len(tags)), FORBIDDEN)
    for i in range(len(tags)):
        for j in range(len(tags)):
            continues = prefix[j] in (INSIDE, LAST)
            if opens[i] == continues and (not continues or entity[i] == entity[j]):
                transitions[i, j] = 0.0
    can_start = np.array([0.0 if p not in (INSIDE, LAST) else FORBIDDEN for p in prefix])
    can_end = np.array([0.0 if p not in (BEGINNING, INSIDE) else FORBIDDEN for p in prefix])
    return transitions, can_start, can_end


def valid_bilou_path(log_probabilities: np.ndarray, tags: Sequence[str]) -> List[int]:
    """Tag indices of the best valid path through (words, tags) log-probabilities."""
    transitions, can_start, can_end = constraints(tuple(tags))
    score = log_probabilities[0] + can_start
    back = []
    for row in log_probabilities[1:]:
        candidates = score[:, None] + transitions
        back.append(candidates.argmax(axis=0))
        score = candidates.max(axis=0) + row
    best = int((score + can_end).argmax())
    path = [best]
    for pointers in reversed(back):
        best = int(pointers[best])
        path.append(best)
    return path[::-1]
