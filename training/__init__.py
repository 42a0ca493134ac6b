"""Command-line tools over the bot's components: model preparation, evaluation, benchmarks."""
import os

# Rasa reports usage and crashes to its servers unless told not to; our tools run offline.
os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
