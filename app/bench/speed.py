"""`verbatim bench`: speed and memory figures, printed, never asserted.

Cold start runs `verbatim ask` in a fresh process (model and index loaded from disk);
warm latency times `Engine.ask` over a question set after one warm-up question; the build
is a full rebuild into a temporary folder with the model already loaded, compared with the
model alone embedding the same passages (with their headings): what a build runs the model
on, since sentence vectors are pooled from the passage's pass (app.models.pooling).
"""

from __future__ import annotations

import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from app.answer.engine import Engine
from app.evaluation.metrics import load_items
from app.store.protocol import IndexStore


def peak_memory_mib() -> float:
    """This process's peak resident memory. Linux's VmHWM belongs to the process's own
    address space; ru_maxrss also keeps the parent's size at the fork that started it."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)  # KiB on Linux, BSD


def _percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def _cold_start(engine: Engine, question: str) -> float:
    began = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "app", "-q", "--corpus", str(engine.corpus_dir), *engine.store.cli_args(),
         "ask", "--json", "-k", "5", question],
        check=True, capture_output=True,
    )
    return time.perf_counter() - began


def database_memory_mib(store: IndexStore) -> float | None:
    """The memory (PSS) of the store's database server, when it runs on this machine; None for a folder."""
    from app.bench.resources import memory_mib

    pid = store.server_pid()
    return memory_mib(pid, tree=True) if pid else None


def run_benchmark(engine: Engine, set_path: Path, rounds: int = 3) -> dict[str, Any]:
    questions = [item.question for item in load_items(set_path)]
    index = engine.index  # built now if missing, so the cold start below only loads
    cold = min(_cold_start(engine, questions[0]) for _ in range(2))
    engine.ask(questions[0])
    latencies = []
    for _ in range(rounds):
        for question in questions:
            began = time.perf_counter()
            engine.ask(question)
            latencies.append((time.perf_counter() - began) * 1000)
    texts = [chunk.ranking_text for chunk in index.chunks]
    model_before = model_rate(engine.embedder, texts)
    database = database_memory_mib(engine.store)
    with tempfile.TemporaryDirectory() as scratch:
        store = engine.store.beside(Path(scratch) / "index", f"bench_scratch_{uuid.uuid4().hex[:8]}")
        try:
            report = store.build(engine.corpus_dir, engine.embedder, engine.settings, False, True)
        finally:
            store.discard()
    model = 2 / (1 / model_before + 1 / model_rate(engine.embedder, texts))  # timed before and after
    return {
        "documents": len(index.manifest.documents),
        "passages": len(index.chunks),
        "questions_timed": len(latencies),
        "cold_start_to_first_answer_s": round(cold, 2),
        "warm_ask_p50_ms": round(_percentile(latencies, 50), 2),
        "warm_ask_p95_ms": round(_percentile(latencies, 95), 2),
        "sentences": sum(len(chunk.sentences) for chunk in index.chunks),
        "index_build_s": round(report.seconds, 2),
        "build_passages_per_s": round(len(texts) / report.seconds, 1),
        "model_only_passages_per_s": round(model, 1),
        "build_vs_model_throughput": round(len(texts) / report.seconds / model, 2),
        # of this process, which answered, embedded and rebuilt; `--sizes` measures a
        # serving-only process (a child's ru_maxrss would include this one's, see peak_memory_mib)
        "peak_memory_mib": peak_memory_mib(),
        "database_memory_mib": database,  # the database server's, after the questions (None: the folder store)
    }


def model_rate(embedder: Any, texts: list[str]) -> float:
    """Passages per second of the model alone on `texts` (one call: it batches them itself),
    on the model a build runs passages through (where questions take ONNX Runtime, PyTorch)."""
    inner = getattr(embedder, "inner", embedder)  # a CoalescingEmbedder's model
    model = getattr(inner, "passages", inner)
    began = time.perf_counter()
    model.embed(texts)
    return len(texts) / (time.perf_counter() - began)


def materialize_ungdc(source: Path, folder: Path, count: int) -> list[Path]:
    """`count` statements spread evenly over the UN General Debate corpus, one .txt each,
    paragraphs separated by blank lines (the corpus separates them by single newlines)."""
    import gzip
    import json

    with gzip.open(source, "rt", encoding="utf-8") as handle:
        rows = [json.loads(line) for line in handle]
    step = max(len(rows) // count, 1)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for row in rows[::step][:count]:
        path = folder / f"{row['doc_id']}.txt"
        path.write_text("\n\n".join(p.strip() for p in row["text"].splitlines() if p.strip()) + "\n",
                        encoding="utf-8")
        paths.append(path)
    return paths


def run_library_benchmark(engine: Engine, source: Path, count: int) -> dict[str, Any]:
    """Full build of `count` statements, then adding one and removing one: the incremental
    paths must cost a small fraction of the full build (issue: under 5%)."""
    from app.store.library import add_files, remove_document

    if not source.is_file():
        from app.errors import UsageError

        raise UsageError(f"no UN General Debate corpus at {source}; pass --ungdc PATH to ungdc-1946-2024.jsonl.gz")
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        files = materialize_ungdc(source, root / "pool", count + 1)
        corpus = root / "corpus"
        corpus.mkdir()
        for path in files[:count]:
            path.rename(corpus / path.name)
        store = engine.store.beside(root / "index", f"bench_library_{uuid.uuid4().hex[:8]}")
        engine.embedder  # noqa: B018 - load the model before timing

        def sync(only: frozenset[str] | None = None, show: bool = False) -> Any:
            return store.build(corpus, engine.embedder, engine.settings, show, True, only)

        try:
            began = time.perf_counter()
            full = sync(show=sys.stderr.isatty())
            full_s = time.perf_counter() - began
            began = time.perf_counter()
            noop = sync()
            noop_s = time.perf_counter() - began
            began = time.perf_counter()
            added_ids = add_files(corpus, store.text_cache(), [files[count]], {}, indexed=store.held_documents()).added
            added = sync(frozenset(added_ids))
            add_s = time.perf_counter() - began
            began = time.perf_counter()
            gone = files[0].stem.lower().replace("_", "-")
            remove_document(corpus, gone, store.held_documents())
            removed = sync(frozenset({gone}))
            remove_s = time.perf_counter() - began
            size_mib = store.size_mib()
        finally:
            store.discard()
    return {
        "documents": full.documents,
        "passages": full.passages,
        "texts_embedded_full": full.embedded,
        "full_build_s": round(full_s, 2),
        "sync_unchanged_s": round(noop_s, 2),
        "add_one_s": round(add_s, 2),
        "add_one_embedded_passages": added.embedded,
        "add_one_vs_full": round(add_s / full_s, 4),
        "remove_one_s": round(remove_s, 2),
        "remove_one_embedded": removed.embedded,
        "remove_one_vs_full": round(remove_s / full_s, 4),
        "index_size_mib": size_mib,
        "peak_memory_mib": peak_memory_mib(),
        "noop_written": noop.written,
    }
