"""Build, load, staleness, crash safety and ranking, with the tiny deterministic embedder."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from app.answer.engine import Engine
from app.errors import IndexStateError, UsageError
from app.models.embed import HashingEmbedder
from app.models.spec import ModelSpec
from app.search.ranking import RankingSettings, rank_passages
from app.store.build import build_index
from app.store.folder import MANIFEST, SCHEMA_VERSION, load_index, read_manifest


def make_engine(corpus: Path, index: Path, **ranking: object) -> Engine:
    return Engine(corpus, index, make_embedder=HashingEmbedder, spec=HashingEmbedder.spec,
                  ranking=RankingSettings(**ranking), log=lambda message: None)  # type: ignore[arg-type]


def test_build_then_answer(tiny_corpus: Path, tmp_path: Path) -> None:
    engine = make_engine(tiny_corpus, tmp_path / "index", min_score=0.0)
    answer = engine.ask("When do fishing boats return with mackerel?", k=3)
    # "Fishing boats return at dawn with mackerel." is in harbour.md's first section.
    assert "mackerel" in answer.hits[0].chunk.text
    assert answer.hits[0].document.title == "Harbour report"
    for hit in answer.hits:
        source = (tiny_corpus / hit.document.path).read_text(encoding="utf-8")
        assert source[hit.chunk.start : hit.chunk.end] == hit.chunk.text


def test_citation_names_document_section_and_paragraph(tiny_corpus: Path, tmp_path: Path) -> None:
    engine = make_engine(tiny_corpus, tmp_path / "index", min_score=0.0)
    hit = engine.ask("lighthouse keeper retired", k=1).hits[0]
    # The lighthouse paragraph is the third paragraph, in section 2 (after *****).
    assert hit.citation == "Harbour report, sec. 2, para. 3"


def test_faiss_ranking_matches_numpy_brute_force(tiny_corpus: Path, tmp_path: Path) -> None:
    engine = make_engine(tiny_corpus, tmp_path / "index", fusion="dense", min_score=0.0)
    index = engine.index
    vectors = index.faiss_index.reconstruct_n(0, index.faiss_index.ntotal)
    query = HashingEmbedder().embed(["apples in september"])[0]
    hits = rank_passages(index, "apples in september", query, 3, engine.ranking).hits
    expected = np.argsort(-(vectors @ query), kind="stable")[:3]
    assert [index.chunks.index(h.chunk) for h in hits] == list(expected)
    assert [h.score for h in hits] == pytest.approx(sorted(vectors @ query, reverse=True)[:3])


def test_second_build_reuses_all_vectors(tiny_corpus: Path, tmp_path: Path) -> None:
    first = build_index(tiny_corpus, tmp_path / "index", HashingEmbedder())
    second = build_index(tiny_corpus, tmp_path / "index", HashingEmbedder())
    assert first.embedded == first.passages and second.embedded == 0
    (tiny_corpus / "orchard.txt").write_text("Plums in August.\n", encoding="utf-8")
    third = build_index(tiny_corpus, tmp_path / "index", HashingEmbedder())
    assert third.embedded == 1 and third.reused == third.passages - 1


def test_stale_index_is_detected_and_rebuilt(tiny_corpus: Path, tmp_path: Path) -> None:
    engine = make_engine(tiny_corpus, tmp_path / "index")
    engine.load()
    assert engine.stale_reasons() == []
    (tiny_corpus / "orchard.txt").write_text("Plums ripen in August.\n", encoding="utf-8")
    (tiny_corpus / "new.md").write_text("A new note.\n", encoding="utf-8")
    (tiny_corpus / "harbour.md").unlink()
    reasons = engine.stale_reasons()
    assert reasons == ["document new is new", "document harbour was removed from the corpus",
                       "document orchard changed"]
    fresh = make_engine(tiny_corpus, tmp_path / "index", min_score=0.0)
    assert "Plums" in fresh.ask("plums august").hits[0].chunk.text


def test_other_model_makes_index_stale(tiny_corpus: Path, tmp_path: Path) -> None:
    engine = make_engine(tiny_corpus, tmp_path / "index")
    engine.load()
    from app.models.spec import MINILM

    engine.spec = MINILM
    assert any("built with model test/hashing" in r for r in engine.stale_reasons())


def test_interrupted_build_leaves_previous_index_serving(
    tiny_corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    index_dir = tmp_path / "index"
    build_index(tiny_corpus, index_dir, HashingEmbedder())
    before = read_manifest(index_dir)
    (tiny_corpus / "orchard.txt").write_text("Plums.\n", encoding="utf-8")

    def crash(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt("killed between writing the files and switching to them")

    monkeypatch.setattr("app.store.build.commit_manifest", crash)
    with pytest.raises(KeyboardInterrupt):
        build_index(tiny_corpus, index_dir, HashingEmbedder())
    after = read_manifest(index_dir)
    assert after == before
    assert len(load_index(index_dir, after).chunks) == len(load_index(index_dir, before).chunks)


def test_corrupt_manifest_says_what_to_run(tiny_corpus: Path, tmp_path: Path) -> None:
    engine = make_engine(tiny_corpus, tmp_path / "index")
    engine.load()
    (tmp_path / "index" / MANIFEST).write_text("{ truncated", encoding="utf-8")
    with pytest.raises(IndexStateError, match="corrupt.*verbatim index --rebuild"):
        make_engine(tiny_corpus, tmp_path / "index").load()


def test_corrupt_vectors_file_is_refused(tiny_corpus: Path, tmp_path: Path) -> None:
    engine = make_engine(tiny_corpus, tmp_path / "index")
    engine.load()
    manifest = json.loads((tmp_path / "index" / MANIFEST).read_text())
    vectors = tmp_path / "index" / manifest["generation"] / "vectors.faiss"
    vectors.write_bytes(vectors.read_bytes()[:40])
    with pytest.raises(IndexStateError, match="missing or corrupt"):
        make_engine(tiny_corpus, tmp_path / "index").load()


def test_results_never_overlap(tiny_corpus: Path, tmp_path: Path) -> None:
    engine = make_engine(tiny_corpus, tmp_path / "index", min_score=0.0)
    hits = engine.ask("harbour ships apples pears lighthouse", k=10).hits
    spans = sorted((h.chunk.doc_id, h.chunk.start, h.chunk.end) for h in hits)
    for (d1, _, e1), (d2, s2, _) in zip(spans, spans[1:]):
        assert d1 != d2 or e1 <= s2


@pytest.mark.parametrize(("question", "k", "message"), [
    ("   ", 5, "the question is empty"),
    ("x" * 100_000, 5, "100,000 characters long; the limit is 1,000"),
    ("ok", 0, "k must be between 1 and 50; got 0"),
])
def test_bad_questions_are_refused(tiny_corpus: Path, tmp_path: Path, question: str, k: int,
                                   message: str) -> None:
    with pytest.raises(UsageError, match=message):
        make_engine(tiny_corpus, tmp_path / "index").ask(question, k)


def test_abstains_below_threshold(tiny_corpus: Path, tmp_path: Path) -> None:
    engine = make_engine(tiny_corpus, tmp_path / "index", min_score=0.5)
    answer = engine.ask("quantum chromodynamics")  # shares no word with any document
    assert answer.abstained and answer.hits, "passages are listed even when abstaining"


def test_rebuild_embeds_everything_and_keeps_old_index_until_done(
    tiny_corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    index_dir = tmp_path / "index"
    build_index(tiny_corpus, index_dir, HashingEmbedder())
    before = read_manifest(index_dir)
    report = build_index(tiny_corpus, index_dir, HashingEmbedder(), reuse=False)
    assert report.embedded == report.passages
    monkeypatch.setattr("app.store.build.write_generation", lambda *a, **k: (_ for _ in ()).throw(OSError("disk full")))
    with pytest.raises(OSError):
        build_index(tiny_corpus, index_dir, HashingEmbedder(), reuse=False)
    current = read_manifest(index_dir)
    assert current is not None and current != before  # the completed rebuild is still current
    assert load_index(index_dir, current).chunks


def test_index_in_an_older_format_is_rebuilt(tiny_corpus: Path, tmp_path: Path) -> None:
    engine = make_engine(tiny_corpus, tmp_path / "index")
    engine.load()
    manifest = json.loads((tmp_path / "index" / MANIFEST).read_text())
    manifest["schema_version"] = 1
    (tmp_path / "index" / MANIFEST).write_text(json.dumps(manifest))
    fresh = make_engine(tiny_corpus, tmp_path / "index")
    assert fresh.stale_reasons() == ["it was written in an older format"]
    assert fresh.index.manifest.schema_version == SCHEMA_VERSION


def test_ranking_settings_refuse_unknown_values() -> None:
    with pytest.raises(UsageError, match="fusion 'sum' is not one of qnorm, scaled, minmax, rrf, dense, lexical"):
        RankingSettings(fusion="sum")
    with pytest.raises(UsageError, match="dense_weight must be between 0 and 1; got 1.5"):
        RankingSettings(dense_weight=1.5)


def test_atomic_writes_leave_an_ordinary_file_and_no_temp(tmp_path: Path) -> None:
    from app.store.folder import write_atomic

    target = tmp_path / "new" / "folder" / "file.json"
    write_atomic(target, b"{}")
    write_atomic(target, b"[]")
    assert target.read_bytes() == b"[]"
    assert target.stat().st_mode & 0o777 == 0o644  # not the temp file's private 0600
    assert [p.name for p in target.parent.iterdir()] == ["file.json"]


class _OtherModel(HashingEmbedder):
    spec = ModelSpec("test/other-hashing", "1" * 64, 64)


def test_a_large_index_of_another_model_is_refused_not_embedded_again_on_the_way(
        tiny_corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from app.store import open as store_open

    build_index(tiny_corpus, tmp_path / "index", HashingEmbedder(), multilingual="off")
    built = read_manifest(tmp_path / "index")
    assert built is not None
    other = Engine(tiny_corpus, tmp_path / "index", make_embedder=_OtherModel, spec=_OtherModel.spec,
                   log=lambda message: None)
    monkeypatch.setattr(store_open, "REEMBED_UNASKED", 2)  # as if the collection were large
    with pytest.raises(IndexStateError, match=r"built with model test/hashing, not test/other-hashing; it is not "
                                              r"embedded again on the way \(3 passages\): run: verbatim --index .* "
                                              r"index --rebuild"):
        other.ask("When do apples ripen?", 1)
    (tiny_corpus / "glacier.md").write_text("# Glacier\n\nThe glacier retreated.\n", encoding="utf-8")
    with pytest.raises(IndexStateError, match="not test/other-hashing; it is not embedded again"):
        other.build(only=frozenset({"glacier"}))  # what `verbatim add` runs
    assert read_manifest(tmp_path / "index") == built  # untouched

    monkeypatch.setattr(store_open, "REEMBED_UNASKED", 2_000)  # a small one is simply built again
    assert other.ask("When do apples ripen?", 1).hits[0].chunk.doc_id == "orchard"
    rebuilt = read_manifest(tmp_path / "index")
    assert rebuilt is not None and rebuilt.model["name"] == "test/other-hashing"


def test_the_refusal_names_the_backend_the_index_was_built_with() -> None:
    from dataclasses import asdict

    from app.models.embed import MINILM, backend_of
    from app.models.onnx import SPECS

    assert backend_of(asdict(SPECS["onnx-int8"])) == "onnx-int8"
    assert backend_of(asdict(MINILM)) == "torch"
    assert backend_of(asdict(HashingEmbedder.spec)) is None
