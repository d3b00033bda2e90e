"""`verbatim loadtest`: many concurrent readers against the web app's APIs, figures printed.

Each simulated client is a thread asking its share of questions from a question set, one
after another, as a student clicking "Ask" would, through a stock client as users' scripts
would: its own `gradio_client.Client` for the Gradio API's `/ask`, or its own
`httpx.Client` (one keep-alive session) for the REST API's `POST /api/ask`. Without `--url`
the command starts `verbatim serve` (`--replicas N` of them, sharing the index) on free
loopback ports for the run and stops them afterwards; clients are dealt to the replicas in
turn. `--kill-replica-after S` kills the first replica with SIGKILL S seconds into the run:
its clients' errors are counted, the others go on. Throughput, latency percentiles, errors
per replica and the CPU seconds the servers (and a local database server) spent per
answered question are printed; nothing is asserted (this is a script, not a test).

Serving cost: each server process's own CPU time (user + system, all its threads) over the
questions phase, divided by the answers, next to the CPU time of the same questions asked one
after another in-process (`Engine.ask`, nothing else, `bare_ask_cpu_ms`): what the API costs
on top of the search itself.
"""

from __future__ import annotations

import contextlib
import os
import signal
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
from typing import TYPE_CHECKING, Any

from app.bench.resources import CpuMeter, cpu_seconds, memory_mib
from app.errors import VerbatimError

if TYPE_CHECKING:
    from app.bench.arrival import AddDuringRun

APIS = ("gradio", "rest")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process (all its threads) has used so far."""
    value = cpu_seconds(pid)
    if value is None:
        raise VerbatimError(f"process {pid} is gone or its CPU time cannot be read")
    return value


def bare_ask_cpu_ms(ask: Callable[[str], object], questions: list[str], rounds: int = 2) -> float:
    """CPU milliseconds of this process per question, asked one after another after a warm-up."""
    for question in questions[:3]:
        ask(question)
    began = time.process_time()
    for _ in range(rounds):
        for question in questions:
            ask(question)
    return (time.process_time() - began) * 1000 / (rounds * len(questions))


def against_bare_ask(figures: dict[str, Any], bare_ms: float) -> dict[str, Any]:
    """A bare ask's CPU ms per question, and the servers' CPU per answer as a multiple of it."""
    per_answer = figures.get("server_cpu_ms_per_answer")
    return {"bare_ask_cpu_ms": round(bare_ms, 2),
            "server_cpu_vs_bare_ask": round(per_answer / bare_ms, 2) if per_answer and bare_ms else None}


@dataclass(frozen=True)
class Replica:
    """A server the clients talk to: its URL, and its process id when this command started it."""

    url: str
    pid: int | None = None


@contextlib.contextmanager
def started_servers(corpus: Path, store_args: list[str], count: int = 1,
                    timeout_s: float = 300) -> Iterator[list[Replica]]:
    """`count` `verbatim serve` processes on free ports, on one index (`store_args`: the global options
    naming it, IndexStore.cli_args), until the block ends."""
    processes: list[subprocess.Popen[str]] = []
    replicas = []
    try:
        for _ in range(count):
            port = _free_port()
            command = [sys.executable, "-m", "app", "-q", "--corpus", str(corpus), *store_args]
            processes.append(subprocess.Popen([*command, "serve", "--port", str(port)], stdout=subprocess.DEVNULL,
                                              stderr=subprocess.PIPE, text=True))
            replicas.append(Replica(f"http://127.0.0.1:{port}/", processes[-1].pid))
        for replica, process in zip(replicas, processes):
            _wait_until_up(replica.url, process, timeout_s)
        yield replicas
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


def _wait_until_up(url: str, process: subprocess.Popen[str], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                log = process.stderr.read() if process.stderr and process.poll() is not None else ""
                raise VerbatimError(f"the server did not start on {url}: {log.strip()[-500:]}") from None
            time.sleep(0.5)


def _percentile(values: list[float], q: int) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def _gradio_asker(url: str) -> Callable[[str], dict[str, Any]]:
    from gradio_client import Client

    # Plain http has no certificate to verify, and gradio_client's default (verify) makes every
    # request build a new TLS context (~15 ms of CPU each), which on a shared machine the
    # server would pay for; no telemetry either (the load test measures the app, offline).
    api = Client(url, verbose=False, ssl_verify=not url.startswith("http://"), analytics_enabled=False)
    return lambda question: dict(api.predict(question, 5, [], [], api_name="/ask"))


def _rest_asker(url: str) -> Callable[[str], dict[str, Any]]:
    import httpx

    session = httpx.Client(base_url=url, timeout=120)  # one keep-alive session per client

    def ask(question: str) -> dict[str, Any]:
        response = session.post("/api/ask", json={"question": question, "k": 5, "history": [], "docs": []})
        response.raise_for_status()
        return dict(response.json())

    return ask


class _Tally:
    """What the clients of one run record, shared between their threads."""

    def __init__(self, replicas: list[Replica], clients: int) -> None:
        self.latencies: list[float] = []
        self.errors: list[str] = []
        self.per_replica: list[dict[str, Any]] = [{"url": r.url, "clients": 0, "answered": 0, "errors": 0}
                                                  for r in replicas]
        for number in range(clients):
            self.per_replica[number % len(replicas)]["clients"] += 1
        self._lock = threading.Lock()

    def answered(self, where: int, milliseconds: float) -> None:
        with self._lock:
            self.latencies.append(milliseconds)
            self.per_replica[where]["answered"] += 1

    def failed(self, number: int, where: int, message: str) -> None:
        with self._lock:
            self.errors.append(f"client {number}: {message}"[:300])
            self.per_replica[where]["errors"] += 1


def _client(number: int, url: str, where: int, connect: Callable[[str], Callable[[str], dict[str, Any]]],
            questions: list[str], per_client: int, tally: _Tally, ready: threading.Barrier,
            until: threading.Event | None = None) -> None:
    """One simulated user: connects, waits for the others, then asks its questions one after another."""
    try:
        ask = connect(url)
    except Exception as exc:  # noqa: BLE001 - a client that cannot connect is an error to report
        tally.failed(number, where, f"cannot connect ({exc})")
        ready.wait()
        return
    ready.wait()
    turn = 0
    while turn < per_client or (until is not None and not until.is_set()):  # `until`: go on asking till it is set
        question = questions[(number * per_client + turn) % len(questions)]
        turn += 1
        began = time.perf_counter()
        try:
            if not ask(question).get("passages"):
                raise ValueError("no passages")
        except Exception as exc:  # noqa: BLE001 - counted and reported, the run goes on
            tally.failed(number, where, f"question {turn}: {exc.__class__.__name__}: {exc}")
            continue
        tally.answered(where, (time.perf_counter() - began) * 1000)


def run_load(replicas: list[Replica], questions: list[str], clients: int, per_client: int, api: str = "gradio",
             kill_after_s: float | None = None, database_pid: int | None = None,
             during: AddDuringRun | None = None) -> dict[str, Any]:
    """Drive `clients` concurrent clients, `per_client` questions each, dealt to the replicas in turn;
    latencies in ms, CPU in seconds (and ms per answered question), each started replica's memory
    (PSS, MiB) and the local database server's at the end. `during`: a document added while the
    clients ask (app.bench.arrival), its figures under "added"; the clients then go on asking past
    `per_client` until every replica has been watched, so the add and the reloads happen under load."""
    connect = _gradio_asker if api == "gradio" else _rest_asker
    tally = _Tally(replicas, clients)
    ready = threading.Barrier(clients + 1)
    for replica in replicas:
        _warm_up(replica.url, questions[0], connect)
    threads = [threading.Thread(target=_client, daemon=True, args=(
        n, replicas[n % len(replicas)].url, n % len(replicas), connect, questions, per_client, tally, ready,
        during.finished if during is not None else None))
        for n in range(clients)]
    for thread in threads:
        thread.start()
    ready.wait()
    meters = [CpuMeter(r.pid).start() if r.pid else None for r in replicas]
    database = CpuMeter(database_pid, tree=True).start() if database_pid else None
    began = time.perf_counter()
    killer = _kill_later(replicas[0], kill_after_s) if kill_after_s is not None else None
    if during is not None:
        during.start([replica.url for replica in replicas])
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - began
    if killer is not None:
        killer.cancel()
    for entry, meter, replica in zip(tally.per_replica, meters, replicas):
        entry["cpu_s"] = meter.stop() if meter else None
        entry["memory_mib"] = memory_mib(replica.pid) if replica.pid else None
    figures = _summary(api, clients, per_client, tally.latencies, tally.errors, seconds, tally.per_replica)
    figures |= _cpu_figures(tally.per_replica, database.stop() if database else None, len(tally.latencies))
    figures["database_memory_mib"] = memory_mib(database_pid, tree=True) if database_pid else None
    if during is not None:
        figures["added"] = during.result()
    if kill_after_s is not None:
        figures["killed"] = {"replica": replicas[0].url, "after_s": kill_after_s}
    return figures


def _warm_up(url: str, question: str, connect: Callable[[str], Callable[[str], dict[str, Any]]]) -> None:
    """One untimed question per replica through the API under test: the timed run pays neither the
    first model call nor what a Gradio server imports lazily at its first answer (matplotlib's
    pyplot, ~0.6 s of CPU), no part of an answer's steady cost."""
    with contextlib.suppress(Exception):  # a server that cannot answer shows in the run's errors
        connect(url)(question)


