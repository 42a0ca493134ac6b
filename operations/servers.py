"""`rasa run` and `redis-server` on free loopback ports, for the tools and the tests; stopped by their PIDs."""
import json
import os
import queue
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional

import requests

from training.project import ROOT

RASA = str(Path(sys.executable).with_name("rasa"))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class RasaServer:
    """`rasa run` with the project's credentials.yml, the REST API enabled, on a free loopback port."""

    def __init__(self, model: Path, log_dir: Path, endpoints: Optional[Path] = None, extra_args=(),
                 env: Optional[Dict[str, str]] = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        command = [RASA, "run", "-m", str(model), "-i", "127.0.0.1", "--port", str(self.port),
                   "--credentials", str(ROOT / "credentials.yml"), "--enable-api"]
        if endpoints:
            command += ["--endpoints", str(endpoints)]
        self.command = command + list(extra_args)
        self.env = {"RASA_TELEMETRY_ENABLED": "false", **os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
        self.log_path = log_dir / f"rasa-{self.port}.log"
        self.start()

    def start(self) -> "RasaServer":
        """Starts the server (again, after `stop`: same port, model and stores)."""
        self.log = self.log_path.open("a")
        # its own process group: `stop` ends Sanic's workers with it, never leaving them orphaned
        self.process = subprocess.Popen(self.command, cwd=ROOT, stdout=self.log, stderr=subprocess.STDOUT,
                                        env=self.env, start_new_session=True)
        return self

    def wait_until_ready(self, timeout: float = 240, token: Optional[str] = None,
                         model_loaded: bool = True) -> "RasaServer":
        """Until the server answers (/status only answers once a model is loaded; / answers without one)."""
        deadline = time.time() + timeout
        params = {"token": token} if token else None
        path = "/status" if model_loaded else "/"
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"rasa run exited with {self.process.returncode}; see {self.log_path}")
            try:
                if requests.get(f"{self.url}{path}", params=params, timeout=5).ok:
                    return self
            except requests.RequestException:  # refused, or too busy loading the model to answer in time
                pass
            time.sleep(0.25)
        raise TimeoutError(f"rasa run on port {self.port} not ready after {timeout} s; see {self.log_path}")

    def say(self, sender: str, message: str) -> list:
        """The bot's answer texts to one message sent through the REST channel."""
        reply = requests.post(f"{self.url}/webhooks/rest/webhook", json={"sender": sender, "message": message},
                              timeout=60)
        assert reply.status_code == 200, reply.text
        return [answer.get("text", "") for answer in reply.json()]

    def socketio(self, session_id: str) -> "SocketIOChat":
        """A socket.io client connected to the server's socket.io channel, in session `session_id`."""
        return SocketIOChat(self.url, session_id)

    def tracker(self, sender: str) -> dict:
        return requests.get(f"{self.url}/conversations/{sender}/tracker", timeout=30).json()

    def stop(self) -> None:
        """Terminates the server and its workers (killed if they do not end within 30 s)."""
        self._signal_group(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            pass
        self._signal_group(signal.SIGKILL)  # whatever is left of the group
        self.process.wait()
        self.log.close()

    def _signal_group(self, signal_number: int) -> None:
        try:
            os.killpg(self.process.pid, signal_number)
        except ProcessLookupError:  # already gone
            pass

    def rss_mb(self) -> float:
        """Resident memory of the server: its process and its workers (shared pages counted in each)."""
        return sum(process_rss_mb(pid) for pid in [self.process.pid] + child_pids(self.process.pid))

    def largest_process_rss_mb(self) -> float:
        """The resident memory of its largest process: one Sanic worker's, or the server's when it has none."""
        return max(process_rss_mb(pid) for pid in [self.process.pid] + child_pids(self.process.pid))


class SocketIOChat:
    """A socket.io chat widget, as python-socketio's client: asks for a session, then sends `user_uttered` and
    collects every `bot_uttered` and `error` event. Close it with `disconnect`."""

    def __init__(self, url: str, session_id: str, transports=("websocket",)) -> None:
        import socketio

        self.session_id = session_id
        self.events: "queue.Queue[tuple]" = queue.Queue()
        self.client = socketio.Client(reconnection=False)
        for event in ("bot_uttered", "error", "session_confirm"):
            self.client.on(event, lambda data, event=event: self.events.put((event, data)))
        self.client.connect(url, transports=list(transports), wait_timeout=30)
        self.client.emit("session_request", {"session_id": session_id})
        assert self.next_event() == ("session_confirm", session_id)

    def send(self, event: str, data) -> None:
        self.client.emit(event, data)

    def say(self, message: str, answers: int = 1, timeout: float = 60) -> List[str]:
        """The texts of the next `answers` bot messages after sending `message`."""
        self.send("user_uttered", {"session_id": self.session_id, "message": message})
        return [self.next_event("bot_uttered", timeout)[1]["text"] for _ in range(answers)]

    def next_event(self, name: Optional[str] = None, timeout: float = 60) -> tuple:
        """The next event received (of that name, when given, skipping others)."""
        deadline = time.time() + timeout
        while True:
            event = self.events.get(timeout=max(0.0, deadline - time.time()))
            if name is None or event[0] == name:
                return event

    def disconnect(self) -> None:
        self.client.disconnect()


def child_pids(pid: int) -> List[int]:
    """Every process below `pid` (Sanic's workers, and theirs)."""
    children = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            children += [int(c) for c in (task / "children").read_text().split()]
        except OSError:  # the process is gone
            continue
    return children + [grandchild for child in children for grandchild in child_pids(child)]


def process_rss_mb(pid: int) -> float:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0
    return int(next(line for line in status.splitlines() if line.startswith("VmRSS")).split()[1]) / 1024


class RedisServer:
    """A throwaway redis-server on a free loopback port; `persistent` ones write every change to disk first
    (appendonly, fsync always), so that a stop and a start lose nothing, as a production Redis should."""

    def __init__(self, folder: Path, persistent: bool = False) -> None:
        self.binary = shutil.which("redis-server")
        if self.binary is None:
            raise RuntimeError("redis-server is not installed: run `make test` (it installs it) "
                               "or `apt-get install redis-server`.")
        self.folder, self.persistent = folder, persistent
        self.port = free_port()
        self.start()

    def start(self) -> "RedisServer":
        """Starts (again) on the same port, with the same data folder."""
        durability = ["--appendonly", "yes", "--appendfsync", "always"] if self.persistent else \
            ["--save", "", "--appendonly", "no"]
        self.process = subprocess.Popen([self.binary, "--port", str(self.port), "--bind", "127.0.0.1",
                                         "--dir", str(self.folder), *durability],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 20
        while time.time() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return self
            except OSError:
                time.sleep(0.1)
        raise TimeoutError("redis-server did not start")

    def endpoints_file(self, path: Path) -> Path:
        """The project's endpoints.redis.yml (what `make serve` runs), pointed at this Redis."""
        import yaml

        endpoints = yaml.safe_load((ROOT / "endpoints.redis.yml").read_text(encoding="utf-8"))
        for store in (endpoints["tracker_store"], endpoints["lock_store"]):
            store.update(url="127.0.0.1", port=self.port)
        path.write_text(json.dumps(endpoints), encoding="utf-8")  # JSON is YAML
        return path

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)
