"""The head that the intent head and the entity head both are: dropout, one ReLU layer (optional), a softmax per
output (the intents; or the entity types, roles and groups).

Built and trained in Keras, run in NumPy (a TensorFlow call cost more per message than the whole NumPy forward
pass, docs/decisions/0016), saved as named arrays with the names of its outputs, and loaded with an error that
says how to fix a bad file. The options below are the heads' own; each head gives its defaults.
"""
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import numpy as np
from rasa.shared.exceptions import RasaException

HIDDEN_UNITS_KEY = "hidden_units"
DROPOUT_KEY = "dropout"
EPOCHS_KEY = "epochs"
BATCH_SIZE_KEY = "batch_size"
LEARNING_RATE_KEY = "learning_rate"
RANDOM_SEED_KEY = "random_seed"
# Training steps per call into TensorFlow: the same updates with fewer calls (docs/decisions/0016).
STEPS_PER_EXECUTION = 16
Layer = Tuple[np.ndarray, np.ndarray]  # (kernel, bias)
# How a trained head is persisted: a model persisted otherwise is retrained.
PERSISTED_FORMAT = "dense-head-npz"


class HeadFileError(RasaException):
    """A persisted head that cannot be read."""


class TrainsDenseHeads:
    """What the graph components built on dense heads share: TensorFlow to train them, and a model that holds heads
    in another format (an older `.keras` file) is retrained by Rasa, not loaded (the fingerprint changes)."""

    @classmethod
    def fingerprint_addon(cls, config: dict) -> Optional[str]:
        return PERSISTED_FORMAT

    @staticmethod
    def required_packages() -> List[str]:
        return ["tensorflow"]


def softmax(values: np.ndarray, axis: int = -1) -> np.ndarray:
    shifted = np.exp(values - values.max(axis=axis, keepdims=True))
    return shifted / shifted.sum(axis=axis, keepdims=True)


@dataclass
class DenseHead:
    """The trained layers: the hidden one (None without one), and one (kernel, bias) per output, in order."""

    hidden: Optional[Layer]
    outputs: Dict[str, Layer]

    def probabilities(self, features: np.ndarray) -> Dict[str, np.ndarray]:
        """{output: (rows, classes) probabilities}: the Keras model's forward pass, dropout off, in NumPy."""
        hidden = features if self.hidden is None else np.maximum(features @ self.hidden[0] + self.hidden[1], 0.0)
        return {name: softmax(hidden @ kernel + bias) for name, (kernel, bias) in self.outputs.items()}

    @classmethod
    def train(cls, features: np.ndarray, targets: Dict[str, np.ndarray], classes: Dict[str, int], config: dict,
              l2: float = 0.0, label_smoothing: Optional[float] = None, sample_weight: Optional[np.ndarray] = None,
              description: str = "head") -> "DenseHead":
        return cls.from_keras(fit_keras(features, targets, classes, config, l2, label_smoothing, sample_weight,
                                        description))

    @classmethod
    def from_keras(cls, model) -> "DenseHead":
        """The Dense layers of a model `fit_keras` built: the hidden one first when there is one."""
        import tensorflow as tf

        dense = [layer for layer in model.layers if isinstance(layer, tf.keras.layers.Dense)]
        layers = {layer.name: (layer.kernel.numpy(), layer.bias.numpy()) for layer in dense}
        names = list(model.output_names)
        hidden = next((value for name, value in layers.items() if name not in names), None)
        return cls(hidden, {name: layers[name] for name in names})

    def save(self, path: Path) -> None:
        arrays = {f"output.{name}.{part}": array for name, layer in self.outputs.items()
                  for part, array in zip(("kernel", "bias"), layer)}
        if self.hidden is not None:
            arrays.update({"hidden.kernel": self.hidden[0], "hidden.bias": self.hidden[1]})
        np.savez(path, outputs=json.dumps(list(self.outputs)), **arrays)

    @classmethod
    def load(cls, path: Path, what: str) -> "DenseHead":
        """The head saved at `path`; a missing or broken file raises HeadFileError saying how to mend it."""
        try:
            with np.load(path, allow_pickle=False) as stored:
                names = json.loads(str(stored["outputs"]))
                outputs = {name: (stored[f"output.{name}.kernel"], stored[f"output.{name}.bias"]) for name in names}
                hidden = (stored["hidden.kernel"], stored["hidden.bias"]) if "hidden.kernel" in stored else None
        except (OSError, ValueError, KeyError, zipfile.BadZipFile) as error:
            raise HeadFileError(f"The trained {what} in the model is missing or corrupt ({error}). Retrain the bot "
                                "with `make train` (or `rasa train --force`).") from error
        return cls(hidden, outputs)


def fit_keras(features: np.ndarray, targets: Dict[str, np.ndarray], classes: Dict[str, int], config: dict,
              l2: float = 0.0, label_smoothing: Optional[float] = None, sample_weight: Optional[np.ndarray] = None,
              description: str = "head"):
    """Trains the Keras model of the head. `targets` are class indices per output; with `label_smoothing` (a number,
    0 included) they are trained as one-hot rows with categorical cross-entropy, smoothed by it; else with sparse
    categorical cross-entropy."""
    import tensorflow as tf
    from tqdm.keras import TqdmCallback

    tf.keras.utils.set_random_seed(config[RANDOM_SEED_KEY])
    regularizer = tf.keras.regularizers.l2(l2) if l2 else None
    inputs = tf.keras.Input(shape=(features.shape[1],), name="features")
    hidden = tf.keras.layers.Dropout(config[DROPOUT_KEY])(inputs)
    if config[HIDDEN_UNITS_KEY]:
        hidden = tf.keras.layers.Dense(config[HIDDEN_UNITS_KEY], activation="relu", kernel_regularizer=regularizer,
                                       name="hidden")(hidden)
        hidden = tf.keras.layers.Dropout(config[DROPOUT_KEY])(hidden)
    outputs = [tf.keras.layers.Dense(size, activation="softmax", kernel_regularizer=regularizer, name=name)(hidden)
               for name, size in classes.items()]
    model = tf.keras.Model(inputs, outputs)
    if label_smoothing is None:
        losses, truths = ["sparse_categorical_crossentropy"] * len(classes), [targets[name] for name in classes]
    else:
        losses = [tf.keras.losses.CategoricalCrossentropy(label_smoothing=label_smoothing) for _ in classes]
        truths = [tf.keras.utils.to_categorical(targets[name], size) for name, size in classes.items()]
    model.compile(optimizer=tf.keras.optimizers.Adam(config[LEARNING_RATE_KEY]), loss=losses,
                  steps_per_execution=STEPS_PER_EXECUTION)
    model.fit(features, truths, epochs=config[EPOCHS_KEY], batch_size=config[BATCH_SIZE_KEY],
              sample_weight=sample_weight, shuffle=True, verbose=0,
              callbacks=[TqdmCallback(verbose=0, desc=description)])
    return model
