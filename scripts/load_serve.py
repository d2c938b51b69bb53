"""Load check of `framing serve`: many concurrent clients against a local server, with and without merging.

    python scripts/load_serve.py --model outputs/framing-e5-small          # 500 requests, 16 clients, both modes
    python scripts/load_serve.py --model DIR --merge off --texts 4 --endpoint articles

For each mode it starts ``python -m framing.cli serve`` on 127.0.0.1 (loopback
only; merging off = ``--no-merge``), waits for ``/healthz``, sends ``--warmup``
requests that are not counted, then ``--requests`` requests from ``--clients``
threads, each request holding ``--texts`` passages of the bundled corpus. It
prints throughput, p50 / p95 latency, errors (answers other than 200) and lost
requests (no answer before the per-request timeout or the overall time limit);
the run exits 1 if any request erred or was lost.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"  # loopback only, never another interface
STARTUP_S = 180


def corpus_texts(seed: int) -> list[str]:
    texts = []
    for f in sorted((ROOT / "framing" / "corpus").glob("*.jsonl")):
        texts += [json.loads(line)["text"] for line in f.read_text(encoding="utf-8").splitlines() if line.strip()]
    random.Random(seed).shuffle(texts)
    return texts


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def start_server(model: str, merge: bool, port: int, log: Path) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "framing.cli", "serve", "--model", model, "--host", HOST, "--port", str(port)]
    with open(log, "wb") as fh:
        return subprocess.Popen(cmd + ([] if merge else ["--no-merge"]), cwd=ROOT, stdout=fh,
                                stderr=subprocess.STDOUT, env={**os.environ, "GRADIO_ANALYTICS_ENABLED": "False"})


def wait_healthy(client, url: str, proc: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode}:\n{log.read_text()[-2000:]}")
        try:
            if client.get(url + "/healthz", timeout=2).status_code == 200:
                return
        except Exception:  # noqa: BLE001 (not up yet)
            pass
        time.sleep(0.5)
    raise SystemExit(f"server did not answer within {STARTUP_S} s:\n{log.read_text()[-2000:]}")


def run_mode(args: argparse.Namespace, merge: bool, texts: list[str]) -> dict:
    import httpx

    port = free_port()
    log = Path(args.log_dir) / f"serve-merge-{'on' if merge else 'off'}.log"
    url = f"http://{HOST}:{port}"
    proc = start_server(args.model, merge, port, log)
    local = threading.local()

    def client():
        if not hasattr(local, "c"):
            local.c = httpx.Client(timeout=args.request_timeout)
        return local.c

    def body(i: int) -> dict:
        start = (i * args.texts) % (len(texts) - args.texts)
        return {"texts": texts[start:start + args.texts]}

    def one(i: int, deadline: float) -> tuple[str, float]:
        if time.monotonic() > deadline:
            return "lost", 0.0
        t0 = time.perf_counter()
        try:
            r = client().post(f"{url}/v1/{args.endpoint}", json=body(i))
        except httpx.HTTPError:
            return "lost", time.perf_counter() - t0
        return ("ok" if r.status_code == 200 else f"http {r.status_code}"), time.perf_counter() - t0

    try:
        with httpx.Client() as c:
            wait_healthy(c, url, proc, log)
        with ThreadPoolExecutor(args.clients) as pool:
            list(pool.map(lambda i: one(i, float("inf")), range(args.warmup)))
            t0 = time.perf_counter()
            deadline = time.monotonic() + args.time_limit
            results = list(pool.map(lambda i: one(i, deadline), range(args.warmup, args.warmup + args.requests)))
            wall = time.perf_counter() - t0
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
    ok = sorted(t for status, t in results if status == "ok")
    errors = {s: sum(1 for status, _ in results if status == s) for s, _ in results if s not in ("ok", "lost")}
    q = statistics.quantiles(ok, n=100) if len(ok) >= 2 else [float("nan")] * 99
    return {"merge": merge, "requests": args.requests, "ok": len(ok), "errors": sum(errors.values()),
            "error_kinds": errors, "lost": sum(1 for status, _ in results if status == "lost"),
            "wall_s": wall, "req_per_s": len(ok) / wall, "texts_per_s": len(ok) * args.texts / wall,
            "p50_ms": q[49] * 1000, "p95_ms": q[94] * 1000}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=os.environ.get("FRAMING_MODEL", "outputs/framing-e5-small"))
    ap.add_argument("--requests", type=int, default=500)
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--texts", type=int, default=1, help="passages per request")
    ap.add_argument("--endpoint", choices=("predict", "articles"), default="predict")
    ap.add_argument("--merge", choices=("both", "on", "off"), default="both")
    ap.add_argument("--warmup", type=int, default=16, help="requests sent first and not counted")
    ap.add_argument("--time-limit", type=float, default=300.0, help="seconds for all counted requests of a mode")
    ap.add_argument("--request-timeout", type=float, default=60.0)
    ap.add_argument("--log-dir", default=os.environ.get("TMPDIR", "/tmp"), help="where the server logs go")
    ap.add_argument("--json", action="store_true", help="also print the figures as JSON")
    args = ap.parse_args(argv)
    if not Path(args.model).exists():
        print(f"error: model {args.model} does not exist (train one with scripts/train.py)", file=sys.stderr)
        return 2
    texts = corpus_texts(seed=0)
    modes = {"both": [True, False], "on": [True], "off": [False]}[args.merge]
    print(f"{args.requests} requests of {args.texts} passage(s) to /v1/{args.endpoint} from {args.clients} clients, "
          f"model {args.model}, {os.cpu_count()} CPUs")
    print(f"{'merging':<8} {'req/s':>7} {'passages/s':>10} {'p50 ms':>8} {'p95 ms':>8} {'errors':>6} {'lost':>5} "
          f"{'wall s':>7}")
    rows = []
    for merge in modes:
        r = run_mode(args, merge, texts)
        rows.append(r)
        print(f"{'on' if merge else 'off':<8} {r['req_per_s']:>7.1f} {r['texts_per_s']:>10.1f} {r['p50_ms']:>8.0f} "
              f"{r['p95_ms']:>8.0f} {r['errors']:>6} {r['lost']:>5} {r['wall_s']:>7.1f}"
              + (f"  {r['error_kinds']}" if r["errors"] else ""), flush=True)
    if args.json:
        print(json.dumps(rows, indent=1))
    return 0 if all(r["errors"] == 0 and r["lost"] == 0 for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
