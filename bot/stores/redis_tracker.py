"""Conversations in Redis for several workers and replicas: endpoints.redis.yml
`type: bot.stores.redis_tracker.RedisTrackerStore`."""
import json
from itertools import islice
from typing import Any, Optional

from rasa.core.tracker_store import RedisTrackerStore as RasaRedisTrackerStore
from rasa.shared.core.constants import ACTION_SESSION_START_NAME
from rasa.shared.core.events import ActionExecuted
from rasa.shared.core.trackers import get_trackers_for_conversation_sessions

from bot.stores.events import QuickEventReading

DEFAULT_SOCKET_TIMEOUT = 2.0  # seconds; Rasa's lock store takes `socket_timeout` too (endpoints.redis.yml)


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
