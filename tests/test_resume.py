"""An interrupted build continues where it stopped, without embedding finished documents again (no model)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from app.models.embed import HashingEmbedder
from app.store import resume
from app.store.build import build_index
from app.store.folder import load_index, read_manifest

TOPICS = ["harbour", "orchard", "railway", "glacier", "library", "vineyard", "foundry", "meadow"]


class Interrupted(Exception):
    pass


class CountingEmbedder(HashingEmbedder):
    """Counts the texts it embeds; raises on the call after `stop_after` calls (a build cut short)."""

    def __init__(self, stop_after: int | None = None) -> None:
        self.calls = 0
        self.texts = 0
        self.seen: list[str] = []
        self.stop_after = stop_after

    def embed(self, texts: list[str], *, progress: bool = False) -> np.ndarray:
        if self.stop_after is not None and self.calls >= self.stop_after:
            raise Interrupted
        self.calls += 1
        self.texts += len(texts)
        self.seen += texts
        return super().embed(texts, progress=progress)


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "corpus"
    folder.mkdir()
    for number, topic in enumerate(TOPICS):
        paragraphs = [f"The {topic} report, part {part}. It counts {number * 100 + part} visitors. "
                      f"The {topic} committee met in week {part}." for part in range(6)]
        (folder / f"{topic}.md").write_text(f"# {topic.title()}\n\n" + "\n\n".join(paragraphs) + "\n")
    return folder


@pytest.fixture(autouse=True)
def small_groups(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(resume, "GROUP_PASSAGES", 1)  # one document per encode call


def _vectors(index_dir: Path) -> tuple[list[str], np.ndarray, np.ndarray]:
    manifest = read_manifest(index_dir)
    assert manifest is not None
    index = load_index(index_dir, manifest)
    passages = index.faiss_index.reconstruct_n(0, index.faiss_index.ntotal)
    return [c.chunk_id for c in index.chunks], passages, np.asarray(index.sentence_vectors)


def test_an_interrupted_build_resumes_without_embedding_finished_documents(corpus: Path, tmp_path: Path) -> None:
    whole = CountingEmbedder()
    build_index(corpus, tmp_path / "whole", whole)

    index_dir = tmp_path / "index"
    with pytest.raises(Interrupted):
        build_index(corpus, index_dir, CountingEmbedder(stop_after=3))
    assert read_manifest(index_dir) is None  # nothing was committed
    assert len(list((index_dir / resume.PARTIAL).glob("*.npz"))) == 3

    rest = CountingEmbedder()
    report = build_index(corpus, index_dir, rest)
    assert report.documents == len(TOPICS) and report.embedded == report.passages
    assert 0 < report.resumed < report.passages
    assert 0 < rest.texts < whole.texts  # only what the first run had not finished
    assert rest.calls == whole.calls - 3
    assert not (index_dir / resume.PARTIAL).exists()  # cleared once the build is committed
    ids, passages, sentences = _vectors(index_dir)
    expected_ids, expected_passages, expected_sentences = _vectors(tmp_path / "whole")
    assert ids == expected_ids
    np.testing.assert_array_equal(passages, expected_passages)
    np.testing.assert_array_equal(sentences, expected_sentences)


def test_a_torn_or_stale_saved_file_is_embedded_again(corpus: Path, tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    with pytest.raises(Interrupted):
        build_index(corpus, index_dir, CountingEmbedder(stop_after=3))
    saved = sorted((index_dir / resume.PARTIAL).glob("*.npz"), key=lambda p: p.stat().st_mtime_ns)
    assert len(saved) == 3  # foundry, glacier, harbour: the corpus is embedded in name order
    saved[1].write_bytes(b"not a numpy archive")  # glacier's, torn by a disk failure
    (corpus / "foundry.md").write_text("# Foundry\n\nA different foundry text now.\n")  # its saved file is stale

    rest = CountingEmbedder()
    build_index(corpus, index_dir, rest)
    embedded = " ".join(rest.seen)
    assert "different foundry" in embedded and "glacier report" in embedded
    assert "harbour" not in embedded.lower()  # the one intact saved document is reused
