"""Labelled examples from the file formats people bring: Rasa YAML, CSV/TSV, XLSX, xSID CoNLL.

Every loader returns the same pandas DataFrame: `text`, `intent` and, when the
file has one, `language`; Rasa YAML and xSID CoNLL also give `entities` (a list of
{start, end, entity, value} per text, from Rasa's markup or xSID's BIO slot tags).
Intent and entity names may contain "/" (xSID's `alarm/set_alarm`, Rasa's
retrieval intents): they are kept whole.
"""
from pathlib import Path
from typing import Dict, List, Tuple

import pandas as pd

REQUIRED_COLUMNS = ("text", "intent")
ENTITY_KEYS = ["start", "end", "entity", "value"]
OPTIONAL_ENTITY_KEYS = ["role", "group"]
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
    from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_RESPONSE_KEY, TEXT
    from rasa.shared.nlu.training_data.loading import load_data

    try:
        data = load_data(str(path))
    except Exception as error:  # Rasa's YAML validation errors are informative; keep them
        raise DatasetError(f"{path}: not valid Rasa NLU data ({error}).") from error
    rows = [{"text": m.get(TEXT), "intent": m.get(INTENT_RESPONSE_KEY) or m.get(INTENT),
             "entities": [{key: e[key] for key in ENTITY_KEYS + OPTIONAL_ENTITY_KEYS if key in e}
                          for e in m.get(ENTITIES) or []]}
            for m in data.intent_examples]
    return pd.DataFrame(rows, columns=[*REQUIRED_COLUMNS, "entities"])


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
    """xSID: blocks separated by blank lines, with `# text = ...` and `# intent = ...` comments, then one token per
    line (index, token, intent, BIO slot tag)."""
    rows = []
    for block in path.read_text(encoding="utf-8").split("\n\n"):
        lines = block.splitlines()
        fields = dict(line[2:].split(" = ", 1) for line in lines if line.startswith("# ") and " = " in line)
        if "text" in fields or "intent" in fields:
            text = fields.get("text", "")
            tokens = [line.split("\t") for line in lines if line and not line.startswith("#")]
            rows.append({"text": text, "intent": fields.get("intent", ""),
                         "entities": slot_entities(text, [(t[1], t[3]) for t in tokens if len(t) >= 4])})
    return pd.DataFrame(rows, columns=[*REQUIRED_COLUMNS, "entities"])


def slot_entities(text: str, tagged: List[Tuple[str, str]]) -> List[dict]:
    """Entities (character spans) from (token, BIO tag) pairs whose tokens appear in `text` in order."""
    entities, position, previous = [], 0, "O"
    for token, tag in tagged:
        start = text.find(token, position)
        if start < 0:  # a token not in the text (never in xSID): its sentence keeps the entities found so far
            break
        position = start + len(token)
        if tag.startswith("I-") and previous[2:] == tag[2:]:
            entities[-1]["end"] = position
        elif tag[:2] in ("B-", "I-"):
            entities.append({"start": start, "end": position, "entity": tag[2:]})
        previous = tag
    return [{**entity, "value": text[entity["start"]: entity["end"]]} for entity in entities]


def _validated(frame: pd.DataFrame, path: Path) -> pd.DataFrame:
    frame = frame.copy()
    if "entities" in frame.columns:  # offsets count from the text as it was, before its leading spaces go
        leading = frame["text"].astype(str).str.len() - frame["text"].astype(str).str.lstrip().str.len()
        frame["entities"] = [[{**e, "start": e["start"] - cut, "end": e["end"] - cut} for e in entities]
                             for entities, cut in zip(frame["entities"], leading)]
    for column in frame.columns.drop("entities", errors="ignore"):
        frame[column] = frame[column].astype(str).str.strip()
    frame = frame[(frame["text"] != "") & (frame["intent"] != "")].reset_index(drop=True)
    if frame.empty:
        raise DatasetError(f"{path}: no labelled examples (rows need both a text and an intent).")
    return frame


def safe_name(name: str) -> str:
    """An intent or entity name Rasa will not read as a retrieval intent ("a/b" -> "a__b")."""
    return name.replace("/", "__")


def rasa_safe_names(intents) -> Dict[str, str]:
    """Maps each intent to its `safe_name`."""
    mapping = {name: safe_name(name) for name in sorted(set(intents))}
    if len(set(mapping.values())) != len(mapping):
        raise DatasetError("Intent names collide once '/' is replaced by '__'; rename one of them.")
    return mapping


def write_rasa_nlu(frame: pd.DataFrame, path: Path, names: Dict[str, str]) -> None:
    """Writes examples as Rasa NLU YAML with Rasa's own writer."""
    from rasa.shared.nlu.training_data.message import Message
    from rasa.shared.nlu.training_data.training_data import TrainingData

    entities = frame["entities"] if "entities" in frame.columns else [[]] * len(frame)
    messages = [Message.build(text=row.text, intent=names[row.intent],
                              entities=[{**e, "entity": safe_name(e["entity"])} for e in row_entities])
                for row, row_entities in zip(frame.itertuples(), entities)]
    path.write_text(TrainingData(training_examples=messages).nlu_as_yaml(), encoding="utf-8")
