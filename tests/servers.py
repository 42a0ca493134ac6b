"""Real servers for the channel tests: `rasa run` and `redis-server`, on loopback, stopped by PID."""
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Optional

import requests

ROOT = Path(__file__).resolve().parent.parent
RASA = str(Path(sys.executable).with_name("rasa"))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class RasaServer:
    """`rasa run` with the project's credentials.yml, the REST API enabled, on a free loopback port."""

    def __init__(self, model: Path, log_dir: Path, endpoints: Optional[Path] = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        command = [RASA, "run", "-m", str(model), "-i", "127.0.0.1", "--port", str(self.port),
                   "--credentials", str(ROOT / "credentials.yml"), "--enable-api"]
        if endpoints:
            command += ["--endpoints", str(endpoints)]
        self.log = (log_dir / f"rasa-{self.port}.log").open("w")
        self.process = subprocess.Popen(command, cwd=ROOT, stdout=self.log, stderr=subprocess.STDOUT,
                                        env={**os.environ, "PYTHONPATH": str(ROOT)})

    def wait_until_ready(self, timeout: float = 240) -> "RasaServer":
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"rasa run exited with {self.process.returncode}; see {self.log.name}")
            try:
                if requests.get(f"{self.url}/status", timeout=5).ok:
                    return self
            except requests.ConnectionError:
                pass
            time.sleep(1)
        raise TimeoutError(f"rasa run on port {self.port} not ready after {timeout} s; see {self.log.name}")

    def say(self, sender: str, message: str) -> list:
        """The bot's answer texts to one message sent through the REST channel."""
        reply = requests.post(f"{self.url}/webhooks/rest/webhook", json={"sender": sender, "message": message},
                              timeout=60)
        assert reply.status_code == 200, reply.text
        return [answer.get("text", "") for answer in reply.json()]

    def tracker(self, sender: str) -> dict:
        return requests.get(f"{self.url}/conversations/{sender}/tracker", timeout=30).json()

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


class RedisServer:
    """A throwaway redis-server on a free loopback port, keeping nothing on disk."""

    def __init__(self, folder: Path) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed: run `make test` (it installs it) "
                               "or `apt-get install redis-server`.")
        self.port = free_port()
        self.process = subprocess.Popen([binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                                         "--appendonly", "no", "--dir", str(folder)],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 20
        while time.time() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.2)
        raise TimeoutError("redis-server did not start")

    def endpoints_file(self, path: Path) -> Path:
        """An endpoints.yml that puts trackers and locks of every replica in this Redis."""
        stores = {
            "tracker_store": {"type": "redis", "url": "127.0.0.1", "port": self.port, "db": 0,
                              "key_prefix": "test"},
            "lock_store": {"type": "redis", "url": "127.0.0.1", "port": self.port, "db": 1, "key_prefix": "test"},
        }
        path.write_text(json.dumps(stores), encoding="utf-8")  # JSON is YAML
        return path

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)
