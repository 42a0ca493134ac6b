"""The review inbox as a spreadsheet: one row per distinct message, the author's two columns, and back.

The first sheet's header names the columns other tools read (`COLUMNS`); `intent` offers the domain's intents
in a drop-down (openpyxl data validation over a hidden sheet that lists them), `annotated_text` takes Rasa's
entity markup. The hidden `About` sheet records the intents the sheet was made for, so that a sheet of another
bot is refused on import.
"""
import datetime
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterable, List, Optional

from training.inbox.conversations import Turn

SHEET, INTENTS, ABOUT = "Inbox", "Intents", "About"
COLUMNS = ["text", "language", "count", "predicted_intent", "confidence", "runner_up", "entities", "answer",
           "first_seen", "last_seen", "intent", "annotated_text"]
WIDTHS = {"text": 50, "entities": 30, "answer": 50, "annotated_text": 50, "first_seen": 20, "last_seen": 20}


@dataclass
class Row:
    """What the inbox says of one distinct message over all the conversations it was sent in."""

    text: str
    language: Optional[str]
    count: int
    predicted_intent: Optional[str]
    confidence: float
    runner_up: Optional[str]
    entities: str
    answer: str
    first_seen: float
    last_seen: float

    def add(self, turn: Turn) -> None:
        """Another time the message was sent: the latest one says what the bot makes of it now."""
        self.count += 1
        self.first_seen = min(self.first_seen, turn.timestamp)
        if turn.timestamp >= self.last_seen:
            self.last_seen = turn.timestamp
            self.language, self.predicted_intent, self.confidence = turn.language, turn.intent, turn.confidence
            self.runner_up, self.entities, self.answer = turn.runner_up, turn.entities, turn.answer

    @classmethod
    def of(cls, turn: Turn) -> "Row":
        return cls(turn.text, turn.language, 1, turn.intent, turn.confidence, turn.runner_up, turn.entities,
                   turn.answer, turn.timestamp, turn.timestamp)

    def merged(self, other: "Row") -> "Row":
        """The same row after masking made two texts one."""
        latest = self if self.last_seen >= other.last_seen else other
        return Row(**{**latest.__dict__, "count": self.count + other.count,
                      "first_seen": min(self.first_seen, other.first_seen)})


def aggregate(turns: Iterable[Turn], rows: Dict[str, Row]) -> None:
    """Adds each turn to the row of its text."""
    for turn in turns:
        key = turn.text.strip()
        if key in rows:
            rows[key].add(turn)
        else:
            rows[key] = Row.of(turn)


def write_inbox(rows: List[Row], intents: List[str], path: Path) -> None:
    from openpyxl import Workbook
    from openpyxl.worksheet.datavalidation import DataValidation

    book = Workbook()
    sheet = book.active
    sheet.title = SHEET
    sheet.append(COLUMNS)
    for row in rows:
        sheet.append([row.text, row.language, row.count, row.predicted_intent, row.confidence, row.runner_up,
                      row.entities, row.answer, _when(row.first_seen), _when(row.last_seen), None, None])
    listed = book.create_sheet(INTENTS)
    for intent in intents:
        listed.append([intent])
    listed.sheet_state = "hidden"
    column = _letter(COLUMNS.index("intent"))
    choice = DataValidation(type="list", formula1=f"={INTENTS}!$A$1:$A${max(1, len(intents))}", allow_blank=True,
                            showErrorMessage=True, error="Choose one of the domain's intents.")
    choice.add(f"{column}2:{column}{max(2, len(rows) + 1)}")
    sheet.add_data_validation(choice)
    for name, width in WIDTHS.items():
        sheet.column_dimensions[_letter(COLUMNS.index(name))].width = width
    sheet.freeze_panes = "A2"
    about = book.create_sheet(ABOUT)
    about.append(["intents", "\n".join(intents)])
    about.sheet_state = "hidden"
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)


def read_inbox(path: Path) -> (List[dict], Optional[List[str]]):
    """The first sheet's rows as {column: value} (with their row number under `row`), and the intents the sheet was
    made for (None when it does not say)."""
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        book = load_workbook(path, read_only=True)
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, InvalidFileException) as error:
        raise SheetError(f"{path} cannot be read as an .xlsx sheet ({error}); give the file that "
                         "`python -m training.inbox export` wrote, saved as .xlsx.") from error
    rows = book.worksheets[0].iter_rows(values_only=True)
    header = [str(cell or "").strip() for cell in next(rows, [])]
    missing = [name for name in ("text", "intent", "annotated_text") if name not in header]
    if missing:
        raise SheetError(f"{path}: the first sheet has no column {', '.join(missing)}; export a sheet with "
                         "`python -m training.inbox export` and fill its `intent` column.")
    found = [{**dict(zip(header, values)), "row": number} for number, values in enumerate(rows, start=2)]
    about = {row[0]: row[1] for row in book[ABOUT].iter_rows(values_only=True)} if ABOUT in book.sheetnames else {}
    intents = str(about["intents"]).split("\n") if about.get("intents") else None
    return found, intents


class SheetError(ValueError):
    """A sheet that cannot be imported: says which row and what to do; nothing is written."""


def _when(timestamp: float) -> str:
    return datetime.datetime.fromtimestamp(timestamp, datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def _letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(index + 1)
