"""What maintainer commands say about the index: one line a kind of change, the command's own
changes apart from those it made to match the corpus folder."""

from __future__ import annotations


def index_changes(added: tuple[str, ...], changed: tuple[str, ...], removed: tuple[str, ...],
                  touched: frozenset[str] | None = None) -> list[str]:
    """What a build changed in the index, one line a kind; documents the command did not touch
    itself (not in `touched`, unless that is None) are named on lines of their own, saying why."""
    def ids(values: tuple[str, ...] | list[str]) -> str:
        return ", ".join(sorted(values))

    lines = []
    for label, values in (("now in the index", added), ("updated in the index", changed),
                          ("taken out of the index", removed)):
        mine = [v for v in values if touched is None or v in touched]
        others = [v for v in values if touched is not None and v not in touched]
        if mine:
            lines.append(f"{label}: {ids(mine)}")
        if others:
            lines.append(f"also {label}, to match the corpus folder (not done by this command): {ids(others)}")
    return lines
