"""What maintainer commands say about the index: one line a kind of change, the command's own
changes apart from those it made to match the corpus folder."""

from __future__ import annotations

NAMED = 20  # up to this many documents are named one by one; more are counted (a whole collection moved)
NAMED_FIRST = 5


def index_changes(added: tuple[str, ...], changed: tuple[str, ...], removed: tuple[str, ...],
                  touched: frozenset[str] | None = None) -> list[str]:
    """What a build changed in the index, one line a kind; documents the command did not touch
    itself (not in `touched`, unless that is None) are named on lines of their own, saying why.
    Past NAMED documents a line counts them and names the first few and the last (moving the
    10,952 General Debate statements printed 200 kB of ids)."""
    def ids(values: tuple[str, ...] | list[str]) -> str:
        named = sorted(values)
        if len(named) <= NAMED:
            return ", ".join(named)
        return f"{len(named)} documents ({', '.join(named[:NAMED_FIRST])}, ... {named[-1]}; `verbatim docs` lists them)"

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
