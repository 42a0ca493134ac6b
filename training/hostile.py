"""Requests a hostile or broken client sends to the REST channel, for training.faults and the tests.

`hostile_requests(n)` gives n (body, content type) pairs, a seeded mix of: random bytes, JSON nested 30,000
deep, 1 MB strings, invalid UTF-8, lone surrogates, every field with the wrong type, very long sender ids,
10,000 emoji. A well-made server answers each with a 4xx or a normal answer, never a 5xx, and keeps serving.
"""
import json
import random
from typing import Iterator, Tuple

JSON = "application/json"
WRONG_TYPES = [None, 42, 3.5, True, [], ["a"], {}, {"a": 1}, ""]


def _random_bytes(rng: random.Random) -> Tuple[bytes, str]:
    return bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 4096))), JSON


def _deep_json(rng: random.Random) -> Tuple[bytes, str]:
    depth = rng.choice([1_000, 30_000])
    return b'{"sender": "deep", "message": ' + b"[" * depth + b"]" * depth + b"}", JSON


def _huge_string(rng: random.Random) -> Tuple[bytes, str]:
    return json.dumps({"sender": "huge", "message": "a" * 1_000_000}).encode(), JSON


def _invalid_utf8(rng: random.Random) -> Tuple[bytes, str]:
    return b'{"sender": "bad", "message": "hello \xff\xfe\xc0\xaf"}', JSON


def _lone_surrogate(rng: random.Random) -> Tuple[bytes, str]:
    return '{"sender": "surrogate", "message": "hi \\ud800 \\udfff"}'.encode(), JSON


def _wrong_types(rng: random.Random) -> Tuple[bytes, str]:
    field = rng.choice(["sender", "message", "metadata"])
    body = {"sender": "types", "message": "hello", field: rng.choice(WRONG_TYPES)}
    return json.dumps(body).encode(), rng.choice([JSON, "text/plain", "application/x-www-form-urlencoded"])


def _long_sender(rng: random.Random) -> Tuple[bytes, str]:
    return json.dumps({"sender": "s" * rng.choice([300, 60_000]), "message": "hello"}).encode(), JSON


def _emoji(rng: random.Random) -> Tuple[bytes, str]:
    return json.dumps({"sender": f"emoji-{rng.randrange(10)}", "message": "🙂" * 10_000},
                      ensure_ascii=False).encode(), JSON


KINDS = [_random_bytes, _deep_json, _huge_string, _invalid_utf8, _lone_surrogate, _wrong_types, _long_sender, _emoji]


def hostile_requests(count: int, seed: int = 0) -> Iterator[Tuple[bytes, str]]:
    rng = random.Random(seed)
    for i in range(count):
        yield KINDS[i % len(KINDS)](rng)
