"""Two ways to score "is this message about <label>?" without examples; one small interface.

- `EmbeddingBackend`: the frozen multilingual encoder compares the message with each label's
  description (and English examples, where a label has them); cosines become probabilities through a
  softmax whose temperature is fitted on the English training examples. Offline, the default.
- `MT5XNLIBackend`: natural-language inference with mT5 fine-tuned on XNLI. For every label it reads
  `xnli: premise: {message} hypothesis: {template.format(label)}`, generates one step and compares the
  first-step scores of the tokens "▁0" (entailment), "▁1" (neutral), "▁2" (contradiction).
"""
from functools import lru_cache
from typing import List, Sequence, Tuple

import numpy as np
from rasa.shared.exceptions import RasaException

from components.heads.dense_head import softmax

ENTAILMENT, NEUTRAL, CONTRADICTION = "▁0", "▁1", "▁2"
SOFTMAX_OVER_LABELS = "softmax_over_labels"
ENTAILMENT_VS_CONTRADICTION = "entailment_vs_contradiction"


class EmbeddingBackend:
    """Cosine similarity to label vectors, standardised per label, softmax with a fitted temperature.

    A centroid of many examples sits closer to every message than a one-line description does, so raw
    cosines would always favour labels with examples. Each label's cosines are therefore standardised by
    their mean and spread over the English training messages before the softmax.
    """

    def __init__(self, temperature: float = 1.0, offsets=None, scales=None) -> None:
        self.temperature = temperature
        self.offsets = offsets
        self.scales = scales

    def fit(self, label_vectors: np.ndarray, vectors: np.ndarray, labels: Sequence[str], names: Sequence[str]) -> None:
        """Per-label standardisation over the training messages, then the temperature that makes
        leave-one-out probabilities of the labels with examples honest (least negative log-likelihood)."""
        if not len(vectors):  # no intent has enough examples to calibrate on: plain cosines
            self.offsets, self.scales = np.zeros(len(names)), np.ones(len(names))
            return
        cosines = vectors @ label_vectors.T
        self.offsets, self.scales = cosines.mean(axis=0), np.maximum(cosines.std(axis=0), 1e-6)
        own = np.array([names.index(label) for label in labels])
        counts = np.bincount(own, minlength=len(names))
        sums = np.stack([vectors[own == i].sum(axis=0) if counts[i] else label_vectors[i] for i in range(len(names))])
        leave_one_out = normalise(sums[own] - vectors)
        cosines[np.arange(len(own)), own] = np.einsum("ij,ij->i", vectors, leave_one_out)
        usable = counts[own] > 1
        if not usable.any():
            return
        standardised = ((cosines - self.offsets) / self.scales)[usable]
        truth = own[usable]
        grid = np.geomspace(0.05, 5.0, 60)
        losses = [-np.log(softmax(standardised / t)[np.arange(len(truth)), truth] + 1e-12).mean() for t in grid]
        self.temperature = float(grid[int(np.argmin(losses))])

    def probabilities(self, message_vector: np.ndarray, label_vectors: np.ndarray, rows: Sequence[int]) -> np.ndarray:
        standardised = (label_vectors[rows] @ message_vector - self.offsets[rows]) / self.scales[rows]
        return softmax(standardised / self.temperature)


def normalise(vectors: np.ndarray) -> np.ndarray:
    return vectors / np.maximum(np.linalg.norm(vectors, axis=-1, keepdims=True), 1e-12)


class NLIModelUnavailable(RasaException):
    """The mT5-XNLI model cannot be loaded (no hub access, wrong path...)."""


@lru_cache(maxsize=None)
def load_nli_model(model_name: str):
    """Tokenizer and model, loaded once per process and on first use."""
    try:
        from transformers import AutoTokenizer, MT5ForConditionalGeneration

        tokenizer = AutoTokenizer.from_pretrained(model_name)
        model = MT5ForConditionalGeneration.from_pretrained(model_name)
    except Exception as error:
        raise NLIModelUnavailable(
            f"Cannot load the NLI model '{model_name}' ({error}). Give a local folder or a hub name "
            "reachable from this machine, or set `backend: embedding` for the zero-shot classifier in "
            "config.yml: it needs no extra model."
        ) from error
    model.eval()
    return tokenizer, model


class MT5XNLIBackend:
    """Entailment scores for all candidate labels of one message in one batched generate call."""

    def __init__(self, model_name: str, scoring: str = SOFTMAX_OVER_LABELS) -> None:
        self.model_name = model_name
        self.scoring = scoring

    @staticmethod
    def prompts(premise: str, hypotheses: Sequence[str]) -> List[str]:
        return [f"xnli: premise: {premise} hypothesis: {hypothesis}" for hypothesis in hypotheses]

    def class_token_ids(self) -> List[int]:
        tokenizer, _ = load_nli_model(self.model_name)
        ids = tokenizer.convert_tokens_to_ids([ENTAILMENT, NEUTRAL, CONTRADICTION])
        if tokenizer.unk_token_id in ids:
            raise NLIModelUnavailable(f"'{self.model_name}' has no tokens {ENTAILMENT}/{NEUTRAL}/{CONTRADICTION}: "
                                      "not an XNLI-fine-tuned mT5.")
        return ids

    def first_step_scores(self, premise: str, hypotheses: Sequence[str]) -> np.ndarray:
        """(labels, 3) scores of entailment, neutral, contradiction from one generate call."""
        import torch

        tokenizer, model = load_nli_model(self.model_name)
        batch = tokenizer(self.prompts(premise, hypotheses), return_tensors="pt", padding=True, truncation=True)
        with torch.inference_mode():
            generated = model.generate(**batch, max_new_tokens=1, output_scores=True,
                                       return_dict_in_generate=True, do_sample=False, num_beams=1)
        return generated.scores[0][:, self.class_token_ids()].float().numpy()

    def probabilities_and_log_odds(self, premise: str, hypotheses: Sequence[str]) -> Tuple[np.ndarray, np.ndarray]:
        """Each hypothesis's probability, and its entailment log-odds (what the null compares), from one pass."""
        scores = self.first_step_scores(premise, hypotheses)
        return scores_to_probabilities(scores, self.scoring), entailment_log_odds(scores)

    def null_scores(self, premises: Sequence[str], hypotheses: Sequence[str]) -> np.ndarray:
        """(premises, hypotheses) entailment log-odds of background sentences: each label's null distribution."""
        from tqdm import tqdm

        return np.stack([entailment_log_odds(self.first_step_scores(premise, hypotheses))
                         for premise in tqdm(premises, desc="NLI on background sentences", unit="sentence")])


def entailment_log_odds(scores: np.ndarray) -> np.ndarray:
    """How much more a (labels, 3) score row says entailment than contradiction: compared with the null."""
    return scores[:, 0] - scores[:, 2]


def scores_to_probabilities(scores: np.ndarray, scoring: str) -> np.ndarray:
    """Label probabilities from (labels, 3) entailment/neutral/contradiction scores."""
    if scoring == SOFTMAX_OVER_LABELS:  # which label is most entailed
        return softmax(scores[:, 0])
    if scoring == ENTAILMENT_VS_CONTRADICTION:  # each label on its own
        return softmax(scores[:, [0, 2]], axis=1)[:, 0]
    raise ValueError(f"unknown scoring '{scoring}'; use '{SOFTMAX_OVER_LABELS}' or '{ENTAILMENT_VS_CONTRADICTION}'")
