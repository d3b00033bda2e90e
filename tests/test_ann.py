"""The vector index type follows the collection's size; approximate search reports a measured recall."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from app.models.embed import HashingEmbedder
from app.store import ann
from app.store.build import build_index
from app.store.folder import load_index, read_manifest


def _unit(rows: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(rows / np.linalg.norm(rows, axis=1, keepdims=True), dtype=np.float32)


def test_small_collections_use_exact_search(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VERBATIM_APPROXIMATE_FROM", raising=False)
    vectors = _unit(np.random.default_rng(1).normal(size=(500, 32)))
    index, description = ann.build_vector_index(vectors, vectors[:50])
    assert description == {"type": "exact"} and type(index).__name__ == "IndexFlatIP"


def test_large_collections_use_hnsw_with_the_recall_it_reports(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VERBATIM_APPROXIMATE_FROM", "1000")
    rng = np.random.default_rng(2)
    centres = rng.normal(size=(40, 48))
    vectors = _unit(centres[rng.integers(0, 40, 4000)] + 0.6 * rng.normal(size=(4000, 48)))
    probes = _unit(centres[rng.integers(0, 40, 300)] + 0.6 * rng.normal(size=(300, 48)))
    index, description = ann.build_vector_index(vectors, probes)
    assert description["type"] == "hnsw" and type(index).__name__ == "IndexHNSWFlat"
    assert description["recall@10"] >= ann.TARGET_RECALL

    fresh = _unit(centres[rng.integers(0, 40, 200)] + 0.6 * rng.normal(size=(200, 48)))  # not the probes
    exact = vectors @ fresh.T
    truth = np.argsort(-exact, axis=0)[:10].T
    _, found = index.search(fresh, 10)
    recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(truth.tolist(), found.tolist())])
    assert abs(recall - description["recall@10"]) < 0.05  # the reported figure holds on other questions


def test_an_approximate_index_is_written_described_and_loaded(
        tiny_corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VERBATIM_APPROXIMATE_FROM", "2")
    build_index(tiny_corpus, tmp_path / "index", HashingEmbedder())
    manifest = read_manifest(tmp_path / "index")
    assert manifest is not None and manifest.vectors["type"] == "hnsw"
    index = load_index(tmp_path / "index", manifest)
    assert index.faiss_index.hnsw.efSearch == manifest.vectors["ef_search"]
    query = HashingEmbedder().embed(["apples ripen in September"])
    _, rows = index.faiss_index.search(query, 1)
    assert "Apples ripen" in index.chunks[int(rows[0][0])].text


def test_bench_sizes_are_checked_before_anything_runs() -> None:
    from app.bench.scale import parse_sizes
    from app.errors import UsageError

    assert parse_sizes("1, 1000,ALL") == ["1", "1000", "all"]
    for bad in ("", "0", "ten", "1;1000", "-5"):
        with pytest.raises(UsageError, match="--sizes takes numbers"):
            parse_sizes(bad)


def test_a_kept_workdir_reports_the_build_that_completed_its_index(tmp_path: Path) -> None:
    from app.bench.scale import _build_figures
    from app.store.build import BuildReport

    resumed = BuildReport(documents=3, passages=100, embedded=100, reused=0, seconds=50.0, resumed=40)
    first = _build_figures(tmp_path, resumed, 50.0)
    assert first["build_embedded_passages"] == 60  # what this run embedded, not what it loaded
    assert first["build_passages_per_s"] == 1.2
    nothing_to_do = BuildReport(documents=3, passages=100, embedded=0, reused=100, seconds=0.5, written=False)
    again = _build_figures(tmp_path, nothing_to_do, 0.5)
    assert again == first | {"build_from_earlier_run": True}
    assert _build_figures(tmp_path / "elsewhere", nothing_to_do, 0.5)["build_s"] is None


def test_peak_memory_is_this_process_own() -> None:
    from app.bench.speed import peak_memory_mib

    assert 10 < peak_memory_mib() < 64 * 1024


@pytest.mark.slow
def test_bench_sizes_measures_a_kept_workdir_and_reuses_it(tmp_path: Path) -> None:
    import json

    from .conftest import run_cli

    command = ("bench", "--sizes", "1", "--workdir", str(tmp_path / "work"), "--json")
    first = run_cli(*command, timeout=600)
    assert first.returncode == 0, first.stderr
    (row,) = json.loads(first.stdout)["sizes"]
    assert row["size"] == "1" and row["passages"] > 10
    assert row["multilingual"] == {"setting": "auto", "ranker": True}  # the speech: small, so auto turns it on
    assert row["build_passages_per_s"] > 0 and row["model_passages_per_s"] > 0
    assert 0 < row["ask_fused_highlighted_p50_ms"] <= row["ask_fused_highlighted_p95_ms"]
    assert 0 < row["peak_memory_serving_mib"] <= row["peak_memory_mib"]
    assert (tmp_path / "work" / "size-1" / "index" / "manifest.json").is_file()
    again = run_cli(*command, timeout=600)
    assert again.returncode == 0, again.stderr
    (reused,) = json.loads(again.stdout)["sizes"]
    assert reused["build_from_earlier_run"] is True
    assert reused["build_s"] == row["build_s"]


def test_probe_questions_are_whole_sentences_of_the_passages_drawn_the_same_each_time(
        tiny_corpus: Path, tmp_path: Path) -> None:
    from app.passages.chunk import plain_text

    (tiny_corpus / "long.md").write_text("# Long\n\n" + " ".join(
        f"Sentence number {n} tells the reader about item {n} of the list." for n in range(300))
        + "\n\nThank you.\n", encoding="utf-8")
    build_index(tiny_corpus, tmp_path / "index", HashingEmbedder(), multilingual="off")
    manifest = read_manifest(tmp_path / "index")
    assert manifest is not None
    chunks = load_index(tmp_path / "index", manifest).chunks
    probes = ann.probe_texts(chunks, 50)
    assert probes == ann.probe_texts(chunks, 50) and len(probes) == 50 and len(set(probes)) == 50
    sentences = {plain_text(chunk.text[start - chunk.start:end - chunk.start]).strip()
                 for chunk in chunks for start, end in chunk.sentences}
    assert set(probes) <= sentences  # each one a sentence of a passage, as it reads
    assert all(len(probe.split()) >= ann.PROBE_WORDS for probe in probes) and "Thank you." not in probes
    assert sorted(ann.probe_texts(chunks[:1], 50)) == ["Fishing boats return at dawn with mackerel.",
                                                       "The harbour handled 1 200 ships in spring."]


def test_the_graph_s_ef_search_is_chosen_on_sentences_embedded_as_questions(
        tiny_corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VERBATIM_APPROXIMATE_FROM", "2")
    embedded: list[list[str]] = []

    class Recording(HashingEmbedder):
        def embed(self, texts: list[str], *, progress: bool = False) -> np.ndarray:
            embedded.append(list(texts))
            return super().embed(texts, progress=progress)

    build_index(tiny_corpus, tmp_path / "index", Recording())
    manifest = read_manifest(tmp_path / "index")
    assert manifest is not None
    probes = ann.probe_texts(load_index(tmp_path / "index", manifest).chunks)
    assert probes and probes in embedded  # embedded on their own, as a question is
    assert manifest.vectors["probe_queries"] == len(probes)
