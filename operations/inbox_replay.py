"""Does the review inbox make the bot better? One round of it, end to end, on messages people wrote.

    python -m operations.inbox_replay --train training/everyday/train.yml --test training/everyday/test.csv \
        --out reports/inbox-replay [--share 0.3] [--languages afr,kor] [--seeds 0,1,2] [--head-seeds 42,43,44] \
        [--config config.yml]

A bot is trained on the English TRAIN file (config.yml's pipeline and policies, a domain of TRAIN's intents with
English answers only). `--share` of TEST's non-English sentences, per language, is sent through `rasa run` over
REST, one conversation each, into Rasa's SQL tracker store (SQLite); `python -m training.inbox export` writes the
inbox; its rows are labelled with the sentences' gold intents (the stand-in for the bot's author);
`python -m training.inbox import` adds them to the bot's data/nlu_reviewed.yml; the bot is trained again. The
other sentences (never sent) and TEST's English ones are parsed by both models. One round on each split that
`--seeds` draws, with each of `--head-seeds` as the intent head's `random_seed` (default: config.yml's), which moves
the gain as much as the split does (docs/decisions/0073). Writes DIR/report.json (accuracy per language before and
after, the macro mean over languages with at least MIN_SENTENCES sentences, the inbox's size: their means over the
runs, and each run's with the sentences it still missed) and DIR/before_after.png.
"""
import argparse
import asyncio
import json
import statistics
import sys
import tempfile
from pathlib import Path
from typing import List, Optional

import pandas as pd
import yaml
from openpyxl import load_workbook
from tqdm import tqdm

from components.heads.dense_head import RANDOM_SEED_KEY
from components.keras_intent_classifier import KerasIntentClassifier
from components.zero_shot_classifier import LABELS_KEY, ZeroShotIntentClassifier
from operations.bot_copies import rasa_train, training_env
from operations.servers import RasaServer
from training.datasets import load_examples, rasa_safe_names, write_rasa_nlu
from training.inbox.__main__ import main as inbox
from training.project import CONFIG, component_options, names_component, newest_model

ENGLISH = {"en", "eng"}
# Languages with fewer TEST sentences than this are reported but left out of the macro mean (their accuracy moves
# by ten points or more with one sentence).
MIN_SENTENCES = 10


def split(test: pd.DataFrame, share: float, seed: int) -> (pd.DataFrame, pd.DataFrame):
    """Per non-English language, `share` of its sentences to replay; the rest held back."""
    foreign = test[~test["language"].isin(ENGLISH)]
    replayed = foreign.groupby("language", group_keys=False).apply(
        lambda group: group.sample(frac=share, random_state=seed))
    return replayed, foreign.drop(replayed.index)


def write_bot(train: pd.DataFrame, folder: Path, config: Path = CONFIG, head_seed: Optional[int] = None) -> Path:
    """CONFIG (config.yml; the intent head's seed set to HEAD_SEED if given), a domain of TRAIN's intents (English
    answers only) with the `language` slot, and TRAIN."""
    names = rasa_safe_names(train["intent"])
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "data").mkdir(exist_ok=True)
    write_rasa_nlu(train, folder / "data" / "nlu.yml", names)
    described = list((component_options(CONFIG, ZeroShotIntentClassifier.__name__) or {}).get(LABELS_KEY) or {})
    intents = sorted({*names.values(), *described})  # config.yml's zero-shot labels are intents too
    domain = {"version": "3.1", "intents": intents, "entities": ["language"],
              "slots": {"language": {"type": "text", "influence_conversation": False,
                                     "mappings": [{"type": "from_entity", "entity": "language"}]}},
              "responses": {**{f"utter_{i}": [{"text": f"({i})"}] for i in intents},
                            "utter_default": [{"text": "Sorry, could you rephrase that?"}]}}
    rules = [{"rule": i, "steps": [{"intent": i}, {"action": f"utter_{i}"}]} for i in intents]
    rules.append({"rule": "fallback", "steps": [{"intent": "nlu_fallback"}, {"action": "utter_default"}]})
    (folder / "domain.yml").write_text(yaml.safe_dump(domain, allow_unicode=True, sort_keys=False), encoding="utf-8")
    (folder / "data" / "rules.yml").write_text(yaml.safe_dump({"version": "3.1", "rules": rules}, sort_keys=False),
                                               encoding="utf-8")
    (folder / "config.yml").write_text(config.read_text(encoding="utf-8") if head_seed is None
                                       else with_head_seed(config, head_seed), encoding="utf-8")
    return folder


def with_head_seed(config: Path, seed: int) -> str:
    """CONFIG's text with the KerasIntentClassifier's `random_seed` set to SEED."""
    content = yaml.safe_load(config.read_text(encoding="utf-8"))
    content["pipeline"] = [{**step, RANDOM_SEED_KEY: seed} if names_component(step, KerasIntentClassifier.__name__)
                           else step for step in content["pipeline"]]
    return yaml.safe_dump(content, allow_unicode=True, sort_keys=False)


