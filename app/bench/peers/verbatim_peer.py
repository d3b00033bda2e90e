"""Verbatim through its own code, as `verbatim ask --json` runs it: the index built from the
corpus folder, then `Engine.ask` (both rankers, fusion, highlighting, abstention) and the
answer rendered to JSON. One configuration: its own 600-character passages."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from app.bench.peers.common import Job, K, Piece

PACKAGES = ("verbatim", "onnxruntime", "faiss-cpu", "bm25s", "torch")


def load_model(job: Job) -> Any:
    from app.models.embed import configured_backend

    model = configured_backend()[1]()
    getattr(model, "passages", None)  # where questions go through ONNX Runtime, load PyTorch for the build now
    return model


def _engine(job: Job, make_embedder: Any) -> Any:
    from app.answer.abstention import AbstentionRule
    from app.answer.engine import Engine
    from app.models.embed import configured_backend
    from app.paths import ABSTENTION_RULE

    corpus = Path(job.documents[0][1]).parent
    rule = AbstentionRule.load(ABSTENTION_RULE) if ABSTENTION_RULE.is_file() else None
    return Engine(corpus, Path(job.workdir) / "index", make_embedder=make_embedder, spec=configured_backend()[0],
                  log=lambda message: None, abstention=rule)


def _searcher(engine: Any) -> Any:
    from app.web.render import answer_to_dict

    def search(question: str) -> list[tuple[str, str]]:
        answer = engine.ask(question, K)
        json.dumps(answer_to_dict(answer))  # what the CLI and the API send
        return [(hit.chunk.doc_id, hit.chunk.text) for hit in answer.hits]

    return search


def build(job: Job, model: Any, documents: list[tuple[str, str]]) -> tuple[Any, list[Piece]]:
    engine = _engine(job, lambda: model)
    engine.build(reuse=False)
    pieces = [Piece(c.doc_id, c.start, c.end, c.ranking_text) for c in engine.index.chunks]
    return _searcher(engine), pieces


def open_saved(job: Job) -> Any:
    from app.models.embed import configured_backend

    engine = _engine(job, configured_backend()[1])
    engine.load()
    return _searcher(engine)
