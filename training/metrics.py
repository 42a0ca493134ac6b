"""The small statistics the evaluation tools and their plots share: percentiles, calibration, entity span scores."""
from typing import List

import numpy as np
import pandas as pd


def reliability(confidence: pd.Series, correct: pd.Series, bins: int = 10) -> pd.DataFrame:
    """Per equal-width confidence bin: mean confidence, accuracy and message count."""
    which = np.clip(np.digitize(confidence, np.linspace(0, 1, bins + 1)[1:-1]), 0, bins - 1)
    frame = pd.DataFrame({"bin": which, "confidence": np.asarray(confidence), "correct": np.asarray(correct)})
    return frame.groupby("bin").agg(confidence=("confidence", "mean"), accuracy=("correct", "mean"),
                                    n=("correct", "size"))


def calibration_error(confidence: pd.Series, correct: pd.Series, bins: int = 10) -> float:
    """Expected calibration error: |mean confidence - accuracy| per confidence bin, weighted by its size."""
    per_bin = reliability(confidence, correct, bins)
    return float((per_bin["n"] * (per_bin["confidence"] - per_bin["accuracy"]).abs()).sum() / per_bin["n"].sum())


def percentile(values: List[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def span_scores(gold: List[List[dict]], predicted: List[List[dict]]) -> dict:
    """Exact span-level scores over all entity types: an entity counts when its start, end and type all match a
    gold one. {"f1", "precision", "recall", "n" (gold entities), "by_type": {type: {"f1", "n"}}}."""
    counts: dict = {}
    for gold_entities, predicted_entities in zip(gold, predicted):
        gold_spans = {(e["start"], e["end"], e["entity"]) for e in gold_entities}
        predicted_spans = {(e["start"], e["end"], e["entity"]) for e in predicted_entities}
        for spans, key in ((gold_spans & predicted_spans, "tp"), (predicted_spans - gold_spans, "fp"),
                           (gold_spans - predicted_spans, "fn")):
            for *_, entity_type in spans:
                counts.setdefault(entity_type, {"tp": 0, "fp": 0, "fn": 0})[key] += 1
    total = {key: sum(c[key] for c in counts.values()) for key in ("tp", "fp", "fn")}
    return {**_f1(total), "n": total["tp"] + total["fn"],
            "by_type": {t: {"f1": _f1(c)["f1"], "n": c["tp"] + c["fn"]} for t, c in sorted(counts.items())}}


def _f1(count: dict) -> dict:
    precision = count["tp"] / (count["tp"] + count["fp"]) if count["tp"] + count["fp"] else 0.0
    recall = count["tp"] / (count["tp"] + count["fn"]) if count["tp"] + count["fn"] else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"f1": round(f1, 4), "precision": round(precision, 4), "recall": round(recall, 4)}
