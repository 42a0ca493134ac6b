"""What a hostile or broken client sends, for operations.faults and the tests.

- `hostile_requests(n)`: n HTTP requests, a seeded mix over the REST webhook and Rasa's `/model/parse`: random
  bytes, JSON nested 30,000 deep, metadata nested 600-950 deep, 1 MB strings, invalid UTF-8, lone surrogates,
  every field with the wrong type, a 10,000-digit sender, look-alike content types, very long sender ids,
  10,000 emoji, garbage messages, and raw requests with ambiguous framing (`Transfer-Encoding` with
  `Content-Length`, a length that is not a number), 4,096 characters of dates and numbers. A well-made server answers each within seconds with a
  4xx or a normal answer, never a 5xx, and keeps serving.
- `hostile_socketio_events(n)`: (event, data) pairs a socket.io client sends: payloads that are not objects,
  messages that are not strings or too long, sessions that are not strings.
- `garbage_messages()`: well-formed messages with nothing to understand (digits, punctuation, control and
  zero-width characters), and zalgo text over real words, with the intent those words have.
"""
import json
import random
import socket
import time
from dataclasses import dataclass, field
from typing import Dict, Iterator, List, Optional, Tuple
from urllib.parse import urlparse

JSON = "application/json"
WEBHOOK, PARSE = "/webhooks/rest/webhook", "/model/parse"
NOT_STRINGS = [None, 42, 3.5, True, [], ["a"], {}, {"a": 1}]
WRONG_TYPES = NOT_STRINGS + [""]


@dataclass(frozen=True)
class HostileRequest:
    kind: str
    path: str
    body: bytes
    headers: Dict[str, str] = field(default_factory=lambda: {"Content-Type": JSON})
    raw: bool = False  # sent as written, headers and all, on a socket of its own (no client library fixes it)

    def send(self, url: str, timeout: float = 60) -> Tuple[object, float]:
        """(HTTP status or "connection", seconds until the answer)."""
        import requests

        started = time.perf_counter()
        try:
            if self.raw:
                status = _send_raw(url, self.path, self.headers, self.body, timeout)
            else:
                status = requests.post(url + self.path, data=self.body, headers=self.headers,
                                       timeout=timeout).status_code
        except (requests.RequestException, OSError):
            status = "connection"
        return status, time.perf_counter() - started


def _send_raw(url: str, path: str, headers: Dict[str, str], body: bytes, timeout: float) -> int:
    address = urlparse(url)
    head = f"POST {path} HTTP/1.1\r\nHost: {address.netloc}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    with socket.create_connection((address.hostname, address.port), timeout=timeout) as connection:
        connection.sendall(head.encode("latin-1") + b"\r\n" + body)
        status_line = connection.makefile("rb").readline()
    return int(status_line.split()[1])


def _chat(sender, message, **fields) -> bytes:
    return json.dumps({"sender": sender, "message": message, **fields}, ensure_ascii=False).encode("utf-8", "surrogatepass")


def _random_bytes(rng: random.Random) -> HostileRequest:
    return HostileRequest("random bytes", rng.choice([WEBHOOK, PARSE]),
                          bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 4096))))


def _deep_json(rng: random.Random) -> HostileRequest:
    depth = rng.choice([1_000, 30_000])
    return HostileRequest("deep JSON", WEBHOOK, b'{"sender": "deep", "message": ' + b"[" * depth + b"]" * depth + b"}")


def _deep_metadata(rng: random.Random) -> HostileRequest:
    depth = rng.randint(600, 950)
    return HostileRequest("deep metadata", WEBHOOK, b'{"sender": "meta", "message": "hi", "metadata": '
                          + b'{"a": ' * depth + b"1" + b"}" * depth + b"}")


def _huge_string(rng: random.Random) -> HostileRequest:
    return HostileRequest("1 MB string", rng.choice([WEBHOOK, PARSE]),
                          json.dumps({"sender": "huge", "message": "a" * 1_000_000, "text": "a" * 10}).encode())


