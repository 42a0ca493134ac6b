"""What a request may hold, checked once before Rasa sees it, with a 4xx that says what to send instead.

Rasa's handlers trust `request.json`: a 10,000-digit number, JSON nested 600 levels deep or a lone surrogate
reaches code that raises (integer conversion, recursive copies, UTF-8 encoding) and the client gets a 500.
`read_json` parses a body once, within limits, and `chat_message_problem` checks the fields every chat channel
shares (the REST webhook, socket.io).
"""
import json
import re
from typing import Any, Optional

from sanic import response
from sanic.response import HTTPResponse

MAX_BODY_BYTES = 64 * 1024  # a chat message, its sender id and metadata fit many times over
# Telegram's limit for one message; the encoder reads its first 1,024 characters, and the conversation store keeps
# every message whole (10,000-character messages made a conversation several MB to read and write at each turn).
MAX_MESSAGE_CHARS = 4096
MAX_SENDER_CHARS = 256  # a conversation id, not a document: Redis keys and logs stay small
MAX_JSON_DEPTH = 32  # channels' metadata nests a few levels; Rasa copies it recursively (600 levels: a 500)
MAX_INTEGER_DIGITS = 64  # ids and timestamps; Python refuses to convert integers of over 4,300 digits
JSON_MEDIA_TYPE = "application/json"
SEND_JSON = f"Send JSON with `Content-Type: {JSON_MEDIA_TYPE}`."


class Refused(ValueError):
    """A request the server will not handle: an HTTP status and a reason the client can act on."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status, self.reason = status, reason

    def as_response(self) -> HTTPResponse:
        return response.json({"error": self.reason}, status=self.status)


def media_type(content_type: Optional[str]) -> str:
    """`Application/JSON; charset=utf-8` -> `application/json`."""
    return (content_type or "").split(";", 1)[0].strip().lower()


def is_json(content_type: Optional[str]) -> bool:
    return media_type(content_type) == JSON_MEDIA_TYPE


def read_json(body: bytes, content_type: Optional[str], max_bytes: int = MAX_BODY_BYTES) -> Any:
    """The parsed body; raises `Refused` for what is too large, not JSON, or not storable."""
    if len(body) > max_bytes:
        raise Refused(413, f"The body is larger than {max_bytes} bytes.")
    if not is_json(content_type):
        raise Refused(415, SEND_JSON)
    try:
        payload = json.loads(body.decode("utf-8"), parse_int=_bounded_int, parse_constant=_no_constant)
    except UnicodeDecodeError:
        raise Refused(400, "The body is not valid UTF-8.") from None
    except json.JSONDecodeError as error:
        raise Refused(400, f"The body is not valid JSON ({error.msg}).") from None
    except RecursionError:
        raise Refused(400, f"The body nests JSON more than {MAX_JSON_DEPTH} levels deep.") from None
    _check_values(payload)
    return payload


def _bounded_int(digits: str) -> int:
    if len(digits.lstrip("-")) > MAX_INTEGER_DIGITS:
        raise json.JSONDecodeError(f"a number has more than {MAX_INTEGER_DIGITS} digits", digits, 0)
    return int(digits)


def _no_constant(name: str) -> None:
    raise json.JSONDecodeError(f"{name} is not JSON", name, 0)


def _check_values(payload: Any) -> None:
    """No container deeper than MAX_JSON_DEPTH, no string that UTF-8 cannot store (JSON may escape lone
    surrogates: "\\ud800"). Iterative, so that the check itself cannot run out of stack."""
    pending = [(payload, 1)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, str):
            if _SURROGATE.search(value):
                raise Refused(400, "The body contains invalid Unicode (a lone surrogate).")
            continue
        if not isinstance(value, (dict, list)):
            continue
        if depth > MAX_JSON_DEPTH:
            raise Refused(400, f"The body nests JSON more than {MAX_JSON_DEPTH} levels deep.")
        items = list(value.items()) if isinstance(value, dict) else [(None, item) for item in value]
        pending += [(key, depth) for key, _ in items if key is not None]
        pending += [(item, depth + 1) for _, item in items]


_SURROGATE = re.compile("[\ud800-\udfff]")


def chat_message_problem(payload: Any, message_key: str = "message", sender_key: str = "sender",
                         metadata_key: str = "metadata") -> Optional[Refused]:
    """Why a chat message cannot be answered and stored, or None: the same rules on every channel."""
    if not isinstance(payload, dict):
        return Refused(400, f'Send a JSON object: {{"{sender_key}": "...", "{message_key}": "..."}}.')
    message = payload.get(message_key)
    if not isinstance(message, str):
        return Refused(400, f"`{message_key}` is missing or not a string.")
    if len(message) > MAX_MESSAGE_CHARS:
        return Refused(413, f"`{message_key}` is longer than {MAX_MESSAGE_CHARS} characters.")
    sender = payload.get(sender_key)
    if sender is not None and (isinstance(sender, bool) or not isinstance(sender, (str, int))):
        return Refused(400, f"`{sender_key}` must be a string.")
    if len(str(sender or "")) > MAX_SENDER_CHARS:
        return Refused(400, f"`{sender_key}` is longer than {MAX_SENDER_CHARS} characters.")
    if not isinstance(payload.get(metadata_key), (dict, type(None))):
        return Refused(400, f"`{metadata_key}` must be a JSON object.")
    return None
