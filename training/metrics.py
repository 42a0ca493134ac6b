"""The small statistics the evaluation tools and their plots share: percentiles and calibration."""
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
