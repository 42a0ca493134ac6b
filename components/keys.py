"""Keys that components write on a message for the components after them (one place, so writer and reader agree)."""

# The message's likely languages, [(ISO 639 code, fastText's probability)], most likely first, those its letters
# allow: written by the LanguageDetector, read by the bodies that know only some languages and by bot/nlg.py.
LANGUAGE_CANDIDATES = "language_candidates"
# On a training message: the featurizers (their feature origins) that read only the languages they know, so that
# the intent head also learns to do without them (components/keras_intent_classifier.py).
OPTIONAL_BODIES = "optional_bodies"
