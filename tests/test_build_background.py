"""The zero-shot background's builder: the second half of each Tatoeba pair file, both sides."""
import pandas as pd
import pytest

from training import build_background
from training.build_background import DEFAULT_OUT, halves


def write_pairs(folder, language, foreign, english):
    (folder / f"tatoeba.{language}-eng.{language}").write_text("\n".join(foreign) + "\n", encoding="utf-8")
    (folder / f"tatoeba.{language}-eng.eng").write_text("\n".join(english) + "\n", encoding="utf-8")


def test_second_halves_of_both_sides_without_blanks_or_repeats(tmp_path):
    write_pairs(tmp_path, "tur", ["Bir.", "İki.", "Üç.", "Merhaba!"], ["One.", "Two.", "Three.", "Hello!"])
    write_pairs(tmp_path, "deu", ["Eins.", "Zwei.", "", "Hallo!"], ["One.", "Two.", "Three.", "Hello!"])
    assert halves(tmp_path) == ["Hallo!", "Three.", "Hello!", "Üç.", "Merhaba!"]  # files in name order
    assert halves(tmp_path, "first") == ["Eins.", "Zwei.", "One.", "Two.", "Bir.", "İki."]


def test_everyday_benchmark_sentences_stay_out(tmp_path, monkeypatch):
    write_pairs(tmp_path, "tur", ["Bir.", "Merhaba!"], ["One.", "Hello!"])
    everyday = tmp_path / "everyday.csv"
    pd.DataFrame({"text": ["Merhaba!"], "intent": ["greet"], "language": ["tur"]}).to_csv(everyday, index=False)
    monkeypatch.setattr(build_background, "EVERYDAY_TEST", everyday)
    out = tmp_path / "background.txt"
    build_background.main(["--tatoeba", str(tmp_path), "--out", str(out)])
    assert out.read_text(encoding="utf-8").splitlines() == ["Hello!"]


def test_a_folder_without_pairs_says_what_to_give(tmp_path):
    with pytest.raises(SystemExit, match="give --tatoeba the folder of the pairs"):
        halves(tmp_path)


def test_the_shipped_background_holds_the_language_layer_sample():
    sample = (DEFAULT_OUT.parent / "multilingual_sample.txt").read_text(encoding="utf-8").splitlines()
    background = set(DEFAULT_OUT.read_text(encoding="utf-8").splitlines())
    assert len(background) > 9000 and set(sample) <= background
