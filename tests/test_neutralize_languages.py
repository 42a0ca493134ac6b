"""The language-neutral layer: fitted on unlabelled multilingual text, part of the embedded encoder."""
import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from components.encoders import sentence_encoder
from components.sentence_embedding_featurizer import SentenceEmbeddingFeaturizer
from training import neutralize_languages as layer
from training.datasets import load_examples
from training.project import ROOT

FIXTURES = Path(__file__).parent / "fixtures"
EMBEDDED = ROOT / sentence_encoder.EMBEDDED_ENCODER
BIG_FILES = {"model.safetensors", "tokenizer.model"}


def module_types(folder: Path) -> list:
    return [m["type"].rsplit(".", 1)[-1] for m in json.loads((folder / "modules.json").read_text())]


def check_unit_length(vectors: np.ndarray) -> None:
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)


def language_bias(model: Path, pairs) -> float:
    """How much sharing a language makes two unrelated sentences look alike, in units of what being
    translations adds: (same language - other language) / (translation - other language), mean cosines."""
    turkish = sentence_encoder.encode(str(model), list(pairs["text"]), "query: ", 32)
    english = sentence_encoder.encode(str(model), list(pairs["text_en"]), "query: ", 32)
    check_unit_length(turkish)
    unrelated = ~np.eye(len(turkish), dtype=bool)
    same_language = (turkish @ turkish.T)[unrelated].mean()
    other_language = (turkish @ english.T)[unrelated].mean()
    translation = np.einsum("ij,ij->i", turkish, english).mean()
    return float((same_language - other_language) / (translation - other_language))


@pytest.fixture(scope="module")
def encoder_copy(tmp_path_factory) -> Path:
    """The embedded encoder in a temporary folder; its weights are hard links, its small files copies."""
    def link_or_copy(source, target):
        return os.link(source, target) if Path(source).name in BIG_FILES else shutil.copy2(source, target)

    folder = tmp_path_factory.mktemp("encoder") / "e5"
    shutil.copytree(EMBEDDED, folder, copy_function=link_or_copy)
    return folder


@pytest.fixture(scope="module")
def turkish_pairs():
    text = (FIXTURES / "xsid_tr_test.conll").read_text(encoding="utf-8")
    english = [line[len("# text-en = "):] for line in text.splitlines() if line.startswith("# text-en = ")]
    return load_examples(FIXTURES / "xsid_tr_test.conll").assign(text_en=english)


def test_fitted_layer_removes_the_mean_and_the_top_direction():
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(500, 8)) + 3.0
    vectors[:250, 0] += 5.0  # a strong "language" direction
    fitted = layer.fit_layer(vectors, directions=1)
    neutral = fitted({"sentence_embedding": torch.from_numpy(vectors.astype(np.float32))})["sentence_embedding"].numpy()
    assert np.allclose(neutral.mean(axis=0), 0.0, atol=1e-4)
    top = np.linalg.svd(vectors - vectors.mean(axis=0), full_matrices=False)[2][0]
    assert np.allclose(neutral @ top, 0.0, atol=1e-3)
    assert abs(top[0]) > 0.9


NEUTRAL = ["Transformer", "MultiLayerMeanPooling", "Normalize", "LanguageNeutralLayer", "Normalize"]


def test_embedded_encoder_pools_five_layers_and_ends_with_the_language_layer():
    assert module_types(EMBEDDED) == NEUTRAL
    config = json.loads((EMBEDDED / layer.LAYER_FOLDER / "config.json").read_text())
    assert config == {"dimension": 5 * 384, "directions": 1}
    assert sentence_encoder.encode(str(EMBEDDED), ["Merhaba"], "query: ", 1).shape == (1, 5 * 384)


def test_layer_weakens_what_sharing_a_language_adds(encoder_copy, turkish_pairs):
    with_layer = language_bias(EMBEDDED, turkish_pairs)
    layer.strip_layer(encoder_copy)
    assert module_types(encoder_copy) == ["Transformer", "Pooling", "Normalize"]
    assert "output_hidden_states" not in json.loads((encoder_copy / "config.json").read_text())
    without_layer = language_bias(encoder_copy, turkish_pairs)
    assert with_layer < 0.8 * without_layer, (with_layer, without_layer)


def test_a_rebuilt_encoder_invalidates_rasas_training_cache(encoder_copy):
    """The featurizer's fingerprint follows the encoder; the components after it see its output change."""
    layer.strip_layer(encoder_copy)
    options = {"model_name": str(encoder_copy), "prompt": "query: "}
    embedded = {**options, "model_name": str(EMBEDDED)}
    assert SentenceEmbeddingFeaturizer.fingerprint_addon(options) != SentenceEmbeddingFeaturizer.fingerprint_addon(embedded)


def test_refitting_replaces_the_layer_instead_of_stacking_it(encoder_copy, tmp_path):
    sample = (ROOT / layer.DEFAULT_TEXTS).read_text(encoding="utf-8").splitlines()[::10]
    texts = tmp_path / "sample.txt"
    texts.write_text("\n".join(sample) + "\n", encoding="utf-8")
    for _ in range(2):
        layer.main(["--model", str(encoder_copy), "--texts", str(texts)])
        assert module_types(encoder_copy) == NEUTRAL
    layer.main(["--model", str(encoder_copy), "--texts", str(texts), "--last-layers", "0"])
    assert module_types(encoder_copy) == ["Transformer", "Pooling", "Normalize", "LanguageNeutralLayer", "Normalize"]
    assert json.loads((encoder_copy / layer.LAYER_FOLDER / "config.json").read_text())["dimension"] == 384
    assert module_types(EMBEDDED) == NEUTRAL  # the original folder is untouched


def test_too_few_texts_is_a_clear_error(encoder_copy, tmp_path, capsys):
    texts = tmp_path / "one.txt"
    texts.write_text("only one line\n", encoding="utf-8")
    with pytest.raises(SystemExit):
        layer.main(["--model", str(encoder_copy), "--texts", str(texts)])
    assert "needs many more" in capsys.readouterr().err


def test_language_layer_is_the_dense_map_it_replaces(tmp_path):
    """P(x - mean) as fitted, saved and loaded equals the dense weight P and bias -P·mean."""
    from components.encoders.language_neutral import LanguageNeutralLayer

    rng = np.random.default_rng(1)
    vectors = rng.normal(size=(300, 12)).astype(np.float32)
    fitted = layer.fit_layer(vectors, directions=2)
    fitted.save(str(tmp_path))
    loaded = LanguageNeutralLayer.load(str(tmp_path))
    mean = vectors.mean(axis=0)
    top = np.linalg.svd(vectors - mean, full_matrices=False)[2][:2]
    projection = np.eye(12) - top.T @ top
    expected = vectors @ projection.T - projection @ mean
    got = loaded({"sentence_embedding": torch.from_numpy(vectors)})["sentence_embedding"].numpy()
    assert np.allclose(got, expected, atol=1e-5)
    assert loaded.get_embedding_dimension() == 12
