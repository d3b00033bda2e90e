"""`verbatim loadtest`: many concurrent readers against the web app's API, figures printed.

Each simulated client is a thread with its own `gradio_client.Client`, asking its share of
questions from a question set through `/ask`, one after another, as a student clicking
"Ask" would. Without `--url` the command starts `verbatim serve` on a free loopback port
for the run and stops it afterwards. Throughput, latency percentiles and errors are
printed; nothing is asserted (this is a script, not a test).

Serving cost: the server process's own CPU time (user + system, all its threads, from
/proc/PID/stat) over the questions phase, divided by the answers, next to the CPU time of the
same questions asked one after another in-process (`Engine.ask`, nothing else): what the API
costs on top of the search itself.
"""

from __future__ import annotations

import contextlib
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.errors import VerbatimError


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process (all its threads) has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime


def bare_ask_cpu_ms(ask: Callable[[str], object], questions: list[str], rounds: int = 2) -> float:
    """CPU milliseconds of this process per question, asked one after another after a warm-up."""
    for question in questions[:3]:
        ask(question)
    began = time.process_time()
    for _ in range(rounds):
        for question in questions:
            ask(question)
    return (time.process_time() - began) * 1000 / (rounds * len(questions))


@dataclass(frozen=True)
class Server:
    """A running app: where to reach it, and its process id when it runs on this machine."""

    url: str
    pid: int | None = None


@contextlib.contextmanager
def started_server(corpus: Path, index: Path, timeout_s: float = 300) -> Iterator[Server]:
    """`verbatim serve` in a child process on a free port, until the block ends."""
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "app", "-q", "--corpus", str(corpus), "--index", str(index), "serve",
         "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + timeout_s
    try:
        while True:
            try:
                with urllib.request.urlopen(url, timeout=2):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    log = process.stderr.read() if process.stderr and process.poll() is not None else ""
                    raise VerbatimError(f"the server did not start on {url}: {log.strip()[-500:]}") from None
                time.sleep(0.5)
        yield Server(url, process.pid)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


def _percentile(values: list[float], q: int) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def _warm_up(url: str, question: str, plain: bool) -> None:
    """One question before the clock starts: a server's first answer imports what Gradio loads
    lazily (matplotlib's pyplot, ~0.6 s of CPU), which is no part of an answer's steady cost."""
    from gradio_client import Client

    with contextlib.suppress(Exception):  # a server that cannot answer shows in the run's errors
        Client(url, verbose=False, ssl_verify=not plain, analytics_enabled=False).predict(
            question, 5, [], [], api_name="/ask")


def run_load(url: str, questions: list[str], clients: int, per_client: int,
             server_pid: int | None = None) -> dict[str, Any]:
    """Drive `clients` concurrent clients, `per_client` questions each; latencies in ms.
    With `server_pid`, the server's CPU time over the questions phase, per answer."""
    from gradio_client import Client

    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    ready = threading.Barrier(clients + 1)

    # Plain http has no certificate to verify, and gradio_client's default (verify) makes every
    # request build a new TLS context (~15 ms of CPU each), which on a shared machine the
    # server would pay for; no telemetry either (the load test measures the app, offline).
    plain = url.startswith("http://")

    def client(number: int) -> None:
        try:
            api = Client(url, verbose=False, ssl_verify=not plain, analytics_enabled=False)
        except Exception as exc:  # noqa: BLE001 - a client that cannot connect is an error to report
            with lock:
                errors.append(f"client {number}: cannot connect ({exc})")
            ready.wait()
            return
        ready.wait()
        for turn in range(per_client):
            question = questions[(number * per_client + turn) % len(questions)]
            began = time.perf_counter()
            try:
                answer = api.predict(question, 5, [], [], api_name="/ask")
                if not answer.get("passages"):
                    raise ValueError("no passages")
            except Exception as exc:  # noqa: BLE001 - counted and reported, the run goes on
                with lock:
                    errors.append(f"client {number}, question {turn}: {exc.__class__.__name__}: {exc}"[:300])
                continue
            with lock:
                latencies.append((time.perf_counter() - began) * 1000)

    _warm_up(url, questions[0], plain)
    threads = [threading.Thread(target=client, args=(n,), daemon=True) for n in range(clients)]
    for thread in threads:
        thread.start()
    ready.wait()
    began = time.perf_counter()
    cpu_before = process_cpu_seconds(server_pid) if server_pid else None
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - began
    cpu = process_cpu_seconds(server_pid) - cpu_before if server_pid and cpu_before is not None else None
    return {
        "clients": clients,
        "questions_per_client": per_client,
        "requests": clients * per_client,
        "answered": len(latencies),
        "errors": len(errors),
        "seconds": round(seconds, 2),
        "throughput_per_s": round(len(latencies) / seconds, 2) if seconds else None,
        "latency_p50_ms": round(_percentile(latencies, 50), 1),
        "latency_p95_ms": round(_percentile(latencies, 95), 1),
        "latency_p99_ms": round(_percentile(latencies, 99), 1),
        "latency_max_ms": round(max(latencies), 1) if latencies else None,
        "server_cpu_ms_per_answer": round(cpu * 1000 / len(latencies), 2) if cpu is not None and latencies else None,
        "first_errors": errors[:5],
    }
