"""Training embeddings on disk, so that retraining after a few new English examples encodes only those.

Keyed by (encoder fingerprint, prompt, text): the fingerprint is a hash of the model's own output on a probe
sentence, so rebuilding or swapping a model can never serve stale vectors. Sentence vectors live in one table;
other outputs of a text (its pieces' states, components/token_features.py) in another, by kind.
"""
import hashlib
import logging
import os
import sqlite3
import threading
from pathlib import Path
from typing import Iterable, List, Optional

import numpy as np

from components.onnx_runtime import TORCH
from components.sentence_encoder import encode, fingerprint

logger = logging.getLogger(__name__)

CACHE_DIR_ENV = "MULTILINGUAL_RASA_CACHE"
DEFAULT_CACHE_DIR = Path.home() / ".cache" / "multilingual-rasa" / "embeddings"


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
        self._db.execute("CREATE TABLE IF NOT EXISTS vectors (key TEXT PRIMARY KEY, vector BLOB)")
        self._db.execute("CREATE TABLE IF NOT EXISTS records (key TEXT PRIMARY KEY, record BLOB)")

    def _key(self, text: str) -> str:
        return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()

    def get_records(self, kind: str, texts: List[str]) -> List[Optional[bytes]]:
        """What `put_records` stored for each text under `kind` (another kind of output than a sentence vector)."""
        keys = [self._key(f"{kind}\0{text}") for text in texts]
        found = {}
        with self._lock:
            for start in range(0, len(keys), 500):
                chunk = keys[start: start + 500]
                rows = self._db.execute(f"SELECT key, record FROM records WHERE key IN ({','.join('?' * len(chunk))})",
                                        chunk)
                found.update(dict(rows))
        return [found.get(key) for key in keys]

    def put_records(self, kind: str, texts: List[str], records: List[bytes]) -> None:
        rows = [(self._key(f"{kind}\0{text}"), record) for text, record in zip(texts, records)]
        with self._lock, self._db:
            self._db.executemany("INSERT OR REPLACE INTO records VALUES (?, ?)", rows)

    def get_many(self, texts: Iterable[str]) -> List[Optional[np.ndarray]]:
        keys = [self._key(text) for text in texts]
        found = {}
        with self._lock:
            for start in range(0, len(keys), 500):
                chunk = keys[start : start + 500]
                marks = ",".join("?" * len(chunk))
                rows = self._db.execute(f"SELECT key, vector FROM vectors WHERE key IN ({marks})", chunk)
                found.update({key: np.frombuffer(blob, np.float32) for key, blob in rows})
        return [found.get(key) for key in keys]

    def put_many(self, texts: Iterable[str], vectors: np.ndarray) -> None:
        rows = [(self._key(t), np.asarray(v, np.float32).tobytes()) for t, v in zip(texts, vectors)]
        with self._lock, self._db:
            self._db.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?)", rows)

    def encode(self, texts: List[str], batch_size: int) -> np.ndarray:
        """Vectors for `texts`, encoding only those not in the cache yet (and then keeping them)."""
        found = self.get_many(texts)
        missing = sorted({t for t, v in zip(texts, found) if v is None})
        logger.info(f"Encoding {len(missing)} new of {len(texts)} texts ({len(texts) - len(missing)} from the "
                    f"cache {self.path}).")
        if missing:
            fresh = encode(self.model_name, missing, self.prompt, batch_size, show_progress=len(missing) > batch_size,
                           runtime=self.runtime)
            self.put_many(missing, fresh)
            by_text = dict(zip(missing, fresh))
            found = [v if v is not None else by_text[t] for t, v in zip(texts, found)]
        return np.stack(found) if found else np.empty((0, 0), np.float32)
