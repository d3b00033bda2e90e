"""The repository's own paths: where the corpus, the index and the eval files live by default.

One small module at the bottom of the layers, so the CLI, the evaluation and the benchmarks
all read the same paths without importing one another. Nothing here touches the disk.
"""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
CORPUS = REPO_ROOT / "corpus"  # default corpus folder (VERBATIM_CORPUS, --corpus)
INDEX = REPO_ROOT / "index"  # default index folder (VERBATIM_INDEX, --index)
EVAL = REPO_ROOT / "eval"
ABSTENTION_RULE = EVAL / "abstention.json"  # fitted by: verbatim eval --calibrate
BASELINE = EVAL / "baseline.json"
SPEECH_SET = EVAL / "speech.jsonl"
CALIBRATION_SETS = tuple(EVAL / f"{name}.jsonl" for name in ("tuning", "dev", "heldout-v1"))
BEIR_CACHE = EVAL / ".cache" / "beir"  # BEIR sets materialised as corpora
SHARED_DATASETS = REPO_ROOT.parent / "shared" / "datasets"  # ../shared beside the checkout
SCIFACT = SHARED_DATASETS / "beir" / "scifact"
UNGDC = SHARED_DATASETS / "ungdc" / "ungdc-1946-2024.jsonl.gz"
# Questions in other languages about the speech, with off-topic ones: their per-language figures join the gate
CROSSLANG_SETS = (EVAL / "crosslang-dev.jsonl", EVAL / "crosslang-dev-offtopic.jsonl")
