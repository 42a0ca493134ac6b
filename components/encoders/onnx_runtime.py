"""Run an encoder's transformer layers in ONNX Runtime instead of eager PyTorch: same tokens, same modules after.

`use_onnx(encoder, folder, runtime)` swaps the model inside the sentence-transformers `Transformer` module for
`OnnxLayers`, which looks the word embeddings up in the memory-mapped safetensors matrix and runs the layers
exported by training/export_onnx.py. Tokenization, prompts, truncation and every module after the transformer
(several-layer pooling, the language-neutral layer, normalisation) stay as they are, so the featurizer and the
zero-shot descriptions share one path. The PyTorch layers are dropped: the session holds its own weights.
"""
import json
import logging
import os
from pathlib import Path
from typing import Dict, List, Optional

import numpy as np
import torch
from threadpoolctl import threadpool_limits

logger = logging.getLogger(__name__)

TORCH, ONNX, ONNX_INT8 = "torch", "onnx", "onnx-int8"
RUNTIMES = (TORCH, ONNX, ONNX_INT8)
# The fastest runtime within half a point of PyTorch on xSID (docs/decisions/0011).
DEFAULT_RUNTIME = ONNX_INT8
MODEL_FILES = {ONNX: "onnx/model.onnx", ONNX_INT8: "onnx/model_int8.onnx"}
# Written by `make setup` (training/check_int8.py): how close int8 came to fp32 on this CPU, and which runs.
INT8_CHECK_FILE = "onnx/int8_check.json"


def session_threads() -> int:
    """The host's cores shared between Rasa's Sanic workers: several workers each on one core serve more
    messages than each spreading a short message over all of them; a single process uses them all."""
    workers = max(1, int(os.environ.get("SANIC_WORKERS", "1") or 1))
    return max(1, (os.cpu_count() or 1) // workers)


class OnnxLayers(torch.nn.Module):
    """Stands in for a Hugging Face BERT-like model: takes its inputs, returns its (hidden) states.

    One text at a time, without its padding: dynamic quantization scales activations by their range over the
    whole input, so in a batch a text's embedding would depend on the texts beside it, and the training
    embeddings (batched, cached) would differ from the same texts parsed alone.
    """

    # sentence-transformers asks the model for its device at every call; without one it searches every attribute
    # of every module for a tensor (docs/decisions/0015).
    device = torch.device("cpu")

    def __init__(self, session, word_embeddings: np.ndarray, config) -> None:
        super().__init__()
        self.session = session
        self.word_embeddings = word_embeddings
        self.config = config
        self.outputs = [output.name for output in session.get_outputs()]
        # Models without token types (MPNet, RoBERTa-like exports) leave that input out of the graph.
        self.inputs = {node.name for node in session.get_inputs()}

    def forward(self, input_ids, attention_mask, token_type_ids=None, **kwargs) -> Dict[str, object]:
        ids, mask = input_ids.numpy(), attention_mask.numpy().astype(np.int64)
        types = np.zeros_like(ids) if token_type_ids is None else token_type_ids.numpy()
        states = [np.zeros((*ids.shape, self.config.hidden_size), np.float32) for _ in self.outputs]
        for row, length in enumerate(mask.sum(axis=1)):
            feeds = {"inputs_embeds": np.ascontiguousarray(self.word_embeddings[ids[row:row + 1, :length]], np.float32),
                     "attention_mask": mask[row:row + 1, :length], "token_type_ids": types[row:row + 1, :length].astype(np.int64)}
            feeds = {name: value for name, value in feeds.items() if name in self.inputs}
            for state, output in zip(states, self.session.run(self.outputs, feeds)):
                state[row, :length] = output[0]
        states = [torch.from_numpy(state) for state in states]
        return {"last_hidden_state": states[-1], "hidden_states": tuple(states) if len(states) > 1 else None}


def new_session(path: Path, threads: Optional[int] = None):
    """An ONNX Runtime session of the file, on `threads` threads (default: `session_threads()`)."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads, options.inter_op_num_threads = threads or session_threads(), 1
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
    return onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def cpu_features() -> List[str]:
    """The CPU features that choose ONNX Runtime's int8 kernels (AVX2 alone sums products in 16 bits, VNNI in 32)."""
    try:
        flags = next(line for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("flags"))
    except (OSError, StopIteration):  # not Linux: the processor's name stands in
        import platform

        return [platform.machine(), platform.processor()]
    return sorted(set(flags.split()) & {"avx2", "avx512bw", "avx512_vnni", "avx_vnni", "amx_int8"})


def checked_model_file(folder: Path, runtime: str) -> Path:
    """`runtime`'s file, or the fp32 one where `make setup` found int8 straying from fp32 on this CPU."""
    check = folder / INT8_CHECK_FILE
    if runtime != ONNX_INT8 or not check.exists():
        return folder / MODEL_FILES[runtime]
    verdict = json.loads(check.read_text(encoding="utf-8"))
    if verdict["cpu_features"] != cpu_features():
        logger.warning(f"int8 was checked against fp32 on another CPU ({', '.join(verdict['cpu_features'])}); "
                       "run `make setup` here to check it on this one (docs/decisions/0071).")
    elif verdict["runtime"] != ONNX_INT8:
        logger.warning(f"int8 strays from fp32 on this CPU (lowest cosine {verdict['lowest_cosine']} on "
                       f"`make setup`'s probe): running the fp32 layers instead (docs/decisions/0071).")
        return folder / MODEL_FILES[verdict["runtime"]]
    return folder / MODEL_FILES[runtime]


def use_onnx(encoder, folder: Path, runtime: str, word_embeddings: np.ndarray) -> None:
    """Replace the transformer's PyTorch layers by an ONNX Runtime session of `runtime`'s exported file."""
    path = folder / MODEL_FILES[runtime]
    if not path.exists():
        raise FileNotFoundError(f"{path} (export it with `python -m training.export_onnx --model {folder}`; "
                                "`make setup` does it for the embedded encoder)")
    session = new_session(checked_model_file(folder, runtime))
    # NumPy's BLAS threads woke for every small product after the encoder (the head, the zero-shot null) and
    # waited for the cores the session's threads hold (docs/decisions/0014).
    threadpool_limits(1, user_api="blas")
    transformer = encoder[0]
    transformer.model = OnnxLayers(session, word_embeddings, transformer.model.config)
