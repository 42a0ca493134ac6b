"""The dense head both heads are: the NumPy forward pass is the trained Keras model's, saved and loaded whole."""
import numpy as np
import pytest

from components.heads.dense_head import DenseHead, HeadFileError, fit_keras

CONFIG = {"hidden_units": 16, "dropout": 0.2, "epochs": 3, "batch_size": 8, "learning_rate": 1e-3, "random_seed": 7}
RNG = np.random.default_rng(0)
FEATURES = RNG.normal(size=(40, 12)).astype(np.float32)
TARGETS = {"entity": RNG.integers(0, 4, 40), "role": RNG.integers(0, 2, 40)}
CLASSES = {"entity": 4, "role": 2}


@pytest.mark.parametrize("hidden_units, label_smoothing", [(16, None), (0, 0.1)])
def test_the_numpy_forward_pass_is_the_keras_models(hidden_units, label_smoothing):
    model = fit_keras(FEATURES, TARGETS, CLASSES, {**CONFIG, "hidden_units": hidden_units}, l2=1e-4,
                      label_smoothing=label_smoothing)
    head = DenseHead.from_keras(model)
    assert (head.hidden is None) == (hidden_units == 0) and list(head.outputs) == ["entity", "role"]
    keras = model(FEATURES, training=False)
    for name, expected in zip(CLASSES, keras):
        np.testing.assert_allclose(head.probabilities(FEATURES)[name], expected.numpy(), atol=1e-5)


def test_a_saved_head_loads_whole(tmp_path):
    head = DenseHead.train(FEATURES, TARGETS, CLASSES, CONFIG)
    head.save(tmp_path / "head.npz")
    loaded = DenseHead.load(tmp_path / "head.npz", "entity head")
    for name in CLASSES:
        np.testing.assert_array_equal(loaded.probabilities(FEATURES)[name], head.probabilities(FEATURES)[name])


@pytest.mark.parametrize("content", [None, b"not a head", b"PK\x03\x04 broken zip"])
def test_a_missing_or_broken_head_says_how_to_mend_it(tmp_path, content):
    path = tmp_path / "head.npz"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(HeadFileError, match="entity head .* Retrain the bot with `make train`"):
        DenseHead.load(path, "entity head")


def test_a_head_saved_without_an_output_says_how_to_mend_it(tmp_path):
    head = DenseHead.train(FEATURES, TARGETS, CLASSES, CONFIG)
    np.savez(tmp_path / "head.npz", outputs='["entity", "role"]', **{"output.entity.kernel": head.outputs["entity"][0]})
    with pytest.raises(HeadFileError, match="make train"):
        DenseHead.load(tmp_path / "head.npz", "entity head")
