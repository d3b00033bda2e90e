"""LlamaIndex as its BM25 retriever's documentation shows hybrid search: SentenceSplitter
nodes in a VectorStoreIndex (its in-memory vector store) and a BM25Retriever (bm25s, English
stemmer) fused by a QueryFusionRetriever in "reciprocal_rerank" mode, with `num_queries=1`
(no LLM writes extra queries; `Settings.llm = None`).

Configurations: "default" is SentenceSplitter's own chunk_size 1,024 / chunk_overlap 200
tokens (tiktoken, whose encoding ships inside llama-index-core, so nothing is fetched);
"600" is Verbatim's passage size, about 130 tokens, with the same ~20% overlap (25).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from app.bench.peers.common import Job, K, Piece

PACKAGES = ("llama-index-core", "llama-index-retrievers-bm25", "llama-index-embeddings-huggingface", "bm25s",
            "sentence-transformers", "torch")

SIZES = {"default": {}, "600": {"chunk_size": 130, "chunk_overlap": 25}}


def load_model(job: Job) -> Any:
    from llama_index.core import Settings
    from llama_index.embeddings.huggingface import HuggingFaceEmbedding

    Settings.llm = None  # the documented way to run without an LLM
    Settings.embed_model = HuggingFaceEmbedding(model_name=job.model, device="cpu")
    return Settings.embed_model


def _searcher(vector_index: Any, bm25: Any) -> Any:
    from llama_index.core.retrievers import QueryFusionRetriever
    from llama_index.core.schema import MetadataMode

    fusion = QueryFusionRetriever([vector_index.as_retriever(similarity_top_k=K), bm25], similarity_top_k=K,
                                  num_queries=1, mode="reciprocal_rerank", use_async=True)

    def search(question: str) -> list[tuple[str, str]]:
        return [(hit.node.metadata["doc_id"], hit.node.get_content(metadata_mode=MetadataMode.NONE))
                for hit in fusion.retrieve(question)[:K]]

    return search


def build(job: Job, model: Any, documents: list[tuple[str, str]]) -> tuple[Any, list[Piece]]:
    import Stemmer
    from llama_index.core import Document, VectorStoreIndex
    from llama_index.core.node_parser import SentenceSplitter
    from llama_index.core.schema import MetadataMode
    from llama_index.retrievers.bm25 import BM25Retriever

    hidden = ["doc_id"]  # an id, not text: kept out of what the model and the LLM see
    nodes = SentenceSplitter(**SIZES[job.config]).get_nodes_from_documents(
        [Document(text=text, metadata={"doc_id": doc_id}, excluded_embed_metadata_keys=hidden,
                  excluded_llm_metadata_keys=hidden) for doc_id, text in documents])
    vector_index = VectorStoreIndex(nodes)
    bm25 = BM25Retriever.from_defaults(nodes=nodes, similarity_top_k=K, stemmer=Stemmer.Stemmer("english"),
                                       language="english")
    vector_index.storage_context.persist(persist_dir=str(Path(job.workdir) / "storage"))
    bm25.persist(str(Path(job.workdir) / "bm25"))
    pieces = [Piece(n.metadata["doc_id"], n.start_char_idx or 0, n.end_char_idx or 0,
                    n.get_content(metadata_mode=MetadataMode.EMBED)) for n in nodes]
    return _searcher(vector_index, bm25), pieces


def open_saved(job: Job) -> Any:
    from llama_index.core import StorageContext, load_index_from_storage
    from llama_index.retrievers.bm25 import BM25Retriever

    load_model(job)
    storage = StorageContext.from_defaults(persist_dir=str(Path(job.workdir) / "storage"))
    return _searcher(load_index_from_storage(storage), BM25Retriever.from_persist_dir(str(Path(job.workdir) / "bm25")))
