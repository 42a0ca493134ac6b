"""Load on the REST channel, closed or open loop, beside Rasa's default pipeline: `python -m operations.loadtest --out DIR`.

Closed loop (default): `--conversations N` at once, each sending `--messages` messages one after the other,
as soon as the previous one is answered (`--think-seconds` pause between them).
Open loop: `--rate R --seconds S`: messages arrive at R per second on average (Poisson arrivals), whether or
not earlier ones have been answered, spread over `--conversations` senders; what a busy service really sees.

Starts `rasa run` with the newest model in models/ (`--workers W` Sanic workers, which need conversations and
locks in Redis: a throwaway redis-server is started), or targets `--url` (loopback only).
`--baseline-config training/baseline_config.yml` trains a bot with that NLU pipeline (Rasa's default; the
project's policies and data) and runs the same load on it in the same run. Writes DIR/report.json with
`offered_rate` (open loop), `messages_per_s`, `p50_ms`, `p95_ms`, `p99_ms`, `errors` (failed requests),
`lost` (a 200 without an answer), `server_rss_mb` (summed over its processes) and `worker_rss_mb` (the largest
process), and `baseline` with the same keys. Where the tail comes from: `by_message` has each message's median
and p95 (one message slower than the rest, or all of them waiting in a queue), and `tail_share`, each message's
share of the answers slower than the overall p95.
"""
import argparse
import asyncio
import json
import random
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Optional
from urllib.parse import urlparse

from operations.bot_copies import baseline_project, rasa_train, training_env
from operations.servers import RasaServer, RedisServer
from training.metrics import percentile
from training.project import ROOT, newest_model

MESSAGES = ["hello there", "Merhaba, nasılsın?", "ហាងបើកម៉ោងប៉ុន្មាន?", "Wo ist meine Bestellung?",
            "Şifremi unuttum", "我忘记了密码", "أين طلبي؟", "តើអ្នកជាមនុស្សឬ?", "what are your opening hours?",
            "teşekkürler"]
LOOPBACK = {"127.0.0.1", "localhost", "::1"}


async def send(session, url: str, sender: str, text: str, results: dict) -> None:
    started = time.perf_counter()
    try:
        async with session.post(url, json={"sender": sender, "message": text}) as reply:
            answers = await reply.json() if reply.status == 200 else None
    except Exception:  # counted, never fatal: the point is to see how the server copes
        results["errors"] += 1
        return
    if answers is None:
        results["errors"] += 1
    elif not any(a.get("text") for a in answers):
        results["lost"] += 1
    else:
        results["latencies"].append((time.perf_counter() - started) * 1000)
        results["texts"].append(text)


async def conversation(session, url: str, index: int, messages: int, deadline: float, results: dict,
                       think_seconds: float) -> None:
    for turn in range(messages):
        if turn:
            await asyncio.sleep(think_seconds)  # a person reads the answer before typing again
        if time.perf_counter() > deadline:
            return
        await send(session, url, f"load-{index}", MESSAGES[(index + turn) % len(MESSAGES)], results)


async def closed_loop(session, url: str, args, results: dict) -> int:
    deadline = time.perf_counter() + args.max_seconds
    await asyncio.gather(*(conversation(session, url, i, args.messages, deadline, results, args.think_seconds)
                           for i in range(args.conversations)))
    return args.conversations * args.messages


async def open_loop(session, url: str, args, results: dict) -> int:
    """Poisson arrivals at `args.rate` per second for `args.seconds`, never waiting for answers."""
    rng = random.Random(0)
    pending, sent, start = [], 0, time.perf_counter()
    next_arrival = start
    while next_arrival < start + args.seconds:
        await asyncio.sleep(max(0.0, next_arrival - time.perf_counter()))
        sender = rng.randrange(args.conversations)
        pending.append(asyncio.ensure_future(send(session, url, f"open-{sender}", MESSAGES[sent % len(MESSAGES)],
                                                  results)))
        sent += 1
        next_arrival += rng.expovariate(args.rate)
    await asyncio.gather(*pending)
    return sent


