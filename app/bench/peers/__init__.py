"""The peer benchmark's harness: Verbatim beside LangChain, LlamaIndex, Haystack and txtai.

Run it with `scripts/bench-peers` (see peers/run.py). The app never imports this package,
and the peers are never dependencies of the app: they live in their own `.venv-peers`.
"""
