"""The peer benchmark's driver: `scripts/bench-peers [--corpora speech,ungdc] [--systems ...]`.

Runs in the app's `.venv`. For each corpus it runs every system in its own process (Verbatim
with `.venv`, the peers with `.venv-peers`), offline (HF_HUB_OFFLINE=1, and with no network at
all when `unshare --net` is available), first to build and time it, then cold to load its
saved index and answer once. It scores every system's answers the same way
`app/evaluation/metrics.py` does (a passage is relevant when it contains a gold quote after folding),
prints one table per corpus and writes the run into eval/reports/bench-peers.json (earlier
runs kept under "runs").
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from app.bench.peers.common import Job, K
from app.bench.peers.report import score, table
from app.paths import REPO_ROOT

REPO = REPO_ROOT
PEERS = ("langchain", "llamaindex", "haystack", "txtai")
SYSTEMS = ("verbatim", *PEERS)
OFFLINE = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1",
           "HAYSTACK_TELEMETRY_ENABLED": "False", "ANONYMIZED_TELEMETRY": "False", "TOKENIZERS_PARALLELISM": "false"}
UNGDC = REPO.parent / "shared" / "datasets" / "ungdc" / "ungdc-1946-2024.jsonl.gz"


def corpus(name: str, work: Path, ungdc: Path, statements: int) -> tuple[list[tuple[str, str]], list[Any]]:
    """(doc_id, path) of each document and the answerable questions of the corpus's set."""
    from app.bench.speed import materialize_ungdc
    from app.documents.corpus import doc_id_for, scan_corpus
    from app.evaluation.metrics import load_items

    if name == "speech":
        documents = [(f.doc_id, str(f.path)) for f in scan_corpus(REPO / "corpus")]
        items = [i for i in load_items(REPO / "eval" / "speech.jsonl") if i.answerable and not i.history]
        return documents, items
    if not ungdc.is_file():
        raise SystemExit(f"bench-peers: no UN General Debate corpus at {ungdc}; pass --ungdc PATH")
    paths = materialize_ungdc(ungdc, work / f"ungdc-{statements}", statements)
    return [(doc_id_for(p.name), str(p)) for p in paths], load_items(REPO / "eval" / "ungdc300.jsonl")


def isolation() -> list[str]:
    """`unshare --net` (no network at all) where this user may create a network namespace."""
    try:
        probe = subprocess.run(["unshare", "--net", "true"], capture_output=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return []
    return ["unshare", "--net"] if probe.returncode == 0 else []


def run_job(job: Job, python: str, prefix: list[str], work: Path) -> dict[str, Any]:
    path = Path(job.workdir) / f"job-{job.mode}.json"
    job = replace(job, spawned=time.time(), out=str(path.with_suffix(".out.json")))
    job.save(path)
    load = os.getloadavg()[0]
    env = {**os.environ, **OFFLINE, "PYTHONPATH": str(REPO)}
    done = subprocess.run([*prefix, python, "-m", "app.bench.peers.runner", str(path)], cwd=REPO, env=env,
                          capture_output=True, text=True)
    if done.returncode != 0:
        tail = done.stderr.strip()[-1500:]
        print(f"bench-peers: {job.system} ({job.config}, {job.mode}) failed:\n{tail}", file=sys.stderr)
        return {"error": tail}
    result = json.loads(Path(job.out).read_text(encoding="utf-8"))
    result["load_average"] = [round(load, 2), round(os.getloadavg()[0], 2)]  # 1-minute, before and after
    return result


def configs(system: str, wanted: list[str]) -> list[str]:
    return ["600"] if system == "verbatim" else [c for c in wanted if c in ("default", "600")]


def bench_corpus(name: str, args: argparse.Namespace, work: Path, prefix: list[str]) -> dict[str, Any]:
    from app.models.spec import model_dir

    documents, items = corpus(name, work, args.ungdc, args.statements)
    texts = {doc_id: Path(path).read_text(encoding="utf-8") for doc_id, path in documents}
    rows = []
    for system in args.systems:
        python = sys.executable if system == "verbatim" else args.peers_python
        for config in configs(system, args.configs):
            folder = work / name / f"{system}-{config}"
            folder.mkdir(parents=True, exist_ok=True)
            print(f"bench-peers: {name}: {system} ({config})", file=sys.stderr)
            job = Job(system, config, "build", tuple(documents), tuple(i.question for i in items), str(model_dir()),
                      str(folder), args.rounds, (1, 2), 0.0, "")
            built = run_job(job, python, prefix, work)
            cold = run_job(replace(job, mode="cold"), python, prefix, work) if "error" not in built else {}
            rows.append(score(built, cold, items, texts))
    return {"corpus": name, "documents": len(documents), "characters": sum(map(len, texts.values())),
            "questions": len(items), "rows": rows}


def machine() -> dict[str, Any]:
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor())
    memory = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                  if line.startswith("MemTotal"))
    return {"cpu": model, "cores": os.cpu_count(), "memory_gib": round(memory / 1048576, 1),
            "python": platform.python_version(), "os": platform.platform()}


def save(run: dict[str, Any], path: Path) -> None:
    """The run as the file's latest; earlier ones are kept (up to 20) under "runs"."""
    earlier: list[dict[str, Any]] = []
    if path.is_file():
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            earlier = [*data.get("runs", []), data["latest"]] if "latest" in data else []
        except (ValueError, KeyError):
            earlier = []
    path.write_text(json.dumps({"latest": run, "runs": earlier[-20:]}, indent=1) + "\n", encoding="utf-8")


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="scripts/bench-peers", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpora", default="speech,ungdc", help="speech, ungdc or both (default both)")
    parser.add_argument("--systems", default=",".join(SYSTEMS), help=f"any of {', '.join(SYSTEMS)}")
    parser.add_argument("--configs", default="default,600", help="peer settings: default, 600 or both")
    parser.add_argument("--ungdc", type=Path, default=UNGDC, help="ungdc-1946-2024.jsonl.gz")
    parser.add_argument("--statements", type=int, default=300, help="UN General Debate statements (default 300)")
    parser.add_argument("--rounds", type=int, default=3, help="times each question is timed per thread count")
    parser.add_argument("--peers-python", default=str(REPO / ".venv-peers" / "bin" / "python"))
    parser.add_argument("--out", type=Path, default=REPO / "eval" / "reports" / "bench-peers.json")
    parser.add_argument("--no-isolation", action="store_true", help="do not cut the runners off the network")
    args = parser.parse_args(argv)
    args.corpora = [c for c in args.corpora.split(",") if c]
    args.systems = [s for s in args.systems.split(",") if s]
    args.configs = [c for c in args.configs.replace("both", "default,600").split(",") if c]
    args.corpora = [c for c in ",".join(args.corpora).replace("both", "speech,ungdc").split(",") if c]
    unknown = ([s for s in args.systems if s not in SYSTEMS] + [c for c in args.corpora if c not in ("speech", "ungdc")]
               + [c for c in args.configs if c not in ("default", "600")])
    if unknown:
        parser.error(f"unknown system, corpus or config: {', '.join(unknown)}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    prefix = [] if args.no_isolation else isolation()
    run: dict[str, Any] = {"date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), "machine": machine(),
                           "network": "none (unshare --net)" if prefix else "not cut off", "k": K,
                           "corpora": []}
    with tempfile.TemporaryDirectory(prefix="bench-peers-") as scratch:
        for name in args.corpora:
            result = bench_corpus(name, args, Path(scratch), prefix)
            run["corpora"].append(result)
            print(table(result, run), flush=True)
    save(run, args.out)
    print(f"bench-peers: written to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
