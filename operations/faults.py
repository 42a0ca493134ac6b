"""Faults survived, measured: `python -m operations.faults --out DIR`.

Conversations in several languages run against two replicas (`rasa run`, trackers and locks in one Redis that
writes every change to disk) while a fault happens. Clients behave as a well-made chat widget behind a load
balancer: a 503 is sent again after its `Retry-After`, a refused connection goes to the other replica.
Cases: Redis stopped for 10 s and started again; one replica killed with SIGKILL; a server restarted; a new
model loaded into each replica in turn (Rasa's `PUT /model`, a rolling update) with 20 conversations; 1,000
hostile requests (operations/hostile.py: the REST webhook, Rasa's `/model/parse`, raw requests with ambiguous
framing, garbage messages) and 100 hostile socket.io events beside normal users. Per case, in DIR/report.json
and as a table: `requests`, `errors` (by status, `connection` for refused ones), `lost_turns` (acknowledged
with an answer but missing from the tracker afterwards), `recovery_s` (from the end of the fault until answers
are normal again), `language_kept` (every conversation still has its `language` slot), and for the hostile
case the normal users' p95 with and without the attack, `hostile_statuses`, `hostile_longest_s` (the longest
a hostile request was held) and `socketio` (how many events got an `error` event of each status, or were
`silent`).
"""
import argparse
import asyncio
import json
import multiprocessing
import queue
import signal
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Dict, List

import requests

from operations.bot_copies import add_intent, copy_project, rasa_train, training_env
from operations.hostile import hostile_requests, hostile_socketio_events
from operations.servers import RasaServer, RedisServer
from training.metrics import percentile
from training.project import newest_model

# (language slot, messages it cycles through): none of them changes the language of the conversation.
SCRIPTS = [
    ("tr", ["Merhaba, nasılsın?", "Saat kaçta açıksınız?", "Sen bir bot musun?", "teşekkürler"]),
    ("km", ["ហាងបើកម៉ោងប៉ុន្មាន?", "តើអ្នកជាមនុស្សឬ?", "សូមអរគុណច្រើន"]),
    ("de", ["Wo ist meine Bestellung?", "Ich habe mein Passwort vergessen", "Vielen Dank"]),
    ("en", ["hello there", "what are your opening hours?", "are you a bot?", "thanks a lot"]),
    ("zh", ["我忘记了密码", "你们几点开门？", "谢谢"]),
    ("ar", ["أين طلبي؟", "هل أنت روبوت؟", "شكرا جزيلا"]),
]


HEALTH_CHECK_SECONDS = 1.0  # a replica that refused a connection is left out this long, as a balancer would
# A person's conversation lasts this many answered turns (about 15 s), then the next person starts one: Rasa's
# cost per turn grows with a conversation's length, and minutes of non-stop talk would measure that instead.
TURNS_PER_CONVERSATION = 50


