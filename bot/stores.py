"""Conversation stores that fail loudly and quickly, so that a channel can say "retry" instead of losing a turn.

Rasa wraps every tracker store in a `FailSafeTrackerStore`: when Redis is down it reads an empty conversation
and writes the new turn to memory, then answers as if nothing happened; the turn is gone when Redis comes back
(and an answer in the wrong language, since the `language` slot was lost). `fail_loudly` gives that wrapper
the error callback it was built to take, raising `StoreUnavailable` instead. `RedisTrackerStore` adds socket
timeouts to Rasa's, so that a Redis that stops answering fails within seconds instead of hanging, and keeps
the cost of a turn from growing with the length of the conversation where Rasa's does (see the class).
"""
import json
from functools import lru_cache
from typing import Any, Dict, List, Optional, Type

from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError
from rasa.core.lock_store import RedisLockStore as RasaRedisLockStore
from rasa.core.tracker_store import FailSafeTrackerStore
from rasa.core.tracker_store import InMemoryTrackerStore as RasaInMemoryTrackerStore
from rasa.core.tracker_store import RedisTrackerStore as RasaRedisTrackerStore
from rasa.shared.core.conversation import Dialogue
from rasa.shared.core.events import Event
from rasa.shared.exceptions import ConnectionException, RasaException
from rasa.shared.utils.common import all_subclasses
from redis.exceptions import RedisError

DEFAULT_SOCKET_TIMEOUT = 2.0  # seconds; Rasa's lock store takes `socket_timeout` too (endpoints.redis.yml)
LOCK_POLL_SECONDS = 0.05  # a message waiting for its conversation's previous one looks again this often (Rasa: 1 s)


class StoreUnavailable(RasaException):
    """The conversation store (trackers or locks) cannot be reached: the turn was not handled."""


# What a channel answers with 503 + Retry-After: every way the stores report being unreachable.
STORE_ERRORS = (StoreUnavailable, RedisError, LockError, ConnectionException, ConnectionError)


def _raise_unavailable(error: Exception) -> None:
    raise StoreUnavailable(f"The conversation store failed: {error}") from error


def fail_loudly(tracker_store: Any) -> None:
    """Make Rasa's fail-safe wrapper raise instead of falling back to memory (idempotent)."""
    if isinstance(tracker_store, FailSafeTrackerStore):
        tracker_store._on_tracker_store_error = _raise_unavailable


class QuickEventReading:
    """Reads a stored conversation with `deserialise_events`: Rasa looks up each event's class among all of its
    event classes, one by one, at every turn (27 ms for a 100-turn conversation, against 1.4 ms here)."""

    def deserialise_tracker(self, sender_id: str, serialised_tracker):
        tracker = self.init_tracker(sender_id)
        dialogue = json.loads(serialised_tracker)
        tracker.recreate_from_dialogue(Dialogue(dialogue.get("name"), deserialise_events(dialogue.get("events", []))))
        return tracker


class InMemoryTrackerStore(QuickEventReading, RasaInMemoryTrackerStore):
    """Rasa's in-memory store (one process: `rasa shell`, one `rasa run`), reading conversations quickly."""


class RedisTrackerStore(QuickEventReading, RasaRedisTrackerStore):
    """Rasa's Redis tracker store, with socket timeouts (endpoints: `type: bot.stores.RedisTrackerStore`).

    Two of Rasa's per-turn costs grow with the conversation (a server slowed to a crawl on conversations of
    a few hundred turns in training.faults): `save` rebuilds the stored conversation and replays the new one
    back to the stored end to merge them; when the stored events are exactly the start of the new ones, as
    they are when the lock store keeps one writer per conversation, the new tracker is written as it is.
    And reading a conversation spent a third of a server's time on long ones (`QuickEventReading`).
    """

    def __init__(self, domain, socket_timeout: float = DEFAULT_SOCKET_TIMEOUT, **kwargs: Any) -> None:
        super().__init__(domain, **kwargs)
        self.red.connection_pool.connection_kwargs.update(socket_timeout=socket_timeout,
                                                          socket_connect_timeout=socket_timeout)

    async def save(self, tracker, timeout: Optional[float] = None) -> None:
        stored = self.red.get(self.key_prefix + tracker.sender_id)
        if stored is not None and not extends(json.loads(stored).get("events") or [], tracker.events):
            await super().save(tracker, timeout)  # someone else wrote it: Rasa's merge
            return
        await self.stream_events(tracker)
        self.red.set(self.key_prefix + tracker.sender_id, self.serialise_tracker(tracker),
                     ex=timeout or self.record_exp)


