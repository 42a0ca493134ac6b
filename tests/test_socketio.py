"""The socket.io channel with a real python-socketio client: answers in the user's language, sessions that
survive a reconnection, and an `error` event (never silence, never a stored turn) for what is refused."""
import re

import pytest

from operations.hostile import hostile_socketio_events

KHMER = re.compile("[\u1780-\u17ff]")


@pytest.fixture()
def chat(server, request):
    client = server.socketio("sio-" + re.sub(r"\W+", "-", request.node.name))
    yield client
    client.disconnect()


def user_turns(server, session_id: str) -> list:
    return [e["text"] for e in server.tracker(session_id)["events"] if e["event"] == "user"]


def test_a_khmer_question_is_answered_in_khmer_and_the_session_goes_on(server, chat):
    first = chat.say("ហាងបើកម៉ោងប៉ុន្មាន?")[0]
    assert first.startswith("យើងបើក") and KHMER.search(first), first
    assert chat.say("តើអ្នកជាមនុស្សឬ?")[0].startswith("ខ្ញុំជាបូត")
    assert user_turns(server, chat.session_id) == ["ហាងបើកម៉ោងប៉ុន្មាន?", "តើអ្នកជាមនុស្សឬ?"]
    assert server.tracker(chat.session_id)["slots"]["language"] == "km"


def test_reconnecting_with_the_same_session_keeps_the_conversation(server):
    first = server.socketio("sio-reconnect")
    assert first.say("Merhaba, nasılsın?")[0].startswith("Merhaba!")
    first.disconnect()
    again = server.socketio("sio-reconnect")
    try:
        assert again.say("👍")[0].startswith(("Rica ederim", "Üzgünüm"))  # no letters: still Turkish
    finally:
        again.disconnect()
    assert user_turns(server, "sio-reconnect") == ["Merhaba, nasılsın?", "👍"]


@pytest.mark.parametrize("data, reason", [
    ("hello", "JSON object"),
    ({"session_id": "x", "message": 5}, "`message`"),
    ({"message": "hello"}, "`session_id`"),
    ({"session_id": "x", "message": "a" * 4097}, "4096"),
    ({"session_id": "x", "message": "hi", "metadata": '{"a": '}, "`metadata`"),
    ({"session_id": "x", "message": "hi", "metadata": "[" * 100 + "]" * 100}, "levels deep"),
], ids=["not an object", "message a number", "no session", "too long", "metadata not JSON", "metadata too deep"])
def test_a_refused_payload_gets_an_error_event_and_nothing_is_stored(server, chat, data, reason):
    if isinstance(data, dict) and data.get("session_id") == "x":
        data = {**data, "session_id": chat.session_id}
    chat.send("user_uttered", data)
    event, payload = chat.next_event(timeout=30)
    assert event == "error" and reason in payload["error"] and payload["status"] in (400, 413), payload
    assert chat.say("hello there")[0].startswith("Hello!")  # the session still works
    assert user_turns(server, chat.session_id) == ["hello there"]


def test_hostile_events_get_errors_and_the_server_keeps_answering(server, chat):
    sent = list(hostile_socketio_events(30))
    for event, data in sent:
        chat.send(event, data)
    errors = [chat.next_event("error", timeout=30) for _ in sent]
    assert all(payload["status"] < 500 for _, payload in errors)
    assert chat.say("what are your opening hours?")[0].startswith("We are open")
