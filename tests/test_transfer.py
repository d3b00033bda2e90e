"""Moving a collection between the folder store and PostgreSQL without embedding again
(`verbatim index --from SOURCE`), against a real PostgreSQL with pgvector and the hashing embedder.

The oracle is the source itself: the target answers every question exactly as the source did
(a Russian one through the multilingual ranker too), and its build embedded nothing (its
embedders, MiniLM's and multilingual-e5's, raise if called).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from app.answer.engine import Engine
from app.errors import IndexStateError, UsageError
from app.models.e5 import E5
from app.models.embed import HashingEmbedder
from app.passages.chunk import ChunkSettings
from app.search.ranking import Filters
from app.store import multilingual
from app.store.postgres import e5 as pg_e5
from app.store.transfer import take_from
from app.web.render import answer_to_dict
from tests.conftest import rounded
from tests.test_pgstore import QUESTIONS, make_engine

pytestmark = pytest.mark.postgres
RUSSIAN = "Когда рыбацкие лодки возвращаются со скумбрией?"  # answered by the multilingual ranker (mackerel)


class NeverEmbeds(HashingEmbedder):
    """Embeds questions, but fails any build that would embed a passage while `building` is set."""

    building = False

    def embed(self, texts: list[str], *, progress: bool = False) -> object:  # type: ignore[override]
        if NeverEmbeds.building:
            raise AssertionError(f"embedded {len(texts)} text(s): the move should have taken every vector")
        return super().embed(texts, progress=progress)


def same_answers(source: Engine, target: Engine) -> None:
    for question in [*QUESTIONS, RUSSIAN]:
        for filters in (Filters(), Filters(frozenset({"harbour"}))):
            expected = rounded(answer_to_dict(source.ask(question, 3, filters=filters)))
            assert rounded(answer_to_dict(target.ask(question, 3, filters=filters))) == expected


class NeverEmbedsE5:
    """The multilingual build's embedder during a move: the e5 vectors must all be taken too."""

    spec = E5

    def embed(self, texts: list[str], *, progress: bool = False) -> object:
        raise AssertionError(f"embedded {len(texts)} text(s) with e5: the move should have taken every e5 vector")


def move(source: Engine, target: Engine, where: str) -> None:
    moved, location = take_from(where, target.store, target.spec, target.settings)
    assert location == source.store.location
    NeverEmbeds.building = True
    try:
        with pytest.MonkeyPatch.context() as patch:  # both stores' multilingual builds
            patch.setattr(multilingual, "E5Passages", NeverEmbedsE5)
            patch.setattr(pg_e5, "E5Passages", NeverEmbedsE5)
            report = target.build()
    finally:
        NeverEmbeds.building = False
    passages = len(source.index.chunks)
    assert (moved.documents, moved.passages) == (len(source.index.manifest.documents), passages)
    assert (report.resumed, report.passages) == (passages, passages)  # NeverEmbeds: none embedded anew
    assert moved.multilingual == passages and getattr(target.index, "multilingual", None) is not None


def test_a_folder_index_moves_into_the_database_and_back_without_embedding(
        tiny_corpus: Path, pg_url: str, tmp_path: Path) -> None:
    folder = make_engine(tiny_corpus, None)
    folder.build()
    database = make_engine(tiny_corpus, pg_url, embedder=NeverEmbeds)
    move(folder, database, str(folder.store.location))
    same_answers(folder, database)
    assert database.index.text("harbour") == folder.index.text("harbour")

    back = make_engine(tiny_corpus, None, index=tmp_path / "back", embedder=NeverEmbeds)
    move(database, back, pg_url)
    same_answers(folder, back)


def test_a_move_cut_short_leaves_the_target_as_it_was_and_the_next_try_finishes(
        tiny_corpus: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from app.store import transfer

    folder = make_engine(tiny_corpus, None)
    folder.build()
    database = make_engine(tiny_corpus, pg_url, embedder=NeverEmbeds)
    real_seed = transfer.seed

    def cut_short(*args: object, **kwargs: object) -> object:
        def stop(done: int, total: int) -> None:
            if done == 1:
                raise KeyboardInterrupt  # killed after the first document's vectors
        return real_seed(*args, **kwargs, progress=stop)  # type: ignore[arg-type]

    monkeypatch.setattr(transfer, "seed", cut_short)
    with pytest.raises(KeyboardInterrupt):
        take_from(str(folder.store.location), database.store, database.spec, database.settings)
    assert database.store.read_manifest() is None  # nothing committed: no half collection is ever served
    monkeypatch.setattr(transfer, "seed", real_seed)
    move(folder, database, str(folder.store.location))
    same_answers(folder, database)


def test_a_source_built_otherwise_or_the_target_itself_is_refused_with_what_to_do(
        tiny_corpus: Path, pg_url: str, tmp_path: Path) -> None:
    other = make_engine(tiny_corpus, None, index=tmp_path / "other", settings=ChunkSettings(max_chars=300))
    other.build()
    database = make_engine(tiny_corpus, pg_url, embedder=NeverEmbeds)
    with pytest.raises(IndexStateError, match="chunking settings changed; build the target from the corpus"):
        take_from(str(tmp_path / "other"), database.store, database.spec, database.settings)
    with pytest.raises(UsageError, match="is the index being built"):
        take_from(pg_url, database.store, database.spec, database.settings)
    with pytest.raises(UsageError, match="no index there"):
        take_from(str(tmp_path / "nothing"), database.store, database.spec, database.settings)
