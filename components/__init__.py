"""Custom Rasa graph components, one per file; config.yml names them by module path. What they share lives in the
sub-packages named for the part they serve (encoders, heads, languages, zero_shot, structured) and in keys.py."""
from pathlib import Path
from typing import Callable, Optional

# Relative paths in config.yml (the encoder folder, the background text) are found from here as well as from the
# working directory, so that the bot runs from any folder.
PROJECT_ROOT = Path(__file__).resolve().parent.parent


def project_path(name: str, found: Callable[[Path], bool] = Path.is_file) -> Optional[Path]:
    """A path config.yml names, from the working directory, else from the project root (None where neither has it:
    `found` says what counts, e.g. a folder holding modules.json)."""
    return next((base / name for base in (Path.cwd(), PROJECT_ROOT) if found(base / name)), None)
