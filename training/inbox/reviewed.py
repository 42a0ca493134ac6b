"""The author's labels from an inbox sheet, checked and appended to data/nlu_reviewed.yml.

Each labelled row becomes a training example of its intent, in its own language (the example's `metadata: {language:
km}`), with its entities where `annotated_text` marks them. A row with an intent outside the domain, with markup
that is not the row's text marked up, with an entity type outside the domain, with one of Rasa's own intents
(`RASA_OWN_INTENTS`), with a text that the bot's training data or a row above gives another intent, or a sheet made
for another bot's intents is refused, naming the row, and nothing is written. An example already in the file is not
added twice, so importing the same sheet again changes nothing.
"""
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Collection, Dict, List, Optional

import yaml

from components.keys import EXAMPLE_LANGUAGE
from training.inbox.sheet import SheetError

REVIEWED_FILE = "data/nlu_reviewed.yml"
# Rasa's intents that fire by themselves (a fallback, a new session, /restart, /back): no message is an example.
RASA_OWN_INTENTS = ("nlu_fallback", "session_start", "restart", "back")


@dataclass(frozen=True)
class Example:
    intent: str
    text: str  # with Rasa's entity markup
    language: Optional[str]
    row: int = 0  # in the sheet


def labels(intents: Collection[str]) -> List[str]:
    """The domain's intents a message can be labelled with."""
    return sorted(intent for intent in intents if intent not in RASA_OWN_INTENTS)


def labelled_examples(rows: List[dict], intents: Collection[str], entities: Collection[str],
                      sheet_intents: Optional[List[str]]) -> List[Example]:
    """The rows whose `intent` is filled, as examples; raises SheetError on the first row that cannot be one."""
    foreign = sorted(set(sheet_intents or []) - set(intents) - set(RASA_OWN_INTENTS))
    if foreign:
        raise SheetError(f"This sheet was exported for another bot: its intents {', '.join(foreign[:5])} are not in "
                         "this domain. Export a new inbox from this bot with `python -m training.inbox export`.")
    examples = []
    for row in rows:
        intent = str(row.get("intent") or "").strip()
        if not intent:
            continue
        if intent in RASA_OWN_INTENTS:
            raise SheetError(f"Row {row['row']}: '{intent}' is Rasa's own intent, which fires by itself; choose the "
                             "intent the message means (or leave the row empty).")
        if intent not in intents:
            raise SheetError(f"Row {row['row']}: the intent '{intent}' is not in the domain; choose one from the "
                             "drop-down list of the `intent` column (or add the intent to domain.yml first).")
        examples.append(Example(intent, _marked_up(row, entities), _language(row.get("language")), row["row"]))
    return examples


def _marked_up(row: dict, entities: Collection[str]) -> str:
    """The row's text, or its `annotated_text` once checked to be that text with entity markup."""
    from rasa.shared.nlu.training_data.entities_parser import find_entities_in_training_example, replace_entities

    text = str(row.get("text") or "").strip()
    annotated = str(row.get("annotated_text") or "").strip()
    if not annotated:
        return text
    try:
        found = find_entities_in_training_example(annotated)
        plain = replace_entities(annotated)
    except Exception as error:  # Rasa's parser on markup it cannot read (bad JSON in {"entity": ...})
        raise SheetError(f"Row {row['row']}: `annotated_text` has markup Rasa cannot read ({error}); write entities "
                         "as [words](entity) or [words]{\"entity\": \"name\", \"role\": \"...\"}.") from error
    if plain != text:
        raise SheetError(f"Row {row['row']}: `annotated_text` must be the row's text with entity markup added, e.g. "
                         f"'a table for [4](party_size)'; without its markup it reads '{plain}', not '{text}' "
                         "(check the brackets).")
    unknown = sorted({entity["entity"] for entity in found} - set(entities))
    if unknown:
        raise SheetError(f"Row {row['row']}: the entity {', '.join(unknown)} is not in the domain; use one of "
                         f"{', '.join(sorted(entities))} (or add it to domain.yml first).")
    return annotated


def _language(value) -> Optional[str]:
    language = str(value or "").strip()
    return language if language and language != "und" else None


def training_texts(folder: Path) -> Dict[str, str]:
    """{text: intent} of the NLU examples in the bot's training data (the NLU files `rasa train` reads in FOLDER)."""
    import rasa.shared.data
    from rasa.shared.nlu.training_data.loading import load_data

    files = rasa.shared.data.get_data_files([str(folder)], rasa.shared.data.is_nlu_file) if folder.is_dir() else []
    return {m.get("text").strip(): m.get("intent") for file in files for m in load_data(file).intent_examples}


def append_examples(path: Path, examples: List[Example], labelled: Optional[Dict[str, str]] = None) -> int:
    """Adds the examples the file does not hold yet, under their intents; returns how many were added. Raises
    SheetError, writing nothing, for a text the file, the rest of the training data (`labelled`, {text: intent}) or
    a row above already gives another intent."""
    document = yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else None
    document = document or {"version": "3.1", "nlu": []}
    blocks = {block["intent"]: block for block in document.setdefault("nlu", []) if "intent" in block}
    for block in blocks.values():  # an author's hand-written block may list its examples as Rasa's `|` text
        block["examples"] = _entries(block.get("examples"))
    held = {(intent, _example_text(example)) for intent, block in blocks.items() for example in block["examples"]}
    meaning = {**(labelled or {}), **{_plain(text): intent for intent, text in held}}
    added = 0
    for example in examples:
        known = meaning.setdefault(_plain(example.text), example.intent)
        if known != example.intent:
            raise SheetError(f"Row {example.row}: '{_plain(example.text)}' is already an example of {known} (in the "
                             "training data or a row above); label it the same, or change the other first.")
        if (example.intent, example.text) in held:
            continue
        held.add((example.intent, example.text))
        block = blocks.get(example.intent)
        if block is None:
            block = blocks[example.intent] = {"intent": example.intent, "examples": []}
            document["nlu"].append(block)
        entry = {"text": example.text}
        if example.language:
            entry["metadata"] = {EXAMPLE_LANGUAGE: example.language}
        block["examples"].append(entry)
        added += 1
    if added:
        _write_whole(path, yaml.safe_dump(document, allow_unicode=True, sort_keys=False, width=4096))
    return added


def _entries(examples) -> List:
    """A block's examples as a list: Rasa's `examples: |` text ("- hello" a line) becomes one entry a line."""
    if isinstance(examples, str):
        return [{"text": line.strip()[2:].strip()} for line in examples.splitlines() if line.strip().startswith("- ")]
    return list(examples or [])


def _plain(text: str) -> str:
    from rasa.shared.nlu.training_data.entities_parser import replace_entities

    return replace_entities(text).strip()


def _example_text(example) -> str:
    return (example.get("text") if isinstance(example, dict) else str(example)).strip()


def _write_whole(path: Path, text: str) -> None:
    """Written to a file beside it, then moved over it: never half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".yml")
    with os.fdopen(handle, "w", encoding="utf-8") as file:
        file.write(text)
    os.replace(temporary, path)
