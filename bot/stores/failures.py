"""Conversation stores that fail loudly and quickly, so that a channel can say "retry" instead of losing a turn.

Rasa wraps every tracker store in a `FailSafeTrackerStore`: when Redis is down it reads an empty conversation
and writes the new turn to memory, then answers as if nothing happened; the turn is gone when Redis comes back
(and an answer in the wrong language, since the `language` slot was lost). `fail_loudly` gives that wrapper
the error callback it was built to take, raising `StoreUnavailable` instead; the channels answer those with
"send it again" (503 + Retry-After on REST, an `error` event on socket.io).
"""
from typing import Any

from rasa.core.lock_store import LockError
from rasa.core.tracker_store import FailSafeTrackerStore
from rasa.shared.exceptions import ConnectionException, RasaException
from redis.exceptions import RedisError


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
