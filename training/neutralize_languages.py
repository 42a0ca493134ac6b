"""Make a sentence-transformers folder's embeddings language-neutral, fitted on unlabelled multilingual text.

    python -m training.neutralize_languages [--model encoders/multilingual-e5-small]
        [--texts data/unlabelled/multilingual_sample.txt] [--last-layers 5] [--directions 1] [--prompt "query: "]

A multilingual encoder puts a sentence near its translations, but every embedding also carries where its
language sits. Two changes, both written into the folder, take most of that away:
1. Pooling reads the last N hidden layers, not only the last one (`components/encoders/layer_pooling.py`): a head
   trained on English transfers better to other languages from them (training/crossval.py measures it).
2. A language-neutral layer: the mean of all embeddings and their main direction of variation across
   languages are removed (all-but-the-top: subtract the mean, project out the top principal directions),
   so that a head trained on English cannot learn them as "English" (`components/encoders/language_neutral.py`),
   followed by `Normalize`.
3. The same for words: the mean word vector of each hidden layer over the same text (`word_centres.npy`),
   which the featurizer subtracts from the word vectors the entity head reads.
Because all three live in the encoder, every component that uses it (featurizer, zero-shot descriptions) sees
the same space. Refitting starts from the folder's own modules (kept in modules.plain.json): it replaces,
never stacks. `make setup` runs this on the embedded encoder; for a hub model, save it to a folder first
(`SentenceTransformer(name).save(folder)`) and point --model at that folder (the folder then needs this
project's `components` package to load).
"""
import argparse
import json
import shutil
from pathlib import Path

import numpy as np

from components.encoders import sentence_encoder
from components.encoders.language_neutral import LanguageNeutralLayer
from components.encoders.layer_pooling import MultiLayerMeanPooling

DEFAULT_TEXTS = Path("data/unlabelled/multilingual_sample.txt")
LAYER_FOLDER = "3_LanguageNeutral"
NORMALIZE_AFTER_FOLDER = "4_Normalize"
LAYER_TYPE = f"{LanguageNeutralLayer.__module__}.{LanguageNeutralLayer.__name__}"
NORMALIZE_TYPE = "sentence_transformers.models.Normalize"
POOLING_FOLDER = "1_MultiLayerPooling"
POOLING_TYPE = f"{MultiLayerMeanPooling.__module__}.{MultiLayerMeanPooling.__name__}"
PLAIN_MODULES = "modules.plain.json"  # the folder's own modules, as they were before this tool changed them


def fit_layer(vectors: np.ndarray, directions: int) -> LanguageNeutralLayer:
    """x -> P(x - mean), P projecting out the top principal directions of `vectors`."""
    import torch

    mean = vectors.mean(axis=0)
    top = np.linalg.svd(vectors - mean, full_matrices=False)[2][:directions]
    return LanguageNeutralLayer.fitted(torch.from_numpy(mean.astype(np.float32)),
                                       torch.from_numpy(top.astype(np.float32)))


def base_modules(folder: Path) -> list:
    """The folder's modules up to its first Normalize: a previous neutral layer is dropped, not stacked."""
    modules = json.loads((folder / "modules.json").read_text(encoding="utf-8"))
    kept = []
    for module in modules:
        kept.append(module)
        if module["type"].endswith("Normalize"):
            return kept
    raise SystemExit(f"error: {folder} has no Normalize module; the layer expects unit-length embeddings.")


def write_layer(folder: Path, neutral: LanguageNeutralLayer) -> None:
    """Appends the layer to a folder that `strip_layer` has just reset."""
    modules = base_modules(folder)
    (folder / LAYER_FOLDER).mkdir()
    neutral.save(str(folder / LAYER_FOLDER))
    (folder / NORMALIZE_AFTER_FOLDER).mkdir()
    index = len(modules)
    modules += [
        {"idx": index, "name": str(index), "path": LAYER_FOLDER, "type": LAYER_TYPE},
        {"idx": index + 1, "name": str(index + 1), "path": NORMALIZE_AFTER_FOLDER, "type": NORMALIZE_TYPE},
    ]
    (folder / "modules.json").write_text(json.dumps(modules, indent=2) + "\n", encoding="utf-8")


