"""Adding, removing and re-syncing documents: incremental, and safe against bad files (no model)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from app.answer.engine import Engine
from app.errors import UsageError
from app.models.embed import HashingEmbedder
from app.search.ranking import Filters, RankingSettings
from app.store.folder import MANIFEST, TEXTS, read_manifest
from app.store.library import add_files, remove_document
from tests.documents_factory import make_report, write_docx, write_html, write_pdf

QUESTION = "Which pre-trial detention centre in Ridder had no heating and frostbite?"


def make_engine(corpus: Path, index: Path) -> Engine:
    return Engine(corpus, index, make_embedder=HashingEmbedder, spec=HashingEmbedder.spec,
                  ranking=RankingSettings(min_score=0.0), log=lambda message: None)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def fixtures(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("docs")
    report = make_report()
    return {
        "pdf": write_pdf(folder / "xyz-co4.pdf", report),
        "docx": write_docx(folder / "xyz-co4-word.docx", report),
        "html": write_html(folder / "xyz-press.html", report),
    }


@pytest.fixture
def library(tiny_corpus: Path, tmp_path: Path) -> Engine:
    engine = make_engine(tiny_corpus, tmp_path / "index")
    engine.build()
    return engine


def _state(engine: Engine) -> tuple[str, list[str]]:
    manifest = read_manifest(engine.index_dir)
    assert manifest is not None
    return manifest.generation, [doc.doc_id for doc in manifest.documents]


def test_add_indexes_only_the_new_documents_and_cites_page_and_paragraph(
        library: Engine, fixtures: dict[str, Path]) -> None:
    before = library.index.chunks
    outcome = add_files(library.corpus_dir, library.store.text_cache(), [fixtures["pdf"]], {"venue": "CAT 76"})
    assert outcome.added == ["xyz-co4"] and not outcome.failed
    report = library.build()
    assert report.added == ("xyz-co4",)
    assert report.reused == len(before)  # nothing indexed before is embedded again
    assert report.embedded == report.passages - len(before)
    answer = library.ask(QUESTION, k=3)
    top = answer.hits[0]
    assert top.chunk.doc_id == "xyz-co4"
    assert top.document.date is None  # the PDF states none; its CreationDate is the day it was written
    assert top.citation.endswith("CAT/C/XYZ/CO/4, CAT 76, p. 14, para. 41")
    assert library.index.text("xyz-co4")[top.chunk.start : top.chunk.end] == top.chunk.text


def test_near_identical_passages_of_other_documents_are_grouped(
        library: Engine, fixtures: dict[str, Path]) -> None:
    add_files(library.corpus_dir, library.store.text_cache(), [fixtures["pdf"], fixtures["docx"], fixtures["html"]], {})
    library.build()
    answer = library.ask(QUESTION, k=5)
    top = answer.hits[0]
    assert "Ridder" in top.chunk.text
    assert sorted(twin.chunk.doc_id for twin in top.also_in) == sorted(
        {"xyz-co4", "xyz-co4-word", "xyz-press"} - {top.chunk.doc_id})
    assert sum("Ridder" in hit.chunk.text for hit in answer.hits) == 1  # listed once, not three times
    only = library.ask(QUESTION, k=3, filters=Filters(frozenset({"xyz-press"})))
    assert {hit.chunk.doc_id for hit in only.hits} == {"xyz-press"} and not only.hits[0].also_in


def test_the_same_file_twice_is_recognised_and_skipped(library: Engine, fixtures: dict[str, Path]) -> None:
    add_files(library.corpus_dir, library.store.text_cache(), [fixtures["pdf"]], {})
    library.build()
    generation, _ = _state(library)
    renamed = library.corpus_dir.parent / "copy-of-report.pdf"
    shutil.copy(fixtures["pdf"], renamed)
    outcome = add_files(library.corpus_dir, library.store.text_cache(), [renamed], {})
    assert outcome.skipped == [f"{renamed}: already in the corpus as xyz-co4; skipped"]
    report = library.build()
    assert not report.written and _state(library)[0] == generation


def test_bad_files_are_left_out_and_the_good_ones_of_the_same_call_added(
        library: Engine, fixtures: dict[str, Path], tmp_path: Path) -> None:
    bad = tmp_path / "scan.pdf"
    bad.write_bytes(b"%PDF-1.4\n%broken")
    outcome = add_files(library.corpus_dir, library.store.text_cache(), [bad, fixtures["html"]], {})
    assert outcome.added == ["xyz-press"]
    assert len(outcome.failed) == 1 and outcome.failed[0].startswith("scan.pdf: ")
    assert not (library.corpus_dir / "scan.pdf").exists()


def test_a_failed_add_leaves_the_index_answering_as_before(library: Engine, tmp_path: Path) -> None:
    before = library.ask("When do fishing boats return?", k=2)
    state = _state(library)
    bad = tmp_path / "photo.txt"
    bad.write_bytes(b"\x89PNG\0\0")
    outcome = add_files(library.corpus_dir, library.store.text_cache(), [bad], {})
    assert outcome.failed and not outcome.added
    assert _state(library) == state
    assert make_engine(library.corpus_dir, library.index_dir).ask("When do fishing boats return?", k=2) == before


def test_remove_embeds_nothing_and_forgets_the_document(library: Engine, fixtures: dict[str, Path]) -> None:
    add_files(library.corpus_dir, library.store.text_cache(), [fixtures["pdf"]], {})
    library.build()
    sha = library.index.document("xyz-co4").sha256
    assert remove_document(library.corpus_dir, "xyz-co4") == "xyz-co4.pdf"
    report = library.build()
    assert report.removed == ("xyz-co4",) and report.embedded == 0
    assert "xyz-co4" not in _state(library)[1]
    assert not (library.index_dir / TEXTS / f"{sha}.json").exists()
    with pytest.raises(UsageError, match="no document 'xyz-co4'.*documents: harbour, orchard"):
        remove_document(library.corpus_dir, "xyz-co4")


def test_manual_edits_are_synced_by_content_hash(library: Engine) -> None:
    corpus = library.corpus_dir
    (corpus / "harbour.md").write_text("# Harbour report\n\nThe harbour froze in January.\n", encoding="utf-8")
    (corpus / "orchard.txt").unlink()
    (corpus / "meadow.md").write_text("Bees visit clover in May.\n", encoding="utf-8")
    assert library.stale_reasons() == ["document meadow is new", "document orchard was removed from the corpus",
                                       "document harbour changed"]
    report = library.build()
    assert (report.added, report.changed, report.removed) == (("meadow",), ("harbour",), ("orchard",))
    assert library.stale_reasons() == []


def test_an_edited_sidecar_updates_metadata_without_embedding(library: Engine) -> None:
    (library.corpus_dir / "orchard.txt.meta.json").write_text('{"title": "Orchard diary"}', encoding="utf-8")
    assert library.stale_reasons() == ["the metadata of orchard changed"]
    report = library.build()
    assert report.embedded == 0 and library.index.document("orchard").title == "Orchard diary"


def test_a_bad_file_in_the_corpus_is_reported_once_and_its_indexed_version_kept(library: Engine) -> None:
    corpus = library.corpus_dir
    (corpus / "notes.docx").write_bytes(b"not a zip")
    (corpus / "harbour.md").write_bytes(b"\xff\xfe broken \x00")
    report = library.build()
    assert sorted(f.split(":")[0] for f in report.failures) == ["harbour.md", "notes.docx"]
    assert "harbour" in _state(library)[1]  # the version indexed before the file broke still answers
    assert library.ask("fishing boats mackerel", k=1).hits[0].chunk.doc_id == "harbour"
    assert library.stale_reasons() == []  # known failures do not trigger a rebuild on every start
    manifest = json.loads((library.index_dir / MANIFEST).read_text())
    assert set(manifest["failures"]) == {"harbour.md", "notes.docx"}


def test_add_refuses_a_name_clash_and_replace_updates(library: Engine, tmp_path: Path) -> None:
    other = tmp_path / "elsewhere"
    other.mkdir()
    (other / "harbour.md").write_text("# Harbour report\n\nA new harbour text.\n", encoding="utf-8")
    outcome = add_files(library.corpus_dir, library.store.text_cache(), [other / "harbour.md"], {})
    assert outcome.failed == ["harbour.md: the corpus already holds a different version of it as document "
                              "harbour; pass --replace to update it"]
    outcome = add_files(library.corpus_dir, library.store.text_cache(), [other / "harbour.md"], {}, replace=True)
    assert outcome.added == ["harbour"]
    assert library.build().changed == ("harbour",)


def test_flags_become_the_sidecar_and_title_needs_one_file(library: Engine, fixtures: dict[str, Path]) -> None:
    meta = {"title": "Press release", "date": "2023-05-12"}
    add_files(library.corpus_dir, library.store.text_cache(), [fixtures["html"]], meta)
    sidecar = json.loads((library.corpus_dir / "xyz-press.html.meta.json").read_text())
    assert sidecar == meta
    with pytest.raises(UsageError, match="--title names one document but 2 files"):
        add_files(library.corpus_dir, library.store.text_cache(), [fixtures["pdf"], fixtures["docx"]], {"title": "X"})


def test_a_serving_engine_picks_up_a_document_added_by_another_process(
        library: Engine, fixtures: dict[str, Path]) -> None:
    serving = make_engine(library.corpus_dir, library.index_dir)
    assert "xyz-co4" not in {doc.doc_id for doc in serving.index.manifest.documents}
    add_files(library.corpus_dir, library.store.text_cache(), [fixtures["pdf"]], {})
    make_engine(library.corpus_dir, library.index_dir).build()  # as `verbatim add` in another process would
    answer = serving.ask(QUESTION, k=1, filters=Filters(frozenset({"xyz-co4"})))
    assert answer.hits[0].chunk.doc_id == "xyz-co4"
