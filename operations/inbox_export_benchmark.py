"""How long `python -m training.inbox export` takes on a large store, and whether its memory grows with it.

    python -m operations.inbox_export_benchmark --conversations 1000,10000 --out reports/inbox-export

For each size, a SQLite store of Rasa's SQL tracker store is filled with that many conversations (three user
turns each, with their parse data, the `language` slot and the bot's answers, in eight languages; TEMPLATES
distinct conversations, repeated under other senders straight in SQL), then the export runs in its own process.
Writes DIR/report.json: per size, the export's seconds and its peak resident memory (MB).
"""
import argparse
import asyncio
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from training.project import ROOT

TEMPLATES = 200
LANGUAGES = ["km", "tr", "de", "sw", "zh", "ar", "en", "kk"]


async def save_templates(db: Path) -> None:
    """TEMPLATES conversations through the store's own `save`: the rows Rasa itself writes."""
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import BotUttered, SlotSet, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    domain = Domain.load(str(ROOT / "domain.yml"))
    store = SQLTrackerStore(domain, dialect="sqlite", db=str(db))
    now = time.time()
    for number in range(TEMPLATES):
        language = LANGUAGES[number % len(LANGUAGES)]
        tracker = DialogueStateTracker(f"template-{number}", domain.slots)
        for turn in range(3):
            text = f"message {number % 50} of kind {turn} ({language})"
            confidence = [0.25, 0.45, 0.9][(number + turn) % 3]
            intent = {"name": "greet" if confidence > 0.3 else "nlu_fallback", "confidence": confidence}
            parse = {"text": text, "intent": intent, "entities": [{"entity": "language", "value": language}],
                     "intent_ranking": [intent, {"name": "help", "confidence": 0.1}]}
            tracker.update(UserUttered(text, intent, parse["entities"], parse, timestamp=now + turn * 30))
            tracker.update(SlotSet("language", language, timestamp=now + turn * 30 + 1))
            tracker.update(BotUttered("an answer", timestamp=now + turn * 30 + 2))
        await store.save(tracker)


def fill(db: Path, conversations: int) -> None:
    """The templates, then copies of their events under new senders until there are `conversations`."""
    asyncio.run(save_templates(db))
    with sqlite3.connect(db) as connection:
        columns = [row[1] for row in connection.execute("PRAGMA table_info(events)") if row[1] not in ("id",)]
        copied = ", ".join(f"'copy-{{n}}-' || sender_id" if c == "sender_id" else c for c in columns)
        for copy in range(1, (conversations + TEMPLATES - 1) // TEMPLATES):
            connection.execute(f"INSERT INTO events ({', '.join(columns)}) SELECT {copied.format(n=copy)} FROM events "
                               "WHERE sender_id LIKE 'template-%'")


def timed_export(endpoints: Path, sheet: Path) -> dict:
    """Runs the export in a process of its own: its wall time and its peak resident memory."""
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "training.inbox", "export", "--endpoints", str(endpoints),
                                "--out", str(sheet)], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               env={**os.environ, "PYTHONPATH": str(ROOT)})
    _, status, usage = os.wait4(process.pid, 0)
    if status != 0:
        raise RuntimeError(f"the export failed (status {status}); run it by hand to see why")
    return {"seconds": round(time.perf_counter() - started, 1), "peak_rss_mb": round(usage.ru_maxrss / 1024)}


def table(report: dict) -> str:
    lines = ["| conversations in the store | export, seconds | peak resident memory |", "|---|---|---|"]
    lines += [f"| {int(size):,} | {row['seconds']} s | {row['peak_rss_mb']} MB |" for size, row in report.items()]
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--conversations", default="1000,10000", help="store sizes, comma-separated")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    report = {}
    for size in [int(n) for n in args.conversations.split(",")]:
        with tempfile.TemporaryDirectory() as tmp:
            db, endpoints = Path(tmp, "conversations.db"), Path(tmp, "endpoints.yml")
            fill(db, size)
            endpoints.write_text(f"tracker_store:\n  type: SQL\n  dialect: sqlite\n  db: {db}\n")
            report[str(size)] = timed_export(endpoints, Path(tmp, "inbox.xlsx"))
            print(f"{size} conversations: {report[str(size)]}")
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "report.json").write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
