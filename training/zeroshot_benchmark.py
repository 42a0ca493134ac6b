"""What the zero-shot fallback buys on intents nobody wrote examples for, and what it costs.

    python -m training.zeroshot_benchmark --out DIR [--xsid ../shared/data/xsid] [--tatoeba ../shared/data/tatoeba]

Trains on xSID's English `en.valid.conll` WITHOUT three intents, declares those three as zero-shot
labels (one-line English descriptions), and evaluates every `*.test.conll` twice through Rasa: with the
ZeroShotIntentClassifier and without it (the project's config.yml otherwise). Per language:
`unseen_accuracy`, `seen_accuracy` and `seen_accuracy_without_fallback`; plus `latency_ms` (median
and p95 of the parse latency the fallback adds, the same messages parsed by both models in turn).

`false_capture`, per language, is the share of messages a zero-shot label takes although they are about
something else: on the xSID test files (their intents are head intents or the three labels) and on every
Tatoeba sentence (everyday sentences about none of the labels; those of the classifier's background file
are left out, since they calibrate it). It is measured with the three labels, and again with config.yml's
own zero-shot step as declared (`config_labels`). Writes DIR/report.json and DIR/false_capture.png, and
prints tables.

The options that override the classifier's defaults (`--background`, the rates, ...) apply to both label sets.
`--background FILE` calibrates on other text, e.g. the first halves of the pairs to measure false capture on the
shipped background's sentences (development data) instead of the test halves.
"""
import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict

import pandas as pd
import yaml

from components.zero_shot.background_null import read_background
from components.zero_shot_classifier import BACKGROUND_KEY, LABELS_KEY, ZeroShotIntentClassifier
from training.datasets import load_examples, rasa_safe_names
from training.evaluate import evaluate_config, quiet_rasa_logs
from training.metrics import percentile
from training.project import CONFIG, TATOEBA, XSID, component_options, newest_model, tatoeba_lines

ZERO_SHOT = "components.zero_shot_classifier.ZeroShotIntentClassifier"
HEAD = "components.keras_intent_classifier.KerasIntentClassifier"
UNSEEN = {
    "reminder/show_reminders": "show me the reminders I have",
    "alarm/show_alarms": "show me the alarms I have set",
    "RateBook": "give this book a rating of stars",
}
NON_ENGLISH = ["tr", "de", "zh", "ar", "ja", "it", "da", "nl"]
ABOUT_NONE = "(none of the labels)"  # the intent of every Tatoeba sentence


def zero_shot_settings(config: Path) -> dict:
    """The zero-shot step of a Rasa config, with the classifier's defaults filled in ({} if it has none)."""
    declared = component_options(config, ZeroShotIntentClassifier.__name__)
    return {**ZeroShotIntentClassifier.get_default_config(), **declared} if declared else {}


def tatoeba_sentences(folder: Path, leave_out: set) -> Dict[str, pd.DataFrame]:
    """Every sentence of the Tatoeba pairs by language (English once), without those in `leave_out`."""
    by_language: Dict[str, list] = {}
    for language, foreign, english in tatoeba_lines(folder):
        by_language.setdefault(language, []).extend(foreign)
        by_language.setdefault("eng", []).extend(english)
    by_language = {language: [line for line in lines if line and line not in leave_out]
                   for language, lines in by_language.items()}
    return {f"tatoeba.{language}": pd.DataFrame({"text": sorted(set(texts)), "intent": ABOUT_NONE})
            for language, texts in by_language.items()}


def false_capture(predictions: pd.DataFrame, labels) -> dict:
    """{"xsid": {language: rate}, "tatoeba": {language: rate}}: a label taking a message about something else."""
    rates = {"xsid": {}, "tatoeba": {}}
    for test, frame in predictions.groupby("test", sort=False):
        taken = frame["predicted"].isin(labels) & (frame["predicted"] != frame["intent"])
        corpus, language = ("tatoeba", test.split(".")[1]) if test.startswith("tatoeba.") else ("xsid", test.split(".")[0])
        rates[corpus][language] = round(float(taken.mean()), 4)
    return rates


def write_configs(base_config: Path, folder: Path, zero_shot: dict, overrides: dict) -> tuple:
    """The project's pipeline without any zero-shot step, the same with `zero_shot`'s options, and as declared
    with its zero-shot step's options replaced by `overrides`."""
    config = yaml.safe_load(base_config.read_text(encoding="utf-8"))
    pipeline = [c for c in config["pipeline"] if c["name"] != ZERO_SHOT]
    head_position = next(i for i, c in enumerate(pipeline) if c["name"] == HEAD)
    with_step = pipeline[: head_position + 1] + [{"name": ZERO_SHOT, **zero_shot}] + pipeline[head_position + 1:]
    as_declared = [{**c, **overrides} if c["name"] == ZERO_SHOT else c for c in config["pipeline"]]
    return tuple(_write_config(folder / name, {**config, "pipeline": steps}) for name, steps in
                 (("without_zero_shot.yml", pipeline), ("with_zero_shot.yml", with_step), ("declared.yml", as_declared)))


def _write_config(path: Path, config: dict) -> Path:
    path.write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def accuracy(frame: pd.DataFrame) -> float:
    return round(float((frame["intent"] == frame["predicted"]).mean()), 4) if len(frame) else float("nan")


def per_language(with_fallback: pd.DataFrame, without_fallback: pd.DataFrame) -> dict:
    report = {}
    for test, frame in with_fallback[~with_fallback["test"].str.startswith("tatoeba.")].groupby("test", sort=False):
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


