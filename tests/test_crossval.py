"""training.crossval: held-out folds, in English and in translation, through Rasa's real training."""
import json
from pathlib import Path

import pandas as pd
import pytest

from training import crossval
from training.datasets import load_examples
from training.project import ROOT

TURKISH = Path(__file__).parent / "fixtures" / "xsid_tr_test.conll"


@pytest.fixture(scope="module")
def pairs(tmp_path_factory):
    """The Turkish fixture and the English sentences it was translated from (its `# text-en` lines)."""
    folder = tmp_path_factory.mktemp("pairs")
    turkish = load_examples(TURKISH)
    english = [line[len("# text-en = "):] for line in TURKISH.read_text(encoding="utf-8").splitlines()
               if line.startswith("# text-en = ")]
    turkish.to_csv(folder / "tr.csv", index=False)
    turkish.assign(text=english).to_csv(folder / "en.csv", index=False)
    return folder / "en.csv", folder / "tr.csv"


def test_each_fold_tests_on_sentences_it_did_not_train_on(pairs, tmp_path, embedding_cache):
    english, turkish = pairs
    assert crossval.main(["--config", str(ROOT / "config.yml"), "--train", str(english), "--translation",
                          str(turkish), "--folds", "2", "--out", str(tmp_path)]) == 0
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert len(report["folds"]) == 2
    assert set(report["accuracy"]) == {"english", "translation"}
    assert set(report["calibration_error"]) == {"english", "translation"}
    assert report["accuracy"]["english"] >= 0.5  # half of 12 sentences in training: chance is 1/4
    parsed = pd.read_csv(tmp_path / "predictions.csv")  # every sentence held out once, in both languages
    assert sorted(parsed.loc[parsed["test"] == "translation", "text"]) == sorted(pd.read_csv(turkish)["text"])
    assert len(parsed) == 2 * len(pd.read_csv(english))


def test_translation_must_line_up_with_the_training_rows(pairs, tmp_path):
    english, turkish = pairs
    shuffled = tmp_path / "shuffled.csv"
    rows = turkish.read_text(encoding="utf-8").splitlines()
    shuffled.write_text("\n".join([rows[0]] + rows[1:][::-1]) + "\n", encoding="utf-8")
    with pytest.raises(SystemExit, match="same order"):
        crossval.main(["--config", str(ROOT / "config.yml"), "--train", str(english), "--translation",
                       str(shuffled), "--out", str(tmp_path)])
