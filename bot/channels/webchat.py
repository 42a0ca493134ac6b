"""The self-contained web chat page (bot/webchat/index.html), served at /webhooks/webchat/."""
from pathlib import Path
from typing import Awaitable, Callable, Text

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

WEBCHAT_FOLDER = Path(__file__).resolve().parent.parent / "webchat"


class WebChatPage(InputChannel):
    """Serves the web chat page; the page talks to the REST channel."""

    @classmethod
    def name(cls) -> Text:
        return "webchat"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[None]]) -> Blueprint:
        blueprint = Blueprint("webchat_page", __name__)

        @blueprint.route("/", methods=["GET"])
        async def page(request: Request) -> HTTPResponse:
            return await response.file(str(WEBCHAT_FOLDER / "index.html"), mime_type="text/html; charset=utf-8")

        return blueprint