def added_latency_ms(without: Path, with_zero_shot: Path, texts) -> dict:
    """Median and p95 of what the zero-shot step adds to a parse, each message parsed by both models in turn:
    this machine's speed drifts between two separate runs by more than the step costs."""
    import asyncio

    from rasa.core.agent import Agent

    agents, loop, added = (Agent.load(str(without)), Agent.load(str(with_zero_shot))), asyncio.new_event_loop(), []
    for text in texts:
        times = []
        for agent in agents:
            started = time.perf_counter()
            loop.run_until_complete(agent.parse_message(text))
            times.append((time.perf_counter() - started) * 1000)
        added.append(times[1] - times[0])
    loop.close()
    return {"median": round(statistics.median(added), 2), "p95": round(percentile(added, 95), 2)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--xsid", type=Path, default=XSID)
    parser.add_argument("--config", type=Path, default=CONFIG)
    parser.add_argument("--tatoeba", default=str(TATOEBA),
                        help="folder of Tatoeba pairs for false capture on everyday sentences ('' to skip)")
    parser.add_argument("--tests", default="*.test.conll", help="which files of --xsid to test on (a glob)")
    parser.add_argument("--latency-messages", type=int, default=1000, help="test messages for the added latency")
    for option in ("head-threshold", "min-confidence", "false-capture-rate", "language-false-capture-rate", "neighbours"):
        parser.add_argument(f"--{option}", type=float, help="override the classifier's default")
    parser.add_argument("--background", dest=BACKGROUND_KEY,
                        help="override the classifier's background_texts; Tatoeba false capture is then measured "
                             "on the sentences outside that file")
    args = parser.parse_args(argv)
    quiet_rasa_logs()
    train = load_examples(args.xsid / "en.valid.conll")
    train = train[~train["intent"].isin(UNSEEN)].reset_index(drop=True)
    tests = {p.name: load_examples(p) for p in sorted(args.xsid.glob(args.tests))}
    safe = rasa_safe_names(UNSEEN)  # the names Rasa sees; evaluate maps them back
    overrides = {key: int(value) if key == "neighbours" else value for key in
                 ("head_threshold", "min_confidence", "false_capture_rate", "language_false_capture_rate", "neighbours",
                  BACKGROUND_KEY) if (value := getattr(args, key)) is not None}
    options = {"labels": {safe[k]: v for k, v in UNSEEN.items()}, **overrides}
    declared = zero_shot_settings(args.config)
    background = overrides.get(BACKGROUND_KEY, ZeroShotIntentClassifier.get_default_config()[BACKGROUND_KEY])
    everyday = tatoeba_sentences(Path(args.tatoeba), set(read_background(background))) if args.tatoeba else {}
    with tempfile.TemporaryDirectory() as tmp:
        without, with_zero_shot, as_declared = write_configs(args.config, Path(tmp), options, overrides)
        report_without, predictions_without = evaluate_config(without, train, tests, Path(tmp, "without"))
        report_with, predictions_with = evaluate_config(with_zero_shot, train, {**tests, **everyday},
                                                        Path(tmp, "with"), extra_intents=safe)
        if declared.get(LABELS_KEY):
            _, predictions_declared = evaluate_config(as_declared, train, {**tests, **everyday},
                                                      Path(tmp, "declared"))
        sample = pd.concat(tests.values())["text"].head(args.latency_messages).tolist()
        added = added_latency_ms(newest_model(Path(tmp, "without")), newest_model(Path(tmp, "with")), sample)
    languages = per_language(predictions_with, predictions_without)
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
        "false_capture": false_capture(predictions_with, set(safe.values())),
    }
    if declared.get(LABELS_KEY):
        report["config_labels"] = {"labels": list(declared[LABELS_KEY]),
                                   "false_capture": false_capture(predictions_declared, set(declared[LABELS_KEY]))}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "report.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(accuracy_table(report) + "\n\n" + false_capture_table(report))
    from training.plots import plot_false_capture

    columns = {"the three xSID labels": report["false_capture"]}
    if "config_labels" in report:
        columns["config.yml's labels"] = report["config_labels"]["false_capture"]
    plot_false_capture(columns, args.out / "false_capture.png")
    return 0


def accuracy_table(report: dict) -> str:
    """Unseen and seen intents per language, and what the zero-shot step adds to a parse."""
    lines = ["| language | unseen intents: accuracy | seen: accuracy | seen, without zero-shot |", "|---|---|---|---|"]
    for language, row in report["languages"].items():
        lines.append(f"| {language} | {row['unseen_accuracy']:.3f} ({row['n_unseen']}) | {row['seen_accuracy']:.3f} | "
                     f"{row['seen_accuracy_without_fallback']:.3f} |")
    mean = report["mean_non_english"]
    if mean:
        lines.append(f"| mean of non-English | {mean['unseen_accuracy']:.3f} | {mean['seen_accuracy']:.3f} | "
                     f"{mean['seen_accuracy_without_fallback']:.3f} |")
    added = report["latency_ms"]
    return "\n".join(lines) + f"\n\nAdded parse latency: median {added['median']} ms, p95 {added['p95']} ms."


def false_capture_table(report: dict) -> str:
    """The share of messages about something else that a zero-shot label takes, per corpus and language."""
    columns = [("the three xSID labels", report["false_capture"])]
    if "config_labels" in report:
        columns.append((f"config.yml's {', '.join(report['config_labels']['labels'])}",
                        report["config_labels"]["false_capture"]))
    lines = ["| corpus | language | " + " | ".join(f"false capture, {name}" for name, _ in columns) + " |",
             "|---|---|" + "---|" * len(columns)]
    for corpus in ("xsid", "tatoeba"):
        for language in columns[0][1][corpus]:
            cells = [f"{rates[corpus].get(language, float('nan')):.2%}" for _, rates in columns]
            lines.append(f"| {corpus} | {language} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
