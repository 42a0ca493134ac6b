"""Training embeddings on disk, so that retraining after a few new English examples encodes only those.

Keyed by (encoder fingerprint, prompt, kind of output, text): the fingerprint is a hash of the model's own output on a
probe sentence, so rebuilding or swapping a model can never serve stale vectors. A text's outputs are kept by
kind: its sentence vector (`encode`), its pieces' states in some layers (components/encoders/token_features.py).
"""
import hashlib
import logging
import os
import sqlite3
import threading
from pathlib import Path
from typing import Callable, List, Optional, TypeVar

import numpy as np

from components.encoders.onnx_runtime import TORCH
from components.encoders.sentence_encoder import encode, fingerprint

logger = logging.getLogger(__name__)

CACHE_DIR_ENV = "MULTILINGUAL_RASA_CACHE"
DEFAULT_CACHE_DIR = Path.home() / ".cache" / "multilingual-rasa" / "embeddings"
SENTENCE = "sentence"  # the kind of a text's sentence vector
Output = TypeVar("Output")


class EmbeddingCache:
    """One SQLite file per encoder fingerprint, shared by the processes of a machine."""

    def __init__(self, model_name: str, prompt: Optional[str], cache_dir: Optional[str] = None,
                 runtime: str = TORCH):
        directory = Path(cache_dir or os.environ.get(CACHE_DIR_ENV) or DEFAULT_CACHE_DIR)
        directory.mkdir(parents=True, exist_ok=True)
        self.model_name = model_name
        self.prompt = prompt
        self.runtime = runtime
        self.path = directory / f"{fingerprint(model_name, prompt, runtime)}.sqlite"
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
        self._db.execute("CREATE TABLE IF NOT EXISTS records (key TEXT PRIMARY KEY, record BLOB)")

    def through(self, kind: str, texts: List[str], compute: Callable[[List[str]], List[Output]],
                to_bytes: Callable[[Output], bytes], from_bytes: Callable[[bytes], Output]) -> List[Output]:
        """Each text's output of `kind`: read back where the cache has it; computed for the texts it lacks (each
        once), then kept."""
        stored = self._get(kind, texts)
        missing = sorted({text for text, record in zip(texts, stored) if record is None})
        logger.info(f"Encoding {len(missing)} new of {len(texts)} texts ({kind}; {len(texts) - len(missing)} from the "
                    f"cache {self.path}).")
        fresh = dict(zip(missing, compute(missing))) if missing else {}
        if fresh:
            self._put(kind, list(fresh), [to_bytes(output) for output in fresh.values()])
        return [fresh[text] if record is None else from_bytes(record) for text, record in zip(texts, stored)]

    def encode(self, texts: List[str], batch_size: int) -> np.ndarray:
        """Sentence vectors for `texts`, encoding only those not in the cache yet (and then keeping them)."""
        vectors = self.through(SENTENCE, texts, lambda missing: list(encode(
            self.model_name, missing, self.prompt, batch_size, show_progress=len(missing) > batch_size,
            runtime=self.runtime)), lambda vector: np.asarray(vector, np.float32).tobytes(),
            lambda record: np.frombuffer(record, np.float32))
        return np.stack(vectors) if vectors else np.empty((0, 0), np.float32)

    def _key(self, kind: str, text: str) -> str:
        return hashlib.sha256(f"{kind}\0{text}".encode("utf-8", "surrogatepass")).hexdigest()

    def _get(self, kind: str, texts: List[str]) -> List[Optional[bytes]]:
        keys = [self._key(kind, text) for text in texts]
        found = {}
        with self._lock:
            for start in range(0, len(keys), 500):
                chunk = keys[start: start + 500]
                rows = self._db.execute(f"SELECT key, record FROM records WHERE key IN ({','.join('?' * len(chunk))})",
                                        chunk)
                found.update(dict(rows))
        return [found.get(key) for key in keys]

    def _put(self, kind: str, texts: List[str], records: List[bytes]) -> None:
        rows = [(self._key(kind, text), record) for text, record in zip(texts, records)]
        with self._lock, self._db:
            self._db.executemany("INSERT OR REPLACE INTO records VALUES (?, ?)", rows)