class Conversations:
    """Clients that keep talking to a set of replicas, with retries, recording every request."""

    def __init__(self, replicas: List[RasaServer], count: int, prefix: str) -> None:
        self.replicas = replicas
        self.down_until = {replica.url: 0.0 for replica in replicas}
        self.clients = {f"{prefix}-{i}": SCRIPTS[i % len(SCRIPTS)] for i in range(count)}
        self.language: Dict[str, str] = {}  # every conversation (sender id) held, and its language
        self.acknowledged: Dict[str, List[str]] = {}
        self.log: List[tuple] = []  # (time, status, latency_ms, sender)
        self.running = True

    def pick(self, turn: int) -> RasaServer:
        """Round robin over the replicas that have not refused a connection lately (all, if none is left)."""
        up = [r for r in self.replicas if self.down_until[r.url] <= time.time()] or self.replicas
        return up[turn % len(up)]

    async def talk(self, session, client: str, offset: int) -> None:
        language, script = self.clients[client]
        turn, attempt = 0, 0
        while self.running:
            sender = f"{client}-{turn // TURNS_PER_CONVERSATION}"
            self.language[sender] = language
            self.acknowledged.setdefault(sender, [])
            text = script[turn % len(script)]
            replica = self.pick(offset + turn + attempt)
            started = time.perf_counter()
            try:
                async with session.post(f"{replica.url}/webhooks/rest/webhook",
                                        json={"sender": sender, "message": text}) as reply:
                    status, body = reply.status, await reply.read()
                    retry_after = float(reply.headers.get("Retry-After", 1))
            except Exception:  # refused, reset: the replica is gone; the balancer tries another
                status, body, retry_after = "connection", b"", 0.2
                self.down_until[replica.url] = time.time() + HEALTH_CHECK_SECONDS
            self.log.append((time.time(), status, (time.perf_counter() - started) * 1000, sender))
            if status == 200 and any(answer.get("text") for answer in json.loads(body)):
                self.acknowledged[sender].append(text)
                turn, attempt = turn + 1, 0
                await asyncio.sleep(0.2)  # a person reads the answer
            else:
                attempt += 1
                await asyncio.sleep(retry_after)

    async def run(self, fault, seconds_after: float) -> tuple:
        """Talk for a while, apply `fault` (a blocking function, run in a thread), go on; (fault start, end)."""
        import aiohttp

        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as session:
            talkers = [asyncio.ensure_future(self.talk(session, client, i)) for i, client in enumerate(self.clients)]
            await asyncio.sleep(3)
            fault_start = time.time()
            await asyncio.get_running_loop().run_in_executor(None, fault)
            fault_end = time.time()
            await asyncio.sleep(seconds_after)
            self.running = False
            await asyncio.gather(*talkers)
        return fault_start, fault_end

    def report(self, witness: RasaServer, fault_start: float, fault_end: float) -> dict:
        errors: Dict[str, int] = {}
        for _, status, _, _ in self.log:
            if status != 200:
                errors[str(status)] = errors.get(str(status), 0) + 1
        lost, language_kept = 0, True
        for sender, language in self.language.items():
            tracker = witness.tracker(sender)
            said = [e["text"] for e in tracker["events"] if e["event"] == "user"]
            lost += sum(max(0, self.acknowledged[sender].count(t) - said.count(t)) for t in set(self.acknowledged[sender]))
            language_kept &= tracker["slots"].get("language") == language
        last_failure = max((t for t, status, _, _ in self.log if status != 200 and t >= fault_start), default=None)
        return {"requests": len(self.log), "conversations": len(self.language), "errors": errors, "lost_turns": lost,
                "fault_s": round(fault_end - fault_start, 1),
                "recovery_s": round(max(0.0, last_failure - fault_end), 1) if last_failure else 0.0,
                "language_kept": language_kept,
                "p95_ms": round(percentile(answered, 95), 1) if (answered := [ms for _, status, ms, _ in self.log
                                                                              if status == 200]) else None}


class Cluster:
    """Redis (persistent) and two replicas of one model."""

    def __init__(self, model: Path, folder: Path) -> None:
        self.redis = RedisServer(folder, persistent=True)
        endpoints = self.redis.endpoints_file(folder / "endpoints.yml")
        self.replicas = [RasaServer(model, folder, endpoints) for _ in range(2)]
        for replica in self.replicas:
            replica.wait_until_ready()

    def stop(self) -> None:
        for replica in self.replicas:
            replica.stop()
        self.redis.stop()


def run_case(cluster: Cluster, name: str, fault, conversations: int, replicas=None, seconds_after: float = 10,
             witness=None) -> dict:
    talk = Conversations(replicas or cluster.replicas, conversations, prefix=name)
    start, end = asyncio.run(talk.run(fault, seconds_after))
    print(f"{name}: done")
    return talk.report(witness or cluster.replicas[-1], start, end)


def redis_outage(cluster: Cluster) -> None:
    cluster.redis.stop()
    time.sleep(10)
    cluster.redis.start()


def kill_first_replica(cluster: Cluster) -> None:
    cluster.replicas[0].process.send_signal(signal.SIGKILL)
    cluster.replicas[0].process.wait()


def restart(replica: RasaServer) -> None:
    replica.stop()
    replica.start().wait_until_ready()


def rolling_model_update(cluster: Cluster, new_model: Path) -> None:
    for replica in cluster.replicas:
        reply = requests.put(f"{replica.url}/model", json={"model_file": str(new_model)}, timeout=300)
        reply.raise_for_status()


