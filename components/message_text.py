"""What of a message's text the models read, and whether there is anything in it to understand.

"Zalgo" text hangs dozens of combining marks on each letter: the encoder and the language identifier read
the marks as a script of their own ("hello world" with 8 marks per letter was detected as Polish and taken by a
zero-shot label at 0.98). No development text has more than 2 combining marks in a row (docs/decisions), so a
longer run is decoration and is dropped whole: what is left is the words underneath.
"""
from typing import Sequence, Tuple

import regex

# Longest run of combining marks kept; a longer run is removed whole.
MAX_COMBINING_MARKS = 3
_MARK_RUN = regex.compile(r"\p{M}{%d,}" % (MAX_COMBINING_MARKS + 1))
# Something to understand: a letter in any script, or an emoji (a rule or the head may answer "👍").
_CONTENT = regex.compile(r"[\p{L}\p{Extended_Pictographic}]")


def without_mark_runs(text: str) -> str:
    return _MARK_RUN.sub("", text)


def without_mark_runs_keeping_positions(text: str) -> Tuple[str, Sequence[int]]:
    """`without_mark_runs(text)`, and for each of its characters (and its end) the position in `text`."""
    runs = [match.span() for match in _MARK_RUN.finditer(text)]
    if not runs:
        return text, range(len(text) + 1)
    kept, previous = [], 0
    for start, end in runs:
        kept += range(previous, start)
        previous = end
    kept += range(previous, len(text))
    return "".join(text[i] for i in kept), kept + [len(text)]


def has_content(text: str) -> bool:
    """False for digits, punctuation, symbols, control and zero-width characters alone."""
    return _CONTENT.search(text) is not None
