"""The most probable sequence of BILOU tags that is a valid one: every entity Begins and ends (Last) or is a Unit,
and what is Inside an entity continues the entity before it. Taking each word's best tag alone gives broken
spans ("I-time" after "O"); Viterbi over the tag probabilities with the invalid steps forbidden does not.
"""
from typing import List

import numpy as np
from rasa.nlu.utils.bilou_utils import BEGINNING, INSIDE, LAST, bilou_prefix_from_tag, tag_without_prefix

FORBIDDEN = -1e9


def allowed_transitions(tags: List[str]) -> np.ndarray:
    """(tags, tags) 0 where tag j may follow tag i, FORBIDDEN where it may not."""
    prefix = [bilou_prefix_from_tag(tag) for tag in tags]
    entity = [tag_without_prefix(tag) for tag in tags]
    opens = [p in (BEGINNING, INSIDE) for p in prefix]  # an entity is still open after this tag
    scores = np.full((len(tags), len(tags)), FORBIDDEN)
    for i in range(len(tags)):
        for j in range(len(tags)):
            continues = prefix[j] in (INSIDE, LAST)
            if opens[i] == continues and (not continues or entity[i] == entity[j]):
                scores[i, j] = 0.0
    return scores


def valid_bilou_path(log_probabilities: np.ndarray, tags: List[str]) -> List[int]:
    """Tag indices of the best valid path through (words, tags) log-probabilities."""
    transitions = allowed_transitions(tags)
    prefix = [bilou_prefix_from_tag(tag) for tag in tags]
    can_start = np.array([0.0 if p not in (INSIDE, LAST) else FORBIDDEN for p in prefix])
    can_end = np.array([0.0 if p not in (BEGINNING, INSIDE) else FORBIDDEN for p in prefix])
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


