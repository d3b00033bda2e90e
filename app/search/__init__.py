"""Search: a question becomes ranked, non-overlapping passages with highlights and QPP features.

In: a question (with its conversation) and a `LoadedIndex`. Out: `Hit`s from dense and BM25 rankings
fused, after typo correction and follow-up context; the signals query performance prediction reads.
"""
