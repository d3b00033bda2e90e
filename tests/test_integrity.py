"""The served index is the verified index: files damaged under a loaded engine never reach an answer.

Tiny corpus, tiny embedder; the real server under attack is in test_fault_injection.py.
Expected answers: "When do fishing boats return?" -> harbour.md's "Fishing boats return at dawn".
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from app.answer.engine import Engine
from app.errors import IndexStateError, UsageError
from app.models.embed import HashingEmbedder
from app.search.ranking import Filters
from app.search.validation import validate_text
from app.store.folder import SENTENCES, read_manifest

QUESTION = "When do fishing boats return?"


def engine_over(corpus: Path, index: Path) -> Engine:
    return Engine(corpus, index, make_embedder=HashingEmbedder, spec=HashingEmbedder.spec, log=lambda m: None)


def damage_file(index: Path, how: str) -> Path:
    manifest = read_manifest(index)
    assert manifest is not None
    path = index / manifest.generation / SENTENCES
    if how == "truncate":
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 3])
    elif how == "overwrite":
        path.write_bytes(os.urandom(path.stat().st_size))
    else:
        path.unlink()
    return path


def top_text(engine: Engine) -> str:
    return engine.ask(QUESTION, 1).hits[0].chunk.text


@pytest.mark.parametrize("how", ["truncate", "overwrite", "remove"])
def test_a_generation_in_memory_keeps_answering_from_the_verified_copy_and_says_so(
        tiny_corpus: Path, tmp_path: Path, how: str) -> None:
    engine = engine_over(tiny_corpus, tmp_path / "index")
    before = top_text(engine)
    assert "Fishing boats" in before and engine.damage is None
    path = damage_file(tmp_path / "index", how)
    assert top_text(engine) == before  # read at load, so nothing on disk can change it
    assert engine.damage is not None and str(path) in engine.damage and "verbatim index --rebuild" in engine.damage


@pytest.mark.parametrize("how", ["truncate", "overwrite", "remove"])
def test_a_mapped_generation_is_refused_until_a_rebuild_then_answers_again(
        tiny_corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str) -> None:
    monkeypatch.setenv("VERBATIM_MAP_ABOVE_MB", "0")  # every generation memory-mapped, as a large one is
    engine = engine_over(tiny_corpus, tmp_path / "index")
    before = top_text(engine)
    assert not engine.index.in_memory
    damage_file(tmp_path / "index", how)
    with pytest.raises(IndexStateError, match="verbatim index --rebuild"):
        engine.ask(QUESTION, 1)
    with pytest.raises(IndexStateError):  # and again: nothing damaged is read by a later question either
        engine.ask(QUESTION, 1)
    other = engine_over(tiny_corpus, tmp_path / "index")  # what `verbatim index --rebuild` does
    other.build(reuse=False)
    assert top_text(engine) == before  # the serving engine picked up the new generation
    assert engine.damage is None


def test_a_touched_but_unchanged_file_is_still_accepted(tiny_corpus: Path, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VERBATIM_MAP_ABOVE_MB", "0")
    engine = engine_over(tiny_corpus, tmp_path / "index")
    assert "Fishing boats" in top_text(engine)
    manifest = read_manifest(tmp_path / "index")
    assert manifest is not None
    path = tmp_path / "index" / manifest.generation / SENTENCES
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10**9))
    assert "Fishing boats" in top_text(engine) and engine.damage is None


@pytest.mark.parametrize(("value", "position", "kind"), [
    ("How many citizens were killed? \ud800", 32, "lone surrogate (U+D800)"),
    ("\udcffHow many", 1, "byte 0xFF"),  # a command-line byte that is not UTF-8 (surrogateescape)
    ("Сколько \udfff человек", 9, "U+DFFF"),
])
def test_text_that_utf8_cannot_hold_is_refused_naming_its_position(value: str, position: int, kind: str) -> None:
    with pytest.raises(UsageError) as refused:
        validate_text(value, "the question")
    assert f"at character {position}: " in str(refused.value) and kind in str(refused.value)
    assert validate_text("Сколько человек погибло? 😀", "the question")  # any real character passes


def test_every_text_field_of_a_question_is_checked(tiny_corpus: Path, tmp_path: Path) -> None:
    engine = engine_over(tiny_corpus, tmp_path / "index")
    with pytest.raises(UsageError, match="the question is not valid text at character 5"):
        engine.ask("When\ud800 do boats return?")
    with pytest.raises(UsageError, match="history item 2 is not valid text"):
        engine.ask("And then?", history=["When do boats return?", "x\udc80"])
    with pytest.raises(UsageError, match="a document id is not valid text"):
        engine.ask(QUESTION, filters=Filters(frozenset({"harbour\ud800"})))
    with pytest.raises(UsageError) as refused:
        engine.ask(QUESTION, filters=Filters(frozenset({"x" * 5_000_000})))
    assert len(str(refused.value)) < 400  # the unknown id is quoted by a short prefix, not echoed whole


def test_a_damaged_kept_text_is_never_served_and_a_rebuild_reads_the_file_again(
        tiny_corpus: Path, tmp_path: Path) -> None:
    import json

    from app.store.folder import TEXTS

    engine = engine_over(tiny_corpus, tmp_path / "index")
    hit = engine.ask(QUESTION, 1).hits[0]
    original = engine.index.text(hit.chunk.doc_id)
    entry = tmp_path / "index" / TEXTS / f"{engine.index.document(hit.chunk.doc_id).sha256}.json"
    data = json.loads(entry.read_text(encoding="utf-8"))
    data["text"] = data["text"].replace("Fishing", "Whaling")  # the same length: only the hash can tell
    entry.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(IndexStateError, match=r"stored text of .* is missing or damaged; run: verbatim index"):
        engine.index.text(hit.chunk.doc_id)  # what the reader view shows
    engine.build(reuse=False)  # index --rebuild: the damaged entry is not reused, the file is read again
    assert engine.index.text(hit.chunk.doc_id) == original
    assert "Whaling" not in entry.read_text(encoding="utf-8")
