"""Export a sentence-transformers folder's transformer to ONNX, fp32 and int8, for ONNX Runtime.

    python -m training.export_onnx [--model encoders/multilingual-e5-small]

Writes into MODEL/onnx/:
- `model.onnx`: the transformer layers in fp32, exported with `torch.onnx.export(dynamo=False)`, then
  fused by ONNX Runtime's transformer optimizer (attention, layer norm, GELU);
- `model_int8.onnx`: the same with int8 weights and dynamically quantized activations
  (`onnxruntime.quantization.quantize_dynamic`, per-channel weights) in every matrix product but the feed-forward
  output projections, whose inputs (after GELU) have outliers that per-tensor activation scales cannot hold
  (docs/decisions/0012 measures the recipes). Weights take 7 bits (`reduce_range`): a pair of uint8 x int7
  products fits the 16 bits in which CPUs without VNNI sum them, so every x86-64 CPU computes the same
  (docs/decisions/0071). `make setup` then checks int8 against fp32 on this CPU (training/check_int8.py).
The graph starts after the word-embedding lookup (input `inputs_embeds`): the 250k-row vocabulary matrix stays
in the safetensors file, memory-mapped by components/encoders/onnx_runtime.py, so that a server only holds the rows it
meets and every worker of a host shares them. Outputs: every hidden layer (`hidden_state_0` ... `_12`)
when the folder's config asks for hidden states (several-layer pooling), else the last one.
"""
import argparse
import json
import tempfile
from pathlib import Path

from components.encoders import sentence_encoder

ONNX_FOLDER = "onnx"
FP32_FILE, INT8_FILE = "model.onnx", "model_int8.onnx"
OPSET = 17


def int8_settings(model) -> dict:
    """Per-channel 7-bit MatMuls, except the feed-forward output projections (`.../output/dense/MatMul`)."""
    kept = [node.name for node in model.graph.node
            if node.op_type == "MatMul" and node.name.endswith("/output/dense/MatMul") and "attention" not in node.name]
    return {"per_channel": True, "reduce_range": True, "op_types_to_quantize": ["MatMul"], "nodes_to_exclude": kept}


def output_names(config: dict) -> list:
    layers = config["num_hidden_layers"] + 1 if config.get("output_hidden_states") else 1
    return ["last_hidden_state"] if layers == 1 else [f"hidden_state_{i}" for i in range(layers)]


def export_fp32(folder: Path, path: Path) -> None:
    """The transformer of `folder` (a BERT-like model) from `inputs_embeds` to its hidden states."""
    import torch

    encoder = sentence_encoder.read_encoder(str(folder))
    model = encoder[0].auto_model.eval()
    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    names = output_names(config)

    class Layers(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.model = model

        def forward(self, inputs_embeds, attention_mask, token_type_ids):
            output = model(inputs_embeds=inputs_embeds, attention_mask=attention_mask, token_type_ids=token_type_ids,
                           output_hidden_states=len(names) > 1, return_dict=True)
            return tuple(output.hidden_states) if len(names) > 1 else (output.last_hidden_state,)

    batch = encoder[0].tokenize(["query: a short example", "query: and a second, somewhat longer example"])
    embeds = model.get_input_embeddings()(batch["input_ids"])
    token_types = batch.get("token_type_ids", torch.zeros_like(batch["input_ids"]))
    axes = {"inputs_embeds": {0: "batch", 1: "tokens"}, "attention_mask": {0: "batch", 1: "tokens"},
            "token_type_ids": {0: "batch", 1: "tokens"}, **{n: {0: "batch", 1: "tokens"} for n in names}}
    with torch.inference_mode():
        torch.onnx.export(Layers(), (embeds, batch["attention_mask"], token_types), str(path), dynamo=False,
                          input_names=["inputs_embeds", "attention_mask", "token_type_ids"], output_names=names,
                          dynamic_axes=axes, opset_version=OPSET, do_constant_folding=True)
    optimise(path, config)


def optimise(path: Path, config: dict) -> None:
    """ONNX Runtime's BERT fusions (attention, skip layer norm, GELU), written back in place."""
    from onnxruntime.transformers import optimizer

    fused = optimizer.optimize_model(str(path), model_type="bert", num_heads=config["num_attention_heads"],
                                     hidden_size=config["hidden_size"], opt_level=1)
    fused.save_model_to_file(str(path))


def export_int8(fp32: Path, path: Path) -> None:
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    # The fused operators live in ONNX Runtime's own domain, where shape inference gives no output types.
    quantize_dynamic(str(fp32), str(path), weight_type=QuantType.QInt8,
                     extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT}, **int8_settings(onnx.load(str(fp32))))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, default=Path(sentence_encoder.EMBEDDED_ENCODER),
                        help="a local sentence-transformers folder (BERT-like transformer)")
    args = parser.parse_args(argv)
    if not (args.model / "modules.json").exists():
        parser.error(f"{args.model} is not a sentence-transformers folder (no modules.json); run `make setup`.")
    folder = args.model / ONNX_FOLDER
    folder.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder) as tmp:  # written whole, then moved: never half a file
        export_fp32(args.model, Path(tmp, FP32_FILE))
        export_int8(Path(tmp, FP32_FILE), Path(tmp, INT8_FILE))
        for name in (FP32_FILE, INT8_FILE):
            Path(tmp, name).replace(folder / name)
    print(f"Wrote {folder / FP32_FILE} and {folder / INT8_FILE}")


if __name__ == "__main__":
    main()
