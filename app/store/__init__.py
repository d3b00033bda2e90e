"""The index and its stores: chunks, vectors and BM25 kept in a folder (FAISS) or in PostgreSQL.

In: the corpus folder, an embedder and chunk settings (build, resume, add and remove documents).
Out: a loaded generation (`LoadedIndex`: chunks, dense and BM25 scorers) checked against its manifest.
"""