def attack(url: str, count: int) -> dict:
    """Sends `count` hostile HTTP requests one after the other, then a tenth as many hostile socket.io events;
    what each got and the longest wait. Runs in a process of its own: building 1 MB bodies in the normal users'
    process would hold up their client, not the server."""
    statuses: Dict[str, int] = {}
    longest = 0.0
    for request in hostile_requests(count):
        status, seconds = request.send(url, timeout=60)
        statuses[str(status)] = statuses.get(str(status), 0) + 1
        longest = max(longest, seconds)
    return {"hostile_statuses": statuses, "hostile_longest_s": round(longest, 2),
            "socketio": socketio_attack(url, max(1, count // 10))}


def socketio_attack(url: str, count: int) -> Dict[str, int]:
    """Hostile socket.io events on one connection: how many got an `error` event of each status, and how many
    got nothing (a silent channel) within 10 s."""
    from operations.servers import SocketIOChat

    chat = SocketIOChat(url, "hostile")
    answered: Dict[str, int] = {}
    try:
        for event, data in hostile_socketio_events(count):
            chat.send(event, data)
            try:
                status = str(chat.next_event("error", timeout=10)[1].get("status"))
            except queue.Empty:
                status = "silent"
            answered[status] = answered.get(status, 0) + 1
    finally:
        chat.disconnect()
    return answered


def hostile_case(cluster: Cluster, count: int) -> dict:
    """Normal users' p95 without, then with, `count` hostile requests sent to the same replica."""
    target = cluster.replicas[-1]
    quiet = run_case(cluster, "quiet", lambda: time.sleep(15), 6, replicas=[target], seconds_after=0)
    outcome: dict = {}
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as attacker:
        def hostile_client() -> None:
            outcome.update(attacker.submit(attack, target.url, count).result())

        attacked = run_case(cluster, "attacked", hostile_client, 6, replicas=[target], seconds_after=0)
    return {**attacked, "hostile_requests": count, **outcome,
            "server_alive": target.process.poll() is None, "p95_ms_without_attack": quiet["p95_ms"]}


def train_with_new_intent(folder: Path) -> Path:
    """The demo bot plus one English intent, trained into `folder`."""
    project = copy_project(folder / "new-bot")
    add_intent(project)
    rasa_train(project, training_env(folder))
    return newest_model(project)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--conversations", type=int, default=6, help="conversations during each fault")
    parser.add_argument("--hostile", type=int, default=1000, help="hostile requests in the last case")
    args = parser.parse_args(argv)
    report = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        model = newest_model()
        new_model = train_with_new_intent(folder)  # what a rollout brings
        cluster = Cluster(model, folder)
        try:
            report["redis_outage"] = run_case(cluster, "redis", lambda: redis_outage(cluster), args.conversations)
            report["server_restart"] = run_case(cluster, "restart", lambda: restart(cluster.replicas[0]),
                                                args.conversations, replicas=cluster.replicas[:1])
            report["model_update"] = run_case(cluster, "rollout", lambda: rolling_model_update(cluster, new_model), 20)
            report["hostile"] = hostile_case(cluster, args.hostile)
            report["replica_killed"] = run_case(cluster, "kill", lambda: kill_first_replica(cluster),
                                                args.conversations)
        finally:
            cluster.stop()
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    print(table(report))
    return 0


def table(report: dict) -> str:
    """One row per case; the hostile case's statuses and waits under the table."""
    lines = ["| case | requests | errors | lost turns | recovery | language kept | normal users' p95 |",
             "|---|---|---|---|---|---|---|"]
    for case, row in report.items():
        lines.append(f"| {case} | {row['requests']} | {_counts(row['errors']) or 'none'} | {row['lost_turns']} | "
                     f"{row['recovery_s']} s | {'yes' if row['language_kept'] else 'no'} | {row['p95_ms']} ms |")
    hostile = report.get("hostile")
    if hostile:
        lines.append(f"\nHostile requests ({hostile['hostile_requests']}), by status: "
                     f"{_counts(hostile['hostile_statuses'])}; the longest held {hostile['hostile_longest_s']} s; "
                     f"socket.io events answered with an `error` event, by status: {_counts(hostile['socketio'])}; "
                     f"normal users' p95 {hostile['p95_ms_without_attack']} ms without the attack.")
    return "\n".join(lines)


def _counts(counts: Dict[str, int]) -> str:
    return ", ".join(f"{key} × {value}" for key, value in sorted(counts.items()))


if __name__ == "__main__":
    sys.exit(main())
