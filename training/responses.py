"""Answers in the languages users write in, through the spreadsheet translators already know.

    python -m training.responses export --languages vi,es,sw --out responses.xlsx [--domain domain.yml]
    python -m training.responses import responses.xlsx [--domain domain.yml]
    python -m training.responses check [--domain domain.yml]

`export` writes one row per English response text (response, variation, channel, the placeholders it must keep,
the English text) and one column per language, filled where domain.yml has the translation already and marked
where it has not, beside a sheet of instructions. `import` writes the translations back as conditional
variations (`condition: [{type: slot, name: language, value: <code>}]`), keeping domain.yml's comments and order;
a sheet with a dropped or invented placeholder, an unknown response, a code that is not BCP-47 or a sheet from
another domain is refused with the sheet, row and language, and nothing is written. `check` lists what each
language still lacks (`make train` prints it). The languages the bot answers in are those domain.yml has
variations for: nothing else lists them.
"""
import argparse
import hashlib
import io
import re
import sys
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from components.keys import LANGUAGE_SLOT
from components.languages.detection import answer_languages
from training.project import ROOT

SHEET, GUIDE, ABOUT = "Responses", "How to translate", "About"
COLUMNS = ["response", "variation", "channel", "placeholders", "en"]
PLACEHOLDER = re.compile(r"\{[^{}\s]+\}")
BCP47 = re.compile(r"[a-z]{2,3}(-[A-Z][a-z]{3})?(-([A-Z]{2}|\d{3}))?")
GUIDE_TEXT = [
    "Write each answer in the language of its column, as the bot should say it to a user.",
    "Keep every placeholder of the `placeholders` column exactly as it is, e.g. {party_size}: the bot fills it in.",
    "Leave a cell empty if you do not translate it: the bot answers that one in English.",
    "Do not change the columns response, variation, channel, placeholders and en.",
    "A new language: add a column whose title is its code (BCP-47: es, pt-BR, zh-Hant...).",
]
Key = Tuple[str, str, int]  # (response, channel, index among its English variations for that channel)


class SheetError(ValueError):
    """A sheet that cannot be imported; says where (sheet, row, language) and what to do."""


def yaml_round_trip():
    """ruamel.yaml set to write domain.yml back exactly as it was read (comments, order, quotes, indentation)."""
    from ruamel.yaml import YAML

    yaml = YAML()
    yaml.preserve_quotes, yaml.width = True, 4096
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


def variation_language(variation) -> Optional[str]:
    """The language a variation is written for (its `language` slot condition), None for the default one."""
    return next((c.get("value") for c in variation.get("condition") or [] if c.get("name") == LANGUAGE_SLOT), None)


def texts(responses) -> Dict[Key, Dict[Optional[str], object]]:
    """{(response, channel, i): {language or None (English): the variation}} for every response text."""
    table: Dict[Key, Dict[Optional[str], object]] = {}
    for name, variations in responses.items():
        seen: Dict[Tuple[Optional[str], str], int] = {}
        for variation in variations:
            if "text" not in variation:
                continue
            language, channel = variation_language(variation), variation.get("channel") or ""
            index = seen[(language, channel)] = seen.get((language, channel), -1) + 1
            table.setdefault((name, channel, index), {})[language] = variation
    return {key: found for key, found in table.items() if None in found}  # only texts with an English original


def fingerprint(responses) -> str:
    """What identifies a domain's English answers: a sheet of another domain (or an older one) has another."""
    english = sorted(f"{name}\0{channel}\0{i}\0{found[None]['text']}" for (name, channel, i), found
                     in texts(responses).items())
    return hashlib.sha256("\n".join(english).encode("utf-8")).hexdigest()[:16]


def export(domain: Path, languages: List[str], out: Path) -> int:
    from openpyxl import Workbook
    from openpyxl.formatting.rule import FormulaRule
    from openpyxl.styles import Alignment, Font, PatternFill

    responses = yaml_round_trip().load(domain.read_text(encoding="utf-8"))["responses"]
    languages = list(dict.fromkeys(valid_code(code, SHEET, 1) for code in languages or answer_languages(responses)))
    book = Workbook()
    sheet = book.active
    sheet.title = SHEET
    sheet.append(COLUMNS + languages)
    for (name, channel, index), found in texts(responses).items():
        english = str(found[None]["text"])
        sheet.append([name, index + 1, channel, " ".join(sorted(set(PLACEHOLDER.findall(english)))), english]
                     + [str(found[language]["text"]) if language in found else "" for language in languages])
    for cell in sheet[1]:
        cell.font, cell.fill = Font(bold=True), PatternFill("solid", fgColor="DDDDDD")
    for column, width in zip("ABCDE", (26, 9, 10, 18, 60)):
        sheet.column_dimensions[column].width = width
    for offset in range(len(languages)):
        letter = sheet.cell(row=1, column=len(COLUMNS) + 1 + offset).column_letter
        sheet.column_dimensions[letter].width = 60
        cells = f"{letter}2:{letter}{max(sheet.max_row, 2)}"
        sheet.conditional_formatting.add(cells, FormulaRule(formula=[f"LEN(TRIM({letter}2))=0"],
                                                            fill=PatternFill("solid", fgColor="FFC7CE")))
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    sheet.freeze_panes = "F2"
    guide = book.create_sheet(GUIDE)
    for line in GUIDE_TEXT:
        guide.append([line])
    guide.column_dimensions["A"].width = 110
    about = book.create_sheet(ABOUT)
    about.append(["domain", str(domain.name)])
    about.append(["fingerprint", fingerprint(responses)])
    about.sheet_state = "hidden"
    book.save(out)
    return sheet.max_row - 1


