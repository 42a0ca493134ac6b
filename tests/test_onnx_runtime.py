"""The encoder's layers in ONNX Runtime (fp32 and int8, exported by `make setup`) against eager PyTorch."""
import numpy as np
import pytest
import torch
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.shared.exceptions import InvalidConfigException

from components import sentence_encoder
from components.onnx_runtime import OnnxLayers
from components.sentence_embedding_featurizer import SentenceEmbeddingFeaturizer
from components.sentence_encoder import EMBEDDED_ENCODER, EncoderNotFound, load_encoder
from tests.conftest import build_component, messages

# Short messages in many languages and scripts, edge cases included; padding matters in a batch.
SAMPLE = ["hello there", "Merhaba, nasılsın?", "ហាងបើកម៉ោងប៉ុន្មាន?", "Wo ist meine Bestellung?", "我忘记了密码",
          "أين طلبي؟", "Где находится вокзал?", "東京の天気はどうですか", "Set an alarm for 7 am tomorrow please",
          "🙂", "", "a" * 3000, "Bonjour, quelles sont vos heures d'ouverture ?", "תודה רבה", "Asante sana"]
# Cosine of each embedding with PyTorch's: fp32 is the same graph; int8 measured 0.9916 at worst on this sample.
FLOOR = {"onnx": 0.999, "onnx-int8": 0.99}


def encode(runtime: str) -> np.ndarray:
    return sentence_encoder.encode(EMBEDDED_ENCODER, SAMPLE, "query: ", batch_size=8, runtime=runtime)


@pytest.mark.parametrize("runtime", FLOOR)
def test_onnx_embeddings_match_pytorch(runtime):
    cosines = np.einsum("ij,ij->i", encode("torch"), encode(runtime))
    assert cosines.min() >= FLOOR[runtime], dict(zip(SAMPLE, cosines.round(4)))


@pytest.mark.parametrize("runtime", FLOOR)
def test_onnx_runs_the_layers_and_keeps_the_rest_of_the_encoder(runtime):
    encoder = sentence_encoder.load_encoder(EMBEDDED_ENCODER, runtime)
    assert isinstance(encoder[0].auto_model, OnnxLayers)
    torch_modules = [type(m).__name__ for m in sentence_encoder.load_encoder(EMBEDDED_ENCODER)][1:]
    assert [type(m).__name__ for m in encoder][1:] == torch_modules  # pooling, language layer, normalisation
    assert sentence_encoder.last_layer_part(EMBEDDED_ENCODER, runtime) == slice(-384, None)


def test_the_featurizer_and_the_cache_keep_runtimes_apart(tmp_path):
    storage = LocalModelStorage(tmp_path)
    by_runtime = {runtime: build_component(SentenceEmbeddingFeaturizer, storage, runtime, prompt="query: ",
                                           runtime=runtime, cache_dir=str(tmp_path))
                  for runtime in ("torch", "onnx-int8")}
    vectors = {r: f.process(messages("Saat kaçta açıyorsunuz?"))[0].get_dense_features("text")[1].features
               for r, f in by_runtime.items()}
    assert float(vectors["torch"] @ vectors["onnx-int8"].T) >= FLOOR["onnx-int8"]
    prints = {r: SentenceEmbeddingFeaturizer.fingerprint_addon({"prompt": "query: ", "runtime": r}) for r in by_runtime}
    assert prints["torch"] != prints["onnx-int8"]  # Rasa retrains, and cached training vectors are not mixed


def test_unknown_runtime_and_missing_export_are_clear_errors(tmp_path):
    with pytest.raises(InvalidConfigException, match="runtime"):
        SentenceEmbeddingFeaturizer.validate_config({"model_name": EMBEDDED_ENCODER, "batch_size": 8, "runtime": "tensorrt"})
    folder = tmp_path / "copy"
    folder.mkdir()
    for item in (sentence_encoder._resolve_local(EMBEDDED_ENCODER)).iterdir():
        if item.name != "onnx":
            (folder / item.name).symlink_to(item)
    with pytest.raises(EncoderNotFound, match="training.export_onnx"):
        sentence_encoder.read_encoder(str(folder), "onnx")


def test_the_onnx_model_tells_its_device_without_a_search():
    """sentence-transformers reads the device at every encode: the ONNX stand-in answers it directly."""
    encoder = load_encoder(EMBEDDED_ENCODER, "onnx-int8")
    assert "device" in type(encoder[0].auto_model).__dict__ and encoder.device == torch.device("cpu")
