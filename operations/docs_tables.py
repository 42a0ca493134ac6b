"""The result tables of README.md and docs/, written from the reports they summarise, so that they cannot drift.

    python -m operations.docs_tables [--take NAME=reports/DIR/report.json ...] [--check]

Each measuring tool writes a report.json; `--take` copies one into docs/results/NAME.json (with the plots beside
it, where the tool drew any). Every block between `<!-- table:NAME -->` and `<!-- /table -->` in README.md and
docs/*.md is then rewritten with the table TABLES[NAME] makes from docs/results/NAME.json (a table may read
another file's results: `xsid-headline` reads `xsid`). `--check` changes nothing and fails when a block differs
from what the results give (make test runs it).
"""
import argparse
import json
import re
import shutil
import statistics
import sys
from pathlib import Path
from typing import Callable, Dict, List

from operations import benchmark, faults, inbox_export_benchmark, inbox_replay
from training import evaluate, language_id, zeroshot_benchmark
from training.project import ROOT

RESULTS = ROOT / "docs" / "results"
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCK = re.compile(r"(<!-- table:(?P<name>[\w-]+) -->\n)(?P<body>.*?)(<!-- /table -->)", re.S)
PLOTS = ("accuracy_by_language.png", "entities_by_language.png", "false_capture.png", "before_after.png")
NON_ENGLISH = ["tr", "de", "zh", "ar", "ja", "it", "da", "nl"]


def xsid_headline(results: Callable[[str], dict]) -> str:
    """English, Turkish and the mean of the 8 other languages: intents and entities, ours and Rasa's."""
    report = results("xsid")
    rows = {language: (report["tests"][f"{language}.test.conll"], report["baseline"]["tests"][f"{language}.test.conll"])
            for language in ["en", *NON_ENGLISH]}
    lines = ["| | intent accuracy | entity F1 (exact spans) | dates found | Rasa's default: intent accuracy | "
             "Rasa's default: entity F1 |", "|---|---|---|---|---|---|"]
    for label, languages in (("English", ["en"]), ("Turkish", ["tr"]), ("mean of the 8 others", NON_ENGLISH)):
        def mean(value: Callable[[dict], float], which: int) -> float:
            return statistics.mean(value(rows[language][which]) for language in languages)

        lines.append(f"| {label} | {mean(_accuracy, 0):.3f} | {mean(_f1, 0):.3f} | {mean(_dates, 0):.3f} | "
                     f"{mean(_accuracy, 1):.3f} | {mean(_f1, 1):.3f} |")
    return "\n".join(lines)


def _accuracy(result: dict) -> float:
    return result["accuracy"]


def _f1(result: dict) -> float:
    return result["entities"]["f1"]


def _dates(result: dict) -> float:
    return result["entities"]["dates"]["overlapped_share"] or 0.0


TABLES: Dict[str, Callable[[Callable[[str], dict]], str]] = {
    "xsid": lambda results: evaluate.table(results("xsid")),
    "xsid-headline": xsid_headline,
    "everyday": lambda results: evaluate.table(results("everyday")),
    "zeroshot": lambda results: zeroshot_benchmark.accuracy_table(results("zeroshot")),
    "zeroshot-false-capture": lambda results: zeroshot_benchmark.false_capture_table(results("zeroshot")),
    "benchmark": lambda results: benchmark.table(results("benchmark")),
    "faults": lambda results: faults.table(results("faults")),
    "language-id": lambda results: language_id.table(results("language-id")),
    "inbox-replay-everyday": lambda results: inbox_replay.table(results("inbox-replay-everyday")),
    "inbox-replay-tr": lambda results: inbox_replay.table(results("inbox-replay-tr")),
    "inbox-export": lambda results: inbox_export_benchmark.table(results("inbox-export")),
}


def read_results(name: str) -> dict:
    path = RESULTS / f"{name}.json"
    if not path.exists():
        raise SystemExit(f"error: {path} is missing: run the tool that measures it, then "
                         f"`python -m operations.docs_tables --take {name}=reports/.../report.json`.")
    return json.loads(path.read_text(encoding="utf-8"))


def take(name: str, report: Path) -> None:
    """docs/results/NAME.json from a report.json, and the plots beside it as docs/results/NAME_<plot>."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(report, RESULTS / f"{name}.json")
    for plot in PLOTS:
        if (report.parent / plot).exists():
            shutil.copyfile(report.parent / plot, RESULTS / f"{name}_{plot}")


def rewritten(text: str) -> str:
    def table(match: "re.Match") -> str:
        if match["name"] not in TABLES:
            raise SystemExit(f"error: no table called '{match['name']}'; known: {', '.join(TABLES)}.")
        return match[1] + TABLES[match["name"]](read_results) + "\n" + match[4]

    return BLOCK.sub(table, text)


def main(argv: List[str] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--take", action="append", default=[], metavar="NAME=REPORT",
                        help="copy a tool's report.json into docs/results/NAME.json first")
    parser.add_argument("--check", action="store_true", help="change nothing; fail if a table is out of date")
    args = parser.parse_args(argv)
    for item in args.take:
        name, _, report = item.partition("=")
        take(name, Path(report))
    stale = []
    for document in DOCUMENTS:
        text = document.read_text(encoding="utf-8")
        new = rewritten(text)
        if new != text:
            stale.append(document.relative_to(ROOT))
            if not args.check:
                document.write_text(new, encoding="utf-8")
    if args.check and stale:
        print(f"Out of date: {', '.join(map(str, stale))}. Run `python -m operations.docs_tables`.", file=sys.stderr)
        return 1
    print(f"{'Checked' if args.check else 'Rewrote'} the tables of {len(DOCUMENTS)} documents"
          + (f"; changed {', '.join(map(str, stale))}" if stale and not args.check else "") + ".")
    return 0


if __name__ == "__main__":
    sys.exit(main())
