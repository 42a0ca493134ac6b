"""Rasa's REST channel with input checks and honest failures.

Rasa's own RestInput answers some malformed requests with a 500 (a JSON list, a missing `message`), and a
200 with no answer when handling fails (Redis down: the turn is silently lost). `ValidatedRestInput` keeps its
URL (/webhooks/rest/webhook), behaviour and response format, turns every malformed request into a 4xx that
says what is wrong, and a turn the conversation store could not keep into a 503 with `Retry-After`: the
client sends it again, and nothing was half-done (bot/stores/failures.py). The checks are bot/channels/payload.py's,
shared with the socket.io channel.
"""
import logging
from asyncio import CancelledError
from typing import Awaitable, Callable, Optional, Text

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from rasa.utils.endpoints import bool_arg
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.payload import Refused, chat_message_problem, read_json
from bot.stores.failures import STORE_ERRORS, fail_loudly

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 2  # how long a client waits before sending a turn the store could not keep
NO_MODEL = ("The bot has no model loaded: the model archive is missing, corrupt or truncated (Rasa says 'No valid "
            "model found'). Retrain with `make train` (or `rasa train`) and restart the server, or load a good "
            "model with PUT /model.")


def request_problem(request: Request) -> Optional[Refused]:
    """Why the request cannot be a chat message, or None. The body is parsed once: by the guard
    (bot/channels/guard.py) where credentials.yml lists it, here otherwise."""
    if request.parsed_json is None:
        try:
            request.parsed_json = read_json(request.body or b"", request.content_type)
        except Refused as refused:
            return refused
    return chat_message_problem(request.parsed_json)


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
                return problem.as_response()
            return None

        return blueprint

    async def _extract_sender(self, req: Request) -> Optional[Text]:
        return str(req.json.get("sender") or "default")
