"""ONNX Runtime backend of the same model, chosen with VERBATIM_BACKEND=onnx or onnx-int8.

sentence-transformers' own ONNX backend needs `optimum-onnx`, whose only release pins
transformers < 4.58, which gradio 6 cannot live with; so the verified weights are exported
here with PyTorch's exporter (once, into a cache folder, atomically) and, for `onnx-int8`,
quantised with ONNX Runtime's dynamic int8 quantisation. Inference mirrors the
sentence-transformers pipeline of all-MiniLM-L6-v2: tokenise (max 256 tokens), mean-pool
the token embeddings over the attention mask, L2-normalise.

The vectors differ slightly from PyTorch's, so each backend has its own ModelSpec: an
index built with one backend is rebuilt, not mixed, when another is chosen.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.errors import ModelError
from app.models.spec import MINILM, ModelSpec, model_dir, verify_weights

if TYPE_CHECKING:
    import numpy as np

BATCH = 64
SPECS = {"onnx": replace(MINILM, name=f"{MINILM.name} (onnx)"),
         "onnx-int8": replace(MINILM, name=f"{MINILM.name} (onnx-int8)")}


def cache_folder() -> Path:
    root = os.environ.get("VERBATIM_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "verbatim")
    return Path(root) / "onnx" / MINILM.weights_sha256[:16]


def exported_model(quantized: bool) -> Path:
    """The ONNX file for the verified weights, exported (and quantised) on first use."""
    from filelock import FileLock

    folder = cache_folder()
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / ("model-int8.onnx" if quantized else "model.onnx")
    with FileLock(str(folder / ".lock")):
        plain = folder / "model.onnx"
        if not plain.is_file():
            _export(plain)
        if quantized and not target.is_file():
            import logging

            from onnxruntime.quantization import QuantType, quantize_dynamic

            partial = target.with_suffix(".onnx.tmp")
            logging.disable(logging.WARNING)  # its advice to pre-process applies to image models
            try:
                quantize_dynamic(str(plain), str(partial), weight_type=QuantType.QInt8, per_channel=True)
            finally:
                logging.disable(logging.NOTSET)
            os.replace(partial, target)
    return target


def _export(target: Path) -> None:
    import torch
    from transformers import AutoModel
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()
    directory = model_dir()
    verify_weights(directory)
    model = AutoModel.from_pretrained(str(directory), local_files_only=True).eval()

    class Encoder(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            return self.model(input_ids=input_ids, attention_mask=attention_mask,
                              token_type_ids=token_type_ids).last_hidden_state

    sample = torch.ones((2, 8), dtype=torch.long)
    names = ["input_ids", "attention_mask", "token_type_ids"]
    partial = target.with_suffix(".onnx.tmp")
    axes = {name: {0: "batch", 1: "tokens"} for name in [*names, "tokens"]}
    import warnings

    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer notes on shapes fixed by the sample; checked against PyTorch
        torch.onnx.export(Encoder(), (sample, sample, sample * 0), str(partial), input_names=names,
                          output_names=["tokens"], dynamic_axes=axes, opset_version=17, dynamo=False)
    os.replace(partial, target)


QUESTION_THREADS = 1  # see QuestionEncoder


class QuestionEncoder:
    """Questions through the fp32 export of the verified weights, on one thread.

    Its vectors are PyTorch's (largest difference 2e-7, cosine 0.9999999 on the eval
    questions), so it embeds questions against an index PyTorch built, under the same
    ModelSpec. A short question costs ~4 ms here against PyTorch's ~12 ms: per-call overhead,
    not arithmetic, dominates such inputs, and the `tokenizers` library is called directly.
    One thread: a question is too small to share, and a second thread only spins beside
    the server's other work (see app.models.embed on PyTorch's stalls).
    """

    spec = MINILM

    def __init__(self) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        directory = model_dir()
        max_tokens = int(json.loads((directory / "sentence_bert_config.json").read_text())["max_seq_length"])
        self._tokenizer = Tokenizer.from_file(str(directory / "tokenizer.json"))
        self._tokenizer.enable_truncation(max_tokens)
        self._tokenizer.enable_padding()
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = QUESTION_THREADS
        options.inter_op_num_threads = 1
        self._session = onnxruntime.InferenceSession(str(exported_model(quantized=False)), options,
                                                     providers=["CPUExecutionProvider"])

    def embed(self, texts: list[str], *, progress: bool = False) -> np.ndarray:
        """Normalised mean-pooled vectors, one row a text (float32, texts x 384)."""
        import numpy as np

        from app.models.pooling import mean_pool

        if not texts:
            return np.zeros((0, self.spec.dimension), dtype=np.float32)
        encoded = self._tokenizer.encode_batch(texts)
        feed = {"input_ids": np.array([e.ids for e in encoded], dtype=np.int64),
                "attention_mask": np.array([e.attention_mask for e in encoded], dtype=np.int64),
                "token_type_ids": np.array([e.type_ids for e in encoded], dtype=np.int64)}
        tokens = self._session.run(None, feed)[0]
        return np.ascontiguousarray(mean_pool(tokens, feed["attention_mask"]), dtype=np.float32)


class OnnxEmbedder:
    """all-MiniLM-L6-v2 through ONNX Runtime (its CUDA provider when installed and a GPU is present)."""

    def __init__(self, backend: str = "onnx-int8") -> None:
        if backend not in SPECS:
            raise ModelError(f"unknown ONNX backend {backend!r}; choose one of: {', '.join(SPECS)}")
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        try:
            import onnxruntime
        except ImportError as exc:
            raise ModelError("onnxruntime is not installed; run: scripts/setup") from exc
        from transformers import AutoTokenizer

        self.spec: ModelSpec = SPECS[backend]
        directory = model_dir()
        self._max_tokens = int(json.loads((directory / "sentence_bert_config.json").read_text())["max_seq_length"])
        self._tokenizer = AutoTokenizer.from_pretrained(str(directory), local_files_only=True)
        path = exported_model(quantized=backend.endswith("int8"))
        providers = [p for p in ("CUDAExecutionProvider", "CPUExecutionProvider")
                     if p in onnxruntime.get_available_providers()]
        self._session = onnxruntime.InferenceSession(str(path), providers=providers)

    def embed(self, texts: list[str], *, progress: bool = False) -> np.ndarray:
        """Mean of the token embeddings over the attention mask, normalised (the passage path, no spans)."""
        import numpy as np

        if not texts:
            return np.zeros((0, self.spec.dimension), dtype=np.float32)
        return self.embed_with_spans(texts, [[] for _ in texts])[0]

    def embed_with_spans(
        self, texts: list[str], pieces: Sequence[Sequence[str]]
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Passages and their sentences in one pass of the model (see app.models.pooling)."""
        from app.models.pooling import embed_with_spans

        return embed_with_spans(self._tokenizer, lambda feed: self._session.run(None, feed)[0], self._max_tokens,
                                BATCH, texts, pieces)
