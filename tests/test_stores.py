"""bot/stores/: a conversation saved turn by turn is stored exactly as Rasa would store it, one that another
writer changed meanwhile still goes through Rasa's merge, so that neither writer's turn is lost, and the lock
store keeps Rasa's ticket lock while two workers take and return tickets at once."""
import asyncio
import json

import pytest
from rasa.shared.core import events as rasa_events
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (ActionExecuted, ActiveLoop, BotUttered, SessionStarted, SlotSet,
                                     UserUtteranceReverted, UserUttered)
from rasa.shared.core.trackers import DialogueStateTracker

from bot.stores.events import deserialise_events
from bot.stores.redis_tracker import RedisTrackerStore, extends
from operations.servers import RedisServer

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


def stored_text(store) -> str:
    return store.red.get(store.key_prefix + "ayse")


def test_a_turn_read_from_the_store_is_appended_to_it_as_rasa_would_write_it_whole(store, monkeypatch):
    asyncio.run(store.save(tracker_with([SlotSet("language", "km", timestamp=0.5)] + turn("សួស្តី", 1.0))))
    tracker = asyncio.run(store.retrieve("ayse"))
    for event in turn("អរគុណ", 2.0) + [BotUttered("ok", {"elements": None}, timestamp=2.7)]:
        tracker.update(event)

    def no_whole_tracker(_tracker):
        raise AssertionError("the whole tracker was serialised again")

    monkeypatch.setattr(store, "serialise_tracker", no_whole_tracker)
    asyncio.run(store.save(tracker))
    asyncio.run(store.save(tracker))  # saved twice: nothing appended twice
    assert stored_text(store) == json.dumps(tracker.as_dialogue().as_dict())


def test_a_turn_read_before_another_writer_saved_keeps_both_writers_turns(store):
    asyncio.run(store.save(tracker_with(turn("Merhaba", 1.0))))
    ours = asyncio.run(store.retrieve("ayse"))
    other = asyncio.run(store.retrieve("ayse"))
    for event in turn("from another worker", 2.0):
        other.update(event)
    asyncio.run(store.save(other))
    for event in turn("Teşekkürler", 3.0):
        ours.update(event)
    asyncio.run(store.save(ours))
    texts = [event.text for event in asyncio.run(store.retrieve("ayse")).events if isinstance(event, UserUttered)]
    assert texts == ["Merhaba", "from another worker", "Teşekkürler"]


def test_a_turn_of_the_last_session_keeps_the_earlier_sessions(store):
    def session(timestamp: float) -> list:
        return [ActionExecuted("action_session_start", timestamp=timestamp), SessionStarted(timestamp=timestamp),
                ActionExecuted("action_listen", timestamp=timestamp)]

    asyncio.run(store.save(tracker_with(session(0.0) + turn("Hallo", 1.0) + session(5.0) + turn("Danke", 6.0))))
    last_session = asyncio.run(store.retrieve("ayse"))
    assert [e.text for e in last_session.events if isinstance(e, UserUttered)] == ["Danke"]
    for event in turn("Tschüss", 7.0):
        last_session.update(event)
    asyncio.run(store.save(last_session))
    everything = asyncio.run(store.retrieve_full_tracker("ayse"))
    assert [e.text for e in everything.events if isinstance(e, UserUttered)] == ["Hallo", "Danke", "Tschüss"]


def test_several_sessions_are_found_as_rasa_splits_them():
    from rasa.shared.core.trackers import get_trackers_for_conversation_sessions

    from bot.stores.redis_tracker import starts_another_session

    start = [ActionExecuted("action_session_start", timestamp=0.0), SessionStarted(timestamp=0.0)]
    for events in ([], turn("Hallo", 1.0), start + turn("Hallo", 1.0), turn("Hallo", 1.0) + start,
                   start + turn("Hallo", 1.0) + start + turn("Danke", 2.0), start):
        several = len(get_trackers_for_conversation_sessions(tracker_with(events))) > 1
        assert starts_another_session(events) == several


def test_endpoints_yml_keeps_conversations_in_our_in_memory_store():
    from rasa.core.tracker_store import TrackerStore
    from rasa.utils.endpoints import read_endpoint_config

    from bot.stores.in_memory import InMemoryTrackerStore
    from training.project import ROOT

    store = TrackerStore.create(read_endpoint_config(str(ROOT / "endpoints.yml"), "tracker_store"), DOMAIN)
    assert isinstance(getattr(store, "_tracker_store", store), InMemoryTrackerStore)
    events = [SlotSet("language", "ar", timestamp=0.5)] + turn("مرحبا", 1.0)
    asyncio.run(store.save(tracker_with(events)))
    stored = asyncio.run(store.retrieve("ayse"))
    assert [event.as_dict() for event in stored.events] == [event.as_dict() for event in events]


@pytest.fixture
def lock_stores(tmp_path):
    """Two lock stores on one Redis, as two workers or replicas have."""
    from rasa.utils.endpoints import EndpointConfig

    from bot.stores.redis_lock import RedisLockStore

    redis = RedisServer(tmp_path)
    config = EndpointConfig(url="127.0.0.1", port=redis.port, db=1, key_prefix="test", socket_timeout=2)
    yield RedisLockStore(config), RedisLockStore(config)
    redis.stop()


def test_tickets_taken_and_returned_at_once_by_two_workers_are_never_lost_or_revived(lock_stores):
    from concurrent.futures import ThreadPoolExecutor

    def take_and_return(store) -> list:
        taken = [store.issue_ticket("ayse") for _ in range(150)]
        for number in taken:
            store.cleanup("ayse", number)
        return taken

    with ThreadPoolExecutor(2) as pool:
        first, second = pool.map(take_and_return, lock_stores)
    assert len(set(first + second)) == 300  # every ticket unique: none overwritten by the other worker
    assert lock_stores[0].get_lock("ayse") is None  # every ticket returned: none written back after its return


def test_two_workers_never_hold_one_conversation_at_once(lock_stores):
    from concurrent.futures import ThreadPoolExecutor

    holders, most = [], []

    async def turns(store) -> None:
        for _ in range(20):
            async with store.lock("ayse"):
                holders.append(store)
                most.append(len(holders))
                await asyncio.sleep(0.005)
                holders.remove(store)

    with ThreadPoolExecutor(2) as pool:
        list(pool.map(lambda store: asyncio.run(turns(store)), lock_stores))
    assert len(most) == 40 and max(most) == 1


def test_the_lock_is_rasas_ticket_lock_and_an_expired_ticket_stops_holding_it(lock_stores):
    import time

    store = lock_stores[0]
    first = store.issue_ticket("ayse", lock_lifetime=0.2)
    second = store.issue_ticket("ayse")
    lock = store.get_lock("ayse")  # read back by Rasa's own TicketLock
    assert (first, second) == (0, 1) and lock.conversation_id == "ayse"
    assert not lock.is_locked(first) and lock.is_locked(second)
    time.sleep(0.3)  # the first holder died without returning its ticket
    store.update_lock("ayse")
    assert [ticket.number for ticket in store.get_lock("ayse").tickets] == [second]
    store.cleanup("ayse", second)
    assert store.get_lock("ayse") is None  # nobody waits: no lock left behind
