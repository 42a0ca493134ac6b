"""Duckling in a child process of its own, so that the bot outlives anything Duckling does with a message.

Duckling 0.2.0.1 ends its whole process on some inputs (a Haskell runtime error: Arabic "شهر رمضان." does),
which in-process would take `rasa run` and every conversation down with it (docs/decisions/0060). Here the child
dies instead: the message is read without Duckling, a warning is logged, and the next message starts a new
child. A child that does not answer within `reply_seconds` is stopped the same way. The parent side is
`DucklingProcess`; the child side is `serve()`, run as `python -m components.structured.duckling_process`, which imports
nothing but Duckling.
"""
import atexit
import json
import logging
import os
import select
import subprocess
import sys
import threading
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, List, Optional

logger = logging.getLogger(__name__)

REPLY_SECONDS = 10.0  # Duckling reads a chat message in milliseconds; a first message also waits for its start
PROJECT_ROOT = Path(__file__).resolve().parent.parent


class DucklingProcess:
    """One Duckling child, started on first use and again after it died; safe to share between threads."""

    def __init__(self, reply_seconds: float = REPLY_SECONDS) -> None:
        self.reply_seconds = reply_seconds
        self._process: Optional[subprocess.Popen] = None
        self._lock = threading.Lock()
        atexit.register(self.stop)

    def read(self, windows: List[str], language: str, dimensions: List[str], timezone: str,
             reference_time: int) -> Optional[List[List[Dict[str, Any]]]]:
        """Duckling's matches in each window, or None when Duckling died or hung on them."""
        request = {"windows": windows, "language": language, "dimensions": dimensions, "timezone": timezone,
                   "reference_time": reference_time}
        with self._lock:
            process = self._running()
            try:
                process.stdin.write(json.dumps(request) + "\n")
                process.stdin.flush()
            except OSError:  # the child is gone already
                pass
            answered = self._answers_in_time(process)
            reply = process.stdout.readline() if answered else ""
            if reply:
                return json.loads(reply)
            self._give_up(process, hung=not answered, characters=sum(map(len, windows)))
            return None

    def start(self) -> None:
        """Starts the child now rather than on the first message."""
        with self._lock:
            self._running()

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.kill()
            process.wait()

    def _running(self) -> subprocess.Popen:
        if self._process is None or self._process.poll() is not None:
            environment = {**os.environ, "PYTHONPATH": os.pathsep.join(
                [str(PROJECT_ROOT)] + [p for p in [os.environ.get("PYTHONPATH")] if p])}
            self._process = subprocess.Popen(
                [sys.executable, "-m", "components.structured.duckling_process"], stdin=subprocess.PIPE,
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=environment, encoding="utf-8", errors="replace",
                bufsize=1)
        return self._process

    def _answers_in_time(self, process: subprocess.Popen) -> bool:
        """True once the child wrote a line or closed its output (it died); False after `reply_seconds`."""
        ready, _, _ = select.select([process.stdout], [], [], self.reply_seconds)
        return bool(ready)

    def _give_up(self, process: subprocess.Popen, hung: bool, characters: int) -> None:
        self.stop()
        complaint = (process.stderr.read() or "").strip().splitlines()
        reason = "did not answer" if hung else f"stopped ({complaint[0][:200] if complaint else 'no message'})"
        logger.warning(f"Duckling {reason} on a message of {characters} characters: the message is read without "
                       f"Duckling, and the next one starts a new Duckling (docs/decisions/0060).")


@lru_cache(maxsize=1)
def _time_zones():
    from duckling import load_time_zones

    return load_time_zones("/usr/share/zoneinfo")


@lru_cache(maxsize=None)
def _dimensions(names: tuple):
    from duckling import parse_dimensions

    return parse_dimensions(list(names))


def matches(windows: List[str], language: str, dimensions: List[str], timezone: str,
            reference_time: int) -> List[List[Dict[str, Any]]]:
    """Duckling's matches in each window (the child's work)."""
    from duckling import Context, default_locale_lang, parse, parse_lang, parse_ref_time

    reference = parse_ref_time(_time_zones(), timezone, reference_time)
    context = Context(reference, default_locale_lang(parse_lang(language.upper())))
    return [parse(window, context, _dimensions(tuple(dimensions)), False) for window in windows]


def serve() -> None:
    """Answers one JSON line per request line until the parent closes the pipe."""
    _time_zones()
    for line in sys.stdin:
        print(json.dumps(matches(**json.loads(line))), flush=True)


if __name__ == "__main__":
    serve()