def strip_layer(folder: Path) -> None:
    """Back to the plain encoder, so that pooling and layer are always fitted on its raw output."""
    plain = folder / PLAIN_MODULES
    if not plain.exists():
        plain.write_text(json.dumps(base_modules(folder), indent=2) + "\n", encoding="utf-8")
    shutil.copyfile(plain, folder / "modules.json")
    for stale in (POOLING_FOLDER, LAYER_FOLDER, NORMALIZE_AFTER_FOLDER):
        shutil.rmtree(folder / stale, ignore_errors=True)
    set_hidden_states(folder, False)


def write_pooling(folder: Path, last_layers: int) -> None:
    """Replaces the folder's pooling by a mean over each of its last `last_layers` hidden layers."""
    modules = json.loads((folder / "modules.json").read_text(encoding="utf-8"))
    position = next((i for i, m in enumerate(modules) if m["type"].endswith("Pooling")), None)
    if position is None:
        raise SystemExit(f"error: {folder} has no Pooling module to replace; use --last-layers 0.")
    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    if not 1 <= last_layers <= config["num_hidden_layers"] + 1:  # + 1: the embedding layer's output
        raise SystemExit(f"error: --last-layers must be between 1 and {config['num_hidden_layers'] + 1}.")
    hidden_size = config["hidden_size"]
    (folder / POOLING_FOLDER).mkdir()
    MultiLayerMeanPooling(hidden_size, last_layers).save(str(folder / POOLING_FOLDER))
    modules[position] = {**modules[position], "path": POOLING_FOLDER, "type": POOLING_TYPE}
    (folder / "modules.json").write_text(json.dumps(modules, indent=2) + "\n", encoding="utf-8")
    set_hidden_states(folder, True)


def set_hidden_states(folder: Path, enabled: bool) -> None:
    """The transformer returns every layer's output only when its config asks for it."""
    path = folder / "config.json"
    config = json.loads(path.read_text(encoding="utf-8"))
    config.pop("output_hidden_states", None)
    if enabled:
        config["output_hidden_states"] = True
    path.write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")


def sentence_and_word_means(folder: Path, texts: list, prompt: str, chunk: int = 128) -> tuple:
    """Every text's sentence vector, and the mean word vector of each hidden layer over all their words (from
    the same forward passes, in chunks: all layers of every piece would not fit in memory)."""
    from tqdm import tqdm

    from components.encoders.token_features import encode_with_pieces
    from components.word_tokenizer import words

    sentence_encoder.load_encoder.cache_clear()  # the folder has just changed: no copy loaded before it may serve
    layers = list(range(hidden_layer_count(folder)))
    sentences, total, count = [], 0.0, 0
    for start in tqdm(range(0, len(texts), chunk), desc="Sentences and words", unit="chunk"):
        batch = texts[start: start + chunk]
        for text, encoded in zip(batch, encode_with_pieces(str(folder), batch, prompt, "torch", layers, 64)):
            sentences.append(encoded.sentence)
            vectors = encoded.word_vectors([(w.start, w.end) for w in words(text)])
            total, count = total + vectors.sum(axis=0), count + len(vectors)
    return np.stack(sentences), (total / max(count, 1)).reshape(len(layers), -1).astype(np.float32)


def hidden_layer_count(folder: Path) -> int:
    """Hidden states the transformer gives: its layers and the embeddings (1 when it gives only the last)."""
    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    return config["num_hidden_layers"] + 1 if config.get("output_hidden_states") else 1


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, default=Path(sentence_encoder.EMBEDDED_ENCODER),
                        help="a local sentence-transformers folder, changed in place")
    parser.add_argument("--texts", type=Path, default=DEFAULT_TEXTS,
                        help="unlabelled sentences in many languages, one per line (never test data)")
    parser.add_argument("--last-layers", type=int, default=5,
                        help="hidden layers pooled, counted from the top; 0 keeps the folder's own pooling "
                             "(default 5, chosen by cross-lingual cross-validation on en.valid/tr.valid)")
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
    if args.last_layers:
        write_pooling(args.model, args.last_layers)
    print(f"Encoding {len(texts)} sentences from {args.texts}")
    vectors, centres = sentence_and_word_means(args.model, texts, args.prompt)
    write_layer(args.model, fit_layer(vectors, args.directions))
    np.save(args.model / sentence_encoder.WORD_CENTRES_FILE, centres)
    print(f"Wrote pooling over the last {args.last_layers or 'original'} layer(s) and a language-neutral layer "
          f"(mean + {args.directions} direction(s)) into {args.model}")


if __name__ == "__main__":
    main()
