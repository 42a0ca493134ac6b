"""Keys that components write on a message, or in a trained model, for the components after them: named once, so
that writer and reader agree. Rasa's own keys (`intent`, `entities`, `confidence`...) come from Rasa's constants."""

# The entity, and the slot it fills, that holds a message's language (an ISO 639 code: km, tr...).
LANGUAGE_SLOT = "language"
# The message's likely languages, [(code, fastText's probability)], most likely first, those its letters allow:
# written by the LanguageDetector, read by the bodies that know only some languages and by bot/nlg.py.
LANGUAGE_CANDIDATES = "language_candidates"
# On a training message: the featurizers (their feature origins) that read only the languages they know, so that
# the intent head also learns to do without them.
OPTIONAL_BODIES = "optional_bodies"
# On a training message: the encoder the SentenceEmbeddingFeaturizer used, {model_name, prompt, runtime, origin}
# (the featurizer's options of those names, and its name on its features): the zero-shot step encodes with it.
ENCODER_SPEC = "sentence_encoder"
MODEL_NAME_KEY, PROMPT_KEY, RUNTIME_KEY, ORIGIN_KEY = "model_name", "prompt", "runtime", "origin"
# Each `intent_ranking` entry names the classifier that produced it (the zero-shot step adds its own).
CLASSIFIER_KEY = "classifier"
# In a training example's metadata: the language its user wrote it in (`metadata: {language: km}`), written by
# `python -m training.inbox import` for the messages a person labelled from real conversations.
EXAMPLE_LANGUAGE = "language"
# A training message may say how much it counts (augmented copies count less than the examples); default 1.
SAMPLE_WEIGHT_KEY = "sample_weight"
# Per word, the entity head's probability of each entity type: the StructuredEntityExtractor names a number or a
# time the head did not mark with the type the head leans to.
ENTITY_TYPE_SCORES = "entity_type_scores"
