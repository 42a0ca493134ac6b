"""Channel wiring: Rasa's REST channel with input checks, and the web chat page.

Rasa's own RestInput answers some malformed requests with a 500 (a JSON list, a missing `message`).
`ValidatedRestInput` keeps its URL (/webhooks/rest/webhook), behaviour and response format, and turns
every malformed request into a 4xx that says what is wrong.
"""
import json
from pathlib import Path
from typing import Awaitable, Callable, Optional, Text

from rasa.core.channels.channel import InputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

MAX_BODY_BYTES = 64 * 1024  # a chat message, its sender id and metadata fit many times over
MAX_MESSAGE_CHARS = 10_000
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
    if not isinstance(payload, dict):
        return 400, 'Send a JSON object: {"sender": "...", "message": "..."}.'
    if not isinstance(payload.get("message"), str):
        return 400, "`message` is missing or not a string."
    if len(payload["message"]) > MAX_MESSAGE_CHARS:
        return 413, f"`message` is longer than {MAX_MESSAGE_CHARS} characters."
    if "sender" in payload and not isinstance(payload["sender"], (str, int)):
        return 400, "`sender` must be a string."
    return None


class ValidatedRestInput(RestInput):
    """Rasa's REST channel, rejecting malformed requests with a clear 4xx."""

    @classmethod
    def name(cls) -> Text:
        return "rest"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[None]]) -> Blueprint:
        blueprint = super().blueprint(on_new_message)

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
