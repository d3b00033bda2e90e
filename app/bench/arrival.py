"""A document added while replicas serve: `verbatim loadtest --add FILE [--add-after S]`.

`after_s` seconds into the clients' run, `verbatim add FILE` runs against the replicas' own
index (a folder, or a PostgreSQL collection), in its own process, as a maintainer would from
another shell. When it returns, each replica's `/api/health` is polled until it reports the
collection's new document count: a replica loads a newer generation at its next request, so
this is the time a user of that replica waits, at most, to be answered from the new document.
Then each replica is asked `question` (when given) through `POST /api/ask`, and the answer
says whether the new document is among the cited passages.

The clients go on asking all the while, past their share of questions until every replica was
watched (`finished`): their latencies during the add and the reload are
part of the run's percentiles (and the largest one shows what a reload costs a user).
Figures, in seconds: `add_s` (the command, from start to exit), and per replica
`seen_after_s` (from the add's exit to the replica reporting the new count; None when not
seen within `timeout_s`) and `cites_new_document`.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

POLL_S = 0.2


class AddDuringRun:
    """Runs the add on a timer thread and records what it and the replicas did; `result()` after
    the run joins it (waiting for the replicas at most `timeout_s` more)."""

    def __init__(self, corpus: Path, store_args: list[str], file: Path, after_s: float,
                 question: str | None = None, timeout_s: float = 600) -> None:
        self.corpus, self.store_args, self.file = corpus, store_args, file
        self.after_s, self.question, self.timeout_s = after_s, question, timeout_s
        self.figures: dict[str, Any] = {"file": str(file), "after_s": after_s}
        self._thread: threading.Thread | None = None
        self.finished = threading.Event()  # set when the add and the watching are over, however they ended

    def start(self, urls: list[str]) -> AddDuringRun:
        self._thread = threading.Thread(target=self._run, args=(urls,), daemon=True)
        self._thread.start()
        return self

    def result(self) -> dict[str, Any]:
        if self._thread is not None:
            self._thread.join(self.after_s + 2 * self.timeout_s)
        return self.figures

    def _run(self, urls: list[str]) -> None:
        try:
            before = [_health(url).get("documents") for url in urls]
            time.sleep(self.after_s)
            began = time.perf_counter()
            done = subprocess.run([sys.executable, "-m", "app", "-q", "--corpus", str(self.corpus),
                                   *self.store_args, "add", str(self.file)],
                                  capture_output=True, text=True, timeout=self.timeout_s, check=False)
            self.figures["add_s"] = round(time.perf_counter() - began, 2)
            self.figures["add_exit"] = done.returncode
            if done.returncode != 0:
                self.figures["add_error"] = (done.stderr or done.stdout).strip()[-500:]
                return
            added_at = time.perf_counter()
            self.figures["replicas"] = [self._watch(url, count, added_at) for url, count in zip(urls, before)]
        except Exception as exc:  # noqa: BLE001 - reported with the run's figures, never raised in a timer
            self.figures["error"] = f"{exc.__class__.__name__}: {exc}"[:500]
        finally:
            self.finished.set()

    def _watch(self, url: str, count_before: int | None, added_at: float) -> dict[str, Any]:
        """Seconds until the replica reports more documents than before, and whether it cites the new one."""
        entry: dict[str, Any] = {"url": url, "seen_after_s": None}
        deadline = added_at + self.timeout_s
        while time.perf_counter() < deadline:
            health = _health(url)
            if count_before is not None and (health.get("documents") or 0) > count_before:
                entry["seen_after_s"] = round(time.perf_counter() - added_at, 2)
                entry["generation"] = health.get("generation")
                break
            time.sleep(POLL_S)
        if self.question is not None and entry["seen_after_s"] is not None:
            entry["cites_new_document"] = _cites(url, self.question, _doc_id(self.file))
        return entry


def _health(url: str) -> dict[str, Any]:
    import httpx

    try:
        response = httpx.get(url.rstrip("/") + "/api/health", timeout=120)
        return dict(response.json()) if response.status_code == 200 else {}
    except (httpx.HTTPError, ValueError):
        return {}


def _doc_id(file: Path) -> str:
    from app.documents.corpus import doc_id_for

    return doc_id_for(file.name)


def _cites(url: str, question: str, doc_id: str) -> bool:
    import httpx

    response = httpx.post(url.rstrip("/") + "/api/ask", json={"question": question, "k": 5}, timeout=120)
    response.raise_for_status()
    return any(passage.get("doc_id") == doc_id for passage in response.json().get("passages", []))
