"""The Debian packages of the bilingual dictionaries a Rasa config asks for: `python -m training.dictionaries config.yml`.

Prints one package name per line (`dict-freedict-eng-deu` ...) for the CodeSwitchingAugmenter's
`dictionaries`; `make setup` installs them with apt-get. Prints nothing when the config names none.
"""
import sys
from pathlib import Path

from components.languages.bilingual_dictionary import DICTIONARIES_KEY, package_name
from training.project import pipeline

AUGMENTER = "CodeSwitchingAugmenter"  # not imported: this runs at every `make setup`, before Rasa is needed


def packages(config: Path) -> list:
    languages = [language for component in pipeline(config)
                 if str(component.get("name", "")).endswith(AUGMENTER)
                 for language in component.get(DICTIONARIES_KEY) or []]
    return [package_name(language) for language in dict.fromkeys(languages)]


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print("usage: python -m training.dictionaries CONFIG", file=sys.stderr)
        return 2
    print("\n".join(packages(Path(argv[0]))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
