"""What the zero-shot fallback buys on intents nobody wrote examples for, and what it costs.

    python -m training.zeroshot_benchmark --out DIR [--xsid ../shared/data/xsid]

Trains on xSID's English `en.valid.conll` WITHOUT three intents, declares those three as zero-shot
labels (one-line English descriptions), and evaluates every `*.test.conll` twice through Rasa: with the
ZeroShotIntentClassifier and without it (the project's config.yml otherwise). Per language:
`unseen_accuracy`, `seen_accuracy` and `seen_accuracy_without_fallback`; plus `latency_ms` (median
and p95 parse latency the fallback adds). Writes DIR/report.json and prints a table.
"""
import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path

import pandas as pd
import yaml

from training.datasets import load_examples, rasa_safe_names
from training.evaluate import evaluate_config, quiet_rasa_logs

ROOT = Path(__file__).resolve().parent.parent
ZERO_SHOT = "components.zero_shot_classifier.ZeroShotIntentClassifier"
HEAD = "components.keras_intent_classifier.KerasIntentClassifier"
UNSEEN = {
    "reminder/show_reminders": "show me the reminders I have",
    "alarm/show_alarms": "show me the alarms I have set",
    "RateBook": "give this book a rating of stars",
}
NON_ENGLISH = ["tr", "de", "zh", "ar", "ja", "it", "da", "nl"]


def write_configs(base_config: Path, folder: Path, zero_shot: dict) -> tuple:
    """The project's pipeline without any zero-shot step, and the same with `zero_shot`'s options."""
    config = yaml.safe_load(base_config.read_text(encoding="utf-8"))
    pipeline = [c for c in config["pipeline"] if c["name"] != ZERO_SHOT]
    config["pipeline"] = pipeline
    without = folder / "without_zero_shot.yml"
    without.write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False), encoding="utf-8")
    head_position = next(i for i, c in enumerate(pipeline) if c["name"] == HEAD)
    config["pipeline"] = pipeline[: head_position + 1] + [{"name": ZERO_SHOT, **zero_shot}] + pipeline[head_position + 1:]
    with_zero_shot = folder / "with_zero_shot.yml"
    with_zero_shot.write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return without, with_zero_shot


def accuracy(frame: pd.DataFrame) -> float:
    return round(float((frame["intent"] == frame["predicted"]).mean()), 4) if len(frame) else float("nan")


def per_language(with_fallback: pd.DataFrame, without_fallback: pd.DataFrame) -> dict:
    report = {}
    for test, frame in with_fallback.groupby("test", sort=False):
        baseline = without_fallback[without_fallback["test"] == test]
        unseen = frame["intent"].isin(UNSEEN)
        report[test.split(".")[0]] = {
            "n_unseen": int(unseen.sum()),
            "n_seen": int((~unseen).sum()),
            "unseen_accuracy": accuracy(frame[unseen]),
            "seen_accuracy": accuracy(frame[~unseen]),
            "seen_accuracy_without_fallback": accuracy(baseline[~baseline["intent"].isin(UNSEEN)]),
        }
    return report


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--xsid", type=Path, default=ROOT.parent / "shared" / "data" / "xsid")
    parser.add_argument("--config", type=Path, default=ROOT / "config.yml")
    parser.add_argument("--tests", default="*.test.conll", help="which files of --xsid to test on (a glob)")
    parser.add_argument("--head-threshold", type=float, help="override the classifier's default")
    parser.add_argument("--min-confidence", type=float, help="override the classifier's default")
    args = parser.parse_args(argv)
    quiet_rasa_logs()
    train = load_examples(args.xsid / "en.valid.conll")
    train = train[~train["intent"].isin(UNSEEN)].reset_index(drop=True)
    tests = {p.name: load_examples(p) for p in sorted(args.xsid.glob(args.tests))}
    safe = rasa_safe_names(UNSEEN)  # the names Rasa sees; evaluate maps them back
    options = {"labels": {safe[k]: v for k, v in UNSEEN.items()}}
    for key, value in (("head_threshold", args.head_threshold), ("min_confidence", args.min_confidence)):
        if value is not None:
            options[key] = value
    with tempfile.TemporaryDirectory() as tmp:
        without, with_zero_shot = write_configs(args.config, Path(tmp), options)
        report_without, predictions_without = evaluate_config(without, train, tests, Path(tmp, "without"))
        report_with, predictions_with = evaluate_config(with_zero_shot, train, tests, Path(tmp, "with"),
                                                        extra_intents=safe)
    languages = per_language(predictions_with, predictions_without)
    added = {key: round(report_with["latency_ms"][key] - report_without["latency_ms"][key], 2)
             for key in ("median", "p95")}
    report = {
        "unseen_intents": UNSEEN,
        "zero_shot_options": {k: v for k, v in options.items() if k != "labels"},
        "languages": languages,
        "latency_ms": added,
        "latency_ms_with_fallback": report_with["latency_ms"],
        "latency_ms_without_fallback": report_without["latency_ms"],
        "mean_non_english": {key: round(statistics.mean(languages[l][key] for l in non_english), 4)
                             for key in ("unseen_accuracy", "seen_accuracy", "seen_accuracy_without_fallback")}
        if (non_english := [language for language in NON_ENGLISH if language in languages]) else {},
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "report.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print("| language | unseen intents: accuracy | seen: accuracy | seen, without zero-shot |")
    print("|---|---|---|---|")
    for language, row in languages.items():
        print(f"| {language} | {row['unseen_accuracy']:.3f} ({row['n_unseen']}) | {row['seen_accuracy']:.3f} | "
              f"{row['seen_accuracy_without_fallback']:.3f} |")
    mean = report["mean_non_english"]
    if mean:
        print(f"| mean of non-English | {mean['unseen_accuracy']:.3f} | {mean['seen_accuracy']:.3f} | "
              f"{mean['seen_accuracy_without_fallback']:.3f} |")
    print(f"\nadded parse latency: median {added['median']} ms, p95 {added['p95']} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
