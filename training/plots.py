"""Pictures of evaluation results: intent accuracy and entity F1 per language, confusion matrix, calibration."""
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no screen needed
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from training.metrics import reliability  # noqa: E402


def accuracy_rows(report: dict, score=lambda result: result["accuracy"]) -> dict:
    """{label: score} per test file, or per language inside a file that has a language column (files without
    the score, such as entity F1 where a file annotates no entities, are left out)."""
    rows = {}
    for name, result in report["tests"].items():
        by_language = result["by_language"]
        parts = {f"{name} [{lang}]": r for lang, r in by_language.items()} if by_language else {
            name.split(".")[0] if name.endswith(".conll") else name: result}
        for label, part in parts.items():
            try:
                rows[label] = score(part)
            except KeyError:
                continue
    return rows


def entity_f1(result: dict) -> float:
    return result["entities"]["f1"]


def plot_accuracy_by_language(report: dict, path: Path, score=lambda result: result["accuracy"],
                              measure: str = "intent accuracy") -> None:
    ours = accuracy_rows(report, score)
    if not ours:
        return
    series = {Path(report["config"]).name: ours}
    if report.get("baseline"):
        series[Path(report["baseline"]["config"]).name + " (baseline)"] = accuracy_rows(report["baseline"], score)
    labels = list(ours)
    width = 0.8 / len(series)
    figure, axes = plt.subplots(figsize=(max(6, 0.8 * len(labels) + 2), 4.5))
    for i, (name, values) in enumerate(series.items()):
        positions = np.arange(len(labels)) + (i - (len(series) - 1) / 2) * width
        axes.bar(positions, [values.get(label, 0) for label in labels], width, label=name)
    axes.set_xticks(np.arange(len(labels)))
    axes.set_xticklabels(labels, rotation=30, ha="right")
    axes.set_ylim(0, 1.12)
    axes.set_yticks(np.linspace(0, 1, 6))
    axes.set_ylabel(measure)
    axes.set_title(f"Trained on {Path(report['train']).name} ({report['n_train']} examples)")
    axes.grid(axis="y", alpha=0.3)
    axes.legend(loc="upper center", ncol=len(series), fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def plot_confusion_matrix(predictions: pd.DataFrame, path: Path, title: str) -> None:
    """Rows: true intent; columns: predicted; each row sums to 1 over all test files."""
    labels = sorted(set(predictions["intent"]) | set(predictions["predicted"].fillna("(none)")))
    index = {label: i for i, label in enumerate(labels)}
    counts = np.zeros((len(labels), len(labels)))
    for truth, predicted in zip(predictions["intent"], predictions["predicted"].fillna("(none)")):
        counts[index[truth], index[predicted]] += 1
    rates = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    size = max(6, 0.45 * len(labels) + 3)
    figure, axes = plt.subplots(figsize=(size, size))
    image = axes.imshow(rates, cmap="Blues", vmin=0, vmax=1)
    axes.set_xticks(range(len(labels)))
    axes.set_xticklabels(labels, rotation=90, fontsize=8)
    axes.set_yticks(range(len(labels)))
    axes.set_yticklabels(labels, fontsize=8)
    axes.set_xlabel("predicted")
    axes.set_ylabel("true intent")
    axes.set_title(f"{title}: {len(predictions)} test messages")
    figure.colorbar(image, ax=axes, fraction=0.046)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def plot_calibration(predictions: pd.DataFrame, path: Path, title: str, bins: int = 10) -> None:
    """Reliability diagram: accuracy against confidence, one line per test file; the diagonal is perfect."""
    figure, axes = plt.subplots(figsize=(6, 5.5))
    axes.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=1, label="confidence = accuracy")
    for test, frame in predictions.groupby("test", sort=False):
        per_bin = reliability(frame["confidence"], frame["intent"] == frame["predicted"], bins)
        axes.plot(per_bin["confidence"], per_bin["accuracy"], marker="o", linewidth=1, markersize=3,
                  label=test.split(".")[0] if test.endswith(".conll") else test)
    axes.set_xlim(0, 1)
    axes.set_ylim(0, 1.02)
    axes.set_xlabel("confidence of the predicted intent")
    axes.set_ylabel("accuracy")
    axes.set_title(f"{title}: calibration")
    axes.grid(alpha=0.3)
    axes.legend(fontsize=7, ncol=2, loc="upper left")
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def plot_false_capture(columns: dict, path: Path) -> None:
    """Per corpus and language, the share of messages a zero-shot label took although about something else;
    `columns` maps a label set's name to its {"xsid": {language: rate}, "tatoeba": {...}}."""
    corpora = ["xsid", "tatoeba"]
    figure, panes = plt.subplots(1, 2, figsize=(13, 4.2), sharey=True)
    for pane, corpus in zip(panes, corpora):
        languages = list(next(iter(columns.values()))[corpus])
        width = 0.8 / len(columns)
        for i, (name, rates) in enumerate(columns.items()):
            positions = np.arange(len(languages)) + (i - (len(columns) - 1) / 2) * width
            pane.bar(positions, [100 * rates[corpus].get(l, 0) for l in languages], width, label=name)
        pane.axhline(1.0, color="grey", linestyle="--", linewidth=1, label="goal: 1%")
        pane.set_xticks(np.arange(len(languages)))
        pane.set_xticklabels(languages, rotation=30)
        pane.set_title(f"{corpus}: messages about something else")
        pane.grid(axis="y", alpha=0.3)
    panes[0].set_ylabel("taken by a zero-shot label (%)")
    panes[0].legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)
