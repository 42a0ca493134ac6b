"""Concurrent conversations against the REST channel: `python -m training.loadtest --conversations 50 --out DIR`.

Starts `rasa run` with the newest model in models/ (or targets `--url`, loopback only), then runs N
conversations at once, each sending `--messages` messages one after the other in several languages,
as users would. Bounded in count and in time (`--max-seconds`). Writes DIR/report.json with
`messages_per_s`, `p50_ms`, `p95_ms`, `errors` (failed requests) and `lost` (a 200 without an answer).
"""
import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlparse

from training.evaluate import percentile
from training.rasa_server import ROOT, RasaServer

MESSAGES = ["hello there", "Merhaba, nasılsın?", "ហាងបើកម៉ោងប៉ុន្មាន?", "Wo ist meine Bestellung?",
            "Şifremi unuttum", "我忘记了密码", "أين طلبي؟", "តើអ្នកជាមនុស្សឬ?", "what are your opening hours?",
            "teşekkürler"]
LOOPBACK = {"127.0.0.1", "localhost", "::1"}


async def conversation(session, url: str, index: int, messages: int, deadline: float, results: dict,
                       think_seconds: float) -> None:
    for turn in range(messages):
        if turn:
            await asyncio.sleep(think_seconds)  # a person reads the answer before typing again
        if time.perf_counter() > deadline:
            return
        body = {"sender": f"load-{index}", "message": MESSAGES[(index + turn) % len(MESSAGES)]}
        started = time.perf_counter()
        try:
            async with session.post(url, json=body) as reply:
                answers = await reply.json() if reply.status == 200 else None
        except Exception:  # counted, never fatal: the point is to see how the server copes
            results["errors"] += 1
            continue
        if answers is None:
            results["errors"] += 1
        elif not any(a.get("text") for a in answers):
            results["lost"] += 1
        else:
            results["latencies"].append((time.perf_counter() - started) * 1000)


async def run_load(url: str, conversations: int, messages: int, max_seconds: float, think_seconds: float) -> dict:
    import aiohttp

    results = {"latencies": [], "errors": 0, "lost": 0}
    started = time.perf_counter()
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        await asyncio.gather(*(conversation(session, url, i, messages, started + max_seconds, results, think_seconds)
                               for i in range(conversations)))
    elapsed = time.perf_counter() - started
    latencies = sorted(results["latencies"])
    return {
        "conversations": conversations,
        "think_seconds": think_seconds,
        "messages_sent": conversations * messages,
        "answered": len(latencies),
        "seconds": round(elapsed, 1),
        "messages_per_s": round(len(latencies) / elapsed, 1),
        "p50_ms": round(statistics.median(latencies), 1) if latencies else None,
        "p95_ms": round(percentile(latencies, 95), 1) if latencies else None,
        "errors": results["errors"],
        "lost": results["lost"],
    }


def newest_model() -> Path:
    models = sorted((ROOT / "models").glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    if not models:
        raise SystemExit("No trained model in models/: run `make train` first.")
    return models[-1]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--conversations", type=int, default=50)
    parser.add_argument("--messages", type=int, default=10, help="messages per conversation")
    parser.add_argument("--max-seconds", type=float, default=300, help="stop sending after this long")
    parser.add_argument("--think-seconds", type=float, default=0.0,
                        help="pause between a conversation's messages (0: send as soon as answered)")
    parser.add_argument("--url", help="a running server's REST webhook (loopback only); default: start one")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    if args.url and urlparse(args.url).hostname not in LOOPBACK:
        print("error: --url must point to this machine (127.0.0.1, localhost or ::1)", file=sys.stderr)
        return 2
    server = None
    with tempfile.TemporaryDirectory() as logs:
        if not args.url:
            server = RasaServer(newest_model(), Path(logs)).wait_until_ready()
            server.say("warm-up", "hello")
        try:
            url = args.url or f"{server.url}/webhooks/rest/webhook"
            report = asyncio.run(run_load(url, args.conversations, args.messages, args.max_seconds,
                                        args.think_seconds))
            if server:
                report["server_rss_mb"] = round(server.rss_mb())
        finally:
            if server:
                server.stop()
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))
    return 0 if not report["errors"] and not report["lost"] else 1


if __name__ == "__main__":
    sys.exit(main())
