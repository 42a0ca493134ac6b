"""A sentence-transformers pooling module that reads several of the encoder's last layers, not only the last.

Mean-pooling each of the last `layers` hidden states, scaling each to unit length and concatenating them gives
the intent head several views of a sentence, not only the one the last layer was trained to give; a head
trained on English transfers better to other languages from them (training/crossval.py measures it).
Used by the embedded encoder (training/neutralize_languages.py writes it into the folder); the transformer
must return its hidden states (`output_hidden_states` in the folder's config.json).
"""
from typing import Dict

import torch
from sentence_transformers.base.modules.module import Module


class MultiLayerMeanPooling(Module):
    """Masked mean over tokens of each of the last `layers` hidden states, each unit length, concatenated."""

    config_keys = ["embedding_dimension", "layers"]

    def __init__(self, embedding_dimension: int, layers: int = 5) -> None:
        super().__init__()
        if layers < 1:
            raise ValueError(f"layers must be at least 1, got {layers}")
        self.embedding_dimension = embedding_dimension
        self.layers = layers

    def forward(self, features: Dict[str, torch.Tensor], **kwargs) -> Dict[str, torch.Tensor]:
        hidden_states = features.get("all_layer_embeddings")
        if hidden_states is None:
            raise ValueError("MultiLayerMeanPooling needs the transformer's hidden states: set "
                             "`output_hidden_states: true` in the encoder folder's config.json.")
        mask = features["attention_mask"].unsqueeze(-1).to(hidden_states[-1].dtype)
        tokens = mask.sum(dim=1).clamp(min=1e-9)
        pooled = [torch.nn.functional.normalize((layer * mask).sum(dim=1) / tokens, p=2, dim=1)
                  for layer in hidden_states[-self.layers:]]
        features["sentence_embedding"] = torch.cat(pooled, dim=1)
        return features

    def get_embedding_dimension(self) -> int:
        return self.embedding_dimension * self.layers

    def save(self, output_path: str, *args, safe_serialization: bool = True, **kwargs) -> None:
        self.save_config(output_path)
