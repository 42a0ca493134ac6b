"""How close ordinary text comes to a zero-shot label: the null distribution a label must rise above.

A one-line description sits close to many messages that are about something else (greetings, thanks,
sentences in a language the encoder knows poorly). Scoring unlabelled sentences in many languages against
a label gives its null distribution; the label may take a message only when the message scores above a high
quantile of it. With several labels each gets an equal share of the allowed rate (Bonferroni), so that all
of them together take at most `false_capture_rate` of ordinary text.

Text in some languages sits closer to a label than text in others (English to an English description;
German closer than Tamil), so one pooled bar lets through more of the former and misses requests in the
latter. Where the background has enough sentences in a language, a label's scores in that language are
standardised by their mean and spread there, and a message in that language must beat the same
standardised quantile (`language_bars`); messages in other languages keep the pooled bar.

The embedding backend scores with hubness-corrected cosines (CSLS, Conneau et al. 2018):
`2·cos(x, label) − r(x) − r(label)`, where r(v) is v's mean cosine to its k nearest background sentences.
Some texts (short ones, or in a language the encoder knows poorly) are close to everything; CSLS takes
that away before the comparison. On the xSID dev set it found more unseen intents than plain cosines at the
same rate on background text.
"""
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
from rasa.shared.exceptions import InvalidConfigException

from components import project_path

# The zero-shot step's default background (training/build_background.py writes it), from the project root.
DEFAULT_BACKGROUND = "data/unlabelled/background.txt"
# A language needs this many background sentences for its own mean and spread; fewer: the pooled bar applies
# (docs/decisions/0033: enough for a steady tail, fewer than the default background's smallest language has).
MIN_LANGUAGE_SENTENCES = 150
# Background rows compared at once when scoring many texts: bounds the similarity matrix to ~40 MB.
CHUNK_ROWS = 1024


def label_quantile(false_capture_rate: float, labels: int) -> float:
    """Each of `labels` labels may take `false_capture_rate / labels` of ordinary text."""
    return 1.0 - false_capture_rate / max(labels, 1)


def null_thresholds(null_scores: np.ndarray, false_capture_rate: float) -> np.ndarray:
    """Per label (column), the score that ordinary text (rows) exceeds with its share of the rate."""
    return np.quantile(null_scores, label_quantile(false_capture_rate, null_scores.shape[1]), axis=0)


def language_bars(null_scores: np.ndarray, background_languages: Sequence[Optional[str]],
                  false_capture_rate: float) -> Dict[int, Dict[str, float]]:
    """{label column: {language: threshold}} for the languages with at least MIN_LANGUAGE_SENTENCES background
    sentences: each language's scores standardised by their own mean and spread, one quantile of the standardised
    scores pooled over those languages, turned back into each language's scale."""
    background_languages = np.asarray(background_languages, dtype=object)
    counted = [language for language in set(background_languages) - {None}
               if (background_languages == language).sum() >= MIN_LANGUAGE_SENTENCES]
    if not counted:
        return {}
    quantile = label_quantile(false_capture_rate, null_scores.shape[1])
    bars = {}
    for column in range(null_scores.shape[1]):
        spread = {language: _mean_and_spread(null_scores[background_languages == language, column])
                  for language in counted}
        standardised = np.concatenate([(null_scores[background_languages == language, column] - mean) / scale
                                       for language, (mean, scale) in spread.items()])
        bar = float(np.quantile(standardised, quantile))
        bars[column] = {language: float(mean + scale * bar) for language, (mean, scale) in spread.items()}
    return bars


def _mean_and_spread(scores: np.ndarray) -> Tuple[float, float]:
    return float(scores.mean()), max(float(scores.std(ddof=1)), 1e-6)


def threshold_for(pooled: Optional[float], bars: Optional[Dict[str, float]],
                  message_language: Optional[str]) -> Optional[float]:
    """The bar of the message's language where the background has one, else the pooled threshold."""
    if pooled is None or not bars or message_language not in bars:
        return pooled
    return bars[message_language]


