"""bot.stores.RedisTrackerStore: a conversation saved turn by turn is stored exactly as it is, and one that
another writer changed meanwhile still goes through Rasa's merge, so that neither writer's turn is lost."""
import asyncio

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core import events as rasa_events
from rasa.shared.core.events import (ActionExecuted, ActiveLoop, BotUttered, SessionStarted, SlotSet, UserUttered,
                                     UserUtteranceReverted)
from rasa.shared.core.trackers import DialogueStateTracker

from bot.stores import RedisTrackerStore, deserialise_events, extends
from training.rasa_server import RedisServer

DOMAIN = Domain.from_yaml("version: '3.1'\nslots:\n  language:\n    type: text\n    mappings: [{type: custom}]\n")


def turn(text: str, timestamp: float) -> list:
    return [UserUttered(text, timestamp=timestamp), ActionExecuted("action_listen", timestamp=timestamp + 0.5)]


def tracker_with(events: list) -> DialogueStateTracker:
    return DialogueStateTracker.from_events("ayse", events, slots=DOMAIN.slots)


def test_extends_compares_the_stored_run_with_the_start_of_the_new_one():
    first = turn("Merhaba", 1.0)
    stored = [event.as_dict() for event in first]
    assert extends([], first)
    assert extends(stored, first + turn("Teşekkürler", 2.0))
    assert not extends(stored, turn("Hallo", 1.0))  # same times, another conversation
    assert not extends(stored + stored, first)  # the store holds more than the new tracker


def test_events_read_back_as_rasa_reads_them():
    events = [SessionStarted(timestamp=0.1), SlotSet("language", "km", timestamp=0.2),
              UserUttered("សួស្តី", {"name": "greet", "confidence": 0.9}, timestamp=1.0),
              ActionExecuted("utter_greet", timestamp=1.1), BotUttered("Hi", {"elements": None}, timestamp=1.2),
              ActiveLoop(None, timestamp=1.3), UserUtteranceReverted(timestamp=1.4)]
    stored = [event.as_dict() for event in events] + [{"no": "event key"}]
    ours, rasas = deserialise_events(stored), rasa_events.deserialise_events(stored)
    assert [type(event) for event in ours] == [type(event) for event in rasas] == [type(event) for event in events]
    assert [event.as_dict() for event in ours] == [event.as_dict() for event in rasas] == stored[:-1]


@pytest.fixture
def store(tmp_path):
    redis = RedisServer(tmp_path)
    yield RedisTrackerStore(DOMAIN, host="127.0.0.1", port=redis.port, socket_timeout=2)
    redis.stop()


def test_saving_turn_by_turn_keeps_every_event(store):
    events = [SlotSet("language", "tr", timestamp=0.5)]
    for number in range(5):
        events += turn(f"mesaj {number}", number + 1.0)
        asyncio.run(store.save(tracker_with(events)))
    stored = asyncio.run(store.retrieve("ayse"))
    assert [event.as_dict() for event in stored.events] == [event.as_dict() for event in events]
    assert stored.get_slot("language") == "tr"


def test_a_tracker_that_diverged_is_merged_not_overwritten(store):
    asyncio.run(store.save(tracker_with(turn("Merhaba", 1.0) + turn("from another worker", 2.0))))
    asyncio.run(store.save(tracker_with(turn("Merhaba", 1.0) + turn("Teşekkürler", 3.0))))
    texts = [event.text for event in asyncio.run(store.retrieve("ayse")).events if isinstance(event, UserUttered)]
    assert texts == ["Merhaba", "from another worker", "Teşekkürler"]


def test_endpoints_yml_keeps_conversations_in_our_in_memory_store():
    from rasa.core.tracker_store import TrackerStore
    from rasa.utils.endpoints import read_endpoint_config

    from bot.stores import InMemoryTrackerStore
    from training.rasa_server import ROOT

    store = TrackerStore.create(read_endpoint_config(str(ROOT / "endpoints.yml"), "tracker_store"), DOMAIN)
    assert isinstance(getattr(store, "_tracker_store", store), InMemoryTrackerStore)
    events = [SlotSet("language", "ar", timestamp=0.5)] + turn("مرحبا", 1.0)
    asyncio.run(store.save(tracker_with(events)))
    stored = asyncio.run(store.retrieve("ayse"))
    assert [event.as_dict() for event in stored.events] == [event.as_dict() for event in events]
