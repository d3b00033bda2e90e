"""Haystack as its hybrid-retrieval guide builds it: DocumentSplitter, then
SentenceTransformersDocumentEmbedder into an InMemoryDocumentStore; at query time an
InMemoryBM25Retriever and an InMemoryEmbeddingRetriever (the question embedded by
SentenceTransformersTextEmbedder) joined by a DocumentJoiner in reciprocal-rank-fusion mode.
(The guide's optional cross-encoder ranker is left out: it is another model, which the
benchmark keeps the same for every system.) Telemetry is off (HAYSTACK_TELEMETRY_ENABLED).

Configurations: "default" is DocumentSplitter's own 200 words, no overlap; "600" is
Verbatim's passage size, about 95 words.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from app.bench.peers.common import Job, K, Piece

PACKAGES = ("haystack-ai", "sentence-transformers-haystack", "sentence-transformers", "torch")

SIZES = {"default": {}, "600": {"split_length": 95}}


def load_model(job: Job) -> Any:
    from haystack_integrations.components.embedders.sentence_transformers import (
        SentenceTransformersDocumentEmbedder,
        SentenceTransformersTextEmbedder,
    )

    documents = SentenceTransformersDocumentEmbedder(model=job.model, local_files_only=True, progress_bar=False)
    questions = SentenceTransformersTextEmbedder(model=job.model, local_files_only=True, progress_bar=False)
    documents.warm_up()
    questions.warm_up()
    return documents, questions


def _searcher(store: Any, question_embedder: Any) -> Any:
    from haystack import Pipeline
    from haystack.components.joiners import DocumentJoiner
    from haystack.components.retrievers.in_memory import InMemoryBM25Retriever, InMemoryEmbeddingRetriever

    pipeline = Pipeline()
    pipeline.add_component("text_embedder", question_embedder)
    pipeline.add_component("embedding_retriever", InMemoryEmbeddingRetriever(store, top_k=K))
    pipeline.add_component("bm25_retriever", InMemoryBM25Retriever(store, top_k=K))
    pipeline.add_component("joiner", DocumentJoiner(join_mode="reciprocal_rank_fusion", top_k=K))
    pipeline.connect("text_embedder.embedding", "embedding_retriever.query_embedding")
    pipeline.connect("embedding_retriever", "joiner")
    pipeline.connect("bm25_retriever", "joiner")

    def search(question: str) -> list[tuple[str, str]]:
        found = pipeline.run({"text_embedder": {"text": question}, "bm25_retriever": {"query": question}})
        return [(doc.meta["doc_id"], doc.content) for doc in found["joiner"]["documents"][:K]]

    return search


def build(job: Job, model: Any, documents: list[tuple[str, str]]) -> tuple[Any, list[Piece]]:
    from haystack import Document, Pipeline
    from haystack.components.preprocessors import DocumentSplitter
    from haystack.components.writers import DocumentWriter
    from haystack.document_stores.in_memory import InMemoryDocumentStore

    store = InMemoryDocumentStore()
    indexing = Pipeline()
    indexing.add_component("splitter", DocumentSplitter(**SIZES[job.config]))
    indexing.add_component("embedder", model[0])
    indexing.add_component("writer", DocumentWriter(store))
    indexing.connect("splitter", "embedder")
    indexing.connect("embedder", "writer")
    indexing.run({"splitter": {"documents": [Document(content=text, meta={"doc_id": doc_id})
                                             for doc_id, text in documents]}})
    store.save_to_disk(str(Path(job.workdir) / "store.json"))
    pieces = [Piece(d.meta["doc_id"], d.meta["split_idx_start"], d.meta["split_idx_start"] + len(d.content),
                    d.content) for d in store.filter_documents()]
    return _searcher(store, model[1]), pieces


def open_saved(job: Job) -> Any:
    from haystack.document_stores.in_memory import InMemoryDocumentStore
    from haystack_integrations.components.embedders.sentence_transformers import SentenceTransformersTextEmbedder

    questions = SentenceTransformersTextEmbedder(model=job.model, local_files_only=True, progress_bar=False)
    questions.warm_up()
    return _searcher(InMemoryDocumentStore.load_from_disk(str(Path(job.workdir) / "store.json")), questions)
