"""Choose settings without test data: cross-lingual cross-validation on a training file and its translation.

    python -m training.crossval --config config.yml --train ../shared/data/xsid/en.valid.conll \
        --translation ../shared/data/xsid/tr.valid.conll --out reports/crossval [--folds 5] [--seed 0]

Row i of --translation is the translation of row i of --train (xSID's tr.valid.conll is en.valid.conll in
Turkish). Each fold trains CONFIG through Rasa on the English rows of the other folds and parses its own
held-out rows, in English and in translation: sentences the bot never saw in any language, as in real use.
(Testing on the translation of the training file itself mostly measures whether a translation lands next
to its own original: the encoder variants we compared all tie there.) Writes DIR/report.json with the
held-out accuracy per fold and overall, and the calibration error overall, in both languages; where the files
annotate entities (xSID's slots), `entity_f1` too: exact-span F1 over all held-out sentences, in both languages,
and `entities`: precision, recall and F1 overall and per type. DIR/predictions.csv holds every held-out parse.
"""
import argparse
import json
import sys
import tempfile
from pathlib import Path

import pandas as pd
from sklearn.model_selection import StratifiedKFold

from training.datasets import load_examples
from training.evaluate import evaluate_config, has_entities, quiet_rasa_logs
from training.metrics import calibration_error, span_scores


def paired(train: pd.DataFrame, translation: pd.DataFrame) -> pd.DataFrame:
    """The translation's rows, checked to line up with the training rows."""
    if len(train) != len(translation) or list(train["intent"]) != list(translation["intent"]):
        raise SystemExit("error: --translation must have the rows of --train, in the same order, with the same "
                         "intents (one translated sentence per training sentence).")
    return translation


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", type=Path, required=True)
    parser.add_argument("--train", type=Path, required=True, help="English examples (text, intent)")
    parser.add_argument("--translation", type=Path, required=True, help="the same rows, translated")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    quiet_rasa_logs()
    train = load_examples(args.train)
    translation = paired(train, load_examples(args.translation))
    splits = StratifiedKFold(args.folds, shuffle=True, random_state=args.seed).split(train, train["intent"])
    folds, predictions = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for fold, (kept, held_out) in enumerate(splits):
            tests = {"english": train.iloc[held_out], "translation": translation.iloc[held_out]}
            report, predicted = evaluate_config(args.config, train.iloc[kept].reset_index(drop=True), tests,
                                                Path(tmp, f"fold{fold}"))
            folds.append({name: result["accuracy"] for name, result in report["tests"].items()})
            predictions.append(predicted)
    scored = pd.concat(predictions, ignore_index=True)
    correct = scored["intent"] == scored["predicted"]
    accuracy = {name: round(float(correct[frame.index].mean()), 4) for name, frame in scored.groupby("test")}
    calibration = {name: round(calibration_error(frame["confidence"], correct[frame.index]), 4)
                   for name, frame in scored.groupby("test")}
    report = {"config": str(args.config), "train": str(args.train), "translation": str(args.translation),
              "folds": folds, "accuracy": accuracy, "calibration_error": calibration}
    if has_entities(scored):
        entities = {name: span_scores(frame["entities"], frame["predicted_entities"])
                    for name, frame in scored.groupby("test")}
        report["entity_f1"] = {name: scores["f1"] for name, scores in entities.items()}
        report["entities"] = entities  # precision, recall and F1 per entity type
    args.out.mkdir(parents=True, exist_ok=True)
    scored.to_csv(args.out / "predictions.csv", index=False)
    (args.out / "report.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"held-out accuracy over {args.folds} folds: English {accuracy['english']:.3f}, translation "
          f"({args.translation.name}) {accuracy['translation']:.3f}; calibration error "
          f"{calibration['english']:.3f} / {calibration['translation']:.3f}"
          + (f"; entity F1 {report['entity_f1']['english']:.3f} / {report['entity_f1']['translation']:.3f}"
             if "entity_f1" in report else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
