"""Build the zero-shot step's background text from Tatoeba: ordinary sentences about none of the labels.

    python -m training.build_background [--tatoeba ../shared/data/tatoeba] [--out data/unlabelled/background.txt]
                                        [--half second|first]

Every pair file (`tatoeba.XXX-eng.XXX` / `tatoeba.XXX-eng.eng`, line-aligned) gives its second half, both
sides; the first half stays out, so that what a label takes of ordinary text can be measured on sentences
that did not calibrate it (`training.zeroshot_benchmark`). Sentences of the everyday benchmark
(training/everyday/test.csv) are left out too. Why half and not the 100 lines per language that
multilingual_sample.txt holds: a language's bar is a tail quantile of its sentences' scores, and a bar fitted
on 100 random lines is too unsteady (docs/decisions/0032). `--half first` builds the other half, to calibrate a check of the rates that measures on
the shipped background's sentences instead of the test halves.
"""
import argparse
import sys
from pathlib import Path

import pandas as pd

from components.zero_shot.background_null import DEFAULT_BACKGROUND
from training.project import ROOT, TATOEBA, tatoeba_pairs

DEFAULT_OUT = ROOT / DEFAULT_BACKGROUND
EVERYDAY_TEST = ROOT / "training" / "everyday" / "test.csv"


def halves(tatoeba: Path, half: str = "second") -> list:
    """The second (or first) half of every pair file's lines, both sides, in file order, without blanks or repeats."""
    files = sorted(path for pair in tatoeba_pairs(tatoeba).values() for path in pair)
    if not files:
        raise SystemExit(f"error: no tatoeba.XXX-eng.* files in {tatoeba}; give --tatoeba the folder of the pairs.")
    sentences = []
    for path in files:
        lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
        middle = len(lines) // 2
        sentences += [line for line in (lines[middle:] if half == "second" else lines[:middle]) if line]
    return list(dict.fromkeys(sentences))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tatoeba", type=Path, default=TATOEBA)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--half", choices=("second", "first"), default="second",
                        help="which half of each pair file (the shipped background is the second)")
    args = parser.parse_args(argv)
    everyday = set(pd.read_csv(EVERYDAY_TEST)["text"])
    sentences = [s for s in halves(args.tatoeba, args.half) if s not in everyday]
    args.out.write_text("\n".join(sentences) + "\n", encoding="utf-8")
    print(f"{len(sentences)} sentences -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
