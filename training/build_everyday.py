"""Build the everyday-message benchmark from Tatoeba: short conversational sentences, labelled by their English side.

    python -m training.build_everyday [--tatoeba ../shared/data/tatoeba] [--out training/everyday/test.csv]

Every Tatoeba pair (`tatoeba.XXX-eng.XXX` / `tatoeba.XXX-eng.eng`, line-aligned) whose English side has at
most `MAX_WORDS` words and matches exactly one of the patterns in `RULES` gives two test rows: the
foreign sentence (language XXX) and the English one (language eng), both with that intent. Sentences of
data/unlabelled/multilingual_sample.txt are left out (the encoder's language layer and the zero-shot
background are fitted on them). The English training examples (training/everyday/train.yml) were written
by hand for the same intents, never copied from these sentences; `check_disjoint` makes sure of that.
"""
import argparse
import re
import sys
from pathlib import Path

import pandas as pd

from training.project import ROOT, TATOEBA, tatoeba_lines

FOLDER = ROOT / "training" / "everyday"
MAX_WORDS = 12
# The rule is the benchmark: change it and the figures are not comparable any more.
RULES = {
    "greet": r"^(hello|hi|good (morning|afternoon|evening))\b|\bhow are you( doing)?\?$|\bhow's it going\b",
    "goodbye": r"^good ?bye\b|^bye\b|^(i'll )?see you (later|tomorrow|soon)\b|^good night\b",
    "thank": r"\bthank(s| you)\b",
    "apologize": r"^(i'm|i am) (so |very |really |terribly )?sorry\b|^sorry\b|\bi apologi[sz]e\b",
    "weather": r"^(is it|it('s| is| was| will|'ll| may)|the weather|what's the weather|how's the weather)\b.*"
               r"\b(weather|rain\w*|snow\w*|sunny|windy|cloudy|foggy|hot|cold|warm|chilly)\b",
    "hunger_thirst": r"\b(i'm|i am|are you|we're|we are|i feel) (a (little )?bit |slightly |very |so |really )?"
                     r"(hungry|thirsty|starving)\b|^let's eat\b|^(i|we) want (something )?to (eat|drink)\b",
    "ask_time": r"\bwhat time is it\b|\bwhat's the time\b|\bdo you have the time\?$",
    "ask_where": r"^where('s| is| are) (the|a|an|my|your) [\w ]+\?$|\bhow (do|can) i get to\b",
    "ask_name": r"\bwhat('s| is) your name\b|^my name is\b|^who are you\b",
    "ask_help": r"\b(can|could|would|will) (you|somebody|someone|anyone) (please )?help\b(?! yourself)"
                r"|\bi need (your )?help\b|^help( me)?\b|\bplease help\b(?! yourself)",
    "speak_language": r"\b(do|can|could) you speak\b|\b(does|can) (anyone|anybody|somebody) (here )?speak\b",
    "feel_unwell": r"^(i'm|i am|i feel) (very |so |really |a bit |a little )?(tired|sleepy|exhausted|sick|ill)\b(?! of)"
                   r"|\bi (have|'ve got) a (headache|cold|fever|toothache)\b",
}
PATTERNS = {intent: re.compile(pattern, re.IGNORECASE) for intent, pattern in RULES.items()}


def intent_of(english: str):
    """The one intent whose pattern matches a short English sentence, else None (none or ambiguous)."""
    if len(english.split()) > MAX_WORDS:
        return None
    matched = [intent for intent, pattern in PATTERNS.items() if pattern.search(english)]
    return matched[0] if len(matched) == 1 else None


def build(tatoeba: Path, leave_out: set) -> pd.DataFrame:
    rows = []
    for language, foreign_lines, english_lines in tatoeba_lines(tatoeba):
        for foreign, english in zip(foreign_lines, english_lines):
            intent = intent_of(english)
            if intent and foreign and foreign not in leave_out and english not in leave_out:
                rows += [{"text": foreign, "intent": intent, "language": language},
                         {"text": english, "intent": intent, "language": "eng"}]
    return pd.DataFrame(rows).drop_duplicates(["text", "language"]).reset_index(drop=True)


def check_disjoint(test: pd.DataFrame, train_file: Path) -> None:
    from training.datasets import load_examples

    train = {t.lower() for t in load_examples(train_file)["text"]}
    shared = sorted(t for t in test["text"] if t.lower() in train)
    if shared:
        raise SystemExit(f"error: training examples copied from the test sentences: {shared}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tatoeba", type=Path, default=TATOEBA)
    parser.add_argument("--out", type=Path, default=FOLDER / "test.csv")
    args = parser.parse_args(argv)
    background = ROOT / "data" / "unlabelled" / "multilingual_sample.txt"
    test = build(args.tatoeba, set(background.read_text(encoding="utf-8").splitlines()))
    check_disjoint(test, FOLDER / "train.yml")
    test.to_csv(args.out, index=False)
    counts = test.pivot_table(index="intent", columns="language", values="text", aggfunc="count", fill_value=0)
    print(counts.to_string())
    print(f"\n{len(test)} sentences in {test['language'].nunique()} languages -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
