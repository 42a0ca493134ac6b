"""Conversation stores that fail loudly and quickly, so that a channel can say "retry" instead of losing a turn.

Rasa wraps every tracker store in a `FailSafeTrackerStore`: when Redis is down it reads an empty conversation
and writes the new turn to memory, then answers as if nothing happened; the turn is gone when Redis comes back
(and an answer in the wrong language, since the `language` slot was lost). `fail_loudly` gives that wrapper
the error callback it was built to take, raising `StoreUnavailable` instead. `RedisTrackerStore` adds socket
timeouts to Rasa's, so that a Redis that stops answering fails within seconds instead of hanging, and makes
a turn's cost grow far less with the length of the conversation than Rasa's does (see the class).
"""
import json
import time
from functools import lru_cache
from itertools import islice
from typing import Any, Dict, List, Optional, Type

from rasa.core.lock_store import LOCK_LIFETIME, LockError
from rasa.core.lock_store import RedisLockStore as RasaRedisLockStore
from rasa.core.tracker_store import FailSafeTrackerStore
from rasa.core.tracker_store import InMemoryTrackerStore as RasaInMemoryTrackerStore
from rasa.core.tracker_store import RedisTrackerStore as RasaRedisTrackerStore
from rasa.shared.core.conversation import Dialogue
from rasa.shared.core.constants import ACTION_SESSION_START_NAME
from rasa.shared.core.events import ActionExecuted, Event
from rasa.shared.core.trackers import get_trackers_for_conversation_sessions
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

    Rasa's per-turn costs grow with the conversation (a server slowed to a crawl on conversations of a few
    hundred turns in operations.faults): `save` rebuilds the stored conversation and replays the new one back
    to the stored end to merge them, then serialises every event again. Here a tracker read from the store
    (or last written) that still matches what is stored, as the lock store makes sure, has only its new
    events serialised and appended to the stored text (`StoredText`); one whose stored events are the start
    of its own is written whole; any other goes through Rasa's merge. Reading a conversation spent a third
    of a server's time on long ones (`QuickEventReading`).
    """

    def __init__(self, domain, socket_timeout: float = DEFAULT_SOCKET_TIMEOUT, **kwargs: Any) -> None:
        super().__init__(domain, **kwargs)
        self.red.connection_pool.connection_kwargs.update(socket_timeout=socket_timeout,
                                                          socket_connect_timeout=socket_timeout)

    async def _retrieve(self, sender_id: str, fetch_all_sessions: bool):
        stored = self.red.get(self.key_prefix + sender_id)
        if stored is None:
            return None
        tracker = self.deserialise_tracker(sender_id, stored)
        text = StoredText.of(tracker, stored)
        if not fetch_all_sessions and starts_another_session(tracker.events):
            tracker = get_trackers_for_conversation_sessions(tracker)[-1]  # as Rasa's: the last session only
        if text:
            text.remember(tracker)
        return tracker

    async def save(self, tracker, timeout: Optional[float] = None) -> None:
        key = self.key_prefix + tracker.sender_id
        stored = self.red.get(key)
        serialised = StoredText.appended(tracker, stored)
        if serialised is None:
            if stored is not None and not extends(json.loads(stored).get("events") or [], tracker.events):
                await super().save(tracker, timeout)  # someone else wrote it: Rasa's merge
                return
            serialised = self.serialise_tracker(tracker)
        await self.stream_events(tracker)
        self.red.set(key, serialised, ex=timeout or self.record_exp)
        text = StoredText.of(tracker, serialised)
        if text:
            text.remember(tracker)


class StoredText:
    """What a tracker's events were read from or written as: Rasa's `{"events": [...], "name": ...}` text,
    how many of the tracker's events it holds, and the first and last of them (the objects themselves)."""

    ATTRIBUTE = "_bot_stored_text"

    def __init__(self, text: str, count: int, first, last) -> None:
        self.text, self.count, self.first, self.last = text, count, first, last

    @classmethod
    def of(cls, tracker, text: str) -> Optional["StoredText"]:
        """None where the tracker drops its oldest events (`max_event_history`): then it is written whole."""
        events = tracker.events
        if events.maxlen is not None:
            return None
        return cls(text, len(events), events[0] if events else None, events[-1] if events else None)

    def remember(self, tracker) -> None:
        setattr(tracker, self.ATTRIBUTE, self)

    @classmethod
    def appended(cls, tracker, stored: Optional[str]) -> Optional[str]:
        """`stored` with the tracker's events after those it was read with appended, as Rasa would serialise
        the whole tracker; None unless the tracker was read from (or written as) exactly `stored` since."""
        text = getattr(tracker, cls.ATTRIBUTE, None)
        if text is None or stored is None or not text.holds_start_of(tracker) or stored != text.text:
            return None
        tail = '], "name": ' + json.dumps(tracker.sender_id) + "}"
        if not stored.endswith(tail):
            return None
        new_events = [json.dumps(event.as_dict()) for event in islice(tracker.events, text.count, None)]
        if not new_events:
            return stored
        separator = ", " if text.count else ""
        return stored[:-len(tail)] + separator + ", ".join(new_events) + tail

    def holds_start_of(self, tracker) -> bool:
        """Whether the tracker's first events are the very ones read or written (events only ever append)."""
        events = tracker.events
        if len(events) < self.count:
            return False
        return not self.count or (events[0] is self.first and events[self.count - 1] is self.last)


