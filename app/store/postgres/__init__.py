"""The database store: the whole index in PostgreSQL with pgvector, for several app replicas.

In: a `postgresql://` URL and the same build plan as the folder store. Out: a `LoadedIndex` read
from the database (HNSW for dense search, the BM25 files cached locally, and the multilingual
ranker's e5 vectors when the collection has it on).
"""
