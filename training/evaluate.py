"""Cross-lingual evaluation through Rasa's own training and parsing code.

    python -m training.evaluate --config config.yml --train TRAIN --test TEST [TEST ...] --out DIR
                                [--baseline CONFIG]

Trains the NLU pipeline of CONFIG on the English TRAIN file (`rasa.model_training.train_nlu`), parses
every TEST message one at a time with `Agent.parse_message`, as a running bot does, and writes
DIR/report.json, DIR/accuracy_by_language.png, DIR/entities_by_language.png (where the tests annotate entities),
DIR/confusion_matrix.png and DIR/calibration.png.
`accuracy` scores the top intent other than `nlu_fallback`; `fallback_rate` says how often the
FallbackClassifier stepped in; `calibration_error` how far that intent's confidence is from accuracy (small
in every language: a fallback threshold means the same in every language). Where the test files annotate
entities (Rasa's markup, xSID's slot tags), `entities` has exact span-level `f1`, `precision`, `recall` over all
types the training data annotates and `by_type`, and `dates`: the share of gold dates a predicted date or time
overlaps and the share of predicted dates and times with an ISO 8601 value; per file and per language.
"""
import argparse
import asyncio
import json
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import pandas as pd
from sklearn.metrics import f1_score
from tqdm import tqdm

from training.datasets import DatasetError, load_examples, rasa_safe_names, safe_name, write_rasa_nlu
from training.metrics import calibration_error, percentile, span_scores

FALLBACK_INTENT = "nlu_fallback"
TIME_TYPES = {"time", "datetime"}  # a date or time: Duckling's dimension, xSID's slot
ISO_TIME = re.compile(r"\d{4}-\d{2}-\d{2}(T\d{2}:\d{2})?")
MAX_CONFUSIONS = 30


def evaluate_config(config: Path, train: pd.DataFrame, tests: Dict[str, pd.DataFrame], workdir: Path,
                    extra_intents: Optional[Dict[str, str]] = None) -> Tuple[dict, pd.DataFrame]:
    """Trains CONFIG on TRAIN, parses every test message; returns its report and the predictions.

    `extra_intents` maps intents the config knows without examples (zero-shot labels) to their Rasa names.
    """
    from rasa.core.agent import Agent
    from rasa.model_training import train_nlu

    workdir.mkdir(parents=True, exist_ok=True)
    names = rasa_safe_names(train["intent"])
    write_rasa_nlu(train, workdir / "train.yml", names)
    names.update(extra_intents or {})
    original_name = {safe: name for name, safe in names.items()}
    entity_types = {safe_name(e["entity"]): e["entity"] for entities in train.get("entities", []) for e in entities}
    os.environ["RASA_CACHE_DIRECTORY"] = str(workdir / "rasa-cache")  # measure a real training

    started = time.perf_counter()
    model = train_nlu(config=str(config), nlu_data=str(workdir / "train.yml"), output=str(workdir / "models"))
    train_seconds = time.perf_counter() - started
    if model is None:
        raise RuntimeError(f"Rasa could not train {config}; see the log above.")

    agent = Agent.load(model)
    loop = asyncio.new_event_loop()
    latencies: List[float] = []
    results, all_scored = {}, []
    for test_name, frame in tests.items():
        predicted, confidences, fell_back, milliseconds, entities, times = [], [], [], [], [], []
        for text in tqdm(frame["text"], desc=f"{config.name} on {test_name}", unit="msg"):
            started = time.perf_counter()
            parsed = loop.run_until_complete(agent.parse_message(text))
            milliseconds.append((time.perf_counter() - started) * 1000)
            name, confidence = top_intent(parsed)
            predicted.append(original_name.get(name, name))
            confidences.append(confidence)
            fell_back.append((parsed.get("intent") or {}).get("name") == FALLBACK_INTENT)
            entities.append(learned_entities(parsed, entity_types))
            times.append(time_entities(parsed))
        latencies += milliseconds
        scored = frame.assign(predicted=predicted, confidence=confidences, fell_back=fell_back, latency_ms=milliseconds,
                              predicted_entities=entities, predicted_times=times)
        all_scored.append(scored.assign(test=test_name))
        results[test_name] = score_test(scored, known_intents=set(names))
    loop.close()
    report = {
        "config": str(config),
        "tests": results,
        "latency_ms": {"median": round(statistics.median(latencies), 2), "p95": round(percentile(latencies, 95), 2)},
        "train_seconds": round(train_seconds, 1),
        "sentences_per_s": round(1000 * len(latencies) / sum(latencies), 1),
    }
    return report, pd.concat(all_scored, ignore_index=True)


