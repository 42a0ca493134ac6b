"""A sentence-transformers module that takes away what marks a sentence's language: x -> P(x - mean).

P projects out a few principal directions (all-but-the-top), fitted on unlabelled multilingual text by
training/neutralize_languages.py. The same map as a `Dense` layer with weight P and bias -P·mean, without
the dense matrix: a 1,920 x 1,920 weight is 15 MB that every message read from memory (about 1 ms, and as much
RAM per worker); the mean and the directions are a few kilobytes and microseconds.
"""
from typing import Dict

import torch
from sentence_transformers.base.modules.module import Module


class LanguageNeutralLayer(Module):
    """Subtracts the fitted mean, then removes each embedding's component along the fitted directions."""

    config_keys = ["dimension", "directions"]

    def __init__(self, dimension: int, directions: int = 1) -> None:
        super().__init__()
        self.dimension, self.directions = dimension, directions
        self.register_buffer("mean", torch.zeros(dimension))
        self.register_buffer("top", torch.zeros(directions, dimension))  # orthonormal rows

    @classmethod
    def fitted(cls, mean: torch.Tensor, top: torch.Tensor) -> "LanguageNeutralLayer":
        layer = cls(mean.shape[0], top.shape[0])
        layer.mean.copy_(mean)
        layer.top.copy_(top)
        return layer

    def forward(self, features: Dict[str, torch.Tensor], **kwargs) -> Dict[str, torch.Tensor]:
        centred = features["sentence_embedding"] - self.mean
        features["sentence_embedding"] = centred - (centred @ self.top.T) @ self.top
        return features

    def get_embedding_dimension(self) -> int:
        return self.dimension

    def save(self, output_path: str, *args, safe_serialization: bool = True, **kwargs) -> None:
        self.save_config(output_path)
        self.save_torch_weights(output_path, safe_serialization=safe_serialization)

    @classmethod
    def load(cls, model_name_or_path: str, subfolder: str = "", token=None, cache_folder=None, revision=None,
             local_files_only: bool = False, **kwargs) -> "LanguageNeutralLayer":
        hub = {"subfolder": subfolder, "token": token, "cache_folder": cache_folder, "revision": revision,
               "local_files_only": local_files_only}
        layer = cls(**cls.load_config(model_name_or_path, **hub))
        return cls.load_torch_weights(model_name_or_path, model=layer, **hub)
