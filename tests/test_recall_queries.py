"""The queries `bench --compare-stores` measures approximate search with (app.bench.stores.recall_queries)."""

from __future__ import annotations

from pathlib import Path

from app.bench.stores import recall_queries
from app.models.embed import HashingEmbedder
from app.store.build import build_index
from app.store.open import FolderStore


def test_the_sets_questions_come_first_then_sentences_of_the_documents_up_to_the_total(
        tiny_corpus: Path, tmp_path: Path) -> None:
    build_index(tiny_corpus, tmp_path / "index", HashingEmbedder(), multilingual="off")
    index = FolderStore(tmp_path / "index").load()
    questions = ["When do apples ripen?", "Who retired in June?"]
    queries = recall_queries(index, questions, 4)  # the corpus has two sentences a self-check would ask
    assert queries[:2] == questions and len(queries) == 4 and len(set(queries)) == 4
    texts = {doc.doc_id: index.text(doc.doc_id) for doc in index.manifest.documents}
    assert all(any(query in text for text in texts.values()) for query in queries[2:])  # verbatim sentences
    assert recall_queries(index, questions, 4) == queries  # the same every time
    assert recall_queries(index, questions * 3, 4) == (questions * 3)[:4]  # a long set is cut, nothing sampled
    every = recall_queries(index, [], 200)  # a tiny collection gives every sentence it has, once
    assert set(queries[2:]) <= set(every) and len(every) == len(set(every)) < 200
