"""Spreadsheet round trip for translators: English examples out, translated test set back in.

    python -m training.spreadsheet --data data/nlu.yml --out translate.xlsx [--languages tr km de]

Writes one row per English example and target language, with columns `intent`, `english`,
`language` and an empty `text` for the translation (by a person or a machine). The filled-in file is
a per-language test set for `python -m training.evaluate --test translate.xlsx`; rows left empty
are skipped there.
"""
import argparse
import sys
from pathlib import Path

import pandas as pd

from training.datasets import DatasetError, load_examples


def translation_sheet(examples: pd.DataFrame, languages) -> pd.DataFrame:
    rows = [{"intent": row.intent, "english": row.text, "language": language, "text": ""}
            for language in languages for row in examples.itertuples()]
    return pd.DataFrame(rows, columns=["intent", "english", "language", "text"])


def write_sheet(sheet: pd.DataFrame, path: Path) -> None:
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        sheet.to_excel(writer, index=False, sheet_name="translate")
        worksheet = writer.sheets["translate"]
        for column, width in zip("ABCD", (24, 60, 10, 60)):
            worksheet.column_dimensions[column].width = width
        worksheet.freeze_panes = "A2"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=Path("data/nlu.yml"), help="English training examples")
    parser.add_argument("--out", type=Path, required=True, help="the .xlsx file to write")
    parser.add_argument("--languages", nargs="+", default=["tr", "km"], help="target language codes")
    args = parser.parse_args(argv)
    if args.out.suffix.lower() != ".xlsx":
        print("error: --out must end in .xlsx", file=sys.stderr)
        return 2
    try:
        examples = load_examples(args.data)
    except DatasetError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    sheet = translation_sheet(examples, args.languages)
    write_sheet(sheet, args.out)
    print(f"Wrote {len(sheet)} rows ({len(examples)} examples x {len(args.languages)} languages) to {args.out}. "
          "Fill in the `text` column, then evaluate it with `python -m training.evaluate --test`.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
