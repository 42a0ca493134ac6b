"""A throwaway `redis-server` for the replica test, on loopback, stopped by its PID."""
import json
import shutil
import socket
import subprocess
import time
from pathlib import Path

from training.rasa_server import free_port


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
