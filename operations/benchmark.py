"""Speed and memory of the bot, as a user meets them, beside Rasa's default pipeline: `python -m operations.benchmark --out DIR`.

Measures, on the demo bot (a copy of config.yml, domain.yml and data/):
- `train_seconds`: `rasa train` from nothing (empty embedding and Rasa caches);
- `retrain_seconds`: `rasa train` again after adding one English intent with 10 examples;
- `parse_ms`: parse latency in-process (Agent.parse_message), median and p95;
- `server_rss_mb`: resident memory of a `rasa run` server after it has answered messages.
and the same for the demo bot trained with `--baseline-config` (default training/baseline_config.yml:
Rasa's default NLU pipeline, the project's policies), in the same run, under `baseline`.
Writes DIR/report.json and prints a table for the README.
"""
import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from training.evaluate import quiet_rasa_logs
from training.metrics import percentile
from operations.servers import RasaServer

ROOT = Path(__file__).resolve().parent.parent
RASA = str(Path(sys.executable).with_name("rasa"))
NEW_INTENT = "ask_price"
NEW_EXAMPLES = [
    "how much does it cost?", "what is the price?", "how expensive is it?", "what are your prices?",
    "is it free?", "how much do I have to pay?", "can you tell me the price?", "what does shipping cost?",
    "are there any discounts?", "price list please",
]
PARSE_MESSAGES = [
    "hello there", "where is my order?", "I forgot my password", "Merhaba, nasılsın?",
    "Saat kaçta açıksınız?", "ហាងបើកម៉ោងប៉ុន្មាន?", "តើអ្នកជាមនុស្សឬ?", "Wo ist meine Bestellung?",
    "我忘记了密码", "أين طلبي؟", "are you a bot?", "thanks a lot",
]


def copy_project(destination: Path, source: Path = ROOT) -> Path:
    destination.mkdir(parents=True, exist_ok=True)
    for name in ("config.yml", "domain.yml", "data"):
        path = source / name
        (shutil.copytree if path.is_dir() else shutil.copy)(path, destination / name)
    return destination


def baseline_project(baseline_config: Path, destination: Path, source: Path = ROOT) -> Path:
    """The demo bot with `baseline_config`'s NLU pipeline and the project's own policies (so that it answers)."""
    project = copy_project(destination, source)
    ours = yaml.safe_load((source / "config.yml").read_text(encoding="utf-8"))
    baseline = yaml.safe_load(baseline_config.read_text(encoding="utf-8"))
    config = {**ours, "pipeline": baseline["pipeline"]}
    (project / "config.yml").write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return project


def training_env(folder: Path) -> dict:
    """Empty caches in `folder`: a training from nothing."""
    return {**os.environ, "MULTILINGUAL_RASA_CACHE": str(folder / "embeddings"),
            "RASA_CACHE_DIRECTORY": str(folder / "rasa-cache"), "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "2"}


def add_intent(project: Path, name: str = NEW_INTENT, examples=NEW_EXAMPLES,
               answer: str = "Prices are listed on our website.") -> None:
    """What a bot author does: new English examples, the intent and its answer in the domain, a rule."""
    nlu = "\n".join(f"    - {example}" for example in examples)
    (project / "data" / f"{name}.yml").write_text(
        f'version: "3.1"\nnlu:\n- intent: {name}\n  examples: |\n{nlu}\n'
        f'rules:\n- rule: {name}\n  steps:\n  - intent: {name}\n  - action: utter_{name}\n',
        encoding="utf-8")
    domain_file = project / "domain.yml"
    domain = yaml.safe_load(domain_file.read_text(encoding="utf-8"))
    domain["intents"].append(name)
    domain["responses"][f"utter_{name}"] = [{"text": answer}]
    domain_file.write_text(yaml.safe_dump(domain, allow_unicode=True, sort_keys=False), encoding="utf-8")


def rasa_train(project: Path, env: dict) -> float:
    started = time.perf_counter()
    subprocess.run([RASA, "train", "--out", "models"], cwd=project, env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def newest_model(project: Path) -> Path:
    return max((project / "models").glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)


def parse_latencies_ms(model: Path, rounds: int) -> list:
    from rasa.core.agent import Agent

    agent = Agent.load(str(model))
    loop = asyncio.new_event_loop()
    for text in PARSE_MESSAGES:  # warm-up
        loop.run_until_complete(agent.parse_message(text))
    latencies = []
    for _ in range(rounds):
        for text in PARSE_MESSAGES:
            started = time.perf_counter()
            loop.run_until_complete(agent.parse_message(text))
            latencies.append((time.perf_counter() - started) * 1000)
    return latencies


def server_rss_mb(model: Path, log_dir: Path) -> float:
    """Starts `rasa run`, chats through the REST channel, reads the server's resident memory."""
    server = RasaServer(model, log_dir).wait_until_ready()
    try:
        for i, text in enumerate(PARSE_MESSAGES):
            server.say(f"bench{i}", text)
        return server.rss_mb()
    finally:
        server.stop()


def measure_bot(project: Path, folder: Path, rounds: int) -> dict:
    folder.mkdir(parents=True, exist_ok=True)
    env = training_env(folder)
    print(f"Training {project.name} from nothing...")
    first_train = rasa_train(project, env)
    model = newest_model(project)
    print("Retraining after adding one English intent...")
    add_intent(project)
    retrain = rasa_train(project, env)
    print("Timing parses...")
    latencies = parse_latencies_ms(model, rounds)
    print("Measuring the memory of `rasa run`...")
    return {"train_seconds": round(first_train, 1), "retrain_seconds": round(retrain, 1),
            "parse_ms": {"median": round(statistics.median(latencies), 1), "p95": round(percentile(latencies, 95), 1),
                         "n": len(latencies)},
            "server_rss_mb": round(server_rss_mb(model, folder))}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--rounds", type=int, default=20, help="passes over the parse messages")
    parser.add_argument("--baseline-config", type=Path, default=ROOT / "training" / "baseline_config.yml")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    quiet_rasa_logs()

    with tempfile.TemporaryDirectory() as tmp:
        ours = measure_bot(copy_project(Path(tmp, "ours")), Path(tmp, "ours-caches"), args.rounds)
        baseline = measure_bot(baseline_project(args.baseline_config, Path(tmp, "baseline")),
                               Path(tmp, "baseline-caches"), args.rounds)
    report = {**ours, "baseline": baseline, "cpu_count": os.cpu_count()}
    (args.out / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    rows = [("`rasa train`, from nothing", "train_seconds", "s"),
            ("`rasa train` after adding an intent (10 examples)", "retrain_seconds", "s"),
            ("`rasa run` resident memory", "server_rss_mb", "MB")]
    print("\n| measure | ours | Rasa's default pipeline |\n|---|---|---|")
    print(f"| parse latency, in-process, median / p95 | {ours['parse_ms']['median']} / {ours['parse_ms']['p95']} ms | "
          f"{baseline['parse_ms']['median']} / {baseline['parse_ms']['p95']} ms |")
    for label, key, unit in rows:
        print(f"| {label} | {ours[key]} {unit} | {baseline[key]} {unit} |")


if __name__ == "__main__":
    main()
