"""Learn from conversations: what the bot did not understand, in every language, reviewed in a spreadsheet.

    python -m training.inbox export --endpoints endpoints.redis.yml --out inbox.xlsx
                                    [--since 2026-12-01] [--min-count 2] [--languages km,tr] [--all] [--keep-pii]
    python -m training.inbox import inbox.xlsx
    python -m training.inbox report --endpoints endpoints.redis.yml --out reports/inbox [--since 2026-12-01]

`export` reads the conversations through Rasa's tracker store (the endpoints file's `tracker_store`) and writes
one row per distinct user message the bot did not understand well (training/inbox/conversations.py says when),
most frequent first (`--all`: every message); the author fills `intent` (a drop-down of the domain's intents)
and, optionally, `annotated_text`. `import` appends the labelled rows to data/nlu_reviewed.yml, each in its
language; `make train` then learns from them. `report` writes, per language and day, the share of messages in
each reason for review, as a table and a plot.
"""
import argparse
import asyncio
import datetime
import os
import sys
from pathlib import Path
from typing import Dict, Optional

from tqdm import tqdm

from components.languages.detection import answer_languages
from training.inbox.conversations import conversation_ids, stored_turns
from training.inbox.privacy import masked_rows
from training.inbox.report import Tally, write_report
from training.inbox.reviewed import REVIEWED_FILE, append_examples, labelled_examples, labels, training_texts
from training.inbox.sheet import Row, SheetError, aggregate, read_inbox, write_inbox
from training.project import ROOT


def load_store(endpoints: Path, domain):
    """Rasa's tracker store of an endpoints file, as `rasa run` creates it."""
    from rasa.core.tracker_store import TrackerStore
    from rasa.core.utils import AvailableEndpoints

    if not endpoints.is_file():
        raise SystemExit(f"error: there is no endpoints file {endpoints}: give the one the bot runs with "
                         "(e.g. endpoints.redis.yml, as `make serve` uses).")
    try:
        config = AvailableEndpoints.read_endpoints(str(endpoints)).tracker_store
    except Exception as error:  # Rasa's YAML and schema errors
        raise SystemExit(f"error: {endpoints} cannot be read ({error}); fix the file or give another.") from error
    if config is None:
        raise SystemExit(f"error: {endpoints} has no `tracker_store`: give the endpoints file the bot runs with "
                         "(e.g. endpoints.redis.yml, as `make serve` uses).")
    database = config.kwargs.get("db") if str(config.type).lower() == "sql" and \
        config.kwargs.get("dialect") == "sqlite" else None
    if database and not Path(database).is_file():  # SQLite would create an empty one and find nothing in it
        raise SystemExit(f"error: {endpoints} names the SQLite database {database}, which does not exist: give the "
                         "endpoints file the bot runs with.")
    try:
        return TrackerStore.create(config, domain)
    except Exception as error:  # the store's own: a database file that cannot be opened, a server that is down...
        raise SystemExit(_unreachable(endpoints, error)) from error


def _unreachable(endpoints: Path, error: Exception) -> str:
    return (f"error: the tracker store of {endpoints} cannot be read ({type(error).__name__}: {error}). Is it "
            "running, and is this the endpoints file the bot runs with?")


async def read_conversations(args, domain, on_turns) -> int:
    """Calls `on_turns` with each stored conversation's turns; returns how many conversations there were."""
    store = load_store(args.endpoints, domain)
    try:
        keys = conversation_ids(store, await store.keys())
    except Exception as error:  # Redis creates its client lazily: a server that is down shows here
        raise SystemExit(_unreachable(args.endpoints, error)) from error
    if not keys:
        raise SystemExit(f"error: the tracker store of {args.endpoints} holds no conversations: is this the "
                         "endpoints file the bot runs with (`make serve`: endpoints.redis.yml)? Nothing was written.")
    languages = answer_languages(domain.responses)
    since = _timestamp(args.since)
    unread = 0
    with tqdm(total=len(keys), desc="conversations", unit="conv") as progress:
        async for turns in stored_turns(store, keys, languages, since):
            if turns is None:
                unread += 1
            else:
                on_turns(turns)
            progress.update(1)
    if unread == len(keys):
        raise SystemExit(f"error: the tracker store of {args.endpoints} lists {len(keys)} conversations and none "
                         f"could be read ({type(store).__name__} finds nothing under the ids it lists). Nothing "
                         "was written.")
    return len(keys)


