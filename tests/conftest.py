"""Shared fixtures: the real pipeline (embedded encoder, Rasa training) trained once per session."""
import asyncio
import os
import shutil
from pathlib import Path

import pytest

from training.project import ROOT

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # nothing in the tests may reach a model hub
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")  # no usage reports to Rasa's servers


_LOOP = asyncio.new_event_loop()  # one loop for the session: Rasa's in-memory stores live on it


@pytest.fixture(scope="session")
def embedding_cache(tmp_path_factory) -> Path:
    """A fresh embedding cache, so the session really encodes (and then reuses) everything."""
    directory = tmp_path_factory.mktemp("embeddings")
    os.environ["MULTILINGUAL_RASA_CACHE"] = str(directory)
    return directory


@pytest.fixture(scope="session")
def rasa_cache(tmp_path_factory) -> Path:
    """One Rasa training cache for the session, as a bot author's machine has: a training whose components an
    earlier one already trained on the same inputs (the demo bot again through `make chat`, or before a retraining)
    reuses them, and each training still runs every component whose data or settings changed."""
    directory = tmp_path_factory.mktemp("rasa-cache")
    os.environ["RASA_CACHE_DIRECTORY"] = str(directory)
    return directory


@pytest.fixture(scope="session")
def bot_project(tmp_path_factory, embedding_cache, rasa_cache) -> Path:
    """A copy of the demo bot's files, so that tests may change the data without touching the repo."""
    project = tmp_path_factory.mktemp("bot")
    for name in ("config.yml", "domain.yml", "data"):
        source = ROOT / name
        (shutil.copytree if source.is_dir() else shutil.copy)(source, project / name)
    return project


def train_bot(project: Path, output: Path) -> Path:
    """Trains the real pipeline with Rasa's own training code (and the session's `rasa_cache`); returns the model
    archive."""
    from rasa.model_training import train

    result = train(
        domain=str(project / "domain.yml"),
        config=str(project / "config.yml"),
        training_files=[str(project / "data")],
        output=str(output),
        force_training=True,
    )
    assert result.code == 0, "rasa training failed"
    return Path(result.model)


@pytest.fixture(scope="session")
def trained_model(bot_project, tmp_path_factory) -> Path:
    return train_bot(bot_project, tmp_path_factory.mktemp("models"))


@pytest.fixture(scope="session")
def server(trained_model, tmp_path_factory):
    """`rasa run` with the trained demo bot, the project's credentials.yml and the HTTP API enabled."""
    from operations.servers import RasaServer

    running = RasaServer(trained_model, tmp_path_factory.mktemp("server-logs")).wait_until_ready()
    yield running
    running.stop()


@pytest.fixture(scope="session")
def agent(trained_model):
    """The trained bot with the project's endpoints.yml (its tracker store and its localized responses)."""
    from rasa.core.agent import load_agent
    from rasa.core.utils import AvailableEndpoints

    endpoints = AvailableEndpoints.read_endpoints(str(ROOT / "endpoints.yml"))
    return _LOOP.run_until_complete(load_agent(model_path=str(trained_model), endpoints=endpoints))


@pytest.fixture()
def encoded_texts(monkeypatch) -> list:
    """Records every text that really goes through the encoder, with or without its pieces (the encoder still
    runs)."""
    from components.encoders import embedding_cache, sentence_encoder, token_features

    seen = []
    for module, name in ((sentence_encoder, "encode"), (embedding_cache, "encode"),
                         (token_features, "encode_with_pieces")):
        def spy(model_name, texts, *args, real=getattr(module, name), **kwargs):
            seen.extend(texts)
            return real(model_name, texts, *args, **kwargs)

        monkeypatch.setattr(module, name, spy)
    return seen




def parse(agent, text: str) -> dict:
    return _LOOP.run_until_complete(agent.parse_message(text))


def reply(agent, text: str, sender: str) -> list:
    """The bot's answer texts to one user message, as a channel would receive them."""
    responses = _LOOP.run_until_complete(agent.handle_text(text, sender_id=sender))
    return [r.get("text", "") for r in responses]


def build_component(component_class, storage, name: str, **config):
    """Creates a graph component the way Rasa's graph does (ModelStorage, Resource, context)."""
    from rasa.engine.graph import ExecutionContext, GraphSchema
    from rasa.engine.storage.resource import Resource

    context = ExecutionContext(GraphSchema({}), node_name=name)
    return component_class.create({**component_class.get_default_config(), **config},
                                  storage, Resource(name), context)


def load_component(component_class, storage, name: str, **config):
    """Loads a persisted component back the way a running bot does."""
    from rasa.engine.graph import ExecutionContext, GraphSchema
    from rasa.engine.storage.resource import Resource

    context = ExecutionContext(GraphSchema({}), node_name=name)
    return component_class.load({**component_class.get_default_config(), **config},
                                storage, Resource(name), context)


def messages(*texts):
    from rasa.shared.nlu.training_data.message import Message

    return [Message(data={"text": text}) for text in texts]


def demo_training_data():
    from rasa.shared.nlu.training_data.loading import load_data

    return load_data(str(ROOT / "data" / "nlu.yml"))
