"""CPU time and memory of other processes (an app server, a database server), via psutil.

`verbatim loadtest` divides a server's CPU seconds over a run by the answers it gave;
`verbatim bench` reports the memory a database server holds. A PostgreSQL server is a
tree of processes (the postmaster and one backend per connection, plus a few workers)
sharing its buffer cache: its memory is the sum of their proportional set sizes (PSS,
shared pages divided among the processes sharing them), so shared buffers count once.
"""

from __future__ import annotations

import threading
from typing import Any


def _tree(pid: int) -> list[Any]:
    import psutil

    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.Error:
        return []


def cpu_seconds(pid: int, tree: bool = False) -> float | None:
    """User + system CPU seconds of a process so far (with `tree`: its children too, live or
    exited and waited for); None when it is gone or cannot be read."""
    import psutil

    total = 0.0
    processes = _tree(pid) if tree else _tree(pid)[:1]
    if not processes:
        return None
    for number, process in enumerate(processes):
        try:
            times = process.cpu_times()
        except psutil.Error:
            continue
        total += times.user + times.system
        if number == 0 and tree:
            total += times.children_user + times.children_system
    return total


def memory_mib(pid: int, tree: bool = False) -> float | None:
    """Proportional set size (MiB) of a process, or of it and its children; None when unreadable."""
    import psutil

    total = 0
    processes = _tree(pid) if tree else _tree(pid)[:1]
    if not processes:
        return None
    for process in processes:
        try:
            info = process.memory_full_info()
        except psutil.Error:
            continue
        total += getattr(info, "pss", info.rss)
    return round(total / 2**20, 1)


class CpuMeter:
    """Samples a process's CPU seconds every `interval_s` from `start()` to `stop()`, so that a
    process killed meanwhile still counts what it had used up to its last sample."""

    def __init__(self, pid: int, tree: bool = False, interval_s: float = 0.25) -> None:
        self.pid, self.tree, self.interval_s = pid, tree, interval_s
        self.first: float | None = None
        self.last: float | None = None
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> CpuMeter:
        self.first = self.last = cpu_seconds(self.pid, self.tree)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._done.wait(self.interval_s):
            value = cpu_seconds(self.pid, self.tree)
            if value is not None:
                self.last = value

    def stop(self) -> float | None:
        """CPU seconds used since `start()`."""
        self._done.set()
        self._thread.join()
        value = cpu_seconds(self.pid, self.tree)
        if value is not None:
            self.last = value
        return None if self.first is None or self.last is None else round(self.last - self.first, 3)