def export(args) -> int:
    if args.out.suffix.lower() != ".xlsx":
        raise SystemExit(f"error: --out {args.out}: the inbox is a spreadsheet; give a file name ending in .xlsx.")
    domain = _domain(args.domain)
    rows: Dict[str, Row] = {}
    wanted = set(args.languages.split(",")) if args.languages else None
    conversations = asyncio.run(read_conversations(args, domain, lambda turns: aggregate(
        (t for t in turns if (args.all or t.reasons) and (wanted is None or t.language in wanted)), rows)))
    if not args.keep_pii:
        rows = masked_rows(rows)
    kept = sorted((row for row in rows.values() if row.count >= args.min_count),
                  key=lambda row: (-row.count, -row.last_seen))
    write_inbox(kept, labels(domain.intents), args.out)
    print(f"Wrote {len(kept)} messages from {conversations} conversations to {args.out}: fill the `intent` column "
          f"(and `annotated_text` for entities), then `python -m training.inbox import {args.out}`.")
    return 0


def import_sheet(args) -> int:
    domain = _domain(args.domain)
    try:
        rows, sheet_intents = read_inbox(args.sheet)
        examples = labelled_examples(rows, labels(domain.intents), domain.entities, sheet_intents)
        added = append_examples(args.out, examples, training_texts(args.data))
    except SheetError as error:
        print(f"error: {error} Nothing was written.", file=sys.stderr)
        return 1
    learn = " Run `make train` to learn from them." if added else ""
    print(f"Added {added} new examples to {args.out} ({len(examples) - added} were there already, "
          f"{len(rows) - len(examples)} rows had no intent).{learn}")
    return 0


def report(args) -> int:
    tally = Tally()
    asyncio.run(read_conversations(args, _domain(args.domain), tally.add))
    write_report(tally, args.out)
    print(f"Wrote {args.out / 'table.md'}, {args.out / 'reasons_by_language.png'} and {args.out / 'report.json'}")
    return 0


def _domain(path: Path):
    from rasa.shared.core.domain import Domain

    return Domain.load(str(path))


def _timestamp(day: Optional[str]) -> Optional[float]:
    if not day:
        return None
    try:
        return datetime.datetime.fromisoformat(day).replace(tzinfo=datetime.timezone.utc).timestamp()
    except ValueError:
        raise SystemExit(f"error: --since takes a date such as 2026-12-01, not '{day}'.")


def _quiet_rasa() -> None:
    """Rasa's own filter of the warnings it expects (its notice on every domain load) and SQLAlchemy's about Rasa
    3.6's use of it: nothing the author of a bot can act on."""
    import logging

    from rasa.utils.common import configure_logging_and_warnings

    os.environ.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")
    configure_logging_and_warnings(logging.WARNING)


def main(argv=None) -> int:
    _quiet_rasa()
    parser = argparse.ArgumentParser(prog="python -m training.inbox", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    reading = argparse.ArgumentParser(add_help=False)
    reading.add_argument("--endpoints", type=Path, required=True, help="the endpoints file with the tracker store")
    reading.add_argument("--since", help="only messages from this day on (YYYY-MM-DD, UTC)")
    with_domain = argparse.ArgumentParser(add_help=False)
    with_domain.add_argument("--domain", type=Path, default=ROOT / "domain.yml")
    out = commands.add_parser("export", parents=[reading, with_domain], help="write the inbox sheet")
    out.add_argument("--out", type=Path, required=True, help="the .xlsx file to write")
    out.add_argument("--min-count", type=int, default=1, help="only messages sent at least this often")
    out.add_argument("--languages", help="only these languages (codes, comma-separated: km,tr)")
    out.add_argument("--all", action="store_true", help="every user message, understood or not")
    out.add_argument("--keep-pii", action="store_true", help="keep emails and phone numbers (masked by default)")
    back = commands.add_parser("import", parents=[with_domain], help="add a filled sheet's rows to the training data")
    back.add_argument("sheet", type=Path)
    back.add_argument("--out", type=Path, default=ROOT / REVIEWED_FILE)
    back.add_argument("--data", type=Path, default=ROOT / "data", help="the bot's training data, whose texts keep "
                      "their intents (a row that gives one another intent is refused)")
    tally = commands.add_parser("report", parents=[reading, with_domain], help="failure shares per language and day")
    tally.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    return {"export": export, "import": import_sheet, "report": report}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
