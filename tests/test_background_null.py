"""The null distribution a zero-shot label must rise above: hubness-corrected scores and their thresholds."""
import numpy as np
import pytest
from rasa.shared.exceptions import InvalidConfigException

from components.languages.detection import language_of
from components.zero_shot.background_null import (MIN_LANGUAGE_SENTENCES, HubnessCorrectedNull, label_quantile,
                                                  language_bars, null_thresholds, read_background, threshold_for)


def unit(rows: np.ndarray) -> np.ndarray:
    return rows / np.linalg.norm(rows, axis=-1, keepdims=True)


@pytest.fixture()
def background() -> np.ndarray:
    return unit(np.random.default_rng(0).normal(size=(400, 16)))


def test_each_label_gets_its_share_of_the_rate():
    assert label_quantile(0.005, 1) == pytest.approx(0.995)
    assert label_quantile(0.006, 3) == pytest.approx(0.998)
    scores = np.random.default_rng(1).normal(size=(10_000, 2))
    thresholds = null_thresholds(scores, 0.01)
    assert (scores > thresholds).mean(axis=0) == pytest.approx([0.005, 0.005], abs=1e-3)


def test_scores_are_csls_by_hand(background):
    null = HubnessCorrectedNull(background, neighbours=5)
    labels = unit(np.random.default_rng(2).normal(size=(2, 16)))
    null.fit(labels)
    message = unit(np.random.default_rng(3).normal(size=16))
    nearest_to_message = np.sort(background @ message)[-5:].mean()
    nearest_to_labels = np.sort(labels @ background.T, axis=1)[:, -5:].mean(axis=1)
    expected = 2 * labels @ message - nearest_to_message - nearest_to_labels
    np.testing.assert_allclose(null.scores(message, labels)[0], expected, rtol=1e-5)


def test_background_scores_leave_each_sentence_out_of_its_own_neighbours(background):
    null = HubnessCorrectedNull(background, neighbours=1)
    others = background @ background.T
    np.fill_diagonal(others, -np.inf)
    np.testing.assert_allclose(null.nearest(background, 1, leave_out_self=True)[:, 0], others.max(axis=1), rtol=1e-5)
    assert np.allclose(null.hubness(background), 1.0)  # with itself in, every sentence's nearest is itself


def test_hubness_is_the_same_however_many_rows_are_compared_at_once(background, monkeypatch):
    null = HubnessCorrectedNull(background, neighbours=5)
    similarity = background @ background.T
    by_hand = np.sort(similarity, axis=1)[:, -5:].mean(axis=1)
    np.fill_diagonal(similarity, -np.inf)
    left_out_by_hand = np.sort(similarity, axis=1)[:, -5:].mean(axis=1)
    monkeypatch.setattr("components.zero_shot.background_null.CHUNK_ROWS", 7)  # chunks that do not divide the 400 rows
    np.testing.assert_allclose(null.nearest(background, 5, leave_out_self=True).mean(axis=1), left_out_by_hand, rtol=1e-5)
    np.testing.assert_allclose(null.hubness(background), by_hand, rtol=1e-5)


def test_a_stored_null_scores_as_the_fitted_one(background):
    null = HubnessCorrectedNull(background, neighbours=5)
    labels = unit(np.random.default_rng(5).normal(size=(2, 16)))
    null.fit(labels)
    stored = HubnessCorrectedNull.from_arrays(null.arrays(), neighbours=5)
    messages = unit(np.random.default_rng(6).normal(size=(20, 16)))
    np.testing.assert_allclose(stored.scores(messages, labels), null.scores(messages, labels), atol=2e-3)  # float16
    assert HubnessCorrectedNull.from_arrays({"vectors": labels}, neighbours=5) is None  # trained without background


def test_thresholds_let_the_rate_of_background_through(background):
    null = HubnessCorrectedNull(background, neighbours=10)
    labels = unit(np.random.default_rng(4).normal(size=(2, 16)))
    null_scores = null.fit(labels)
    others = background @ background.T
    np.fill_diagonal(others, -np.inf)  # each sentence left out of its own neighbours
    own = (2 * background @ labels.T - np.sort(others, axis=1)[:, -10:].mean(axis=1)[:, None]
           - np.sort(labels @ background.T, axis=1)[:, -10:].mean(axis=1)[None, :])
    np.testing.assert_allclose(null_scores, own, atol=1e-5)
    assert (own > null_thresholds(null_scores, 0.05)).mean(axis=0) == pytest.approx([0.025, 0.025], abs=0.006)