def predictions(model: Path, frames: pd.DataFrame, names: dict) -> pd.DataFrame:
    """FRAMES with each sentence's best intent other than nlu_fallback (`predicted`) and whether it is the gold one."""
    from rasa.core.agent import Agent

    agent, loop = Agent.load(str(model)), asyncio.new_event_loop()
    predicted = []
    for text in tqdm(frames["text"], total=len(frames), desc="parsing", unit="msg"):
        ranking = [r for r in loop.run_until_complete(agent.parse_message(text))["intent_ranking"]
                   if r["name"] != "nlu_fallback"]
        predicted.append(ranking[0]["name"] if ranking else None)
    return frames.assign(predicted=predicted, right=[p == names[i] for p, i in zip(predicted, frames["intent"])])


def accuracy_by_language(scored: pd.DataFrame) -> dict:
    return {language: round(float(group["right"].mean()), 4) for language, group in scored.groupby("language")}


def misses(scored: pd.DataFrame, names: dict) -> List[dict]:
    """The non-English sentences still missed, to read what one round did not teach."""
    missed = scored[~scored["right"] & ~scored["language"].isin(ENGLISH)]
    return [{"language": row.language, "text": row.text, "intent": names[row.intent], "predicted": row.predicted}
            for row in missed.itertuples()]


def replay(server: RasaServer, replayed: pd.DataFrame) -> None:
    for number, text in enumerate(tqdm(replayed["text"], desc="replaying", unit="msg")):
        server.say(f"replay-{number}", text)


def label(sheet: Path, gold: dict) -> int:
    """The author's part: each row's gold intent (rows of texts that are not in `gold` stay empty)."""
    book = load_workbook(sheet)
    rows = book.worksheets[0]
    header = [cell.value for cell in rows[1]]
    labelled = 0
    for row in rows.iter_rows(min_row=2):
        intent = gold.get(str(row[header.index("text")].value).strip())
        if intent:
            row[header.index("intent")].value = intent
            labelled += 1
    book.save(sheet)
    return labelled


def run(args, folder: Path, seed: int, head_seed: Optional[int] = None) -> dict:
    """One round on the split that SEED draws, the intent head seeded with HEAD_SEED (default: the config's)."""
    train, test = load_examples(args.train), load_examples(args.test)
    if "language" not in test:
        test = test.assign(language=args.test_language)
    names = rasa_safe_names(train["intent"])
    replayed, held_back = split(test, args.share, seed)
    if args.languages:
        wanted = args.languages.split(",")
        replayed, held_back = replayed[replayed["language"].isin(wanted)], held_back[held_back["language"].isin(wanted)]
    english = test[test["language"].isin(ENGLISH)]
    bot, env = write_bot(train, folder / "bot", args.config, head_seed), training_env(folder)
    rasa_train(bot, env)
    before = newest_model(bot)
    endpoints = folder / "endpoints.yml"
    endpoints.write_text(f"tracker_store:\n  type: SQL\n  dialect: sqlite\n  db: {folder / 'conversations.db'}\n")
    server = RasaServer(before, folder, endpoints).wait_until_ready()
    try:
        replay(server, replayed)
    finally:
        server.stop()
    sheet, domain = folder / "inbox.xlsx", str(bot / "domain.yml")
    inbox(["export", "--endpoints", str(endpoints), "--domain", domain, "--out", str(sheet), "--keep-pii"])
    labelled = label(sheet, {text.strip(): names[intent] for text, intent in zip(replayed["text"], replayed["intent"])})
    if inbox(["import", str(sheet), "--domain", domain, "--out", str(bot / "data" / "nlu_reviewed.yml")]) != 0:
        raise RuntimeError("The labelled inbox was refused (the error above): the round cannot be measured.")
    rasa_train(bot, env)
    after = newest_model(bot)
    scored = pd.concat([held_back, english])
    scored_before, scored_after = predictions(before, scored, names), predictions(after, scored, names)
    results = {"before": accuracy_by_language(scored_before), "after": accuracy_by_language(scored_after),
               "replayed_after": accuracy_by_language(predictions(after, replayed, names))}  # the loop closed
    counts = test["language"].value_counts().to_dict()
    macro = [language for language in results["before"] if language not in ENGLISH
             and counts.get(language, 0) >= MIN_SENTENCES]
    return {"train": str(args.train), "test": str(args.test), "config": args.config.name, "share": args.share,
            "seed": seed, "head_seed": head_seed, "replayed": len(replayed),
            "inbox_rows": len(load_workbook(sheet).worksheets[0]["A"]) - 1,
            "labelled": labelled, "held_back": len(held_back), "sentences": {k: int(v) for k, v in counts.items()},
            **results, "macro_languages": macro, "macro_before": _macro(results["before"], macro),
            "macro_after": _macro(results["after"], macro),
            "missed_before": misses(scored_before, names), "missed_after": misses(scored_after, names)}


def _macro(accuracies: dict, languages: List[str]):
    return round(statistics.mean(accuracies[language] for language in languages), 4) if languages else None