def learned_entities(parsed: dict, entity_types: Dict[str, str]) -> List[dict]:
    """The entities of the types the training data annotates, under their original names (others, such as the
    `language` entity or Duckling's own dimensions, are not what the test files annotate: Rasa's `rasa test nlu`
    drops Duckling's output too)."""
    return [{**entity, "entity": entity_types[entity["entity"]]} for entity in parsed.get("entities") or []
            if entity.get("entity") in entity_types]


def time_entities(parsed: dict) -> List[dict]:
    """Entities that are dates or times: named so (`time`, xSID's `datetime`), or holding an ISO 8601 value."""
    return [{key: entity.get(key) for key in ("start", "end", "entity", "value")} for entity in parsed.get("entities") or []
            if entity.get("entity") in TIME_TYPES or is_iso_time(entity.get("value"))]


def is_iso_time(value) -> bool:
    if isinstance(value, dict):
        return any(is_iso_time(value.get(end)) for end in ("from", "to"))
    return isinstance(value, str) and ISO_TIME.match(value) is not None


def top_intent(parsed: dict) -> Tuple[Optional[str], float]:
    """The best intent that is not the fallback, and its confidence (the FallbackClassifier keeps the
    ranking below it)."""
    for entry in parsed.get("intent_ranking") or [parsed.get("intent") or {}]:
        if entry.get("name") and entry["name"] != FALLBACK_INTENT:
            return entry["name"], float(entry.get("confidence") or 0.0)
    return None, 0.0


def score_test(scored: pd.DataFrame, known_intents: set) -> dict:
    result = scores(scored)
    if has_entities(scored):
        result["entities"] = entity_scores(scored)
    unknown = scored.loc[~scored["intent"].isin(known_intents), "intent"].value_counts()
    result["unknown_intents"] = {name: int(count) for name, count in unknown.items()}
    if "language" in scored.columns:
        result["by_language"] = {language: {**scores(group), **({"entities": entity_scores(group)}
                                                                if has_entities(group) else {})}
                                 for language, group in scored.groupby("language", sort=True)}
    else:
        result["by_language"] = {}
    return result


def entity_scores(scored: pd.DataFrame) -> dict:
    return {**span_scores(scored["entities"], scored["predicted_entities"]), "dates": date_scores(scored)}


def date_scores(scored: pd.DataFrame) -> dict:
    """How many gold dates (TIME_TYPES) a predicted date or time overlaps, and how many predicted dates and times
    carry a normalised value (ISO 8601)."""
    gold = [(g, scored_times) for entities, scored_times in zip(scored["entities"], scored["predicted_times"])
            for g in entities if g["entity"] in TIME_TYPES]
    found = sum(any(p["start"] < g["end"] and g["start"] < p["end"] for p in times) for g, times in gold)
    predicted = [p for times in scored["predicted_times"] for p in times]
    with_value = sum(is_iso_time(p["value"]) for p in predicted)
    return {"gold": len(gold), "overlapped": found, "overlapped_share": round(found / len(gold), 4) if gold else None,
            "predicted": len(predicted), "with_value_share": round(with_value / len(predicted), 4) if predicted else None}


def has_entities(scored: pd.DataFrame) -> bool:
    return "entities" in scored.columns and any(len(entities) for entities in scored["entities"])


def scores(scored: pd.DataFrame) -> dict:
    truth, predicted = scored["intent"], scored["predicted"].fillna("")
    errors = scored[truth != predicted].groupby(["intent", "predicted"]).size().sort_values(ascending=False)
    return {
        "n": int(len(scored)),
        "accuracy": round(float((truth == predicted).mean()), 4),
        "macro_f1": round(float(f1_score(truth, predicted, labels=sorted(set(truth)), average="macro",
                                         zero_division=0)), 4),
        "fallback_rate": round(float(scored["fell_back"].mean()), 4),
        "calibration_error": round(calibration_error(scored["confidence"], truth == predicted), 4),
        "confusions": [{"intent": t, "predicted": p, "count": int(c)}
                       for (t, p), c in errors.head(MAX_CONFUSIONS).items()],
    }


