"""When a zero-shot label takes a message from the intent head, and the one ranking they then share.

Small predicates, one decision each; the thresholds are the ZeroShotIntentClassifier's options
(docs/decisions/0041-zero-shot-thresholds.md).
"""
from typing import Any, Dict, List, Optional, Sequence, Tuple

from rasa.shared.nlu.constants import INTENT_NAME_KEY

from components.keys import CLASSIFIER_KEY


class WinningRules:
    """How sure the head and a zero-shot label must be for the label to replace the head's intent."""

    def __init__(self, head_threshold: float, min_confidence: float, override_confidence: Optional[float]) -> None:
        self.head_threshold = head_threshold  # below it the head is unsure and labels are consulted
        self.min_confidence = min_confidence  # what a label needs to replace an unsure head
        self.override_confidence = override_confidence  # what a label needs to replace a sure head (None: never)

    def worth_scoring(self, head_confidence: float) -> bool:
        """Whether any label could win against a head this sure."""
        return head_confidence < self.head_threshold or self.override_confidence is not None

    def winning_rule(self, probability: float, head_confidence: float) -> Optional[str]:
        """The rule by which a label this probable replaces the head's intent, if any."""
        if head_confidence < self.head_threshold and probability >= self.min_confidence:
            return f"head unsure (< {self.head_threshold}), zero-shot >= {self.min_confidence}"
        if self.override_confidence is not None and probability >= self.override_confidence:
            return f"zero-shot >= {self.override_confidence}, sure enough to override the head"
        return None


def shared_ranking(scored: Sequence[Tuple[str, float]], labels: Sequence[str], head_ranking: List[Dict[str, Any]],
                   classifier_name: str) -> List[Dict[str, Any]]:
    """One ranking, one distribution: the head's confidences share what the zero-shot labels leave, so that the
    FallbackClassifier's ambiguity check compares like with like."""
    zero_shot = [{INTENT_NAME_KEY: name, "confidence": p, CLASSIFIER_KEY: classifier_name}
                 for name, p in scored if name in labels]
    left = max(0.0, 1.0 - sum(entry["confidence"] for entry in zero_shot))
    head = [{**entry, "confidence": entry["confidence"] * left}
            for entry in head_ranking if entry[INTENT_NAME_KEY] not in labels]
    return sorted(zero_shot + head, key=lambda entry: -entry["confidence"])
