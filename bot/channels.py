"""Channel wiring: Rasa's REST channel with input checks and honest failures, and the web chat page.

Rasa's own RestInput answers some malformed requests with a 500 (a JSON list, a missing `message`), and a
200 with no answer when handling fails (Redis down: the turn is silently lost). `ValidatedRestInput` keeps its
URL (/webhooks/rest/webhook), behaviour and response format, turns every malformed request into a 4xx that
says what is wrong, and a turn the conversation store could not keep into a 503 with `Retry-After`: the
client sends it again, and nothing was half-done (bot/stores.py).
"""
import json
import logging
from asyncio import CancelledError
from pathlib import Path
from typing import Awaitable, Callable, Optional, Text

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from rasa.utils.endpoints import bool_arg
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.stores import STORE_ERRORS, fail_loudly

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024  # a chat message, its sender id and metadata fit many times over
# Telegram's limit for one message; the encoder reads its first 1,024 characters, and the conversation store keeps
# every message whole (10,000-character messages made a conversation several MB to read and write at each turn).
MAX_MESSAGE_CHARS = 4096
MAX_SENDER_CHARS = 256  # a conversation id, not a document: Redis keys and logs stay small
RETRY_AFTER_SECONDS = 2  # how long a client waits before sending a turn the store could not keep
NO_MODEL = ("The bot has no model loaded: the model archive is missing, corrupt or truncated (Rasa says 'No valid "
            "model found'). Retrain with `make train` (or `rasa train`) and restart the server, or load a good "
            "model with PUT /model.")
WEBCHAT_FOLDER = Path(__file__).parent / "webchat"


def request_problem(request: Request) -> Optional[tuple]:
    """(status, reason) when the request cannot be a chat message, else None."""
    if len(request.body or b"") > MAX_BODY_BYTES:
        return 413, f"The body is larger than {MAX_BODY_BYTES} bytes."
    if "json" not in (request.content_type or ""):
        return 415, "Send JSON with `Content-Type: application/json`."
    try:
        payload = json.loads((request.body or b"").decode("utf-8"))
    except UnicodeDecodeError:
        return 400, "The body is not valid UTF-8."
    except json.JSONDecodeError as error:
        return 400, f"The body is not valid JSON ({error.msg})."
    except RecursionError:
        return 400, "The body nests JSON too deeply."
    if not isinstance(payload, dict):
        return 400, 'Send a JSON object: {"sender": "...", "message": "..."}.'
    return field_problem(payload)


def field_problem(payload: dict) -> Optional[tuple]:
    """(status, reason) when a field of the message cannot be stored or answered, else None."""
    if not isinstance(payload.get("message"), str):
        return 400, "`message` is missing or not a string."
    if len(payload["message"]) > MAX_MESSAGE_CHARS:
        return 413, f"`message` is longer than {MAX_MESSAGE_CHARS} characters."
    sender = payload.get("sender")
    if sender is not None and (isinstance(sender, bool) or not isinstance(sender, (str, int))):
        return 400, "`sender` must be a string."
    if len(str(sender or "")) > MAX_SENDER_CHARS:
        return 400, f"`sender` is longer than {MAX_SENDER_CHARS} characters."
    if not isinstance(payload.get("metadata"), (dict, type(None))):
        return 400, "`metadata` must be a JSON object."
    try:  # JSON may escape lone surrogates ("\\ud800"): no store can keep those
        json.dumps(payload, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return 400, "The message contains invalid Unicode (a lone surrogate)."
    return None


def unavailable(reason: str) -> HTTPResponse:
    return response.json({"error": f"{reason} Nothing was recorded: send the message again."}, status=503,
                         headers={"Retry-After": str(RETRY_AFTER_SECONDS)})


class ValidatedRestInput(RestInput):
    """Rasa's REST channel, rejecting malformed requests with a clear 4xx and lost turns with a 503."""

    @classmethod
    def name(cls) -> Text:
        return "rest"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[None]]) -> Blueprint:
        blueprint = Blueprint(f"custom_webhook_{type(self).__name__}", __name__)

        @blueprint.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @blueprint.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            """Rasa's REST handler, with a status that tells whether the turn was kept."""
            agent = getattr(request.app.ctx, "agent", None)
            if agent is None or not agent.is_ready():
                return unavailable(NO_MODEL)
            fail_loudly(agent.tracker_store)
            sender, text = await self._extract_sender(request), self._extract_message(request)
            channel, metadata = self._extract_input_channel(request), self.get_metadata(request)
            if bool_arg(request, "stream", default=False):
                return response.stream(self.stream_response(on_new_message, text, sender, channel, metadata),
                                       content_type="text/event-stream")
            collector = CollectingOutputChannel()
            message = UserMessage(text, collector, sender, input_channel=channel, metadata=metadata)
            try:
                await on_new_message(message)
            except STORE_ERRORS as error:
                logger.warning(f"Turn of '{message.sender_id}' not handled, the store is unavailable: {error}")
                return unavailable("The conversation store is unavailable.")
            except CancelledError:
                return unavailable("The server is shutting down or too busy.")
            return response.json(collector.messages)

        @blueprint.listener("after_server_start")
        async def say_what_to_do_without_a_model(app, _loop) -> None:
            agent = getattr(app.ctx, "agent", None)
            if agent is None or not agent.is_ready():
                logger.error(NO_MODEL)

        @blueprint.middleware("request")
        async def check(request: Request) -> Optional[HTTPResponse]:
            if request.method != "POST":
                return None
            problem = request_problem(request)
            if problem:
                status, reason = problem
                return response.json({"error": reason}, status=status)
            return None

        return blueprint

    async def _extract_sender(self, req: Request) -> Optional[Text]:
        return str(req.json.get("sender") or "default")


class WebChatPage(InputChannel):
    """Serves the self-contained web chat page at /webhooks/webchat/; it talks to the REST channel."""

    @classmethod
    def name(cls) -> Text:
        return "webchat"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[None]]) -> Blueprint:
        blueprint = Blueprint("webchat_page", __name__)

        @blueprint.route("/", methods=["GET"])
        async def page(request: Request) -> HTTPResponse:
            return await response.file(str(WEBCHAT_FOLDER / "index.html"), mime_type="text/html; charset=utf-8")

        return blueprint