def test_nearest_cosines_computed_once_give_the_same_null_for_fewer_neighbours(background):
    """`make setup` stores the background's nearest cosines, wider than the zero-shot step's `neighbours`: the
    null fitted from them is the one fitted from nothing, to the last bit."""
    labels = unit(np.random.default_rng(7).normal(size=(2, 16)))
    null = HubnessCorrectedNull(background, neighbours=5)
    stored = null.nearest(null.background, 32, leave_out_self=True)
    assert (np.diff(stored, axis=1) <= 0).all()  # highest first
    for neighbours in (1, 5, 10):
        from_nothing = HubnessCorrectedNull(background, neighbours).fit(labels)
        np.testing.assert_array_equal(HubnessCorrectedNull(background, neighbours).fit(labels, stored), from_nothing)
    # read, not recomputed: background sentences that seem 0.5 less close to everything score 0.5 higher
    np.testing.assert_allclose(HubnessCorrectedNull(background, 5).fit(labels, stored - 0.5),
                               HubnessCorrectedNull(background, 5).fit(labels) + 0.5, atol=1e-6)
    too_narrow = stored[:, :3]  # fewer than `neighbours`: computed anew
    np.testing.assert_array_equal(HubnessCorrectedNull(background, 5).fit(labels, too_narrow),
                                  HubnessCorrectedNull(background, 5).fit(labels))


def test_a_message_like_the_label_is_above_its_null(background):
    null = HubnessCorrectedNull(background, neighbours=10)
    label = unit(np.random.default_rng(5).normal(size=(1, 16)))
    threshold = null_thresholds(null.fit(label), 0.005)[0]
    close = unit(label[0] + 0.1 * np.random.default_rng(6).normal(size=16))
    assert null.scores(close, label)[0, 0] > threshold


def test_neighbours_must_fit_the_background(background):
    with pytest.raises(ValueError, match="neighbours must be between 1 and 399"):
        HubnessCorrectedNull(background, neighbours=400)


def test_background_file_problems_say_what_to_do(tmp_path):
    with pytest.raises(InvalidConfigException, match="does not exist.*background_texts"):
        read_background(str(tmp_path / "missing.txt"))
    short = tmp_path / "short.txt"
    short.write_text("hello\n\nbonjour\n", encoding="utf-8")
    with pytest.raises(InvalidConfigException, match="has 2 sentences"):
        read_background(str(short))


def test_each_language_gets_the_same_standardised_quantile_on_its_own_scale():
    rng = np.random.default_rng(7)
    english, turkish = rng.normal(1.0, 1.0, size=(2000, 2)), rng.normal(-0.5, 0.4, size=(2000, 2))
    khmer = rng.normal(0.0, 1.0, size=(MIN_LANGUAGE_SENTENCES - 1, 2))
    scores = np.vstack([english, turkish, khmer])
    languages = ["en"] * 2000 + ["tr"] * 2000 + ["km"] * len(khmer)
    bars = language_bars(scores, languages, false_capture_rate=0.04)  # 2% for each of the two labels
    assert set(bars) == {0, 1} and set(bars[0]) == {"en", "tr"}  # too few Khmer sentences: the pooled bar
    for column in (0, 1):
        assert (english[:, column] > bars[column]["en"]).mean() == pytest.approx(0.02, abs=0.006)
        assert (turkish[:, column] > bars[column]["tr"]).mean() == pytest.approx(0.02, abs=0.006)
        pooled = null_thresholds(scores, 0.04)[column]
        assert bars[column]["tr"] < pooled < bars[column]["en"]  # Turkish text scores lower than English here
    assert language_bars(scores[-5:], languages[-5:], 0.04) == {}


def test_a_message_meets_the_bar_of_its_language_or_the_pooled_one():
    bars = {"en": 0.3, "tr": -0.2}
    assert threshold_for(0.1, bars, "en") == 0.3
    assert threshold_for(0.1, bars, "tr") == -0.2
    assert threshold_for(0.1, bars, "it") == 0.1  # no Italian in the background
    assert threshold_for(0.1, bars, None) == 0.1  # too short to tell its language
    assert threshold_for(0.1, None, "en") == 0.1
    assert threshold_for(None, bars, "en") is None  # no background: no null at all


def test_language_of_a_sentence():
    assert language_of("Where is my order? It has not arrived yet.") == "en"
    assert language_of("Siparişim nerede? Henüz gelmedi.") == "tr"
    assert language_of("👍 42") is None
