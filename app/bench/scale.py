"""`verbatim bench --sizes 1,1000,all`: the same figures for collections of growing size.

Size 1 is the shipped corpus (the speech); a number N is N UN General Debate statements
spread evenly over the years; `all` is every statement. Each size runs in its own process,
so its peak memory is its own, and builds into a scratch folder that is removed after, or
into `--workdir DIR`, kept, so that an interrupted build of a large size resumes there.
Latencies and serving memory come from a third process that only loads the built index.
For each: build throughput (passages/s) next to the model's own throughput on a random
sample of the same passages (a build runs the model on passages only: their sentences'
vectors are pooled from the same pass), timed just before and just after the build and
combined, since this machine's pace drifts by several percent over minutes; index size,
peak memory, cold start to the first answer, warm latency per stage (query embedding,
dense search, lexical search, the whole fused ask with highlighting), and the approximate
index's recall@10 against exact search (measured on a graph built for the purpose when the
collection is small enough to search exactly).
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from app.answer.engine import Engine
from app.bench.speed import _percentile, materialize_ungdc, model_rate, peak_memory_mib
from app.evaluation.metrics import load_items
from app.passages.chunk import ChunkSettings
from app.search.crosslang import multilingual_ranker

MODEL_SAMPLE = 2000  # passages the model embeds alone, for the floor it sets on build throughput


def parse_sizes(text: str) -> list[str]:
    from app.errors import UsageError

    sizes = [part.strip().lower() for part in text.split(",") if part.strip()]
    if not sizes or any(not (s == "all" or (s.isdigit() and int(s) > 0)) for s in sizes):
        raise UsageError(f"--sizes takes numbers of documents and 'all', comma-separated "
                         f"(e.g. 1,1000,all); got {text!r}")
    return sizes


def run_sizes(engine: Engine, sizes: list[str], ungdc: Path, set_path: Path,
              workdir: Path | None = None, multilingual: str = "auto") -> list[dict[str, Any]]:
    """Each size measured in a fresh `verbatim bench --one-size` process; `multilingual`: the
    collections' multilingual setting (app.store.multilingual: on, off, auto)."""
    results = []
    for size in sizes:
        command = [sys.executable, "-m", "app", "-q", "--corpus", str(engine.corpus_dir), *engine.store.cli_args(),
                   "bench", "--one-size", size, "--ungdc", str(ungdc), "--set", str(set_path),
                   "--multilingual", multilingual]
        if workdir is not None:
            command += ["--workdir", str(workdir)]
        results.append(json_of(command, f"the benchmark of size {size}"))
    return results


def json_of(command: list[str], what: str) -> dict[str, Any]:
    """The JSON object a child command prints; VerbatimError naming `what` when it fails."""
    done = subprocess.run(command, stdout=subprocess.PIPE, text=True, check=False)
    if done.returncode != 0:
        from app.errors import VerbatimError

        raise VerbatimError(f"{what} failed (exit {done.returncode}); see the lines above")
    return json.loads(done.stdout)


@contextmanager
def _folder(workdir: Path | None, size: str) -> Iterator[Path]:
    """A scratch folder removed after, or `workdir/size-N`, kept so an interrupted build resumes."""
    if workdir is None:
        with tempfile.TemporaryDirectory(prefix="verbatim-bench-") as scratch:
            yield Path(scratch)
    else:
        root = workdir / f"size-{size}"
        root.mkdir(parents=True, exist_ok=True)
        yield root


