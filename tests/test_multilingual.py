"""The multilingual ranker in the folder index: setting, files, manifest check, resume, answers."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pytest

from app.answer.engine import Engine
from app.errors import IndexStateError
from app.models.e5 import E5
from app.models.embed import HashingEmbedder
from app.search.ranking import RankingSettings
from app.store.build import build_index
from app.store.e5index import E5_SENTENCES, E5_VECTORS
from app.store.folder import MANIFEST, DocumentRecord, load_index, read_manifest
from app.store.multilingual import build_vectors, setting_of, summary, wanted
from app.store.resume import PARTIAL
from tests.conftest import run_cli

RUSSIAN_NOTE = """# Справка о ремонте школ

Летом в Павлодарской области отремонтировали сорок две школы. Работы оплатил областной бюджет.

В каждой отремонтированной школе заменили окна и крышу. Спортивные залы получили новое освещение.

Осенью комиссия проверила качество работ и нашла нарушения в трёх школах.
"""


def make_engine(corpus: Path, index: Path) -> Engine:
    return Engine(corpus, index, make_embedder=HashingEmbedder, spec=HashingEmbedder.spec,
                  ranking=RankingSettings(min_score=0.0), log=lambda message: None)


def record(language: str | None) -> DocumentRecord:
    return DocumentRecord("d", "d.md", "0" * 64, "md", "D", None, None, None, language, None, 1)


def test_auto_is_on_for_small_or_not_english_collections() -> None:
    assert wanted("auto", [record("en")], 100)
    assert not wanted("auto", [record("en"), record(None)], 5000)
    assert wanted("auto", [record("en"), record("ru")], 5000)
    assert not wanted("auto", [record("en")] * 40 + [record("la")], 5000)  # one misidentified in a large one
    assert wanted("on", [record("en")], 5000) and not wanted("off", [record("ru")], 10)


def test_build_writes_e5_files_named_in_the_manifest(tiny_corpus: Path, tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    build_index(tiny_corpus, index_dir, HashingEmbedder())
    manifest = read_manifest(index_dir)
    assert manifest is not None and manifest.multilingual == {"setting": "auto", "model": asdict(E5)}
    assert {E5_VECTORS, E5_SENTENCES} <= set(manifest.files)
    loaded = load_index(index_dir, manifest)
    assert loaded.multilingual is not None
    assert loaded.multilingual.faiss_index.ntotal == len(loaded.chunks)
    assert loaded.multilingual.sentence_vectors.shape == (sum(len(c.sentences) for c in loaded.chunks), 384)
    assert "on (auto" in summary(manifest)


def test_setting_is_kept_and_vectors_reused(tiny_corpus: Path, tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    build_index(tiny_corpus, index_dir, HashingEmbedder(), multilingual="off")
    manifest = read_manifest(index_dir)
    assert manifest is not None and manifest.multilingual == {"setting": "off", "model": None}
    assert E5_VECTORS not in manifest.files and load_index(index_dir, manifest).multilingual is None
    again = build_index(tiny_corpus, index_dir, HashingEmbedder())  # no setting given: stays off
    assert not again.written and setting_of(read_manifest(index_dir)) == "off"
    on = build_index(tiny_corpus, index_dir, HashingEmbedder(), multilingual="on")
    assert on.written and on.embedded == 0  # MiniLM's vectors reused; only e5's were made
    first = load_index(index_dir, read_manifest(index_dir))  # type: ignore[arg-type]
    (tiny_corpus / "new.md").write_text("# New\n\nA new paragraph about ships.\n", encoding="utf-8")
    build_index(tiny_corpus, index_dir, HashingEmbedder())
    second = load_index(index_dir, read_manifest(index_dir))  # type: ignore[arg-type]
    assert second.multilingual is not None and first.multilingual is not None
    rows = second.rows_by_document["harbour"]
    old_rows = first.rows_by_document["harbour"]
    assert np.array_equal(second.multilingual.faiss_index.reconstruct_batch(np.asarray(rows)),
                          first.multilingual.faiss_index.reconstruct_batch(np.asarray(old_rows)))


def test_another_multilingual_model_is_refused_with_what_to_run(tiny_corpus: Path, tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    build_index(tiny_corpus, index_dir, HashingEmbedder())
    data = json.loads((index_dir / MANIFEST).read_text(encoding="utf-8"))
    data["multilingual"]["model"]["weights_sha256"] = "f" * 64
    data["multilingual"]["model"]["name"] = "another/e5"
    (index_dir / MANIFEST).write_text(json.dumps(data), encoding="utf-8")
    manifest = read_manifest(index_dir)
    assert manifest is not None
    with pytest.raises(IndexStateError, match=r"made by another/e5.*run: verbatim index --rebuild"):
        load_index(index_dir, manifest)
    engine = make_engine(tiny_corpus, index_dir)
    assert any("another/e5" in reason for reason in engine.stale_reasons())
    engine.ask("Когда возвращаются рыбацкие лодки?")  # the engine rebuilds the stale index, then answers
    assert read_manifest(index_dir).multilingual["model"] == asdict(E5)  # type: ignore[union-attr]


class Exploding:
    spec = E5

    def embed(self, texts: list[str], *, progress: bool = False) -> np.ndarray:
        raise AssertionError("embedded again although the interrupted build had saved the vectors")


def test_e5_embedding_resumes_from_saved_vectors(tiny_corpus: Path, tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    build_index(tiny_corpus, index_dir, HashingEmbedder(), multilingual="off")
    loaded = load_index(index_dir, read_manifest(index_dir))  # type: ignore[arg-type]
    order = [(doc, [loaded.chunks[row] for row in rows]) for doc, rows in loaded.rows_by_document.items()]
    passages, sentences, embedded = build_vectors(index_dir, order, None, loaded.text, False)
    assert embedded == len(loaded.chunks) and list((index_dir / PARTIAL).glob("*.npz"))
    again, again_sentences, _ = build_vectors(index_dir, order, None, loaded.text, False, Exploding())
    assert np.array_equal(again, passages) and np.array_equal(again_sentences, sentences)


def test_question_in_russian_gets_english_passages_with_the_notice(tiny_corpus: Path, tmp_path: Path) -> None:
    engine = make_engine(tiny_corpus, tmp_path / "index")
    answer = engine.ask("Когда рыбацкие лодки возвращаются со скумбрией?", k=3)
    assert answer.language == "ru"
    assert answer.notice == ("Your question is in Russian; the documents are in English, "
                             "so the passages are quoted in English.")
    hit = answer.hits[0]
    assert "mackerel" in hit.chunk.text
    source = (tiny_corpus / hit.document.path).read_text(encoding="utf-8")
    assert source[hit.chunk.start : hit.chunk.end] == hit.chunk.text  # quoted as written, not translated
    assert hit.highlights and all(hit.chunk.start <= a < b <= hit.chunk.end for a, b in hit.highlights)
    marked = " ".join(source[a:b] for a, b in hit.highlights)
    assert "mackerel" in marked


def test_calibrating_the_english_rule_leaves_questions_in_other_languages_out(tiny_corpus: Path,
                                                                               tmp_path: Path) -> None:
    """A question in another language carries its own rule's values (e5 cosine, word coverage), not
    the English rule's predictors: `eval --calibrate` must not fit the English rule on them."""
    from app.evaluation.calibration import observe

    engine = make_engine(tiny_corpus, tmp_path / "index")
    questions = tmp_path / "set.jsonl"
    questions.write_text(
        json.dumps({"id": "ru", "question": "Когда рыбацкие лодки возвращаются со скумбрией?",
                    "quotes": [], "kind": "off-topic"}, ensure_ascii=False) + "\n"
        + json.dumps({"id": "en", "question": "When do the fishing boats come back?", "quotes": [],
                      "kind": "off-topic"}) + "\n", encoding="utf-8")
    seen = {observed.item.id: observed for observed in observe(engine, [questions], None)}
    assert seen["ru"].features == {} and "score" in engine.ask(seen["ru"].item.question).features
    assert "cosine" in seen["en"].features


