"""`rasa run` on a free loopback port, for the tools and the tests; stopped by its PID."""
import os
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

    def __init__(self, model: Path, log_dir: Path, endpoints: Optional[Path] = None, extra_args=()) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        command = [RASA, "run", "-m", str(model), "-i", "127.0.0.1", "--port", str(self.port),
                   "--credentials", str(ROOT / "credentials.yml"), "--enable-api"]
        if endpoints:
            command += ["--endpoints", str(endpoints)]
        command += list(extra_args)
        self.log = (log_dir / f"rasa-{self.port}.log").open("w")
        self.process = subprocess.Popen(command, cwd=ROOT, stdout=self.log, stderr=subprocess.STDOUT,
                                        env={"RASA_TELEMETRY_ENABLED": "false", **os.environ,
                                             "PYTHONPATH": str(ROOT)})

    def wait_until_ready(self, timeout: float = 240, token: Optional[str] = None) -> "RasaServer":
        deadline = time.time() + timeout
        params = {"token": token} if token else None
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"rasa run exited with {self.process.returncode}; see {self.log.name}")
            try:
                if requests.get(f"{self.url}/status", params=params, timeout=5).ok:
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

    def rss_mb(self) -> float:
        """Resident memory of the server process."""
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        return int(next(line for line in status.splitlines() if line.startswith("VmRSS")).split()[1]) / 1024