def measure_size(engine: Engine, size: str, ungdc: Path, set_path: Path,
                 workdir: Path | None = None, multilingual: str = "auto") -> dict[str, Any]:
    first_question = load_items(set_path)[0].question
    with _folder(workdir, size) as root:
        corpus = engine.corpus_dir if size == "1" else root / "corpus"
        if size != "1" and not (corpus / ".materialized").is_file():
            if not ungdc.is_file():
                from app.errors import UsageError

                raise UsageError(f"no UN General Debate corpus at {ungdc}; pass --ungdc PATH")
            materialize_ungdc(ungdc, corpus, 10**9 if size == "all" else int(size))
            (corpus / ".materialized").touch()
        embedder = engine.embedder
        embedder.embed(["warm up"])
        sample = _sample_passages(corpus, engine.settings, MODEL_SAMPLE)
        model_before = model_rate(embedder, sample)
        store = engine.store.beside(root / "index", f"bench_{size}")  # a folder, or a schema of the database
        began = time.perf_counter()
        report = store.build(corpus, embedder, engine.settings, sys.stderr.isatty(), True, None, multilingual)
        build = _build_figures(root, report, time.perf_counter() - began)
        model_after = model_rate(embedder, sample)
        model = 2 / (1 / model_before + 1 / model_after)  # the sample's throughput over both runs
        local = Engine(corpus, root / "index", make_embedder=lambda: embedder, spec=engine.spec,
                       settings=engine.settings, ranking=engine.ranking, abstention=engine.abstention,
                       log=lambda message: None, store=store)
        figures: dict[str, Any] = {
            "size": size, "model": engine.spec.name, "documents": report.documents, "passages": report.passages,
            "multilingual": {"setting": multilingual, "ranker": multilingual_ranker(local.index) is not None},
            "sentences": sum(len(chunk.sentences) for chunk in local.index.chunks), **build,
            "model_passages_per_s": round(model, 1),
            "model_passages_per_s_before_after": [round(model_before, 1), round(model_after, 1)],
            "index_mib": store.size_mib(),
            "vector_index": local.index.manifest.vectors,
        }
        if build.get("build_passages_per_s"):
            figures["build_vs_model"] = round(build["build_passages_per_s"] / model, 3)
        figures |= _approximate(local.index, embedder)
        del local
        figures["peak_memory_build_mib"] = peak_memory_mib()
        figures["cold_start_s"] = round(cold_start(corpus, store.cli_args(), first_question), 2)
        figures |= json_of([sys.executable, "-m", "app", "-q", "--corpus", str(corpus), *store.cli_args(),
                             "bench", "--serving", "--set", str(set_path)], f"the serving measurement of size {size}")
        if workdir is None:
            store.discard()  # a scratch collection (a folder inside the scratch folder, or a schema)
    figures["peak_memory_mib"] = max(figures["peak_memory_build_mib"], figures["peak_memory_serving_mib"])
    return figures


def _sample_passages(corpus: Path, settings: ChunkSettings, count: int) -> list[str]:
    """A seeded random sample of `count` of the corpus's passages, as a build embeds them
    (ranking texts): every readable document is read and chunked, as the build will."""
    from app.documents.corpus import corpus_files, read_document
    from app.errors import CorpusError
    from app.passages.chunk import chunk_document

    texts: list[str] = []
    for path in corpus_files(corpus):
        try:
            document = read_document(path)
        except CorpusError:
            continue  # the build reports it and leaves it out
        texts += [chunk.ranking_text for chunk in chunk_document(document.doc_id, document.text, settings)]
    return random.Random(0).sample(texts, min(count, len(texts)))


def _build_figures(root: Path, report: Any, seconds: float) -> dict[str, Any]:
    """This run's build figures; when the index was already complete (a kept --workdir), those
    of the run that completed it, as recorded in builds.jsonl beside it."""
    log = root / "builds.jsonl"
    fresh = report.embedded - report.resumed
    if report.written:
        entry = {"build_s": round(seconds, 1), "build_embedded_passages": fresh,
                 "build_resumed_passages": report.resumed,
                 "build_passages_per_s": round(fresh / seconds, 1) if fresh else None}
        with log.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(entry) + "\n")
        return entry
    if log.is_file():
        lines = log.read_text(encoding="utf-8").splitlines()
        return json.loads(lines[-1]) | {"build_from_earlier_run": True}
    return {"build_s": None, "build_passages_per_s": None, "build_from_earlier_run": True}


