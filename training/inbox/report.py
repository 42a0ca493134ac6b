"""Where the bot fails, per language and per day: how many messages, and the share flagged for each reason."""
import json
from pathlib import Path
from typing import Dict, List

from training.inbox.conversations import REVIEW_REASONS, Turn

# Languages drawn, the busiest first: more would make the panels too small to read.
PLOTTED_LANGUAGES = 12


class Tally:
    """Messages and flagged messages per (language, day), counted as conversations are read."""

    def __init__(self) -> None:
        self.counts: Dict[str, Dict[str, Dict[str, int]]] = {}

    def add(self, turns: List[Turn]) -> None:
        for turn in turns:
            day = self.counts.setdefault(turn.language or "und", {}).setdefault(turn.day, {"messages": 0})
            day["messages"] += 1
            for reason in turn.reasons:
                day[reason] = day.get(reason, 0) + 1

    def table(self) -> List[dict]:
        """One row per language and day: its messages and each reason's share of them."""
        return [{"language": language, "day": day, "messages": counts["messages"],
                 **{reason: round(counts.get(reason, 0) / counts["messages"], 4) for reason in REVIEW_REASONS}}
                for language, days in sorted(self.counts.items()) for day, counts in sorted(days.items())]


def write_report(tally: Tally, out: Path) -> None:
    """report.json, the table as Markdown (table.md) and a PNG of each busy language's shares by day."""
    out.mkdir(parents=True, exist_ok=True)
    rows = tally.table()
    (out / "report.json").write_text(json.dumps({"reasons": list(REVIEW_REASONS), "by_language_and_day": rows},
                                                indent=1) + "\n", encoding="utf-8")
    lines = ["| language | day | messages | " + " | ".join(REVIEW_REASONS) + " |",
             "|---|---|---|" + "---|" * len(REVIEW_REASONS)]
    lines += [f"| {r['language']} | {r['day']} | {r['messages']} | " +
              " | ".join(f"{r[reason]:.1%}" for reason in REVIEW_REASONS) + " |" for r in rows]
    (out / "table.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    _plot(rows, out / "reasons_by_language.png")


def _plot(rows: List[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    volume: Dict[str, int] = {}
    for row in rows:
        volume[row["language"]] = volume.get(row["language"], 0) + row["messages"]
    languages = sorted(volume, key=volume.get, reverse=True)[:PLOTTED_LANGUAGES] or ["und"]
    columns = min(4, len(languages))
    lines = (len(languages) + columns - 1) // columns
    figure, axes = plt.subplots(lines, columns, figsize=(4 * columns, 2.8 * lines), squeeze=False, sharey=True)
    for axis, language in zip(axes.flat, languages):
        days = [row for row in rows if row["language"] == language]
        for reason in REVIEW_REASONS:
            axis.plot([row["day"] for row in days], [row[reason] for row in days], marker="o", label=reason)
        axis.set_title(f"{language} ({volume.get(language, 0)} messages)")
        axis.tick_params(axis="x", labelrotation=45, labelsize=7)
    for axis in list(axes.flat)[len(languages):]:
        axis.axis("off")
    axes.flat[0].set_ylabel("share of messages")
    axes.flat[0].legend(fontsize=7)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