def valid_code(code: str, sheet: str, row: int) -> str:
    """`code` if it is a BCP-47 language tag CLDR knows, else a SheetError saying where it is."""
    from babel import Locale, UnknownLocaleError

    code = str(code or "").strip()
    try:
        if not BCP47.fullmatch(code):
            raise ValueError(code)
        Locale.parse(code, sep="-")
    except (ValueError, UnknownLocaleError):
        raise SheetError(f"Sheet '{sheet}', row {row}: '{code}' is not a BCP-47 language code (such as es, pt-BR or "
                         "zh-Hant): rename that column.") from None
    return code


def read_sheet(path: Path, responses) -> Tuple[List[str], Dict[Key, Dict[str, str]]]:
    """The languages of a sheet and its translations {key: {language: text}}, checked against the domain."""
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as error:
        raise SheetError(f"{path} cannot be read as an Excel workbook ({error}): export one with "
                         "`python -m training.responses export`.") from error
    if SHEET not in book.sheetnames:
        raise SheetError(f"{path} has no sheet '{SHEET}': export one with `python -m training.responses export`.")
    about = {row[0]: row[1] for row in book[ABOUT].iter_rows(values_only=True)} if ABOUT in book.sheetnames else {}
    if about.get("fingerprint") != fingerprint(responses):
        raise SheetError(f"{path} was exported from another domain.yml, or before its English answers changed: export "
                         "it again and copy the translations into the new sheet.")
    rows = list(book[SHEET].iter_rows(values_only=True))
    header = [str(cell or "").strip() for cell in rows[0]]
    if header[: len(COLUMNS)] != COLUMNS:
        raise SheetError(f"Sheet '{SHEET}', row 1: the first columns must be {', '.join(COLUMNS)}; export again.")
    languages = [valid_code(code, SHEET, 1) for code in header[len(COLUMNS):] if code]
    known, translations = texts(responses), {}
    for number, row in enumerate(rows[1:], start=2):
        name, index, channel = str(row[0] or ""), int(row[1] or 0) - 1, str(row[2] or "")
        if (name, channel, index) not in known:
            raise SheetError(f"Sheet '{SHEET}', row {number}: domain.yml has no response '{name}' (variation "
                             f"{index + 1}, channel '{channel}'); do not add rows, add responses to domain.yml.")
        english = str(known[(name, channel, index)][None]["text"])
        for language, value in zip(languages, row[len(COLUMNS):]):
            text = str(value or "").strip()
            if text and set(PLACEHOLDER.findall(text)) != set(PLACEHOLDER.findall(english)):
                raise SheetError(f"Sheet '{SHEET}', row {number}, language '{language}': the translation must keep "
                                 f"exactly the placeholders {sorted(set(PLACEHOLDER.findall(english))) or 'none'}.")
            if text:
                translations.setdefault((name, channel, index), {})[language] = text
    return languages, translations


def import_sheet(path: Path, domain: Path) -> int:
    """Writes the sheet's translations into domain.yml; how many texts were added or changed."""
    from ruamel.yaml.comments import CommentedMap, CommentedSeq
    from ruamel.yaml.scalarstring import DoubleQuotedScalarString

    yaml = yaml_round_trip()
    data = yaml.load(domain.read_text(encoding="utf-8"))
    responses = data["responses"]
    _, translations = read_sheet(path, responses)
    known, changed = texts(responses), 0
    for (name, channel, index), by_language in translations.items():
        for language, text in by_language.items():
            existing = known[(name, channel, index)].get(language)
            if existing is not None:
                if str(existing["text"]) != text:
                    existing["text"], changed = DoubleQuotedScalarString(text), changed + 1
                continue
            condition = CommentedSeq([CommentedMap([("type", "slot"), ("name", LANGUAGE_SLOT), ("value", language)])])
            variation = CommentedMap([("condition", condition), ("text", DoubleQuotedScalarString(text))])
            if channel:
                variation["channel"] = channel
            variations = responses[name]
            default = next(i for i, v in enumerate(variations) if variation_language(v) is None)
            variations.insert(default, variation)
            changed += 1
    if changed:
        out = io.StringIO()
        yaml.dump(data, out)
        domain.write_text(out.getvalue(), encoding="utf-8")
    return changed


def gaps(domain: Path) -> Dict[str, List[str]]:
    """{language: the responses that have no text in it yet}, for every language the domain answers in."""
    responses = yaml_round_trip().load(domain.read_text(encoding="utf-8"))["responses"]
    table = texts(responses)
    return {language: sorted({name for (name, _, _), found in table.items() if language not in found})
            for language in answer_languages(responses)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--domain", type=Path, default=ROOT / "domain.yml")
    commands = parser.add_subparsers(dest="command", required=True)
    exporting = commands.add_parser("export", help="write the responses to a spreadsheet for translators")
    exporting.add_argument("--languages", default="", help="comma-separated codes (default: the domain's)")
    exporting.add_argument("--out", type=Path, required=True)
    importing = commands.add_parser("import", help="write a translated spreadsheet into domain.yml")
    importing.add_argument("sheet", type=Path)
    commands.add_parser("check", help="list what each language still lacks")
    args = parser.parse_args(argv)
    try:
        if args.command == "export":
            count = export(args.domain, [c.strip() for c in args.languages.split(",") if c.strip()], args.out)
            print(f"{count} response texts -> {args.out}")
        elif args.command == "import":
            print(f"{import_sheet(args.sheet, args.domain)} translations added or changed in {args.domain}")
        else:
            for language, missing in gaps(args.domain).items():
                if missing:
                    print(f"warning: no '{language}' text yet for {len(missing)} responses ({', '.join(missing)}): "
                          f"`python -m training.responses export --languages {language} --out sheet.xlsx`.")
    except SheetError as error:
        print(f"error: {error} Nothing was written.", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
