"""The CUDA path: where a GPU is present the model runs on it by itself, with the CPU's vectors.

Skipped on machines without CUDA (CI, most laptops); run on a GPU machine with
`python -m pytest tests/test_gpu.py`.
"""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device on this machine"),
]


def _paragraphs(text: str) -> list[str]:
    return [part.strip() for part in text.split("\n\n") if len(part.strip()) > 40]


def test_the_model_moves_to_cuda_unasked_and_gives_the_cpu_vectors(speech_text: str) -> None:
    from app.models.embed import SentenceTransformerEmbedder

    texts = _paragraphs(speech_text)
    assert len(texts) > 20
    gpu = SentenceTransformerEmbedder()  # no device named: the one a user gets
    assert gpu.device == "cuda"
    assert next(gpu._model.parameters()).device.type == "cuda"
    on_gpu = gpu.embed(texts)
    on_cpu = SentenceTransformerEmbedder(device="cpu").embed(texts)
    cosines = (on_gpu * on_cpu).sum(axis=1)
    assert cosines.min() > 0.999, f"GPU and CPU vectors differ: min cosine {cosines.min():.5f}"


def test_onnx_runtime_takes_cuda_when_its_gpu_build_is_installed() -> None:
    onnxruntime = pytest.importorskip("onnxruntime")
    if "CUDAExecutionProvider" not in onnxruntime.get_available_providers():
        pytest.skip("onnxruntime here is the CPU build (onnxruntime-gpu is not installed)")
    from app.models.onnx import OnnxEmbedder

    embedder = OnnxEmbedder("onnx")
    assert embedder._session.get_providers()[0] == "CUDAExecutionProvider"
