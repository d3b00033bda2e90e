"""The ONNX Runtime backend gives the same vectors as PyTorch (int8: nearly), and an index knows its backend."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.embed import SentenceTransformerEmbedder, configured_backend
from app.errors import ModelError
from tests.conftest import run_cli

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def texts(built_index: tuple[Path, Path]) -> list[str]:
    from app.store import load_index, read_manifest

    manifest = read_manifest(built_index[1])
    assert manifest is not None
    index = load_index(built_index[1], manifest)
    return [c.ranking_text for c in index.chunks] + [
        index.text(c.doc_id)[a:b] for c in index.chunks for a, b in c.sentences]


def test_onnx_matches_pytorch_and_int8_stays_close(texts: list[str], tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from app.onnx_backend import OnnxEmbedder

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