def test_without_the_ranker_the_old_notice_stays(tiny_corpus: Path, tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    build_index(tiny_corpus, index_dir, HashingEmbedder(), multilingual="off")
    answer = make_engine(tiny_corpus, index_dir).ask("Когда рыбацкие лодки возвращаются со скумбрией?")
    assert answer.level == "none" and "Ask in English" in answer.notice


@pytest.mark.slow
def test_speech_answers_russian_and_kazakh_and_abstains_off_topic(built_index: tuple[Path, Path]) -> None:
    corpus, index = built_index
    engine = Engine(corpus, index, log=lambda message: None)
    killed = engine.ask("Сколько сотрудников правоохранительных органов погибло?")
    assert killed.level == "answered" and "Russian" in killed.notice
    assert any("19 law enforcement officers were killed" in hit.chunk.text for hit in killed.hits[:5])
    burned = engine.ask("Қанша көлік өртелді?")
    assert burned.level == "answered" and "Kazakh" in burned.notice
    assert any("765 vehicles were burned" in hit.chunk.text for hit in burned.hits[:5])
    weather = engine.ask("Какая погода будет завтра в Париже?")
    assert weather.level == "none" and len(weather.hits) <= 1
    # off-topic questions whose best e5 cosine alone passed their language's cut: their words are
    # not the speech's (app.search.coverage)
    for question in ("Бешбармақты қалай дайындайды?", "remedios caseros para dormir mejor"):
        off_topic = engine.ask(question)
        assert off_topic.level == "none" and off_topic.features["term_shortfall"] < burned.features["term_shortfall"]


@pytest.mark.slow
def test_docs_and_index_show_the_setting(built_index: tuple[Path, Path]) -> None:
    corpus, index = built_index
    shown = run_cli("--corpus", str(corpus), "--index", str(index), "docs")
    assert shown.returncode == 0 and "multilingual ranker (questions in other languages): on (auto" in shown.stdout
    wrong = run_cli("--corpus", str(corpus), "--index", str(index), "index", "--multilingual", "maybe")
    assert wrong.returncode == 2 and "invalid choice: 'maybe'" in wrong.stderr




@pytest.mark.slow
def test_a_russian_document_is_cited_for_russian_and_english_questions(
        built_index: tuple[Path, Path], tmp_path: Path) -> None:
    import shutil

    corpus, index = tmp_path / "corpus", tmp_path / "index"
    shutil.copytree(built_index[0], corpus)
    shutil.copytree(built_index[1], index)
    note = tmp_path / "schools-ru.md"
    note.write_text(RUSSIAN_NOTE, encoding="utf-8")
    added = run_cli("--corpus", str(corpus), "--index", str(index), "add", str(note), "--language", "ru")
    assert added.returncode == 0, added.stderr
    engine = Engine(corpus, index, log=lambda message: None)
    source = (corpus / "schools-ru.md").read_text(encoding="utf-8")
    for question in ("Сколько школ отремонтировали в Павлодарской области?",
                     "How many schools were repaired in the Pavlodar region?"):
        answer = engine.ask(question, k=5)
        assert answer.level == "answered", question
        hit = next(h for h in answer.hits if h.document.doc_id == "schools-ru")
        assert hit.rank <= 3, question
        assert source[hit.chunk.start : hit.chunk.end] == hit.chunk.text
        assert "сорок две школы" in hit.chunk.text and 1 in hit.chunk.paragraphs
        marked = " ".join(source[a:b] for a, b in hit.highlights)
        assert "сорок две школы" in marked, (question, marked)


def test_a_mapped_generation_searches_its_e5_vectors(tiny_corpus: Path, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    index_dir = tmp_path / "index"
    build_index(tiny_corpus, index_dir, HashingEmbedder())
    held = load_index(index_dir, read_manifest(index_dir))  # type: ignore[arg-type]
    monkeypatch.setenv("VERBATIM_MAP_ABOVE_MB", "0")
    mapped = load_index(index_dir, read_manifest(index_dir))  # type: ignore[arg-type]
    assert held.in_memory and not mapped.in_memory
    assert held.multilingual is not None and mapped.multilingual is not None
    query = held.multilingual.sentence_vectors_of(0)[0].astype(np.float32)
    assert mapped.multilingual.dense_search(query, 3) == held.multilingual.dense_search(query, 3)


def test_a_russian_note_in_an_english_collection_is_found_from_english_with_russian_highlights(
        tiny_corpus: Path, tmp_path: Path) -> None:
    (tiny_corpus / "schools-ru.md").write_text(RUSSIAN_NOTE, encoding="utf-8")
    (tiny_corpus / "schools-ru.md.meta.json").write_text('{"language": "ru"}', encoding="utf-8")
    engine = make_engine(tiny_corpus, tmp_path / "index")
    source = (tiny_corpus / "schools-ru.md").read_text(encoding="utf-8")
    for question in ("How many schools were repaired in the Pavlodar region?",
                     "Сколько школ отремонтировали в Павлодарской области?"):
        answer = engine.ask(question, k=3)
        assert answer.notice == "" and not answer.abstained, question  # ru is one of the collection's languages
        hit = answer.hits[0]
        assert hit.document.doc_id == "schools-ru", question
        assert source[hit.chunk.start : hit.chunk.end] == hit.chunk.text
        marked = " ".join(source[a:b] for a, b in hit.highlights)
        assert "сорок две школы" in marked, (question, marked)