def combined(splits: List[dict]) -> dict:
    """The rounds on several splits (and head seeds): each run's report under `splits`, and their means (a split of
    a few dozen sentences, or another head seed, moves the held-back figures by several points)."""
    first = splits[0]

    def mean_by_language(key: str) -> dict:
        return {language: round(statistics.mean(split[key][language] for split in splits), 4)
                for language in first[key]}

    means = {key: mean_by_language(key) for key in ("before", "after", "replayed_after")}
    return {**{key: first[key] for key in ("train", "test", "config", "share", "sentences", "macro_languages")},
            "seeds": sorted({split["seed"] for split in splits}),
            "head_seeds": sorted({split.get("head_seed") for split in splits}, key=str),
            **{key: round(statistics.mean(split[key] for split in splits), 1)
               for key in ("replayed", "inbox_rows", "labelled", "held_back")},
            **means, "macro_before": _macro(means["before"], first["macro_languages"]),
            "macro_after": _macro(means["after"], first["macro_languages"]), "splits": splits}


def table(report: dict) -> str:
    """Held-back accuracy per language, before and after one round, the mean over the splits (the macro mean's
    languages first; then each split's macro mean)."""
    languages = report["macro_languages"] + sorted(set(report["before"]) - set(report["macro_languages"]))
    lines = ["| language (sentences) | before | after one round |", "|---|---|---|"]
    lines += [f"| {lang} ({report['sentences'].get(lang, 0)}) | {report['before'][lang]:.3f} | "
              f"{report['after'][lang]:.3f} |" for lang in languages]
    lines.append(f"| macro mean of the languages with {MIN_SENTENCES}+ sentences | {report['macro_before']:.3f} | "
                 f"{report['macro_after']:.3f} |")
    lines += [f"| ({_run_name(split)}) | {split['macro_before']:.3f} | {split['macro_after']:.3f} |"
              for split in report["splits"]] if len(report["splits"]) > 1 else []
    return "\n".join(lines) + (f"\n\nA split: {report['replayed']:.0f} sentences replayed, {report['labelled']:.0f} "
                               f"labelled from the inbox, {report['held_back']:.0f} non-English sentences held back "
                               f"(the mean of {_runs_name(report)}).")


def _run_name(split: dict) -> str:
    head_seed = split.get("head_seed")
    return f"split {split['seed']}" + ("" if head_seed is None else f", head seed {head_seed}")


def _runs_name(report: dict) -> str:
    splits = f"{len(report['seeds'])} splits: seeds {', '.join(map(str, report['seeds']))}"
    head_seeds = [seed for seed in report.get("head_seeds", [None]) if seed is not None]
    return splits + (f"; intent head seeds {', '.join(map(str, head_seeds))}" if head_seeds else "")


def plot(report: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    languages = sorted(report["before"], key=lambda language: (language in ENGLISH, language))
    positions = range(len(languages))
    figure, axis = plt.subplots(figsize=(max(6, len(languages) * 0.9), 3.8))
    axis.bar([p - 0.2 for p in positions], [report["before"][lang] for lang in languages], 0.4, label="before")
    axis.bar([p + 0.2 for p in positions], [report["after"][lang] for lang in languages], 0.4, label="after one round")
    axis.set_xticks(list(positions), [f"{lang}\n({report['sentences'].get(lang, 0)})" for lang in languages])
    axis.set_ylabel("intent accuracy, held back")
    axis.set_title(f"{Path(report['test']).name}: {report['labelled']:.0f} messages labelled from the inbox "
                   f"(mean of {len(report['splits'])} runs)")
    axis.set_ylim(0, 1.05)
    axis.legend(loc="lower right")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--train", type=Path, required=True, help="English examples (text, intent)")
    parser.add_argument("--test", type=Path, required=True, help="sentences with their intents and languages")
    parser.add_argument("--test-language", default="tr", help="the language of a TEST file that names none")
    parser.add_argument("--share", type=float, default=0.3, help="share of each language's sentences replayed")
    parser.add_argument("--languages", help="only these TEST languages (comma-separated), e.g. for a quick run")
    parser.add_argument("--seeds", default="0,1,2", help="one round on each of these splits (comma-separated)")
    parser.add_argument("--config", type=Path, default=CONFIG, help="the bot's config.yml (default: the project's)")
    parser.add_argument("--head-seeds", help="each split once with each of these intent head seeds (comma-separated; "
                                             "default: the config's own)")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    splits = []
    head_seeds = [int(seed) for seed in args.head_seeds.split(",")] if args.head_seeds else [None]
    for seed in [int(seed) for seed in args.seeds.split(",")]:
        for head_seed in head_seeds:
            with tempfile.TemporaryDirectory() as tmp:
                splits.append(run(args, Path(tmp), seed, head_seed))
    report = combined(splits)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "report.json").write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    plot(report, args.out / "before_after.png")
    print(json.dumps({k: report[k] for k in ("replayed", "labelled", "macro_before", "macro_after")}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
