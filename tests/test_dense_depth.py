"""How many passages a question takes from pgvector: 1,000, or 200 in a collection above 100,000
passages (app.store.postgres.index; figures in docs/postgres.md), unless the replica sets
VERBATIM_PG_DENSE_DEPTH."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.store.postgres import index as pgindex
from app.store.postgres.index import dense_depth


@pytest.mark.parametrize(("passages", "setting", "expected"), [
    (23, None, 1000), (100_000, None, 1000), (100_001, None, 200), (383_584, None, 200),
    (383_584, "1000", 1000), (23, "150", 150), (23, "5000", 1000), (23, "0", 1), (23, "many", 1000),
    (383_584, " ", 200)])
def test_the_depth_follows_the_collection_size_unless_the_replica_sets_it(
        passages: int, setting: str | None, expected: int, monkeypatch: pytest.MonkeyPatch) -> None:
    if setting is None:
        monkeypatch.delenv("VERBATIM_PG_DENSE_DEPTH", raising=False)
    else:
        monkeypatch.setenv("VERBATIM_PG_DENSE_DEPTH", setting)
    assert dense_depth(passages) == expected


@pytest.mark.postgres
def test_a_served_collection_takes_the_depth_of_its_size(
        tiny_corpus: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.test_pgstore import make_engine

    monkeypatch.delenv("VERBATIM_PG_DENSE_DEPTH", raising=False)
    engine = make_engine(tiny_corpus, pg_url)
    assert engine.index.minilm.depth == 1000  # type: ignore[attr-defined]
    monkeypatch.setattr(pgindex, "LARGE_COLLECTION", len(engine.index.chunks) - 1)  # as if it were large
    assert make_engine(tiny_corpus, pg_url).index.minilm.depth == pgindex.DENSE_DEPTH_LARGE  # type: ignore[attr-defined]