def _kill_later(replica: Replica, after_s: float) -> threading.Timer:
    if replica.pid is None:
        raise VerbatimError("--kill-replica-after needs replicas this command started (no --url)")
    timer = threading.Timer(after_s, lambda: os.kill(int(replica.pid or 0), signal.SIGKILL))
    timer.daemon = True
    timer.start()
    return timer


def _summary(api: str, clients: int, per_client: int, latencies: list[float], errors: list[str], seconds: float,
             per_replica: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "api": api,
        "replicas": per_replica,
        "clients": clients,
        "questions_per_client": per_client,
        "requests": len(latencies) + len(errors),
        "answered": len(latencies),
        "errors": len(errors),
        "seconds": round(seconds, 2),
        "throughput_per_s": round(len(latencies) / seconds, 2) if seconds else None,
        "latency_p50_ms": round(_percentile(latencies, 50), 1),
        "latency_p95_ms": round(_percentile(latencies, 95), 1),
        "latency_p99_ms": round(_percentile(latencies, 99), 1),
        "latency_max_ms": round(max(latencies), 1) if latencies else None,
        "first_errors": errors[:5],
    }


def _cpu_figures(per_replica: list[dict[str, Any]], database_s: float | None, answered: int) -> dict[str, Any]:
    """Server CPU per answered question: every replica's CPU over every answer (the killed one's
    CPU up to its last sample); the database server's, when it runs on this machine."""
    measured = [entry["cpu_s"] for entry in per_replica if entry["cpu_s"] is not None]
    server_s = round(sum(measured), 3) if measured else None
    return {
        "server_cpu_s": server_s,
        "server_cpu_ms_per_answer": round(server_s * 1000 / answered, 2) if server_s is not None and answered else None,
        "database_cpu_s": database_s,
        "database_cpu_ms_per_answer": round(database_s * 1000 / answered, 2)
        if database_s is not None and answered else None,
    }