# One change to a conversation's lock, done inside Redis so that no other writer comes between reading it and
# writing it back: Rasa's `TicketLock` as stored (`{"conversation_id": ..., "tickets": ["{\"number\": ...,
# \"expires\": ...}", ...]}`), expired tickets dropped, then a ticket issued or returned; a lock nobody waits on
# is deleted. ARGV: action ("issue", "return" or "expire"), lifetime or ticket number, now, conversation id.
CHANGE_LOCK = """
local now = tonumber(ARGV[3])
local tickets = {}
local stored = redis.call('GET', KEYS[1])
if stored then
  for _, text in ipairs(cjson.decode(stored).tickets or {}) do
    local ticket = cjson.decode(text)
    if ticket.expires >= now then table.insert(tickets, ticket) end
  end
end
local result = -1
if ARGV[1] == 'issue' then
  result = (#tickets > 0 and tickets[#tickets].number or -1) + 1
  table.insert(tickets, {number = result, expires = now + tonumber(ARGV[2])})
elseif ARGV[1] == 'return' then
  for i, ticket in ipairs(tickets) do
    if ticket.number == tonumber(ARGV[2]) then table.remove(tickets, i) break end
  end
end
if #tickets == 0 then
  redis.call('DEL', KEYS[1])
else
  local texts = {}
  for i, ticket in ipairs(tickets) do texts[i] = cjson.encode(ticket) end
  redis.call('SET', KEYS[1], cjson.encode({conversation_id = ARGV[4], tickets = texts}))
end
return result
"""


class RedisLockStore(RasaRedisLockStore):
    """Rasa's Redis lock store (endpoints: `type: bot.stores.RedisLockStore`), made safe for several processes.

    Rasa reads a conversation's lock, changes it and writes it back in separate steps: two workers that
    take or return a ticket at the same moment overwrite each other, and a returned ticket written back
    blocks the conversation until it expires (60 s; seen as p99 of 50-60 s under load). Here each change
    is one Lua script (`CHANGE_LOCK`), which Redis runs with nothing in between, in one round trip.
    """

    def __init__(self, endpoint_config) -> None:
        super().__init__(host=endpoint_config.url, **endpoint_config.kwargs)
        self._change_lock = self.red.register_script(CHANGE_LOCK)

    def lock(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME,
             wait_time_in_seconds: float = LOCK_POLL_SECONDS):
        return super().lock(conversation_id, lock_lifetime, wait_time_in_seconds)

    def issue_ticket(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME) -> int:
        try:
            return self._change(conversation_id, "issue", lock_lifetime)
        except Exception as error:  # as Rasa's
            raise LockError(f"Error while acquiring lock. Error:\n{error}") from error

    def update_lock(self, conversation_id: str) -> None:
        self._change(conversation_id, "expire", 0)

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        self._change(conversation_id, "return", ticket_number)

    def _change(self, conversation_id: str, action: str, argument: float) -> int:
        keys = [self.key_prefix + conversation_id]
        return int(self._change_lock(keys=keys, args=[action, argument, time.time(), conversation_id]))


def starts_another_session(events) -> bool:
    """Whether Rasa would split these events into several conversation sessions (one starts after the first
    event), found without building a tracker for each session, as Rasa's split does at every turn."""
    return any(isinstance(event, ActionExecuted) and event.action_name == ACTION_SESSION_START_NAME
               for event in islice(events, 1, None))


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
