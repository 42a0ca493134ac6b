"""Sentence and word vectors from one pass of the encoder: the featurizer's sentence feature, and for every word a
vector pooled from the hidden states of the encoder's pieces (SentencePiece or WordPiece) that overlap it.

A piece's characters are found from the tokenizer itself: SentencePiece's own segmentation (each piece's
surface text) or a fast tokenizer's offset mapping, checked against the ids the model was given. When they
cannot be matched (another kind of tokenizer), every word of that message gets the mean of all its pieces.
"""
import io
from typing import TYPE_CHECKING, List, Optional, Sequence, Tuple

import numpy as np

from components.encoders import sentence_encoder
from components.languages.message_text import without_mark_runs_keeping_positions

if TYPE_CHECKING:
    from components.encoders.embedding_cache import EmbeddingCache

Span = Tuple[int, int]


class EncodedText:
    """One text's sentence vector, the state of each of its pieces (the chosen layers, each scaled to unit length
    and concatenated) and each piece's characters in the original text (None when unknown)."""

    def __init__(self, sentence: np.ndarray, pieces: np.ndarray, spans: Optional[List[Span]]) -> None:
        self.sentence, self.pieces, self.spans = sentence, pieces, spans

    def word_vectors(self, words: Sequence[Span]) -> np.ndarray:
        """(words, dim): each word's mean piece state; a word no piece reaches (past the encoder's window) gets
        zeros, and every word the message's mean when piece positions are unknown."""
        vectors = np.zeros((len(words), self.pieces.shape[1]), np.float32)
        if not len(self.pieces):
            return vectors
        if self.spans is None:
            vectors[:] = self.pieces.mean(axis=0)
            return vectors
        starts = np.array([s for s, _ in self.spans])
        ends = np.array([e for _, e in self.spans])
        for row, (start, end) in enumerate(words):
            overlapping = (starts < end) & (ends > start)
            if overlapping.any():
                vectors[row] = self.pieces[overlapping].mean(axis=0)
        return vectors


def encode_with_pieces(model_name: str, texts: List[str], prompt: Optional[str], runtime: str,
                       layers: Sequence[int], batch_size: int = 32) -> List[EncodedText]:
    """What `sentence_encoder.encode` gives for each text, plus its pieces' states in `layers` (hidden state
    indices: -1 is the last layer), from the same forward pass."""
    import torch

    encoder = sentence_encoder.load_encoder(model_name, runtime)
    prompt = _resolve_prompt(encoder, prompt)
    results = []
    for start in range(0, len(texts), batch_size):
        batch = texts[start: start + batch_size]
        cleaned = [without_mark_runs_keeping_positions(text) for text in batch]
        cleaned = [(text[: sentence_encoder.MAX_CHARACTERS], positions) for text, positions in cleaned]
        with torch.inference_mode():
            features = encoder.preprocess([text for text, _ in cleaned], prompt=prompt)
            output = encoder(features)
        hidden = output.get("all_layer_embeddings") or (output["token_embeddings"],)
        for row, (text, positions) in enumerate(cleaned):
            length = int(output["attention_mask"][row].sum())
            ids = output["input_ids"][row][:length].tolist()
            states = [torch.nn.functional.normalize(hidden[layer][row][:length], dim=-1) for layer in layers]
            pieces = torch.cat(states, dim=-1).numpy()
            spans = piece_spans(encoder[0].tokenizer, prompt + text, ids, len(prompt))
            keep = [i for i, span in enumerate(spans or []) if span is not None]
            if spans is not None:
                pieces = pieces[keep]
                spans = [(positions[spans[i][0]], positions[spans[i][1]]) for i in keep]
            results.append(EncodedText(output["sentence_embedding"][row].numpy().astype(np.float32),
                                       pieces.astype(np.float32), spans))
    return results


def encode_with_pieces_cached(cache: "EmbeddingCache", texts: List[str], layers: Sequence[int],
                              batch_size: int = 32) -> List[EncodedText]:
    """`encode_with_pieces` for training examples: texts already in the cache are read back, not encoded."""
    return cache.through(f"pieces{list(layers)}", texts, lambda missing: encode_with_pieces(
        cache.model_name, missing, cache.prompt, cache.runtime, layers, batch_size), _to_bytes, _from_bytes)


def _to_bytes(encoded: EncodedText) -> bytes:
    buffer = io.BytesIO()
    spans = np.array(encoded.spans if encoded.spans is not None else [], np.int32).reshape(-1, 2)
    np.savez(buffer, sentence=encoded.sentence, pieces=encoded.pieces, spans=spans,
             located=np.array(encoded.spans is not None))
    return buffer.getvalue()


def _from_bytes(record: bytes) -> EncodedText:
    arrays = np.load(io.BytesIO(record))
    spans = [tuple(span) for span in arrays["spans"].tolist()] if bool(arrays["located"]) else None
    return EncodedText(arrays["sentence"], arrays["pieces"], spans)


def _resolve_prompt(encoder, prompt: Optional[str]) -> str:
    if prompt is not None:
        return prompt
    name = getattr(encoder, "default_prompt_name", None)
    return (getattr(encoder, "prompts", {}) or {}).get(name, "") if name else ""


def piece_spans(tokenizer, text: str, ids: List[int], skip: int) -> Optional[List[Optional[Span]]]:
    """Each id's characters in `text[skip:]` (None for special tokens and the prompt), or None if the pieces
    cannot be located. Leading spaces of a piece are not its characters."""
    located = _sentencepiece_pieces(tokenizer, text) or _fast_tokenizer_pieces(tokenizer, text)
    if located is None:
        return None
    piece_ids, spans = located
    special = set(getattr(tokenizer, "all_special_ids", []) or [])
    inner = [i for i, token in enumerate(ids) if token not in special]
    if [ids[i] for i in inner] != piece_ids[: len(inner)]:
        return None
    result: List[Optional[Span]] = [None] * len(ids)
    for index, (start, end) in zip(inner, spans):
        if end > skip:
            result[index] = (max(start, skip) - skip, end - skip)
    return result


def _sentencepiece_pieces(tokenizer, text: str) -> Optional[Tuple[List[int], List[Span]]]:
    model = getattr(tokenizer, "sp_model", None)
    if model is None:
        return None
    ids, spans, position = [], [], 0
    for piece in model.encode(text, return_type="proto").pieces:
        surface = piece.surface
        start = position + (len(surface) - len(surface.lstrip()))
        position += len(surface)
        ids.append(piece.id)
        spans.append((start, position))
    return ids, spans


def _fast_tokenizer_pieces(tokenizer, text: str) -> Optional[Tuple[List[int], List[Span]]]:
    if not getattr(tokenizer, "is_fast", False):
        return None
    encoded = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    return list(encoded["input_ids"]), [tuple(span) for span in encoded["offset_mapping"]]
