"""LangChain as its documentation recommends for hybrid search: the documents split by
RecursiveCharacterTextSplitter, a FAISS vector store and a BM25Retriever (rank_bm25) combined
by an EnsembleRetriever (weighted reciprocal-rank fusion, equal weights).

Configurations: "default" is the splitter's own chunk_size 4,000 / chunk_overlap 200
characters; "600" is Verbatim's passage size with the same 5% overlap (30 characters).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from app.bench.peers.common import Job, K, Piece

PACKAGES = ("langchain-classic", "langchain-community", "langchain-text-splitters", "langchain-huggingface",
            "rank-bm25", "faiss-cpu", "sentence-transformers", "torch")

SIZES = {"default": {}, "600": {"chunk_size": 600, "chunk_overlap": 30}}


def load_model(job: Job) -> Any:
    from langchain_huggingface import HuggingFaceEmbeddings

    return HuggingFaceEmbeddings(model_name=job.model, model_kwargs={"device": "cpu", "local_files_only": True})


def _split(job: Job, documents: list[tuple[str, str]]) -> list[Any]:
    from langchain_core.documents import Document
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    splitter = RecursiveCharacterTextSplitter(add_start_index=True, **SIZES[job.config])
    return splitter.split_documents([Document(page_content=text, metadata={"doc_id": doc_id})
                                     for doc_id, text in documents])


def _searcher(chunks: list[Any], store: Any) -> Any:
    from langchain_classic.retrievers import EnsembleRetriever
    from langchain_community.retrievers import BM25Retriever

    bm25 = BM25Retriever.from_documents(chunks, k=K)
    ensemble = EnsembleRetriever(retrievers=[bm25, store.as_retriever(search_kwargs={"k": K})], weights=[0.5, 0.5])

    def search(question: str) -> list[tuple[str, str]]:
        return [(doc.metadata["doc_id"], doc.page_content) for doc in ensemble.invoke(question)[:K]]

    return search


def build(job: Job, model: Any, documents: list[tuple[str, str]]) -> tuple[Any, list[Piece]]:
    from langchain_community.vectorstores import FAISS

    chunks = _split(job, documents)
    store = FAISS.from_documents(chunks, model)
    store.save_local(str(Path(job.workdir) / "faiss"))
    pieces = [Piece(c.metadata["doc_id"], c.metadata["start_index"], c.metadata["start_index"] + len(c.page_content),
                    c.page_content) for c in chunks]
    return _searcher(chunks, store), pieces


def open_saved(job: Job) -> Any:
    """The FAISS store from disk; BM25Retriever has no saved form, so it is rebuilt from the split."""
    from langchain_community.vectorstores import FAISS

    store = FAISS.load_local(str(Path(job.workdir) / "faiss"), load_model(job), allow_dangerous_deserialization=True)
    return _searcher(_split(job, job.texts()), store)
