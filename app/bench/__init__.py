"""Benchmarks: speed, memory and scale figures, printed and written as JSON, never asserted.

In: an engine, a store or a running server. Out: build and ask timings (p50/p95), memory, load-test
tallies, and the peer benchmark beside LangChain, LlamaIndex, Haystack and txtai.
"""