def _invalid_utf8(rng: random.Random) -> HostileRequest:
    return HostileRequest("invalid UTF-8", rng.choice([WEBHOOK, PARSE]),
                          b'{"sender": "bad", "message": "hello \xff\xfe\xc0\xaf", "text": "\xff"}')


def _lone_surrogate(rng: random.Random) -> HostileRequest:
    return HostileRequest("lone surrogate", rng.choice([WEBHOOK, PARSE]),
                          '{"sender": "surrogate", "message": "hi \\ud800 \\udfff", "text": "\\udfff"}'.encode())


def _wrong_types(rng: random.Random) -> HostileRequest:
    body = {"sender": "types", "message": "hello", rng.choice(["sender", "message", "metadata"]): rng.choice(WRONG_TYPES)}
    return HostileRequest("wrong types", WEBHOOK, json.dumps(body).encode(), {"Content-Type": rng.choice(
        [JSON, "text/plain", "application/x-www-form-urlencoded"])})


def _malformed_parse(rng: random.Random) -> HostileRequest:
    body = rng.choice([b'{"text": ', b"[]", b"{}", b'{"text": 5}', b'{"text": null}', b'{"text": ["hi"]}', b'"hi"',
                       b"", b'{"text": "' + b"a" * 5000 + b'"}'])
    return HostileRequest("malformed /model/parse", PARSE, body, {"Content-Type": rng.choice([JSON, "text/plain"])})


def _huge_number(rng: random.Random) -> HostileRequest:
    return HostileRequest("10,000-digit sender", WEBHOOK, b'{"sender": ' + b"9" * 10_000 + b', "message": "hi"}')


def _look_alike_content_type(rng: random.Random) -> HostileRequest:
    content_type = rng.choice(["text/json", "application/jsonx", "json", "application/json-patch+json", ""])
    return HostileRequest("look-alike content type", rng.choice([WEBHOOK, PARSE]),
                          _chat("lookalike", "hello", text="hello"), {"Content-Type": content_type})


def _long_sender(rng: random.Random) -> HostileRequest:
    return HostileRequest("long sender", WEBHOOK, _chat("s" * rng.choice([300, 60_000]), "hello"))


def _emoji(rng: random.Random) -> HostileRequest:
    return HostileRequest("10,000 emoji", WEBHOOK, _chat(f"emoji-{rng.randrange(10)}", "🙂" * 10_000))


DATES_AND_NUMBERS = ["tomorrow at 7pm", "12/05/2025", "yarın akşam 7'de", "morgen um 19 Uhr", "明天晚上7点", "غدا الساعة 7",
                     "ថ្ងៃស្អែក ម៉ោង ៧", "4", "$12.50", "+1 555 123 4567", "3rd", "in 2 hours", "a.b@c.com", "١٢٣"]


def _dates_and_numbers(rng: random.Random) -> HostileRequest:
    """A message of the longest length allowed, made of dates, times and numbers in many languages: what the
    entity extractors would find most work in (Duckling's cost grows faster than the text)."""
    parts, length = [], 0
    while length < 4000:
        parts.append(rng.choice(DATES_AND_NUMBERS))
        length += len(parts[-1]) + 1
    return HostileRequest("dates and numbers", rng.choice([WEBHOOK, PARSE]),
                          _chat(f"dates-{rng.randrange(10)}", " ".join(parts)[:4096], text=" ".join(parts)[:4096]))


# Messages that end Duckling 0.2.0.1 (a Haskell runtime error): in-process they took the bot down (decisions/0060).
DUCKLING_ENDERS = ["لا أستطيع التّجمّل في شهر رمضان.", "شهر رمضان!", "في شهر رمضانّ"]


def _duckling_ender(rng: random.Random) -> HostileRequest:
    text = rng.choice(DUCKLING_ENDERS)
    return HostileRequest("duckling ender", rng.choice([WEBHOOK, PARSE]), _chat(f"ramadan-{rng.randrange(10)}", text,
                                                                                text=text))


