"""Add a language-neutral layer to a sentence-transformers folder, fitted on unlabelled multilingual text.

    python -m training.neutralize_languages [--model encoders/multilingual-e5-small]
        [--texts data/unlabelled/multilingual_sample.txt] [--directions 1] [--prompt "query: "]

A multilingual encoder puts a sentence near its translations, but every embedding also carries where its
language sits: the mean of all embeddings and their main direction of variation across languages. A head
trained on English learns that part as "English"; removing it (all-but-the-top: subtract the mean, project
out the top principal directions) lets the head see only meaning. The layer is a plain sentence-transformers
`Dense` module (identity activation) followed by `Normalize`, so the folder stays loadable anywhere and
every component that uses the encoder (featurizer, zero-shot descriptions) sees the same space.
`make setup` runs this on the embedded encoder; for a hub model, save it to a folder first
(`SentenceTransformer(name).save(folder)`) and point --model at that folder.
"""
import argparse
import json
import shutil
from pathlib import Path

import numpy as np

from components import sentence_encoder

DEFAULT_TEXTS = Path("data/unlabelled/multilingual_sample.txt")
LAYER_FOLDER = "3_LanguageNeutral"
NORMALIZE_AFTER_FOLDER = "4_Normalize"
DENSE_TYPE = "sentence_transformers.models.Dense"
NORMALIZE_TYPE = "sentence_transformers.models.Normalize"


def fit_layer(vectors: np.ndarray, directions: int):
    """Weights and bias of x -> P(x - mean), P projecting out the top principal directions."""
    mean = vectors.mean(axis=0)
    top = np.linalg.svd(vectors - mean, full_matrices=False)[2][:directions]
    projection = np.eye(vectors.shape[1]) - top.T @ top
    return projection.astype(np.float32), (-projection @ mean).astype(np.float32)


def base_modules(folder: Path) -> list:
    """The folder's modules up to its first Normalize: a previous neutral layer is dropped, not stacked."""
    modules = json.loads((folder / "modules.json").read_text(encoding="utf-8"))
    kept = []
    for module in modules:
        kept.append(module)
        if module["type"].endswith("Normalize"):
            return kept
    raise SystemExit(f"error: {folder} has no Normalize module; the layer expects unit-length embeddings.")


def write_layer(folder: Path, weight: np.ndarray, bias: np.ndarray) -> None:
    """Appends the layer to a folder that `strip_layer` has just reset."""
    import torch
    from sentence_transformers.models import Dense

    modules = base_modules(folder)
    dense = Dense(weight.shape[1], weight.shape[0], bias=True, activation_function=torch.nn.Identity(),
                  init_weight=torch.from_numpy(weight), init_bias=torch.from_numpy(bias))
    (folder / LAYER_FOLDER).mkdir()
    dense.save(str(folder / LAYER_FOLDER))
    (folder / NORMALIZE_AFTER_FOLDER).mkdir()
    index = len(modules)
    modules += [
        {"idx": index, "name": str(index), "path": LAYER_FOLDER, "type": DENSE_TYPE},
        {"idx": index + 1, "name": str(index + 1), "path": NORMALIZE_AFTER_FOLDER, "type": NORMALIZE_TYPE},
    ]
    (folder / "modules.json").write_text(json.dumps(modules, indent=2) + "\n", encoding="utf-8")


def strip_layer(folder: Path) -> None:
    """Back to the plain encoder, so that the layer is always fitted on its raw output."""
    modules = base_modules(folder)
    (folder / "modules.json").write_text(json.dumps(modules, indent=2) + "\n", encoding="utf-8")
    for stale in (LAYER_FOLDER, NORMALIZE_AFTER_FOLDER):
        shutil.rmtree(folder / stale, ignore_errors=True)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, default=Path(sentence_encoder.EMBEDDED_ENCODER),
                        help="a local sentence-transformers folder, changed in place")
    parser.add_argument("--texts", type=Path, default=DEFAULT_TEXTS,
                        help="unlabelled sentences in many languages, one per line (never test data)")
    parser.add_argument("--directions", type=int, default=1,
                        help="principal directions removed after the mean; 0 only centres (default 1, "
                             "chosen on the tr.valid dev set)")
    parser.add_argument("--prompt", default="query: ", help="the prompt the featurizer uses (config.yml)")
    args = parser.parse_args(argv)
    if not (args.model / "modules.json").exists():
        parser.error(f"{args.model} is not a sentence-transformers folder (no modules.json); run `make setup`.")
    texts = [line.strip() for line in args.texts.read_text(encoding="utf-8").splitlines() if line.strip()]
    if len(texts) <= args.directions:
        parser.error(f"{args.texts} has {len(texts)} sentences; the layer needs many more (hundreds).")
    strip_layer(args.model)
    print(f"Encoding {len(texts)} sentences from {args.texts}")
    vectors = sentence_encoder.encode(str(args.model), texts, args.prompt, batch_size=64, show_progress=True)
    weight, bias = fit_layer(vectors, args.directions)
    write_layer(args.model, weight, bias)
    print(f"Wrote a language-neutral layer (mean + {args.directions} direction(s)) into {args.model}")


if __name__ == "__main__":
    main()