def measure_serving(engine: Engine, set_path: Path) -> dict[str, Any]:
    """In a process that only loads the index and answers: warm latency per stage and the
    process's peak memory, which is what a server of this index holds."""
    from app.bench.speed import database_memory_mib

    questions = [item.question for item in load_items(set_path)]
    figures: dict[str, Any] = _latencies(engine, questions)
    figures["peak_memory_serving_mib"] = peak_memory_mib()
    figures["database_memory_mib"] = database_memory_mib(engine.store)  # None for the folder store
    return figures


def _latencies(engine: Engine, questions: list[str]) -> dict[str, float]:
    import numpy as np

    index = engine.index
    engine.ask(questions[0])
    timings: dict[str, list[float]] = {"query_embedding": [], "dense": [], "lexical": [], "ask_fused_highlighted": []}
    depth = min(len(index.chunks), engine.ranking.depth)
    for _ in range(2):
        for question in questions:
            began = time.perf_counter()
            vector = engine.embedder.embed([question])
            timings["query_embedding"].append(time.perf_counter() - began)
            began = time.perf_counter()
            index.dense_search(vector[0], depth)
            timings["dense"].append(time.perf_counter() - began)
            began = time.perf_counter()
            scores = index.lexical.scores(question)
            np.argpartition(-scores, min(depth, len(scores)) - 1)
            timings["lexical"].append(time.perf_counter() - began)
            began = time.perf_counter()
            engine.ask(question)
            timings["ask_fused_highlighted"].append(time.perf_counter() - began)
    out = {}
    for name, values in timings.items():
        ms = [value * 1000 for value in values]
        out[f"{name}_p50_ms"] = round(_percentile(ms, 50), 2)
        out[f"{name}_p95_ms"] = round(_percentile(ms, 95), 2)
    return out


def _approximate(index: Any, embedder: Any) -> dict[str, Any]:
    """The HNSW graph's recall@10, on the index itself or on one built to measure with the probes
    a build would choose its efSearch on (app.store.ann.probe_texts, embedded by `embedder`)."""
    from app.store import ann
    if index.manifest.vectors.get("type") == "hnsw":
        return {"ann_recall@10": index.manifest.vectors["recall@10"], "ann_built_to_measure": False}
    if index.faiss_index.ntotal < 1000:
        return {"ann_recall@10": None, "ann_built_to_measure": False}
    vectors = index.faiss_index.reconstruct_n(0, index.faiss_index.ntotal)
    probes = ann.probe_texts(index.chunks)
    _, description = ann.build_vector_index(vectors, embedder.embed(probes) if probes else vectors[:0], threshold=1)
    return {"ann_recall@10": description["recall@10"], "ann_ef_search": description["ef_search"],
            "ann_built_to_measure": True}


def cold_start(corpus: Path, store_args: list[str], question: str) -> float:
    """Seconds from a new `verbatim ask` process's start to its exit with the first answer."""
    began = time.perf_counter()
    subprocess.run([sys.executable, "-m", "app", "-q", "--corpus", str(corpus), *store_args,
                    "ask", "--json", "-k", "5", question], check=True, capture_output=True)
    return time.perf_counter() - began


COLUMNS = [("size", "size"), ("passages", "passages"), ("build_passages_per_s", "passages/s"),
           ("build_vs_model", "vs model"), ("index_mib", "index MiB"), ("peak_memory_build_mib", "build MiB"),
           ("peak_memory_serving_mib", "serving MiB"), ("database_memory_mib", "database MiB"),
           ("cold_start_s", "cold s"), ("dense_p50_ms", "dense ms"), ("lexical_p50_ms", "lexical ms"),
           ("ask_fused_highlighted_p50_ms", "ask p50"), ("ask_fused_highlighted_p95_ms", "ask p95"),
           ("ann_recall@10", "ANN recall@10")]


def table(results: list[dict[str, Any]]) -> str:
    rows = [[title for _, title in COLUMNS]]
    rows += [["-" if r.get(key) is None else str(r.get(key)) for key, _ in COLUMNS] for r in results]
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS))]
    return "\n".join("  ".join(cell.rjust(width) for cell, width in zip(row, widths)) for row in rows)
