"""How often a single short message is answered in its own language, measured on development sentences.

    python -m training.language_id [--pairs ../shared/data/tatoeba] [--xsid ../shared/data/xsid] [--max-words 6]
        [--min-confidence 0.1,0.2,0.3] [--preference-ratio 0.3,0.5] [--out DIR]

Sentences: the first halves of the Tatoeba pairs (nothing is tuned on the second halves: the zero-shot background
is built from them) and xSID's dev files `en.valid.conll` and `tr.valid.conll`, at most `--max-words` words (ICU
words), in the languages the domain answers in. Each is the first message of a conversation: its answer is in the
detected language when the domain has variations for it, in English otherwise. `script_violations` counts answers
in a language whose script the message's letters rule out, starting from a conversation in Arabic, Khmer and
Chinese (the answer generator's rule, bot/nlg.py). One row per setting of the detector, to choose them.
"""
import argparse
import itertools
import json
import sys
from pathlib import Path
from typing import Dict, List, Tuple

from components.languages.detection import answer_language, answer_languages, detect_language
from components.languages.scripts import written_in
from components.word_tokenizer import words
from training.datasets import load_examples
from training.project import ROOT, TATOEBA, XSID, tatoeba_lines

# Tatoeba's ISO 639-3 file names -> the ISO 639-1 codes the detector and the domain use.
TATOEBA_CODES = {"ara": "ar", "cmn": "zh", "deu": "de", "fra": "fr", "rus": "ru", "tur": "tr", "kor": "ko",
                 "afr": "af", "aze": "az", "tam": "ta", "eng": "en"}
EARLIER_LANGUAGES = ["ar", "km", "zh"]  # a conversation in another script before the message


def sentences(pairs: Path, xsid: Path, languages: set, max_words: int) -> List[Tuple[str, str]]:
    """(language, sentence) pairs of the development data, short ones, in the answer languages."""
    found = []
    for code, foreign, english in tatoeba_lines(pairs):
        for language, lines in ((TATOEBA_CODES.get(code, code), foreign), ("en", english)):
            found += [(language, line) for line in lines[: len(lines) // 2] if line]
    for language in ("en", "tr"):
        found += [(language, text) for text in load_examples(xsid / f"{language}.valid.conll")["text"]]
    unique = dict.fromkeys((language, text) for language, text in found
                           if language in languages and 0 < len(words(text)) <= max_words)
    return list(unique)


def answer(text: str, languages: set, conversation, min_confidence: float, preference_ratio: float) -> str:
    """The language the bot answers `text` in, as a running bot does: the detection (when sure) becomes the
    conversation's language, and the answer generator's rule (components.languages.detection.answer_language) decides."""
    detection = detect_language(text, min_confidence, languages, preference_ratio)
    return answer_language(text, detection.language or conversation, detection.candidates, languages) or "en"


def measure(data: List[Tuple[str, str]], languages: set, min_confidence: float, preference_ratio: float) -> dict:
    by_language: Dict[str, List[bool]] = {}
    violations = 0
    for language, text in data:
        by_language.setdefault(language, []).append(answer(text, languages, None, min_confidence,
                                                           preference_ratio) == language)
        for earlier in EARLIER_LANGUAGES:
            violations += written_in(text, answer(text, languages, earlier, min_confidence, preference_ratio)) is False
    return {"min_confidence": min_confidence, "preference_ratio": preference_ratio,
            "accuracy": round(sum(map(sum, by_language.values())) / max(len(data), 1), 4),
            "by_language": {language: {"n": len(hits), "accuracy": round(sum(hits) / len(hits), 4)}
                            for language, hits in sorted(by_language.items())},
            "script_violations": violations}


def main(argv=None) -> int:
    from rasa.shared.utils.io import read_yaml_file

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pairs", type=Path, default=TATOEBA)
    parser.add_argument("--xsid", type=Path, default=XSID)
    parser.add_argument("--domain", type=Path, default=ROOT / "domain.yml")
    parser.add_argument("--max-words", type=int, default=6)
    parser.add_argument("--min-confidence", default="0.2", help="comma-separated values to compare")
    parser.add_argument("--preference-ratio", default="0.5", help="comma-separated values to compare")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    languages = set(answer_languages(read_yaml_file(args.domain).get("responses") or {})) | {"en"}
    data = sentences(args.pairs, args.xsid, languages, args.max_words)
    rows = [measure(data, languages, float(c), float(r)) for c, r in itertools.product(
        args.min_confidence.split(","), args.preference_ratio.split(","))]
    report = {"sentences": len(data), "max_words": args.max_words, "rows": rows}
    print(table(report))
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    return 0


def table(report: dict) -> str:
    """One row per setting: the share answered in their own language, overall and per language."""
    rows = report["rows"]
    lines = ["| min_confidence | preference_ratio | answered in its language | " +
             " | ".join(f"{language} ({r['n']})" for language, r in rows[0]["by_language"].items()) +
             " | script violations |", "|---|---|---|" + "---|" * len(rows[0]["by_language"]) + "---|"]
    for row in rows:
        lines.append(f"| {row['min_confidence']} | {row['preference_ratio']} | {row['accuracy']:.3f} | " +
                     " | ".join(f"{r['accuracy']:.3f}" for r in row["by_language"].values()) +
                     f" | {row['script_violations']} |")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