class RedisLockStore(RasaRedisLockStore):
    """Rasa's Redis lock store (endpoints: `type: bot.stores.RedisLockStore`), made safe for several processes.

    Rasa reads a conversation's lock, changes it and writes it back in separate steps: two workers that
    take or return a ticket at the same moment overwrite each other, and a returned ticket written back
    blocks the conversation until it expires (60 s; seen as p99 of 50-60 s under load). Here each change
    is one Redis transaction (WATCH, then MULTI/EXEC, retried if the lock changed meanwhile).
    """

    def __init__(self, endpoint_config) -> None:
        super().__init__(host=endpoint_config.url, **endpoint_config.kwargs)

    def lock(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME,
             wait_time_in_seconds: float = LOCK_POLL_SECONDS):
        return super().lock(conversation_id, lock_lifetime, wait_time_in_seconds)

    def issue_ticket(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME) -> int:
        def take_ticket(lock: Optional[TicketLock]):
            lock = lock or TicketLock(conversation_id)
            return lock, lock.issue_ticket(lock_lifetime)

        try:
            return self._change(conversation_id, take_ticket)
        except Exception as error:  # as Rasa's
            raise LockError(f"Error while acquiring lock. Error:\n{error}") from error

    def update_lock(self, conversation_id: str) -> None:
        def remove_expired(lock: Optional[TicketLock]):
            if lock:
                lock.remove_expired_tickets()
            return lock, None

        self._change(conversation_id, remove_expired)

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        def return_ticket(lock: Optional[TicketLock]):
            if lock:
                lock.remove_ticket_for(ticket_number)
            return (lock if lock and lock.is_someone_waiting() else None), None

        self._change(conversation_id, return_ticket)

    def _change(self, conversation_id: str, change):
        """Applies `change` (stored lock or None -> lock to store or None to delete, result) atomically."""
        key = self.key_prefix + conversation_id

        def transaction(pipe):
            stored = pipe.get(key)
            lock, result = change(TicketLock.from_dict(json.loads(stored)) if stored else None)
            pipe.multi()
            if lock is None:
                pipe.delete(key)
            else:
                pipe.set(key, lock.dumps())
            return result

        return self.red.transaction(transaction, key, value_from_callable=True)


def extends(stored_events: list, events) -> bool:
    """Whether `events` continue `stored_events` (both ends of the stored run match, as JSON)."""
    if len(stored_events) > len(events):
        return False
    if not stored_events:
        return True
    return all(json.loads(json.dumps(events[i].as_dict())) == stored_events[i] for i in (0, len(stored_events) - 1))


@lru_cache(maxsize=None)
def event_classes() -> Dict[str, Type[Event]]:
    """Rasa's event classes by type name; where several share one, the first that Rasa's own lookup finds."""
    return {cls.type_name: cls for cls in reversed(all_subclasses(Event))}


def deserialise_events(serialised: List[dict]) -> List[Event]:
    """Rasa's `deserialise_events`, with each class found in `event_classes` (events of classes defined after
    the table was built go through Rasa's own lookup)."""
    events = []
    for parameters in serialised:
        if "event" not in parameters:
            continue
        event_class = event_classes().get(parameters["event"])
        event = event_class._from_parameters(parameters) if event_class else Event.from_parameters(parameters)
        if event:
            events.append(event)
    return events
