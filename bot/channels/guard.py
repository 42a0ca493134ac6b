"""Checks on every request the server takes, before any of Rasa's handlers runs: a clear 4xx, never a 5xx or a hang.

Rasa 3.6 has no hook of its own for this, so the guard is listed in credentials.yml like a channel: Rasa registers
its (route-less) blueprint on the server's app, and `register` installs the checks app-wide with Sanic's
signals and middleware. They cover the chat webhooks, socket.io's HTTP requests and Rasa's HTTP API:
- framing: `Transfer-Encoding` with `Content-Length` (RFC 9112 calls it an error, and a smuggling vector behind
  proxies; Sanic waited for chunks that never came), an unknown transfer coding or a malformed length (a 500);
- bodies of JSON routes: at most MAX_BODY_BYTES, `Content-Type: application/json` (any case, parameters allowed),
  parsed once within limits (bot/channels/payload.py) and handed to Rasa's handler already parsed;
- Rasa's `/model/parse` and `/conversations/<id>/messages` need `text` as a string of chat length.
"""
import logging
import re
from typing import Any, Awaitable, Callable, Dict, Optional, Text

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, Sanic
from sanic.exceptions import PayloadTooLarge
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.payload import MAX_BODY_BYTES, MAX_MESSAGE_CHARS, Refused, is_json, read_json

logger = logging.getLogger(__name__)

# Routes whose bodies are JSON: the REST webhook and Rasa's HTTP API (rasa/server.py).
JSON_ROUTES = re.compile(r"/webhooks/rest/webhook|/model|/model/(parse|predict)"
                         r"|/conversations/.+/(tracker/events|execute|trigger_intent|messages)")
# Rasa's API routes that also take YAML training data: their JSON bodies are checked, YAML is Rasa's to read.
TRAINING_ROUTES = re.compile(r"/model/(train|test/stories|test/intents)")
# Rasa's API routes that read `text` as the user's message.
TEXT_ROUTES = re.compile(r"/model/parse|/conversations/.+/messages")
BODY_METHODS = ("POST", "PUT", "PATCH")


def framing_problem(headers) -> Optional[Refused]:
    """Why a request's body cannot be delimited safely (RFC 9112 section 6), or None."""
    lengths = headers.getall("content-length", [])
    codings = headers.getall("transfer-encoding", [])
    if codings and lengths:
        return Refused(400, "Send either `Transfer-Encoding` or `Content-Length`, not both.")
    if codings and [coding.strip().lower() for coding in codings] != ["chunked"]:
        return Refused(400, "The only transfer coding taken is `Transfer-Encoding: chunked`.")
    if len(lengths) > 1 or (lengths and not lengths[0].strip().isdigit()):
        return Refused(400, "Send one `Content-Length` with the body's size in bytes.")
    return None


def is_json_route(path: str) -> bool:
    return JSON_ROUTES.fullmatch(path.rstrip("/") or "/") is not None


def body_problem(request: Request) -> Optional[Refused]:
    """Parses a JSON route's body once (Rasa's handler reads the result); why it is refused, or None."""
    path = request.path.rstrip("/")
    if request.method not in BODY_METHODS or not request.body:
        return None  # no body: Rasa's API answers that itself (400), or needs none (`/predict`)
    if TRAINING_ROUTES.fullmatch(path):
        if not is_json(request.content_type):
            return None  # YAML training data: Rasa's to read
        limit = float("inf")  # training data may be large; these routes are for the bot's authors
    elif is_json_route(path):
        limit = MAX_BODY_BYTES
    else:
        return None  # another channel's webhook, socket.io's polling: their own formats
    try:
        request.parsed_json = read_json(request.body, request.content_type, limit)
    except Refused as refused:
        return refused
    if TEXT_ROUTES.fullmatch(path):
        return text_problem(request.parsed_json)
    return None


def text_problem(payload: Any) -> Optional[Refused]:
    if not isinstance(payload, dict) or not isinstance(payload.get("text"), str):
        return Refused(400, 'Send a JSON object with the message as a string: {"text": "..."}.')
    if len(payload["text"]) > MAX_MESSAGE_CHARS:
        return Refused(413, f"`text` is longer than {MAX_MESSAGE_CHARS} characters.")
    return None


class GuardBlueprint(Blueprint):
    """A blueprint without routes that installs the checks on the app it is registered with."""

    def register(self, app: Sanic, options: Dict[Text, Any]) -> None:
        super().register(app, options)
        app.signal("http.lifecycle.request")(check_framing)
        app.signal("http.routing.after")(limit_body_size)
        app.register_middleware(check_body, "request")
        app.error_handler.add(Refused, lambda request, refused: refused.as_response())
        app.error_handler.add(PayloadTooLarge, too_large)


async def check_framing(request: Request, **_: Any) -> None:
    """Before the body is read: a request whose framing is ambiguous is refused at once."""
    problem = framing_problem(request.headers)
    if problem:
        logger.debug(f"Refused {request.method} {request.path}: {problem.reason}")
        raise problem


async def limit_body_size(request: Request, **_: Any) -> None:
    """Before the body is read: JSON routes read at most MAX_BODY_BYTES (Sanic's default is 100 MB)."""
    if request.stream is not None and is_json_route(request.path):
        request.stream.request_max_size = MAX_BODY_BYTES


def too_large(request: Request, _: PayloadTooLarge) -> HTTPResponse:
    """Sanic's own 413 (a body over the route's limit), in the guard's words."""
    limit = MAX_BODY_BYTES if is_json_route(request.path) else request.app.config.REQUEST_MAX_SIZE
    return Refused(413, f"The body is larger than {limit} bytes.").as_response()


async def check_body(request: Request) -> Optional[HTTPResponse]:
    problem = body_problem(request)
    if problem:
        logger.debug(f"Refused {request.method} {request.path}: {problem.reason}")
        return problem.as_response()
    return None


class RequestGuard(InputChannel):
    """credentials.yml: `bot.channels.guard.RequestGuard:` guards every route of the server (no options)."""

    @classmethod
    def name(cls) -> Text:
        return "guard"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[None]]) -> Blueprint:
        return GuardBlueprint("request_guard", __name__)

