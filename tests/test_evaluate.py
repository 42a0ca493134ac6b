"""training.evaluate end to end on fixtures, through Rasa's real training and parsing."""
import json
from pathlib import Path

import pytest

from training import evaluate, metrics, similarity, spreadsheet
from training.datasets import load_examples
from training.project import ROOT

FIXTURES = Path(__file__).parent / "fixtures"
SCORE_KEYS = {"n", "accuracy", "macro_f1", "fallback_rate", "calibration_error", "confusions"}


def check_config_report(report: dict, tests: dict) -> None:
    """The structure other tools read: keep these keys."""
    assert set(report["tests"]) == set(tests)
    for name, n in tests.items():
        result = report["tests"][name]
        assert SCORE_KEYS <= set(result) and result["n"] == n
        for language_result in result["by_language"].values():
            assert SCORE_KEYS <= set(language_result)
    assert set(report["latency_ms"]) == {"median", "p95"}
    assert report["train_seconds"] > 0 and report["sentences_per_s"] > 0


def test_scores_are_those_of_the_predictions_written_beside_them(evaluation):
    import pandas as pd

    out, report = evaluation
    predictions = pd.read_csv(out / "predictions.csv", keep_default_na=False)
    for name, result in report["tests"].items():
        rows = predictions[predictions["test"] == name]
        assert result["accuracy"] == pytest.approx((rows["intent"] == rows["predicted"]).mean(), abs=1e-4)
        assert result["fallback_rate"] == pytest.approx(rows["fell_back"].astype(str).eq("True").mean(), abs=1e-4)
    assert report["latency_ms"]["median"] == pytest.approx(predictions["latency_ms"].median(), abs=0.01)


@pytest.fixture(scope="module")
def evaluation(tmp_path_factory, embedding_cache):
    out = tmp_path_factory.mktemp("evaluation")
    unknown = out / "with_unknown.csv"
    unknown.write_text("text,intent\nremind me to call mum,reminder/set_reminder\n"
                       "what's the weather like?,weather/find\n", encoding="utf-8")
    code = evaluate.main(["--config", str(ROOT / "config.yml"), "--train", str(FIXTURES / "xsid_en_train.conll"),
                          "--test", str(FIXTURES / "xsid_tr_test.conll"), str(FIXTURES / "translated_test.csv"),
                          str(unknown), "--out", str(out), "--baseline", str(FIXTURES / "quick_baseline_config.yml")])
    assert code == 0
    return out, json.loads((out / "report.json").read_text(encoding="utf-8"))


def test_report_structure_for_both_configs(evaluation):
    _, report = evaluation
    tests = {"xsid_tr_test.conll": 12, "translated_test.csv": 16, "with_unknown.csv": 2}
    check_config_report(report, tests)
    check_config_report(report["baseline"], tests)
    assert set(report["tests"]["translated_test.csv"]["by_language"]) == {"de", "tr"}
    assert report["tests"]["xsid_tr_test.conll"]["by_language"] == {}


def test_entities_are_scored_per_file_and_language_for_both_configs(evaluation):
    _, report = evaluation
    for result in (report, report["baseline"]):
        entities = result["tests"]["xsid_tr_test.conll"]["entities"]
        assert {"f1", "precision", "recall", "n", "by_type"} <= set(entities) and entities["n"] > 0
        assert all({"f1", "n"} == set(scores) for scores in entities["by_type"].values())
        assert set(result["tests"]["translated_test.csv"]) >= {"accuracy"}  # no annotations there: no entity scores
        assert "entities" not in result["tests"]["translated_test.csv"]


def test_entity_scores_are_those_of_the_predictions(evaluation):
    """An exact span counts once: recomputed from predictions.csv, the scores are the report's."""
    import ast

    import pandas as pd

    from training.metrics import span_scores

    out, report = evaluation
    rows = pd.read_csv(out / "predictions.csv", keep_default_na=False)
    rows = rows[rows["test"] == "xsid_tr_test.conll"]
    scores = span_scores([ast.literal_eval(v) for v in rows["entities"]],
                         [ast.literal_eval(v) for v in rows["predicted_entities"]])
    reported = report["tests"]["xsid_tr_test.conll"]["entities"]
    assert scores == {key: value for key, value in reported.items() if key != "dates"}


def test_multilingual_pipeline_transfers_to_turkish(evaluation):
    _, report = evaluation
    assert report["tests"]["xsid_tr_test.conll"]["accuracy"] >= 0.75


def test_unknown_test_intent_is_reported_and_counted_wrong(evaluation):
    _, report = evaluation
    result = report["tests"]["with_unknown.csv"]
    assert result["unknown_intents"] == {"reminder/set_reminder": 1}
    assert result["accuracy"] <= 0.5


def test_plots_are_written(evaluation):
    out, _ = evaluation
    for name in ("accuracy_by_language.png", "confusion_matrix.png", "calibration.png"):
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_calibration_error_is_the_gap_between_confidence_and_accuracy():
    import pandas as pd

    confidence = pd.Series([0.95, 0.95, 0.95, 0.95, 0.55, 0.55])
    correct = pd.Series([True, True, True, True, True, False])
    assert metrics.calibration_error(confidence, correct) == pytest.approx((4 * 0.05 + 2 * 0.05) / 6)
    overconfident = pd.Series([True, False, True, False])
    assert metrics.calibration_error(pd.Series([0.9] * 4), overconfident) == pytest.approx(0.4)


def test_bad_test_file_is_a_clear_error_not_a_crash(tmp_path, capsys):
    bad = tmp_path / "bad.txt"
    bad.write_text("hello", encoding="utf-8")
    code = evaluate.main(["--config", "config.yml", "--train", str(FIXTURES / "xsid_en_train.conll"),
                          "--test", str(bad), "--out", str(tmp_path)])
    assert code == 2
    assert "unknown file type" in capsys.readouterr().err


def test_spreadsheet_round_trip(tmp_path):
    sheet = tmp_path / "translate.xlsx"
    assert spreadsheet.main(["--data", str(ROOT / "data" / "nlu.yml"), "--out", str(sheet), "--languages", "tr"]) == 0
    import pandas as pd

    rows = pd.read_excel(sheet)
    assert list(rows.columns) == ["intent", "english", "language", "text"]
    rows.loc[0, "text"] = "Merhaba"
    rows.to_excel(sheet, index=False)
    translated = load_examples(sheet)
    assert len(translated) == 1 and translated["language"][0] == "tr"


def test_similarity_of_translation_pairs(tmp_path, embedding_cache):
    (tmp_path / "tatoeba.tur-eng.tur").write_text("Trenim saat beşte kalkıyor.\nKedi uyuyor.\nBugün hava çok güzel.\n", encoding="utf-8")
    (tmp_path / "tatoeba.tur-eng.eng").write_text("My train leaves at five o'clock.\nThe cat is sleeping.\nThe weather is very nice today.\n",
                                                 encoding="utf-8")
    assert similarity.main(["--config", str(ROOT / "config.yml"), "--pairs", str(tmp_path), "--out", str(tmp_path)]) == 0
    result = json.loads((tmp_path / "similarity.json").read_text())["languages"]["tur"]
    assert result["n"] == 3 and result["mean"] > 0.5  # the language layer spreads cosines out (raw e5: > 0.8)
    assert result["retrieval_to_english"] == 1.0 and result["retrieval_from_english"] == 1.0
    assert (tmp_path / "similarity_histogram.png").exists()
