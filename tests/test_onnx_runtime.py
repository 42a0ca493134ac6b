"""The encoder's layers in ONNX Runtime (fp32 and int8, exported by `make setup`) against eager PyTorch."""
import json

import numpy as np
import pytest
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.shared.exceptions import InvalidConfigException

from components.encoders import sentence_encoder
from components.encoders.onnx_runtime import (INT8_CHECK_FILE, MODEL_FILES, ONNX, ONNX_INT8, OnnxLayers,
                                              checked_model_file, cpu_features)
from components.encoders.sentence_encoder import EMBEDDED_ENCODER, EncoderNotFound
from components.sentence_embedding_featurizer import SentenceEmbeddingFeaturizer
from tests.conftest import build_component, messages
from training import check_int8

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
    for item in (sentence_encoder.local_folder(EMBEDDED_ENCODER)).iterdir():
        if item.name != "onnx":
            (folder / item.name).symlink_to(item)
    with pytest.raises(EncoderNotFound, match="training.export_onnx"):
        sentence_encoder.read_encoder(str(folder), "onnx")


def test_int8_products_cannot_saturate_on_cpus_without_vnni():
    """AVX2 without VNNI sums pairs of uint8 x int8 products in 16 bits: weights within ±64 keep every pair below
    32,768, whatever the activations (docs/decisions/0071)."""
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(sentence_encoder.local_folder(EMBEDDED_ENCODER) / MODEL_FILES[ONNX_INT8]))
    weights = {tensor.name: tensor for tensor in model.graph.initializer}
    products = [node for node in model.graph.node if node.op_type in ("MatMulInteger", "DynamicQuantizeMatMul")]
    assert len(products) == 60  # five quantized products in each of the twelve layers
    for node in products:
        weight = numpy_helper.to_array(weights[node.input[1]])
        assert weight.dtype == np.int8 and 2 * 255 * np.abs(weight.astype(np.int32)).max() <= 32767, node.name


def encoder_copy(tmp_path, verdict=None):
    """A folder that links to the embedded encoder's files, with an int8 check of its own."""
    folder, source = tmp_path / "copy", sentence_encoder.local_folder(EMBEDDED_ENCODER)
    (folder / "onnx").mkdir(parents=True)
    for item in source.iterdir():
        if item.name != "onnx":
            (folder / item.name).symlink_to(item)
    for item in (source / "onnx").iterdir():
        if item.name != "int8_check.json":
            (folder / "onnx" / item.name).symlink_to(item)
    if verdict is not None:
        (folder / INT8_CHECK_FILE).write_text(json.dumps(verdict))
    return folder


def test_setup_checks_int8_against_fp32_on_this_cpu(tmp_path):
    folder = encoder_copy(tmp_path)
    check_int8.main(["--model", str(folder)])
    verdict = json.loads((folder / INT8_CHECK_FILE).read_text())
    assert verdict["cpu_features"] == cpu_features() and verdict["runtime"] == ONNX_INT8
    assert verdict["lowest_cosine"] >= check_int8.INT8_FLOOR


def test_a_cpu_where_int8_strays_runs_fp32(tmp_path, caplog):
    strays = encoder_copy(tmp_path, {"cpu_features": cpu_features(), "lowest_cosine": 0.98, "runtime": ONNX})
    assert checked_model_file(strays, ONNX_INT8) == strays / MODEL_FILES[ONNX]
    assert "running the fp32 layers" in caplog.text
    vectors = {runtime: sentence_encoder.read_encoder(str(strays), runtime).encode(["Asante sana"]) for runtime in FLOOR}
    assert np.array_equal(vectors["onnx"], vectors["onnx-int8"])


def test_int8_checked_on_another_cpu_says_to_check_again(tmp_path, caplog):
    elsewhere = encoder_copy(tmp_path, {"cpu_features": ["avx2"] if "avx2" not in cpu_features() else [],
                                        "lowest_cosine": 0.995, "runtime": ONNX_INT8})
    assert checked_model_file(elsewhere, ONNX_INT8) == elsewhere / MODEL_FILES[ONNX_INT8]
    assert "run `make setup` here" in caplog.text


def test_a_model_without_token_types_runs_in_onnx_runtime(tmp_path):
    """MPNet (all-mpnet-base-v2 and its kin) takes no token types: its export has no such input, and the layers
    are fed only the inputs the graph declares."""
    import torch
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Pooling, Transformer
    from transformers import MPNetConfig, MPNetModel, MPNetTokenizerFast

    from training import export_onnx

    vocab = ["<s>", "<pad>", "</s>", "[UNK]", "<mask>"] + list("abcdefghijklmnopqrstuvwxyz") + ["set", "an", "alarm"]
    torch.manual_seed(0)
    MPNetModel(MPNetConfig(vocab_size=len(vocab), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                           intermediate_size=64)).save_pretrained(tmp_path / "mpnet")
    MPNetTokenizerFast(vocab={word: i for i, word in enumerate(vocab)}).save_pretrained(tmp_path / "mpnet")
    model = tmp_path / "model"
    SentenceTransformer(modules=[Transformer(str(tmp_path / "mpnet")), Pooling(32)]).save(str(model))
    export_onnx.main(["--model", str(model)])
    texts = ["set an alarm", "alarm", "a b c"]
    exported = sentence_encoder.encode(str(model), texts, None, batch_size=8, runtime=ONNX)
    eager = sentence_encoder.encode(str(model), texts, None, batch_size=8, runtime="torch")
    assert np.einsum("ij,ij->i", eager, exported).min() >= FLOOR[ONNX]
