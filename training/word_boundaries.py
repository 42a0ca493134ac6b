"""Which words a tokenizer gives in each language, measured on unlabelled sentences (the first halves of the
Tatoeba pairs, which nothing is tuned on).

    python -m training.word_boundaries [--pairs ../shared/data/tatoeba] [--model encoders/multilingual-e5-small]

Per language, words per sentence from whitespace, from the encoder's SentencePiece pieces grouped into words
(a new word at each piece that starts with "▁"), and from ICU's word boundaries (components/word_tokenizer.py);
and the share of ICU word boundaries that fall on a piece boundary (where they do not, two words share a piece's
vector). Entity spans need words: a tokenizer that gives one word per Chinese sentence cannot mark any span in it.
"""
import argparse
import statistics
import sys
from pathlib import Path

from components.word_tokenizer import words
from training.project import TATOEBA, tatoeba_lines


def piece_boundaries(processor, text: str) -> tuple:
    """(words from "▁"-grouping, the character positions where pieces start and end)."""
    boundaries, position, grouped = set(), 0, 0
    for piece in processor.encode(text, return_type="proto").pieces:
        surface = piece.surface
        grouped += piece.piece.startswith("▁")
        boundaries.add(position + len(surface) - len(surface.lstrip()))
        position += len(surface)
        boundaries.add(position)
    return grouped, boundaries


def measure(processor, sentences: list) -> dict:
    spaced, grouped, icu, on_pieces, ends = [], [], [], 0, 0
    for text in sentences:
        found = words(text)
        count, boundaries = piece_boundaries(processor, text)
        spaced.append(len(text.split()))
        grouped.append(count)
        icu.append(len(found))
        on_pieces += sum((w.start in boundaries) + (w.end in boundaries) for w in found)
        ends += 2 * len(found)
    return {"whitespace": statistics.mean(spaced), "sentencepiece": statistics.mean(grouped),
            "icu": statistics.mean(icu), "icu_on_pieces": on_pieces / max(ends, 1)}


def main(argv=None) -> int:
    import sentencepiece

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pairs", type=Path, default=TATOEBA, help="folder with tatoeba.XXX-eng.* files")
    parser.add_argument("--model", type=Path, default=Path("encoders/multilingual-e5-small"),
                        help="an encoder folder with a SentencePiece tokenizer.model")
    args = parser.parse_args(argv)
    processor = sentencepiece.SentencePieceProcessor(model_file=str(args.model / "tokenizer.model"))
    print("| language | words per sentence: whitespace | SentencePiece words | ICU | ICU boundaries on piece boundaries |")
    print("|---|---|---|---|---|")
    for language, foreign, _ in tatoeba_lines(args.pairs):
        row = measure(processor, [line for line in foreign[: len(foreign) // 2] if line])
        print(f"| {language} | {row['whitespace']:.1f} | {row['sentencepiece']:.1f} | {row['icu']:.1f} | "
              f"{row['icu_on_pieces']:.3f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