class HubnessCorrectedNull:
    """CSLS scores against a background sample (`null_thresholds` turns its null scores into thresholds)."""

    def __init__(self, background: np.ndarray, neighbours: int, label_hubness: Optional[np.ndarray] = None) -> None:
        if not 1 <= neighbours < len(background):
            raise ValueError(f"neighbours must be between 1 and {len(background) - 1} (the background has "
                             f"{len(background)} sentences); got {neighbours}.")
        self.background = np.asarray(background, np.float32)
        self.neighbours = neighbours
        self.label_hubness = label_hubness

    def nearest(self, vectors: np.ndarray, neighbours: int, leave_out_self: bool = False) -> np.ndarray:
        """(rows, neighbours): each (unit) vector's highest cosines with the background, highest first."""
        vectors = np.atleast_2d(vectors)
        highest = []
        for start in range(0, len(vectors), CHUNK_ROWS):
            similarity = vectors[start : start + CHUNK_ROWS] @ self.background.T
            if leave_out_self:  # background sentences scored against the rest of the background
                rows = np.arange(len(similarity))
                similarity[rows, start + rows] = -np.inf
            highest.append(-np.sort(-np.partition(similarity, -neighbours, axis=1)[:, -neighbours:], axis=1))
        return np.concatenate(highest)

    def hubness(self, vectors: np.ndarray) -> np.ndarray:
        """Mean cosine of each (unit) vector to its nearest background sentences."""
        return self.nearest(vectors, self.neighbours).mean(axis=1)

    def fit(self, label_vectors: np.ndarray, background_nearest: Optional[np.ndarray] = None) -> np.ndarray:
        """Null distribution of every label on the background itself (each sentence left out of its own
        neighbourhood): the null scores (sentences, labels). `background_nearest`: the background's `nearest`
        cosines to the rest of it, at least `neighbours` wide, where they were computed once (`make setup`)."""
        self.label_hubness = self.hubness(label_vectors)
        if background_nearest is None or background_nearest.shape[1] < self.neighbours:
            background_nearest = self.nearest(self.background, self.neighbours, leave_out_self=True)
        return self._csls(self.background, label_vectors, background_nearest[:, : self.neighbours].mean(axis=1))

    def scores(self, vectors: np.ndarray, label_vectors: np.ndarray) -> np.ndarray:
        """(messages, labels) CSLS scores."""
        vectors = np.atleast_2d(vectors)
        return self._csls(vectors, label_vectors, self.hubness(vectors))

    def _csls(self, vectors: np.ndarray, label_vectors: np.ndarray, hubness: np.ndarray) -> np.ndarray:
        return 2 * vectors @ label_vectors.T - hubness[:, None] - self.label_hubness[None, :]

    def arrays(self) -> Dict[str, np.ndarray]:
        """What a model stores (`from_arrays` reads it back); the background in float16, half the size."""
        return {"background": self.background.astype(np.float16), "label_hubness": self.label_hubness}

    @classmethod
    def from_arrays(cls, arrays: Dict[str, np.ndarray], neighbours: int) -> Optional["HubnessCorrectedNull"]:
        """The null `arrays` wrote, or None for a model trained without a background."""
        if "background" not in arrays:
            return None
        return cls(arrays["background"].astype(np.float32), neighbours, arrays["label_hubness"])


def background_path(name: str) -> Path:
    """The background file (components.project_path), or a clear error."""
    path = project_path(name)
    if path:
        return path
    raise InvalidConfigException(
        f"The zero-shot background file '{name}' does not exist. Give the zero-shot classifier's "
        "`background_texts` a text file of unlabelled sentences in many languages, one per line "
        f"({DEFAULT_BACKGROUND} is one), or null to let labels take ordinary text.")


def read_background(name: str) -> List[str]:
    """The background file's non-empty lines."""
    lines = [line.strip() for line in background_path(name).read_text(encoding="utf-8").splitlines()]
    sentences = [line for line in lines if line]
    if len(sentences) < 100:
        raise InvalidConfigException(f"The zero-shot background file '{name}' has {len(sentences)} sentences; "
                                     "a null distribution needs hundreds, in many languages.")
    return sentences