async def run_load(url: str, args) -> dict:
    import aiohttp

    results = {"latencies": [], "texts": [], "errors": 0, "lost": 0}
    started = time.perf_counter()
    connector = aiohttp.TCPConnector(limit=0)  # open loop: as many requests in flight as arrive
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60), connector=connector) as session:
        loop = open_loop if args.rate else closed_loop
        sent = await loop(session, url, args, results)
    elapsed = time.perf_counter() - started
    latencies = sorted(results["latencies"])
    report = {"mode": "open loop" if args.rate else "closed loop", "conversations": args.conversations}
    if args.rate:
        report.update(offered_rate=args.rate, seconds=args.seconds)
    else:
        report.update(think_seconds=args.think_seconds)
    return {**report, "messages_sent": sent, "answered": len(latencies), "wall_seconds": round(elapsed, 1),
            "messages_per_s": round(len(latencies) / elapsed, 1),
            **{f"p{q}_ms": round(percentile(latencies, q), 1) if latencies else None for q in (50, 95, 99)},
            "errors": results["errors"], "lost": results["lost"], **tail_by_message(results)}


def tail_by_message(results: dict) -> dict:
    """Each message's median and p95, and its share of the answers slower than the overall p95."""
    if not results["latencies"]:
        return {}
    bar = percentile(sorted(results["latencies"]), 95)
    by_text = {}
    for text, latency in zip(results["texts"], results["latencies"]):
        by_text.setdefault(text, []).append(latency)
    slow = sum(latency > bar for latency in results["latencies"])
    return {"by_message": {text: {"n": len(values), "p50_ms": round(percentile(sorted(values), 50), 1),
                                  "p95_ms": round(percentile(sorted(values), 95), 1)} for text, values in by_text.items()},
            "tail_share": {text: round(sum(latency > bar for latency in values) / max(slow, 1), 3)
                           for text, values in by_text.items()}}


def warm_up(server: RasaServer, workers: int) -> None:
    """Every worker loads its model and compiles what it compiles on its first messages; none of that is timed.
    Sent over several connections at once, or one worker takes them all and another warms up under the load
    (a TensorFlow pipeline's first parses cost seconds)."""
    senders = [f"warm-up-{n}" for n in range(4 * workers)]
    with ThreadPoolExecutor(len(senders)) as pool:
        for _ in range(2):
            list(pool.map(lambda sender: [server.say(sender, text) for text in MESSAGES], senders))


def measure(model: Path, args, folder: Path) -> dict:
    """Serve `model` (with Redis when several workers), warm it up, run the load, read its memory."""
    redis = RedisServer(folder) if args.workers > 1 else None
    endpoints = redis.endpoints_file(folder / "endpoints.yml") if redis else None
    server = RasaServer(model, folder, endpoints, env={"SANIC_WORKERS": str(args.workers)})
    try:
        server.wait_until_ready()
        warm_up(server, args.workers)
        report = asyncio.run(run_load(f"{server.url}/webhooks/rest/webhook", args))
        report["workers"] = args.workers
        report["server_rss_mb"] = round(server.rss_mb())
        report["worker_rss_mb"] = round(server.largest_process_rss_mb())
        return report
    finally:
        server.stop()
        if redis:
            redis.stop()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--conversations", type=int, default=50, help="senders (closed loop: all at once)")
    parser.add_argument("--messages", type=int, default=10, help="closed loop: messages per conversation")
    parser.add_argument("--max-seconds", type=float, default=300, help="closed loop: stop sending after this long")
    parser.add_argument("--think-seconds", type=float, default=0.0,
                        help="closed loop: pause between a conversation's messages (0: send as soon as answered)")
    parser.add_argument("--rate", type=float, help="open loop: messages per second, Poisson arrivals")
    parser.add_argument("--seconds", type=float, default=30, help="open loop: how long messages arrive")
    parser.add_argument("--workers", type=int, default=1, help="Sanic workers of the started server (>1: Redis)")
    parser.add_argument("--baseline-config", type=Path, help="also serve a bot with this NLU pipeline")
    parser.add_argument("--url", help="a running server's REST webhook (loopback only); default: start one")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    if args.url and urlparse(args.url).hostname not in LOOPBACK:
        print("error: --url must point to this machine (127.0.0.1, localhost or ::1)", file=sys.stderr)
        return 2
    if args.url and args.baseline_config:
        print("error: --baseline-config starts its own servers; leave out --url", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        report = asyncio.run(run_load(args.url, args)) if args.url else measure(newest_model(), args, folder)
        if args.baseline_config:
            report["baseline"] = measure(train_baseline(args.baseline_config, folder), args, folder)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))
    return 0 if not report["errors"] and not report["lost"] else 1


def train_baseline(baseline_config: Path, folder: Path, project: Optional[Path] = None) -> Path:
    """The demo bot trained with `baseline_config`'s NLU pipeline and the project's own policies."""
    bot = baseline_project(baseline_config, folder / "baseline-bot", project or ROOT)
    rasa_train(bot, training_env(folder))
    return newest_model(bot)


if __name__ == "__main__":
    sys.exit(main())
