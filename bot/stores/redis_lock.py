"""Conversation locks in Redis, safe for several processes: endpoints.redis.yml
`type: bot.stores.redis_lock.RedisLockStore`."""
import time

from rasa.core.lock_store import LOCK_LIFETIME, LockError, RedisLockStore as RasaRedisLockStore

LOCK_POLL_SECONDS = 0.05  # a message waiting for its conversation's previous one looks again this often (Rasa: 1 s)


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
