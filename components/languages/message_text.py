"""What of a message's text the models read, and whether there is anything in it to understand.

"Zalgo" text hangs dozens of combining marks on each letter: the encoder and the language identifier read
the marks as a script of their own, and a zero-shot label took "hello world" written so. No development text has
runs anywhere near MAX_COMBINING_MARKS long (docs/decisions/0057), so a longer run is decoration and is dropped
whole: what is left is the words underneath.
"""
from typing import Sequence, Tuple

import regex

# Longest run of combining marks kept; a longer run is removed whole.
MAX_COMBINING_MARKS = 3
_MARK_RUN = regex.compile(r"\p{M}{%d,}" % (MAX_COMBINING_MARKS + 1))
# Something to understand: a letter in any script, or an emoji (a rule or the head may answer "👍").
_CONTENT = regex.compile(r"[\p{L}\p{Extended_Pictographic}]")
# A terminal's escape sequence ("\x1b[31m", red): its letters are no words.
_ESCAPE_SEQUENCE = regex.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")


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
    return _CONTENT.search(_ESCAPE_SEQUENCE.sub("", text)) is not None
