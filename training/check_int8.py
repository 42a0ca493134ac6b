"""Check, on this CPU, that the encoder's int8 layers give what its fp32 layers give; say which will run.

    python -m training.check_int8 [--model encoders/multilingual-e5-small]

`make setup` runs it after the ONNX export and the language layer. It encodes a probe of short texts in several
scripts with both runtimes and writes MODEL/onnx/int8_check.json: this CPU's int8 features, the lowest cosine
and the runtime that `runtime: onnx-int8` will use here (components/encoders/onnx_runtime.py): int8 at or above
INT8_FLOOR, the fp32 layers below it. The int8 recipe cannot saturate on any x86-64 CPU (training/export_onnx.py,
docs/decisions/0071); this check is what catches a CPU or a recipe where that stops being true.
"""
import argparse
import json
from pathlib import Path

import numpy as np

from components.encoders import sentence_encoder
from components.encoders.onnx_runtime import INT8_CHECK_FILE, ONNX, ONNX_INT8, cpu_features

# The lowest cosine with fp32, over the probe texts, at which int8 is kept (the floor tests/test_onnx_runtime.py holds).
INT8_FLOOR = 0.99

# Short messages in several scripts; the first five strayed most where int8 kernels saturated (docs/decisions/0071).
PROBE_TEXTS = ["ហាងបើកម៉ោងប៉ុន្មាន?", "hello there", "Asante sana", "Bonjour, quelles sont vos heures d'ouverture ?",
               "أين طلبي؟", "Merhaba, nasılsın?", "我忘记了密码", "東京の天気はどうですか", "Где находится вокзал?",
               "Set an alarm for 7 am tomorrow please", "Wo ist meine Bestellung?", "🙂"]
PROMPT = "query: "


def lowest_cosine(model: Path) -> float:
    """The lowest cosine between the int8 and the fp32 embedding of a probe text, on this CPU."""
    fp32, int8 = (sentence_encoder.read_encoder(str(model), runtime).encode(PROBE_TEXTS, prompt=PROMPT, batch_size=1)
                  for runtime in (ONNX, ONNX_INT8))
    return float(np.einsum("ij,ij->i", fp32, int8).min())


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, default=Path(sentence_encoder.EMBEDDED_ENCODER),
                        help="a local sentence-transformers folder with exported ONNX layers")
    args = parser.parse_args(argv)
    check = args.model / INT8_CHECK_FILE
    check.unlink(missing_ok=True)  # the int8 layers themselves, not an earlier verdict
    cosine = lowest_cosine(args.model)
    runtime = ONNX_INT8 if cosine >= INT8_FLOOR else ONNX
    check.write_text(json.dumps({"cpu_features": cpu_features(), "lowest_cosine": round(cosine, 4), "runtime": runtime},
                                indent=1), encoding="utf-8")
    verdict = "int8 runs here" if runtime == ONNX_INT8 else \
        "int8 strays on this CPU: `runtime: onnx-int8` runs the fp32 layers here instead (slower, same answers)"
    print(f"int8 against fp32 on this CPU ({', '.join(cpu_features()) or 'no AVX2'}): lowest cosine {cosine:.4f} "
          f"over {len(PROBE_TEXTS)} probe texts, floor {INT8_FLOOR}: {verdict}.")


if __name__ == "__main__":
    main()
