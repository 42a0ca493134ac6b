"""Every route of a running server (REST webhook, Rasa's HTTP API, socket.io's HTTP transport) refuses malformed
requests with a 4xx that says what to send, at once, before Rasa's handlers see them (bot/channels/guard.py)."""
import time

import pytest
import requests

from operations.hostile import HostileRequest

JSON = {"Content-Type": "application/json"}
HELLO = b'{"sender": "guard", "message": "hello there", "text": "hello there"}'

# (path, body, headers, status): the cases an outside fuzz found answered with a 500, a hang or a wrong 2xx.
REFUSED = {
    "10,000-digit sender": ("/webhooks/rest/webhook", b'{"sender": ' + b"9" * 10_000 + b', "message": "hi"}', JSON, 400),
    "metadata 600 deep": ("/webhooks/rest/webhook", b'{"sender": "m", "message": "hi", "metadata": '
                          + b'{"a": ' * 600 + b"1" + b"}" * 600 + b"}", JSON, 400),
    "metadata 950 deep": ("/webhooks/rest/webhook", b'{"sender": "m", "message": "hi", "metadata": '
                          + b"[" * 950 + b"]" * 950 + b"}", JSON, 400),
    "text/json": ("/webhooks/rest/webhook", HELLO, {"Content-Type": "text/json"}, 415),
    "application/jsonx": ("/webhooks/rest/webhook", HELLO, {"Content-Type": "application/jsonx"}, 415),
    "parse: invalid JSON": ("/model/parse", b'{"text": ', JSON, 400),
    "parse: a list": ("/model/parse", b"[]", JSON, 400),
    "parse: no text": ("/model/parse", b"{}", JSON, 400),
    "parse: text a number": ("/model/parse", b'{"text": 5}', JSON, 400),
    "parse: lone surrogate": ("/model/parse", b'{"text": "hi \\ud800"}', JSON, 400),
    "parse: text too long": ("/model/parse", b'{"text": "' + b"a" * 5000 + b'"}', JSON, 413),
    "parse: not JSON": ("/model/parse", b'{"text": "hi"}', {"Content-Type": "text/plain"}, 415),
    "parse: 1 MB": ("/model/parse", b'{"text": "' + b"a" * 1_000_000 + b'"}', JSON, 413),
    "events: 10,000 digits": ("/conversations/guard/tracker/events", b'{"event": "slot", "name": "language", '
                              b'"value": ' + b"1" * 10_000 + b"}", JSON, 400),
    "messages: text a list": ("/conversations/guard/messages", b'{"text": ["hi"], "sender": "user"}', JSON, 400),
}


@pytest.mark.parametrize("name", REFUSED)
def test_malformed_request_is_refused_with_a_reason(server, name):
    path, body, headers, status = REFUSED[name]
    reply = requests.post(server.url + path, data=body, headers=headers, timeout=10)
    assert reply.status_code == status, reply.text
    assert reply.json()["error"]


@pytest.mark.parametrize("content_type", ["APPLICATION/JSON", "application/json; charset=utf-8",
                                          "Application/Json ; charset=UTF-8"])
def test_the_json_media_type_is_read_in_any_case_with_parameters(server, content_type):
    answer = requests.post(f"{server.url}/webhooks/rest/webhook", data=HELLO, timeout=30,
                           headers={"Content-Type": content_type})
    assert answer.status_code == 200 and answer.json()[0]["text"].startswith("Hello!")
    parsed = requests.post(f"{server.url}/model/parse", data=HELLO, headers={"Content-Type": content_type}, timeout=30)
    assert parsed.status_code == 200 and parsed.json()["intent"]["name"] == "greet"


@pytest.mark.parametrize("headers", [
    {"Transfer-Encoding": "chunked", "Content-Length": "64"},
    {"Content-Length": "abc"},
    {"Content-Length": "64, 64"},
    {"Transfer-Encoding": "gzip"},
], ids=["chunked and length", "length not a number", "two lengths", "unknown coding"])
@pytest.mark.parametrize("path", ["/webhooks/rest/webhook", "/model/parse", "/socket.io/"])
def test_ambiguous_framing_is_refused_at_once(server, path, headers):
    request = HostileRequest("framing", path, HELLO, {"Content-Type": "application/json", **headers}, raw=True)
    status, seconds = request.send(server.url, timeout=10)
    assert status == 400 and seconds < 5


def test_a_body_over_the_limit_is_refused_before_it_is_read(server):
    """A declared length over the limit gets its 413 without the server waiting for the body."""
    started = time.perf_counter()
    request = HostileRequest("huge", "/model/parse", b"", {"Content-Type": "application/json",
                                                           "Content-Length": str(10 ** 9)}, raw=True)
    assert request.send(server.url, timeout=10)[0] == 413
    assert time.perf_counter() - started < 5


def test_rasa_api_still_works_through_the_guard(server):
    assert requests.post(f"{server.url}/conversations/guard-api/tracker/events", timeout=30, json={
        "event": "slot", "name": "language", "value": "tr"}).status_code == 200
    assert server.tracker("guard-api")["slots"]["language"] == "tr"
    assert requests.post(f"{server.url}/conversations/guard-api/predict", timeout=30).status_code == 200
