"""How close the encoder puts a sentence and its translation, per language.

    python -m training.similarity --config config.yml --pairs ../shared/data/tatoeba --out DIR

For each Tatoeba pair of line-aligned files (`tatoeba.XXX-eng.XXX`, `tatoeba.XXX-eng.eng`): the mean and
standard deviation of the cosine similarity of each translation pair, and bitext retrieval accuracy
(is a sentence's translation its nearest neighbour among all candidates, in both directions). Uses the
encoder and prompt that config.yml gives the SentenceEmbeddingFeaturizer. Writes DIR/similarity.json,
DIR/similarity_histogram.png and prints a table beside published figures for `stsb-xlm-r-multilingual`.
"""
import argparse
import json
import sys
from pathlib import Path

import numpy as np

from components.encoders.sentence_encoder import encode
from components.keys import MODEL_NAME_KEY, PROMPT_KEY, RUNTIME_KEY
from components.sentence_embedding_featurizer import SentenceEmbeddingFeaturizer
from training.project import component_options, tatoeba_pairs

# Mean / std of translation-pair cosine similarity for stsb-xlm-r-multilingual (the source material).
REFERENCE = {"rus": (0.946, 0.082), "fra": (0.94, 0.087), "afr": (0.79, 0.18), "ara": (0.94, 0.08),
             "kor": (0.92, 0.11), "tam": (0.77, 0.19)}


def featurizer_settings(config: Path) -> dict:
    """Model name, prompt and runtime of the SentenceEmbeddingFeaturizer in a Rasa config."""
    settings = {**SentenceEmbeddingFeaturizer.get_default_config(),
                **(component_options(config, SentenceEmbeddingFeaturizer.__name__) or {})}
    return {"model_name": settings[MODEL_NAME_KEY], "prompt": settings[PROMPT_KEY], "runtime": settings[RUNTIME_KEY]}


def pair_statistics(foreign: np.ndarray, english: np.ndarray) -> dict:
    """Cosine of aligned pairs, and retrieval accuracy in both directions (vectors are L2-normalised)."""
    similarity = foreign @ english.T
    aligned = np.diag(similarity)
    truth = np.arange(len(aligned))
    return {
        "n": int(len(aligned)),
        "mean": round(float(aligned.mean()), 4),
        "std": round(float(aligned.std()), 4),
        "retrieval_to_english": round(float((similarity.argmax(axis=1) == truth).mean()), 4),
        "retrieval_from_english": round(float((similarity.argmax(axis=0) == truth).mean()), 4),
        "cosines": aligned.round(4).tolist(),
    }


def read_lines(path: Path) -> list:
    return path.read_text(encoding="utf-8").splitlines()


def plot_histograms(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    columns = 5
    rows = -(-len(results) // columns)
    figure, axes = plt.subplots(rows, columns, figsize=(3 * columns, 2.4 * rows), sharex=True, squeeze=False)
    for axis, (language, result) in zip(axes.flat, results.items()):
        axis.hist(result["cosines"], bins=40, range=(0, 1), color="tab:blue")
        axis.set_title(f"{language}: mean {result['mean']:.3f}", fontsize=9)
    for axis in list(axes.flat)[len(results):]:
        axis.axis("off")
    figure.supxlabel("cosine similarity of a sentence and its English translation")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", type=Path, default=Path("config.yml"))
    parser.add_argument("--pairs", type=Path, required=True, help="folder with tatoeba.XXX-eng.* files")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    settings = featurizer_settings(args.config)
    pairs = tatoeba_pairs(args.pairs)
    if not pairs:
        print(f"error: no tatoeba.XXX-eng.XXX / tatoeba.XXX-eng.eng pairs in {args.pairs}", file=sys.stderr)
        return 2
    results = {}
    for language, (foreign_file, english_file) in pairs.items():
        foreign, english = read_lines(foreign_file), read_lines(english_file)
        if len(foreign) != len(english):
            print(f"error: {foreign_file} and {english_file} differ in length", file=sys.stderr)
            return 2
        print(f"{language}: encoding {len(foreign)} pairs")
        results[language] = pair_statistics(
            encode(settings["model_name"], foreign, settings["prompt"], 64, True, settings["runtime"]),
            encode(settings["model_name"], english, settings["prompt"], 64, True, settings["runtime"]))
    args.out.mkdir(parents=True, exist_ok=True)
    plot_histograms(results, args.out / "similarity_histogram.png")
    summary = {language: {k: v for k, v in r.items() if k != "cosines"} for language, r in results.items()}
    (args.out / "similarity.json").write_text(json.dumps({**settings, "languages": summary}, indent=2) + "\n")
    print("\n| language | n | mean cosine | std | retrieval →eng | retrieval eng→ | stsb-xlm-r-multilingual mean / std |")
    print("|---|---|---|---|---|---|---|")
    for language, r in summary.items():
        reference = "{} / {}".format(*REFERENCE[language]) if language in REFERENCE else "–"
        print(f"| {language} | {r['n']} | {r['mean']:.3f} | {r['std']:.3f} | {r['retrieval_to_english']:.3f} | "
              f"{r['retrieval_from_english']:.3f} | {reference} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
