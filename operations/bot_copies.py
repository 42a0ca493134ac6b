"""Copies of the demo bot to train and serve: as it is, with one more English intent (what a bot author adds),
or with another NLU pipeline (Rasa's default, for a baseline measured in the same run)."""
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import yaml

from training.project import ROOT

RASA = str(Path(sys.executable).with_name("rasa"))
NEW_INTENT = "ask_price"
NEW_EXAMPLES = [
    "how much does it cost?", "what is the price?", "how expensive is it?", "what are your prices?",
    "is it free?", "how much do I have to pay?", "can you tell me the price?", "what does shipping cost?",
    "are there any discounts?", "price list please",
]


def copy_project(destination: Path, source: Path = ROOT) -> Path:
    """The bot's config.yml, domain.yml and data/ copied into `destination`."""
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
    """Seconds `rasa train` took in `project` (its model goes into the project's models/)."""
    started = time.perf_counter()
    subprocess.run([RASA, "train", "--out", "models"], cwd=project, env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started
