"""The ONNX Runtime backend gives the same vectors as PyTorch (int8: nearly), and an index knows its backend."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.errors import ModelError
from app.models.embed import SentenceTransformerEmbedder, configured_backend
from tests.conftest import run_cli

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def texts(built_index: tuple[Path, Path]) -> list[str]:
    from app.store.folder import load_index, read_manifest

    manifest = read_manifest(built_index[1])
    assert manifest is not None
    index = load_index(built_index[1], manifest)
    return [c.ranking_text for c in index.chunks] + [
        index.text(c.doc_id)[a:b] for c in index.chunks for a, b in c.sentences]


def test_onnx_matches_pytorch_and_int8_stays_close(texts: list[str], tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from app.models.onnx import OnnxEmbedder

    monkeypatch.setenv("VERBATIM_CACHE", str(tmp_path / "cache"))
    reference = SentenceTransformerEmbedder().embed(texts)
    exact = (OnnxEmbedder("onnx").embed(texts) * reference).sum(axis=1)
    assert exact.min() > 0.9999
    close = (OnnxEmbedder("onnx-int8").embed(texts) * reference).sum(axis=1)
    assert close.mean() > 0.98 and close.min() > 0.95
    assert sorted(p.name for p in (tmp_path / "cache").rglob("*.onnx")) == ["model-int8.onnx", "model.onnx"]


def test_the_backend_is_a_setting_and_an_index_is_rebuilt_for_another(
        built_index: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VERBATIM_BACKEND", "tensorflow")
    with pytest.raises(ModelError, match="VERBATIM_BACKEND='tensorflow' is not a backend; use one of: torch"):
        configured_backend()
    monkeypatch.delenv("VERBATIM_BACKEND")
    corpus, _ = built_index
    env = {"VERBATIM_BACKEND": "onnx-int8", "VERBATIM_CACHE": str(tmp_path / "cache")}
    first = run_cli("--corpus", str(corpus), "--index", str(tmp_path / "index"), "index", env=env)
    assert first.returncode == 0, first.stderr
    again = run_cli("--corpus", str(corpus), "--index", str(tmp_path / "index"), "ask", "--json",
                    "How many people were killed?", env={"VERBATIM_CACHE": str(tmp_path / "cache")})
    assert again.returncode == 0, again.stderr
    assert "built with model sentence-transformers/all-MiniLM-L6-v2 (onnx-int8), not" in again.stderr
    assert '"passages"' in again.stdout or '"hits"' in again.stdout


def test_questions_through_onnx_runtime_get_pytorchs_vectors_and_rankings() -> None:
    """The default CPU embedder answers questions with ONNX Runtime against PyTorch-built vectors:
    that is only sound while its vectors are PyTorch's, lone or batched."""
    import numpy as np

    from app.evaluation.metrics import load_items
    from app.models.embed import PyTorchWithOnnxQuestions
    from tests.conftest import REPO

    questions = [item.question for name in ("speech.jsonl", "dev.jsonl")
                 for item in load_items(REPO / "eval" / name)]
    questions.append("word " * 400)  # past the model's 256 tokens: both cut it at the same place
    reference = SentenceTransformerEmbedder(device="cpu").embed(questions)  # over 64 texts: PyTorch
    default = PyTorchWithOnnxQuestions()
    lone = np.stack([default.embed([question])[0] for question in questions])
    batched = np.concatenate([default.embed(questions[i : i + 64]) for i in range(0, len(questions), 64)])
    for vectors in (lone, batched):
        assert np.abs(vectors - reference).max() < 1e-4
        assert (vectors * reference).sum(axis=1).min() > 0.9999
    passages = reference[:40]  # any fixed vectors: the order each question puts them in must not change
    assert ((lone @ passages.T).argsort(axis=1) == (reference @ passages.T).argsort(axis=1)).mean() > 0.99


def test_a_process_that_only_answers_never_loads_torch(built_index: tuple[Path, Path]) -> None:
    """Questions need ONNX Runtime only: no torch or sentence-transformers import (seconds of cold start)."""
    import subprocess
    import sys

    from tests.conftest import REPO

    if any(Path(node).exists() for node in ("/dev/nvidiactl", "/dev/dxg")):
        pytest.skip("with a GPU device present, the device is chosen by asking torch")
    corpus, index = built_index
    script = ("import sys; from app.cli.main import main; "
              f"code = main(['-q', '--corpus', {str(corpus)!r}, '--index', {str(index)!r}, 'ask', '--json', "
              "'How many citizens were killed?']); "
              "print('loaded:', sorted(m for m in ('torch', 'sentence_transformers') if m in sys.modules)); "
              "sys.exit(code)")
    done = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert '"passages"' in done.stdout
    assert done.stdout.rstrip().endswith("loaded: []")
