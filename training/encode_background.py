"""Encode the zero-shot background once per encoder, at `make setup`, instead of at a bot's first training.

    python -m training.encode_background [--config config.yml]

The zero-shot step compares each label with thousands of ordinary sentences (`background_texts`,
data/unlabelled/background.txt); their vectors depend only on the encoder and the text. This writes them into the
encoder's folder (components/zero_shot/label_space.py reads them there when the encoder and the sentences are
those they were made from, and encodes anew otherwise), for the encoder config.yml's featurizer names.
"""
import argparse
from pathlib import Path

from components.keys import MODEL_NAME_KEY, PROMPT_KEY, RUNTIME_KEY
from components.sentence_embedding_featurizer import SentenceEmbeddingFeaturizer
from components.zero_shot.background_null import read_background
from components.zero_shot.label_space import store_background
from components.zero_shot_classifier import BACKGROUND_KEY, ZeroShotIntentClassifier
from training.project import CONFIG, component_options


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", type=Path, default=CONFIG)
    args = parser.parse_args(argv)
    zero_shot = component_options(args.config, ZeroShotIntentClassifier.__name__)
    encoding = component_options(args.config, SentenceEmbeddingFeaturizer.__name__)
    if zero_shot is None or encoding is None:
        print(f"{args.config} has no zero-shot step with an encoder: no background to encode.")
        return
    background = {**ZeroShotIntentClassifier.get_default_config(), **zero_shot}[BACKGROUND_KEY]
    if not background:
        print(f"The zero-shot step of {args.config} has no background: nothing to encode.")
        return
    options = {**SentenceEmbeddingFeaturizer.get_default_config(), **encoding}
    encoder = {key: options[key] for key in (MODEL_NAME_KEY, PROMPT_KEY, RUNTIME_KEY)}
    sentences = read_background(background)
    print(f"Encoding the zero-shot background ({len(sentences)} sentences) once for {encoder[MODEL_NAME_KEY]}")
    print(f"Wrote {store_background(sentences, encoder)}")


if __name__ == "__main__":
    main()
