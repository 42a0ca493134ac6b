"""training.zeroshot_benchmark's bookkeeping: the configs it compares, what counts as false capture, where the
Tatoeba measurement stops (the whole benchmark trains three pipelines: it is a command, not a test)."""
from pathlib import Path

import pandas as pd
import yaml

from training import zeroshot_benchmark as benchmark
from training.project import ROOT


def zero_shot_steps(path: Path) -> list:
    return [c for c in yaml.safe_load(path.read_text(encoding="utf-8"))["pipeline"] if c["name"] == benchmark.ZERO_SHOT]


def test_configs_compare_without_with_and_as_declared_with_the_overrides(tmp_path):
    overrides = {"background_texts": "elsewhere.txt", "language_false_capture_rate": 0.002}
    options = {"labels": {"RateBook": "give this book a rating of stars"}, **overrides}
    without, with_zero_shot, declared = benchmark.write_configs(ROOT / "config.yml", tmp_path, options, overrides)
    assert zero_shot_steps(without) == []
    assert zero_shot_steps(with_zero_shot) == [{"name": benchmark.ZERO_SHOT, **options}]
    names = [c["name"] for c in yaml.safe_load(with_zero_shot.read_text(encoding="utf-8"))["pipeline"]]
    assert names.index(benchmark.ZERO_SHOT) == names.index(benchmark.HEAD) + 1
    [as_declared] = zero_shot_steps(declared)
    assert as_declared["labels"] == zero_shot_steps(ROOT / "config.yml")[0]["labels"]  # config.yml's own label
    assert {k: as_declared[k] for k in overrides} == overrides


def test_false_capture_counts_labels_taking_messages_about_something_else():
    predictions = pd.DataFrame({
        "test": ["tr.test.conll"] * 4 + ["tatoeba.deu"] * 2,
        "intent": ["RateBook", "RateBook", "weather/find", "weather/find", benchmark.ABOUT_NONE, benchmark.ABOUT_NONE],
        "predicted": ["RateBook", "weather/find", "RateBook", "weather/find", "RateBook", "greet"],
    })
    assert benchmark.false_capture(predictions, {"RateBook"}) == {"xsid": {"tr": 0.25}, "tatoeba": {"deu": 0.5}}


def test_tatoeba_sentences_leave_out_the_background(tmp_path):
    (tmp_path / "tatoeba.deu-eng.deu").write_text("Hallo!\nDanke.\n", encoding="utf-8")
    (tmp_path / "tatoeba.deu-eng.eng").write_text("Hello!\nThanks.\n", encoding="utf-8")
    (tmp_path / "tatoeba.tur-eng.eng").write_text("Hello!\nGood night.\n", encoding="utf-8")
    sentences = benchmark.tatoeba_sentences(tmp_path, leave_out={"Danke.", "Good night."})
    assert {k: list(v["text"]) for k, v in sentences.items()} == {"tatoeba.deu": ["Hallo!"],
                                                                   "tatoeba.eng": ["Hello!", "Thanks."]}
