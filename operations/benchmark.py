"""Speed and memory of the bot, as a user meets them, beside Rasa's default pipeline: `python -m operations.benchmark --out DIR`.

Measures, on the demo bot (a copy of config.yml, domain.yml and data/):
- `train_seconds`: `rasa train` from nothing (empty embedding and Rasa caches);
- `retrain_seconds`: `rasa train` again after adding one English intent with 10 examples;
- `parse_ms`: parse latency in-process (Agent.parse_message), median and p95, the bots' models loaded side by
  side and timed in turn;
- `server_rss_mb`: resident memory of a `rasa run` server after it has answered messages.
and the same for the demo bot trained with `--baseline-config` (default training/baseline_config.yml:
Rasa's default NLU pipeline, the project's policies), in the same run, under `baseline`; with `--variant-config
CONFIG` (a whole config.yml, e.g. one without the second body), for the demo bot with that config too, under
`variant`.
Writes DIR/report.json and prints a table for the README.
"""
import argparse
import asyncio
import gc
import json
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Dict, Tuple

from operations.bot_copies import add_intent, baseline_project, copy_project, rasa_train, training_env
from operations.servers import RasaServer
from training.evaluate import quiet_rasa_logs
from training.metrics import percentile
from training.project import ROOT, newest_model

PARSE_MESSAGES = [
    "hello there", "where is my order?", "I forgot my password", "Merhaba, nasılsın?",
    "Saat kaçta açıksınız?", "ហាងបើកម៉ោងប៉ុន្មាន?", "តើអ្នកជាមនុស្សឬ?", "Wo ist meine Bestellung?",
    "我忘记了密码", "أين طلبي؟", "are you a bot?", "thanks a lot",
]


def parse_latencies_ms(models: Dict[str, Path], rounds: int) -> Dict[str, list]:
    """{bot: latencies} of the bots' models loaded side by side, a pass over the messages each in turn, the order
    rotated every round (a bot never always follows the one that warmed what they share): a machine that slows down
    for a while slows every bot down alike (docs/decisions/0052)."""
    from rasa.core.agent import Agent

    agents = {name: Agent.load(str(model)) for name, model in models.items()}
    loop = asyncio.new_event_loop()
    try:
        for agent in agents.values():
            for text in PARSE_MESSAGES:  # warm-up
                loop.run_until_complete(agent.parse_message(text))
        latencies = {name: [] for name in agents}
        names = list(agents)
        for round_ in range(rounds):
            for name in names[round_ % len(names):] + names[: round_ % len(names)]:
                for text in PARSE_MESSAGES:
                    started = time.perf_counter()
                    loop.run_until_complete(agents[name].parse_message(text))
                    latencies[name].append((time.perf_counter() - started) * 1000)
        return latencies
    finally:
        loop.close()
        agents.clear()
        gc.collect()  # the models' memory back before the servers' is measured


def server_rss_mb(model: Path, log_dir: Path) -> float:
    """Starts `rasa run`, chats through the REST channel, reads the server's resident memory."""
    server = RasaServer(model, log_dir).wait_until_ready()
    try:
        for i, text in enumerate(PARSE_MESSAGES):
            server.say(f"bench{i}", text)
        return server.rss_mb()
    finally:
        server.stop()


def train_bot(project: Path, folder: Path) -> Tuple[dict, Path]:
    """The bot's training times, from nothing and after one new intent, and the model trained from nothing."""
    folder.mkdir(parents=True, exist_ok=True)
    env = training_env(folder)
    print(f"Training {project.name} from nothing...")
    first_train = rasa_train(project, env)
    model = newest_model(project)
    print(f"Retraining {project.name} after adding one English intent...")
    add_intent(project)
    retrain = rasa_train(project, env)
    return {"train_seconds": round(first_train, 1), "retrain_seconds": round(retrain, 1)}, model


def measure_bots(projects: Dict[str, Path], folder: Path, rounds: int) -> Dict[str, dict]:
    """Each bot trained, then their parses timed side by side, then each one's `rasa run` memory."""
    reports, models = {}, {}
    for name, project in projects.items():
        reports[name], models[name] = train_bot(project, folder / f"{name}-caches")
    print("Timing parses, the bots in turn...")
    for name, latencies in parse_latencies_ms(models, rounds).items():
        reports[name]["parse_ms"] = {"median": round(statistics.median(latencies), 1),
                                     "p95": round(percentile(latencies, 95), 1), "n": len(latencies)}
    for name, model in models.items():
        print(f"Measuring the memory of `rasa run` ({name})...")
        reports[name]["server_rss_mb"] = round(server_rss_mb(model, folder / f"{name}-caches"))
    return reports


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--rounds", type=int, default=20, help="passes over the parse messages")
    parser.add_argument("--baseline-config", type=Path, default=ROOT / "training" / "baseline_config.yml")
    parser.add_argument("--variant-config", type=Path, help="also the demo bot with this whole config.yml")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    quiet_rasa_logs()

    with tempfile.TemporaryDirectory() as tmp:
        projects = {"ours": copy_project(Path(tmp, "ours")),
                    "baseline": baseline_project(args.baseline_config, Path(tmp, "baseline"))}
        if args.variant_config:
            projects["variant"] = copy_project(Path(tmp, "variant"))
            shutil.copy(args.variant_config, projects["variant"] / "config.yml")
        bots = measure_bots(projects, Path(tmp), args.rounds)
        report = {**bots["ours"], "baseline": bots["baseline"], "cpu_count": os.cpu_count()}
        if args.variant_config:
            report["variant"] = {"config": args.variant_config.name, **bots["variant"]}
    (args.out / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    print("\n" + table(report))


def table(report: dict) -> str:
    """Ours beside Rasa's default pipeline, one row per measure."""
    columns = [report, report["baseline"]] + ([report["variant"]] if "variant" in report else [])
    names = ["ours", "Rasa's default pipeline"] + ([f"ours with {report['variant']['config']}"]
                                                   if "variant" in report else [])
    lines = [f"| measure | {' | '.join(names)} |", "|---" * (len(names) + 1) + "|",
             "| parse latency, in-process, median / p95 | " +
             " | ".join(f"{c['parse_ms']['median']} / {c['parse_ms']['p95']} ms" for c in columns) + " |"]
    for label, key, unit in [("`rasa train`, from nothing", "train_seconds", "s"),
                             ("`rasa train` after adding an intent (10 examples)", "retrain_seconds", "s"),
                             ("`rasa run` resident memory", "server_rss_mb", "MB")]:
        lines.append(f"| {label} | " + " | ".join(f"{c[key]} {unit}" for c in columns) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
