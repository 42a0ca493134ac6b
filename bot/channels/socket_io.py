"""Rasa's socket.io channel, made to answer with today's python-socketio and to check what clients send.

Rasa 3.6.21 calls `AsyncServer.enter_room` without awaiting it; python-socketio 5.x (our lock) made it a
coroutine, so with `session_persistence` a client never joined its session's room and no `bot_uttered` ever
reached it. Here the join is awaited, and every event goes through the REST channel's checks
(bot/channels/payload.py): a refused one gets an `error` event saying what to send (`{"error": "..."}`), never an
exception in a task nobody awaits. A turn the conversation store could not keep gets an `error` event too, with
`retry: true`, as the REST channel's 503 asks the client to send it again.
"""
import logging
import uuid
from typing import Any, Awaitable, Callable, Dict, Optional, Text

import rasa.core.channels.channel
from rasa.core.channels.channel import UserMessage
from rasa.core.channels.socketio import SocketBlueprint, SocketIOInput, SocketIOOutput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from socketio import AsyncServer

from bot.channels.payload import (JSON_MEDIA_TYPE, MAX_BODY_BYTES, MAX_SENDER_CHARS, Refused, chat_message_problem,
                                  read_json)
from bot.stores.failures import STORE_ERRORS, fail_loudly

logger = logging.getLogger(__name__)

ERROR_EVENT = "error"


class ValidatedSocketIOInput(SocketIOInput):
    """credentials.yml: `bot.channels.socket_io.ValidatedSocketIOInput:` with Rasa's `socketio` options."""

    @classmethod
    def name(cls) -> Text:
        return "socketio"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        # cors_allowed_origins=[] as Rasa's: socket.io leaves cross-origin checks to the server's CORS settings
        sio = AsyncServer(async_mode="sanic", cors_allowed_origins=[], max_http_buffer_size=MAX_BODY_BYTES)
        self.sio = sio  # Rasa's `get_output_channel` sends external events through it
        blueprint = SocketBlueprint(sio, self.socketio_path, "socketio_webhook", __name__)

        @blueprint.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @sio.on("connect", namespace=self.namespace)
        async def connect(sid: Text, environ: Dict, auth: Optional[Dict] = None) -> bool:
            return self.authorised(auth)

        @sio.on("session_request", namespace=self.namespace)
        async def session_request(sid: Text, data: Any = None) -> None:
            problem = session_problem(data)
            if problem:
                await self.refuse(sid, problem)
                return
            session_id = (data or {}).get("session_id") or uuid.uuid4().hex
            if self.session_persistence:
                await sio.enter_room(sid, session_id, namespace=self.namespace)
            await sio.emit("session_confirm", session_id, room=sid, namespace=self.namespace)

        @sio.on(self.user_message_evt, namespace=self.namespace)
        async def handle_message(sid: Text, data: Any = None) -> None:
            try:
                data = self.checked_message(data)
            except Refused as problem:
                await self.refuse(sid, problem)
                return
            sender_id = data["session_id"] if self.session_persistence else sid
            output = SocketIOOutput(sio, self.bot_message_evt)
            message = UserMessage(data["message"], output, sender_id, input_channel=self.name(),
                                  metadata=data.get(self.metadata_key))
            for app in blueprint.apps:  # the agent may have been replaced since (PUT /model)
                fail_loudly(app.ctx.agent.tracker_store)
            try:
                await on_new_message(message)
            except STORE_ERRORS as error:
                logger.warning(f"Turn of '{sender_id}' not handled, the store is unavailable: {error}")
                await sio.emit(ERROR_EVENT, {"error": "The conversation store is unavailable. Nothing was recorded: "
                                                      "send the message again.", "status": 503, "retry": True},
                               room=sid, namespace=self.namespace)

        return blueprint

    def authorised(self, auth: Any) -> bool:
        """Rasa's rule: with a `jwt_key`, a client connects only with a valid token in its auth data."""
        if not self.jwt_key:
            return True
        token = auth.get("token") if isinstance(auth, dict) else None
        return bool(token) and bool(rasa.core.channels.channel.decode_bearer_token(token, self.jwt_key,
                                                                                    self.jwt_algorithm))

    def checked_message(self, data: Any) -> Dict[Text, Any]:
        """`data` with its metadata parsed (widgets may send it as a JSON string); raises `Refused`."""
        if isinstance(data, dict) and isinstance(data.get(self.metadata_key), str):
            try:
                metadata = read_json(data[self.metadata_key].encode("utf-8", "surrogatepass"), JSON_MEDIA_TYPE)
            except Refused as refused:
                raise Refused(refused.status, f"`{self.metadata_key}` must be an object, or a string of one in JSON: "
                                              f"{refused.reason}") from None
            data = {**data, self.metadata_key: metadata}
        problem = chat_message_problem(data, sender_key="session_id", metadata_key=self.metadata_key)
        if not problem and self.session_persistence:
            problem = session_problem(data, required=True)
        if problem:
            raise problem
        return data

    async def refuse(self, sid: Text, problem: Refused) -> None:
        logger.debug(f"Refused a socket.io event of {sid}: {problem.reason}")
        await self.sio.emit(ERROR_EVENT, {"error": problem.reason, "status": problem.status}, room=sid,
                            namespace=self.namespace)


def session_problem(data: Any, required: bool = False) -> Optional[Refused]:
    """Why `data` cannot name a session, or None (without one, `session_request` starts a new session)."""
    if data is not None and not isinstance(data, dict):
        return Refused(400, 'Send an object: {"session_id": "..."}.')
    session_id = (data or {}).get("session_id")
    if session_id is None and not required:
        return None
    if not isinstance(session_id, str) or not session_id:
        return Refused(400, "`session_id` must be a non-empty string: send `session_request` first and use the id "
                            "of its `session_confirm`.")
    if len(session_id) > MAX_SENDER_CHARS:
        return Refused(400, f"`session_id` is longer than {MAX_SENDER_CHARS} characters.")
    return None
