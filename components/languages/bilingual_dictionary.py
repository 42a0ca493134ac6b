"""English-to-X word translations from Debian's FreeDict dictionaries (dictd format), for code-switching.

`apt-get install dict-freedict-eng-deu` puts `freedict-eng-deu.index` (headword, offset, length in base64)
and `freedict-eng-deu.dict.dz` (gzip-compatible dictzip) under /usr/share/dictd/. Entries differ by
dictionary (numbered senses, part-of-speech tags, notes, example sentences, English glosses); we take the
first line of translations of each entry, drop what is in <>, [], () and quotes, and keep up to
`MAX_TRANSLATIONS` short alternatives. Noisy by nature: code-switching only needs most of them right.
"""
import gzip
import re
from functools import lru_cache
from pathlib import Path
from typing import Dict, Iterable, List, Tuple

from rasa.shared.exceptions import InvalidConfigException

DICTIONARY_FOLDER = Path("/usr/share/dictd")
DICTIONARIES_KEY = "dictionaries"  # the code-switching augmenter's option: dictionaries by ISO 639-3 code
BASE64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
MAX_TRANSLATIONS = 3
MAX_WORDS_PER_TRANSLATION = 3
_BRACKETS = re.compile(r"<[^>]*>|\[[^\]]*\]|\([^)]*\)|\{[^}]*\}|\"[^\"]*\"")
_NUMBERING = re.compile(r"^\s*(\d+\.|[IVX]+\.)\s*")
_TRAILING_NUMBER = re.compile(r"\s+\d+\.?\s*$")  # "hujan 2": a sense number left on the word
_NOT_TRANSLATIONS = ("note:", "see", "synonym", "antonym", "\"")


def package_name(language: str) -> str:
    """The Debian package of the English-to-`language` dictionary (ISO 639-3 code, e.g. deu)."""
    return f"dict-freedict-eng-{language}"


def dictionary_files(language: str, folder: Path = DICTIONARY_FOLDER) -> Tuple[Path, Path]:
    index, data = folder / f"freedict-eng-{language}.index", folder / f"freedict-eng-{language}.dict.dz"
    if not index.exists() or not data.exists():
        raise InvalidConfigException(
            f"The English-{language} dictionary is not installed ({index} missing). Run `make setup` (it installs "
            f"the dictionaries config.yml names) or `sudo apt-get install {package_name(language)}`.")
    return index, data


def _number(code: str) -> int:
    value = 0
    for character in code:
        value = value * 64 + BASE64.index(character)
    return value


def translations_in_entry(entry: str) -> List[str]:
    """The first line of translations of one dictd entry (its first line is the headword)."""
    for line in entry.splitlines()[1:]:
        line = _NUMBERING.sub("", _BRACKETS.sub("", line)).strip()
        if not line or line.lower().startswith(_NOT_TRANSLATIONS):
            continue
        candidates = [_TRAILING_NUMBER.sub("", c).strip(" .;:!?-~") for c in re.split(r"[,;]", line)]
        return [c for c in candidates if c and "/" not in c  # "/.../": a pronunciation, not a word
                and len(c.split()) <= MAX_WORDS_PER_TRANSLATION][:MAX_TRANSLATIONS]
    return []


@lru_cache(maxsize=None)
def _read(language: str, folder: Path) -> Tuple[Dict[str, List[Tuple[int, int]]], bytes]:
    index_file, data_file = dictionary_files(language, folder)
    index: Dict[str, List[Tuple[int, int]]] = {}
    for line in index_file.read_text(encoding="utf-8").splitlines():
        parts = line.split("\t")
        if len(parts) == 3 and not parts[0].startswith("00"):  # 00-database-* lines describe the file
            index.setdefault(parts[0].lower(), []).append((_number(parts[1]), _number(parts[2])))
    return index, gzip.decompress(data_file.read_bytes())


def translations(language: str, words: Iterable[str], folder: Path = DICTIONARY_FOLDER) -> Dict[str, List[str]]:
    """{English word: its translations} for the `words` the dictionary has."""
    index, data = _read(language, folder)
    found = {}
    for word in set(words):
        for offset, length in index.get(word.lower(), [])[:1]:
            options = translations_in_entry(data[offset: offset + length].decode("utf-8", "replace"))
            if options:
                found[word] = options
    return found