def table(report: dict) -> str:
    """One row per test file (and per language inside it): intent accuracy and macro F1, entity span F1 and the
    share of gold dates a predicted date overlaps, and the baseline's accuracy and entity F1 beside them."""
    baseline = report.get("baseline")
    header = "| test | n | accuracy | macro F1 | entity F1 | dates found |" + (
        " baseline accuracy | baseline entity F1 |" if baseline else "")
    lines = [header, "|" + "---|" * (header.count("|") - 1)]
    for name, result in report["tests"].items():
        rows = [(name, result)] + [(f"{name} [{lang}]", r) for lang, r in result["by_language"].items()]
        for label, row in rows:
            cells = [label, row["n"], f"{row['accuracy']:.3f}", f"{row['macro_f1']:.3f}", _entity_f1(row),
                     _dates_found(row)]
            other = _lookup(baseline, name, label) if baseline else None
            if other:
                cells += [f"{other['accuracy']:.3f}", _entity_f1(other)]
            lines.append("| " + " | ".join(str(c) for c in cells) + " |")
    return "\n".join(lines)


def _entity_f1(row: dict) -> str:
    return f"{row['entities']['f1']:.3f}" if "entities" in row else "–"


def _dates_found(row: dict) -> str:
    share = (row.get("entities") or {}).get("dates", {}).get("overlapped_share")
    return f"{share:.3f}" if share is not None else "–"


def _lookup(baseline: dict, name: str, label: str) -> Optional[dict]:
    result = baseline["tests"].get(name)
    if result is None or label == name:
        return result
    return result["by_language"].get(label[len(name) + 2:-1])


def quiet_rasa_logs() -> None:
    """Rasa logs every parse at debug level; an evaluation of thousands of messages wants warnings only."""
    import logging

    from rasa.utils.common import configure_logging_and_warnings
    from rasa.utils.log_utils import configure_structlog

    configure_logging_and_warnings(logging.WARNING)
    configure_structlog(logging.WARNING)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", type=Path, required=True, help="Rasa config to evaluate")
    parser.add_argument("--train", type=Path, required=True, help="English training examples")
    parser.add_argument("--test", type=Path, nargs="+", required=True, help="test files, any language")
    parser.add_argument("--out", type=Path, required=True, help="folder for report.json and plots")
    parser.add_argument("--baseline", type=Path, help="a second config, evaluated on the same data")
    args = parser.parse_args(argv)

    from training.plots import entity_f1, plot_accuracy_by_language, plot_calibration, plot_confusion_matrix

    quiet_rasa_logs()

    try:
        train = load_examples(args.train)
        tests = {path.name: load_examples(path) for path in args.test}
    except DatasetError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        main_report, predictions = evaluate_config(args.config, train, tests, Path(tmp, "main"))
        report = {"train": str(args.train), "n_train": int(len(train)), **main_report}
        if args.baseline:
            report["baseline"], _ = evaluate_config(args.baseline, train, tests, Path(tmp, "baseline"))
    predictions.to_csv(args.out / "predictions.csv", index=False)
    (args.out / "report.json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    plot_accuracy_by_language(report, args.out / "accuracy_by_language.png")
    plot_accuracy_by_language(report, args.out / "entities_by_language.png", entity_f1, "entity F1 (exact spans)")
    plot_confusion_matrix(predictions, args.out / "confusion_matrix.png", title=str(args.config))
    plot_calibration(predictions, args.out / "calibration.png", title=str(args.config))
    print(table(report))
    for name, result in report["tests"].items():
        if result["unknown_intents"]:
            print(f"note: {name} has intents the training data lacks, counted as errors: {result['unknown_intents']}")
    print(f"\nlatency median {report['latency_ms']['median']} ms, p95 {report['latency_ms']['p95']} ms; "
          f"training {report['train_seconds']} s; wrote {args.out / 'report.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
