"""The tracker store of one process (`rasa shell`, one `rasa run`): endpoints.yml
`type: bot.stores.in_memory.InMemoryTrackerStore`."""
from rasa.core.tracker_store import InMemoryTrackerStore as RasaInMemoryTrackerStore

from bot.stores.events import QuickEventReading


class InMemoryTrackerStore(QuickEventReading, RasaInMemoryTrackerStore):
    """Rasa's in-memory store (one process: `rasa shell`, one `rasa run`), reading conversations quickly."""
