"""Labelled examples from the file formats people bring: Rasa YAML, CSV/TSV, XLSX, xSID CoNLL.

Every loader returns the same pandas DataFrame: `text`, `intent` and, when the
file has one, `language`. Intent names may contain "/" (xSID's
`alarm/set_alarm`, Rasa's retrieval intents): they are kept whole.
"""
from pathlib import Path
from typing import Dict

import pandas as pd

REQUIRED_COLUMNS = ("text", "intent")
SUFFIXES = {".yml": "Rasa NLU YAML", ".yaml": "Rasa NLU YAML", ".csv": "CSV", ".tsv": "TSV",
            ".xlsx": "Excel", ".conll": "xSID CoNLL"}


class DatasetError(ValueError):
    """A file that cannot be used as labelled examples; the message says why and what to do."""


def load_examples(path) -> pd.DataFrame:
    """Reads a labelled file into (text, intent[, language]) rows; raises DatasetError if unusable."""
    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"{path}: no such file.")
    suffix = path.suffix.lower()
    readers = {".yml": _read_rasa_yaml, ".yaml": _read_rasa_yaml, ".csv": _read_table, ".tsv": _read_table,
               ".xlsx": _read_table, ".conll": _read_conll}
    if suffix not in readers:
        kinds = ", ".join(f"{s} ({k})" for s, k in SUFFIXES.items())
        raise DatasetError(f"{path}: unknown file type '{suffix}'. Supported: {kinds}.")
    frame = readers[suffix](path)
    return _validated(frame, path)


def _read_rasa_yaml(path: Path) -> pd.DataFrame:
    from rasa.shared.nlu.constants import INTENT, INTENT_RESPONSE_KEY, TEXT
    from rasa.shared.nlu.training_data.loading import load_data

    try:
        data = load_data(str(path))
    except Exception as error:  # Rasa's YAML validation errors are informative; keep them
        raise DatasetError(f"{path}: not valid Rasa NLU data ({error}).") from error
    rows = [{"text": m.get(TEXT), "intent": m.get(INTENT_RESPONSE_KEY) or m.get(INTENT)}
            for m in data.intent_examples]
    return pd.DataFrame(rows, columns=list(REQUIRED_COLUMNS))


def _read_table(path: Path) -> pd.DataFrame:
    try:
        if path.suffix.lower() == ".xlsx":
            frame = pd.read_excel(path, dtype=str, engine="openpyxl")
        else:
            frame = pd.read_csv(path, sep="\t" if path.suffix.lower() == ".tsv" else ",", dtype=str,
                                keep_default_na=False)
    except pd.errors.EmptyDataError:
        return pd.DataFrame(columns=list(REQUIRED_COLUMNS))
    except Exception as error:
        raise DatasetError(f"{path}: cannot be read as a table ({error}).") from error
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    if missing:
        raise DatasetError(f"{path}: missing column(s) {', '.join(missing)}; found {list(frame.columns)}. "
                           "The first row must name the columns: text,intent[,language].")
    keep = [c for c in ("text", "intent", "language") if c in frame.columns]
    return frame[keep].fillna("")


def _read_conll(path: Path) -> pd.DataFrame:
    """xSID: blocks separated by blank lines, with `# text = ...` and `# intent = ...` comments."""
    rows = []
    for block in path.read_text(encoding="utf-8").split("\n\n"):
        fields = dict(line[2:].split(" = ", 1) for line in block.splitlines()
                      if line.startswith("# ") and " = " in line)
        if "text" in fields or "intent" in fields:
            rows.append({"text": fields.get("text", ""), "intent": fields.get("intent", "")})
    return pd.DataFrame(rows, columns=list(REQUIRED_COLUMNS))


def _validated(frame: pd.DataFrame, path: Path) -> pd.DataFrame:
    frame = frame.copy()
    for column in frame.columns:
        frame[column] = frame[column].astype(str).str.strip()
    frame = frame[(frame["text"] != "") & (frame["intent"] != "")].reset_index(drop=True)
    if frame.empty:
        raise DatasetError(f"{path}: no labelled examples (rows need both a text and an intent).")
    return frame


def rasa_safe_names(intents) -> Dict[str, str]:
    """Maps each intent to a name Rasa will not read as a retrieval intent ("a/b" -> "a__b")."""
    mapping = {name: name.replace("/", "__") for name in sorted(set(intents))}
    if len(set(mapping.values())) != len(mapping):
        raise DatasetError("Intent names collide once '/' is replaced by '__'; rename one of them.")
    return mapping


def write_rasa_nlu(frame: pd.DataFrame, path: Path, names: Dict[str, str]) -> None:
    """Writes examples as Rasa NLU YAML with Rasa's own writer."""
    from rasa.shared.nlu.training_data.message import Message
    from rasa.shared.nlu.training_data.training_data import TrainingData

    messages = [Message.build(text=row.text, intent=names[row.intent]) for row in frame.itertuples()]
    path.write_text(TrainingData(training_examples=messages).nlu_as_yaml(), encoding="utf-8")
