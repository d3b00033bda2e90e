"""One system on one corpus, in its own process: `python -m app.bench.peers.runner JOB.json`.

A "build" job loads the model (not timed as build), builds and saves the system's index
(timed), answers every question once for the quality figures, then times warm queries at
each thread count. A "cold" job is a fresh process that loads the saved index and answers
one question: its cold start runs from the driver's spawn to that answer. Each writes its
figures as JSON to the job's `out` file; the driver computes the metrics.

Every peer module offers `load_model(job)`, `build(job, model, documents) -> (search, pieces)`
and `open_saved(job) -> search` (model included), where `search(question)` returns up to K
(doc_id, text) pairs, best first.
"""

from __future__ import annotations

import importlib
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from app.bench.peers.common import Job, peak_memory_mib, reading, set_threads


def run_build(job: Job, peer: Any) -> dict[str, Any]:
    documents = job.texts()
    began = time.perf_counter()
    model = peer.load_model(job)
    model_s = time.perf_counter() - began
    began = time.perf_counter()
    search, pieces = peer.build(job, model, documents)
    build_s = time.perf_counter() - began
    answers = [search(question) for question in job.questions]
    latencies: dict[str, list[float]] = {}
    for threads in job.threads:
        if job.system != "verbatim":  # Verbatim keeps its own rule: one thread for a lone question
            set_threads(threads)
        for question in job.questions[:3]:  # warm-up
            search(question)
        timed = []
        for _ in range(job.rounds):
            for question in job.questions:
                began = time.perf_counter()
                search(question)
                timed.append((time.perf_counter() - began) * 1000)
        latencies[str(threads)] = timed
    lengths = {doc_id: len(text) for doc_id, text in documents}
    return {
        "model_load_s": round(model_s, 2),
        "build_s": round(build_s, 3),
        "characters": sum(lengths.values()),
        "reading": reading(job.model, pieces, lengths),
        "answers": [[list(hit) for hit in hits] for hits in answers],
        "latency_ms": {threads: {"p50": round(statistics.median(values), 2),
                                 "p95": round(statistics.quantiles(values, n=20, method="inclusive")[18], 2),
                                 "count": len(values)} for threads, values in latencies.items()},
        "peak_memory_mib": peak_memory_mib(),
    }


def run_cold(job: Job, peer: Any) -> dict[str, Any]:
    search = peer.open_saved(job)
    hits = search(job.questions[0])
    return {"cold_start_s": round(time.time() - job.spawned, 2), "first_answer_hits": len(hits),
            "serving_peak_memory_mib": peak_memory_mib()}


def _version(package: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(package)
    except PackageNotFoundError:
        return None


def main(argv: list[str]) -> int:
    job = Job.load(Path(argv[1]))
    peer = importlib.import_module(f"app.bench.peers.{job.system}_peer")
    result = run_build(job, peer) if job.mode == "build" else run_cold(job, peer)
    versions = {name: _version(name) for name in peer.PACKAGES}
    Path(job.out).write_text(json.dumps({"system": job.system, "config": job.config, "versions": versions, **result}),
                             encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