def _garbage(rng: random.Random) -> HostileRequest:
    text, _ = rng.choice(garbage_messages())
    return HostileRequest("garbage message", WEBHOOK, _chat(f"garbage-{rng.randrange(10)}", text))


def _ambiguous_framing(rng: random.Random) -> HostileRequest:
    body = _chat("framing", "hello")
    headers = rng.choice([{"Transfer-Encoding": "chunked", "Content-Length": str(len(body))},
                          {"Content-Length": "abc"}, {"Content-Length": f"{len(body)}, {len(body)}"},
                          {"Transfer-Encoding": "gzip"}])
    return HostileRequest("ambiguous framing", rng.choice([WEBHOOK, PARSE]), body, {"Content-Type": JSON, **headers},
                          raw=True)


KINDS = [_random_bytes, _deep_json, _deep_metadata, _huge_string, _invalid_utf8, _lone_surrogate, _wrong_types,
         _malformed_parse, _huge_number, _look_alike_content_type, _long_sender, _emoji, _garbage, _ambiguous_framing,
         _dates_and_numbers, _duckling_ender]


def hostile_requests(count: int, seed: int = 0) -> Iterator[HostileRequest]:
    rng = random.Random(seed)
    for i in range(count):
        yield KINDS[i % len(KINDS)](rng)


def hostile_socketio_events(count: int, seed: int = 0) -> Iterator[Tuple[str, object]]:
    """(event, data) a broken socket.io client sends; the session in use is "hostile"."""
    rng = random.Random(seed)
    choices = [
        lambda: ("user_uttered", rng.choice(["hi", 42, None, ["hi"], True])),
        lambda: ("user_uttered", {"session_id": "hostile", "message": rng.choice(NOT_STRINGS)}),
        lambda: ("user_uttered", {"session_id": rng.choice(WRONG_TYPES[1:]), "message": "hi"}),
        lambda: ("user_uttered", {"session_id": "hostile", "message": "a" * rng.choice([4097, 20_000])}),
        lambda: ("user_uttered", {"session_id": "hostile", "message": "hi", "metadata": rng.choice(
            ['{"a": ', "[1]", 5, '{"a": ' * 100 + "1" + "}" * 100])}),
        lambda: ("session_request", rng.choice([42, "x", ["a"], {"session_id": 5}, {"session_id": "s" * 300}])),
    ]
    for i in range(count):
        yield choices[i % len(choices)]()


def zalgo(text: str, marks: int = 8, seed: int = 0) -> str:
    """`text` with `marks` random combining marks on each character."""
    rng = random.Random(seed)
    return "".join(c + "".join(chr(rng.randint(0x300, 0x36F)) for _ in range(marks)) for c in text)


def garbage_messages() -> List[Tuple[str, Optional[str]]]:
    """(message, intent of the words under it; None: nothing to understand, `nlu_fallback` expected)."""
    nothing = ["9" * 4096, "12345", "0", "+90 532 000 00 00", "3.14159", "!!!???...", "?", "...", "!!!", "-_-",
               "#$%&*", "()[]{}", ":-)", "€ £ ¥ $", "++--==", "///", "\x00\x07\x1b[31m", "\x7f\x08\x0c",
               "\t\n\r", "\u200b\u200c\u200d\u2060", "\ufeff", "\u202e\u202d", "1\u200b2\u200b3", "٣٤٥",
               "១២៣", "....." * 200, "?" * 4096, zalgo("   "), zalgo("123"), zalgo("!?")]
    words = [(zalgo("hello world"), "greet"), (zalgo("what are your opening hours?", 6), "opening_hours"),
             (zalgo("where is my order?", 10), "track_order"), (zalgo("Merhaba, nasılsın?", 8), "greet")]
    return [(text, None) for text in nothing] + words
