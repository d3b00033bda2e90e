"""Whether a loaded generation's files are still the ones that were verified: a stat a file per
question, a sha256 only when a stat changed.

A generation's files are checked against the manifest's sha256 when they are loaded. After that a
person, a script or a failing disk can still change them under a running server: truncate,
overwrite, delete. `FileWatch` remembers each verified file's (size, mtime, inode); `damage()`
stats them again (microseconds for a generation's ~10 files) and hashes only a file whose stat
moved, so a touched but unchanged file is accepted and a changed one is named.

Small generations are read into memory at load (`in_memory`): damage on disk then cannot reach
the answers, and the server goes on answering from the verified copy while it reports the damage.
Large ones are memory-mapped (the page cache holds them, not each process): for those a damaged
file must not be read at all, since a truncated mapping kills the process with SIGBUS and an
overwritten one gives wrong scores. The cut is VERBATIM_MAP_ABOVE_MB (default 256 MB).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from app.errors import IndexStateError
from app.models.spec import file_sha256

MAP_ABOVE_MB = 256  # a generation at least this large is memory-mapped instead of read into memory
REBUILD = "run: verbatim index --rebuild"

Stat = tuple[int, int, int]  # size in bytes, mtime in ns, inode


def _stat(path: Path) -> Stat:
    info = os.stat(path)
    return info.st_size, info.st_mtime_ns, info.st_ino


def map_above_bytes() -> int:
    """The generation size (bytes) from which its files are memory-mapped: VERBATIM_MAP_ABOVE_MB."""
    value = os.environ.get("VERBATIM_MAP_ABOVE_MB", "").strip()
    try:
        return int(float(value) * 2**20) if value else MAP_ABOVE_MB * 2**20
    except ValueError:
        return MAP_ABOVE_MB * 2**20


@dataclass
class FileWatch:
    """The files of one generation folder as verified: {name: sha256} expected, {name: stat} seen."""

    folder: Path
    expected: dict[str, str]
    seen: dict[str, Stat] = field(default_factory=dict)

    @classmethod
    def verified(cls, folder: Path, expected: dict[str, str]) -> FileWatch:
        """Hash every file against `expected`; IndexStateError (with what to run) on the first that is
        missing, differs, or changes while it is hashed."""
        watch = cls(folder, dict(expected))
        for name, sha256 in expected.items():
            path = folder / name
            try:
                before = _stat(path)
                matches = file_sha256(path) == sha256 and _stat(path) == before
            except OSError:
                matches = False
            if not matches:
                raise IndexStateError(
                    f"index file {path} is missing or corrupt (its hash does not match the manifest); {REBUILD}")
            watch.seen[name] = before
        return watch

    @property
    def total_bytes(self) -> int:
        return sum(size for size, _, _ in self.seen.values())

    def damage(self) -> str | None:
        """None while every file is as verified; else a message naming the first damaged file."""
        for name, before in self.seen.items():
            path = self.folder / name
            try:
                now = _stat(path)
            except OSError:
                return f"index file {path} was removed after it was loaded; {REBUILD}"
            if now == before:
                continue
            try:
                intact = file_sha256(path) == self.expected[name]
            except OSError:
                intact = False
            if not intact:
                return (f"index file {path} changed on disk after it was loaded ({before[0]:,} bytes, now "
                        f"{now[0]:,}) and no longer matches the manifest's sha256; {REBUILD}")
            self.seen[name] = now  # touched or copied back unchanged: still the verified content
        return None
