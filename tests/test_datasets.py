"""Loaders of labelled examples: every supported format, and clear errors for bad files."""
from pathlib import Path

import pandas as pd
import pytest

from training.datasets import DatasetError, load_examples, rasa_safe_names, write_rasa_nlu

FIXTURES = Path(__file__).parent / "fixtures"


def check_examples(frame: pd.DataFrame, n: int, intents: set, languages=None) -> None:
    assert len(frame) == n
    assert set(frame["intent"]) == intents
    assert (frame["text"].str.len() > 0).all()
    if languages is None:
        assert "language" not in frame.columns
    else:
        assert set(frame["language"]) == languages


XSID_INTENTS = {"weather/find", "alarm/set_alarm", "PlayMusic", "BookRestaurant"}


def test_xsid_conll_keeps_slashes_in_intents():
    frame = load_examples(FIXTURES / "xsid_tr_test.conll")
    check_examples(frame, 12, XSID_INTENTS)
    assert frame["text"][0] == "Kazağa ihtiyacım var mı?"


def test_csv_with_language_column():
    check_examples(load_examples(FIXTURES / "translated_test.csv"), 16, XSID_INTENTS, {"de", "tr"})


def test_tsv_and_xlsx_ignore_other_columns(tmp_path):
    frame = pd.DataFrame({"Text": ["hola", "adiós"], "Intent": ["greet", "goodbye"], "note": ["x", "y"]})
    frame.to_csv(tmp_path / "t.tsv", sep="\t", index=False)
    frame.to_excel(tmp_path / "t.xlsx", index=False)
    for name in ("t.tsv", "t.xlsx"):
        check_examples(load_examples(tmp_path / name), 2, {"greet", "goodbye"})


def test_rasa_yaml_keeps_retrieval_intents_whole(tmp_path):
    (tmp_path / "nlu.yml").write_text(
        'version: "3.1"\nnlu:\n- intent: faq/ask_name\n  examples: |\n    - what is your name?\n'
        "- intent: greet\n  examples: |\n    - hi\n", encoding="utf-8")
    check_examples(load_examples(tmp_path / "nlu.yml"), 2, {"faq/ask_name", "greet"})


def test_the_demo_data_loads():
    frame = load_examples(Path(__file__).parent.parent / "data" / "nlu.yml")
    assert {"greet", "thank", "out_of_scope"} <= set(frame["intent"])


def test_rows_without_text_or_intent_are_skipped(tmp_path):
    (tmp_path / "t.csv").write_text("text,intent\nhello,greet\n,greet\nbye,\n", encoding="utf-8")
    check_examples(load_examples(tmp_path / "t.csv"), 1, {"greet"})


@pytest.mark.parametrize("name, content, message", [
    ("t.json", "{}", "unknown file type '.json'"),
    ("t.csv", "sentence,label\nhi,greet\n", "missing column"),
    ("t.csv", "", "no labelled examples"),
    ("t.conll", "just some text\n", "no labelled examples"),
    ("t.yml", "nlu: [this is not rasa data", "not valid Rasa NLU data"),
    ("t.xlsx", "not really excel", "cannot be read"),
])
def test_bad_files_give_clear_errors(tmp_path, name, content, message):
    (tmp_path / name).write_text(content, encoding="utf-8")
    with pytest.raises(DatasetError, match=message):
        load_examples(tmp_path / name)


def test_missing_file(tmp_path):
    with pytest.raises(DatasetError, match="no such file"):
        load_examples(tmp_path / "absent.csv")


def test_rasa_nlu_round_trip_with_safe_names(tmp_path):
    frame = load_examples(FIXTURES / "xsid_en_train.conll")
    names = rasa_safe_names(frame["intent"])
    assert names["alarm/set_alarm"] == "alarm__set_alarm"
    write_rasa_nlu(frame, tmp_path / "train.yml", names)
    back = load_examples(tmp_path / "train.yml")
    expected = {(row.text, names[row.intent]) for row in frame.itertuples()}  # Rasa drops duplicates
    assert set(zip(back["text"], back["intent"])) == expected and len(back) == len(expected)
