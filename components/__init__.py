"""Custom Rasa graph components, one per file; config.yml names them by module path."""
from pathlib import Path

# Relative paths in config.yml (the encoder folder, the background text) are found from here as well as from the
# working directory, so that the bot runs from any folder.
PROJECT_ROOT = Path(__file__).resolve().parent.parent
