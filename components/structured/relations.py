"""What the StructuredEntityExtractor learns from the English annotations: which learned entity each structured
dimension fills, which one a dimension found alone becomes, and which learned entities are written as numbers."""
from dataclasses import dataclass, field
from typing import Callable, Dict, List

from rasa.nlu.constants import TOKENS_NAMES
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.training_data import TrainingData

from components.keys import LANGUAGE_SLOT

# extract(text, words, dimensions) -> the structured entities found in the text (in the training data's language)
Extract = Callable[[str, List[Token], List[str]], List[dict]]


@dataclass
class Relations:
    fills: Dict[str, List[str]] = field(default_factory=dict)  # {dimension: learned entities it gives a value to}
    renames: Dict[str, str] = field(default_factory=dict)  # {dimension: the learned entity a span of it alone becomes}
    numbers: List[str] = field(default_factory=list)  # learned entities the examples write as numbers


def learn(training_data: TrainingData, extract: Extract, dimensions: List[str], min_overlaps: int,
          fill_share: float, dominant_share: float, number_share: float) -> Relations:
    """A dimension fills a learned entity it overlaps `min_overlaps` times and in `fill_share` of its annotations;
    a dimension alone becomes the entity that has `dominant_share` of its overlaps; an entity numbers fill whose
    annotations, read alone, are numbers `number_share` of the time is written as a number."""
    overlaps: Dict[str, Dict[str, int]] = {}
    annotations: Dict[str, int] = {}
    for message in training_data.nlu_examples:
        annotated = [e for e in message.get(ENTITIES) or [] if e.get("entity") != LANGUAGE_SLOT]
        for entity in annotated:
            annotations[entity["entity"]] = annotations.get(entity["entity"], 0) + 1
        if annotated:
            for found in extract(message.get(TEXT) or "", message.get(TOKENS_NAMES[TEXT]) or [], dimensions):
                for entity in annotated:
                    if found["start"] < entity["end"] and entity["start"] < found["end"]:
                        counts = overlaps.setdefault(found["entity"], {})
                        counts[entity["entity"]] = counts.get(entity["entity"], 0) + 1
    fills = {dimension: sorted(name for name, n in counts.items()
                               if n >= min_overlaps and n >= fill_share * annotations[name])
             for dimension, counts in overlaps.items()}
    renames = {dimension: name for dimension, counts in overlaps.items() for name, n in counts.items()
               if n >= min_overlaps and n >= dominant_share * sum(counts.values())}
    numbers = _written_as_numbers(training_data, extract, fills.get("number", []))
    return Relations(fills, renames, sorted(name for name, n in numbers.items()
                                            if n >= number_share * annotations[name]))


def _written_as_numbers(training_data: TrainingData, extract: Extract, filled: List[str]) -> Dict[str, int]:
    """How many annotations of each entity numbers fill are numbers read alone ("[4]", "[two]"; not "[A12345]")."""
    numbers: Dict[str, int] = {}
    for message in training_data.nlu_examples:
        text, words = message.get(TEXT) or "", message.get(TOKENS_NAMES[TEXT]) or []
        for entity in message.get(ENTITIES) or []:
            if entity.get("entity") in filled:
                start, end = entity["start"], entity["end"]
                inside = [Token(w.text, w.start - start, w.end - start) for w in words
                          if start <= w.start and w.end <= end]
                if extract(text[start:end], inside, ["number"]):
                    numbers[entity["entity"]] = numbers.get(entity["entity"], 0) + 1
    return numbers
