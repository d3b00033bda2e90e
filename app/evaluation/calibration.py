"""Calibration data for the abstention rule: question sets plus real off-topic questions.

The rule (app.answer.abstention) is fitted on sets that are never reported: `eval/tuning.jsonl`
(answerable questions in several people's words, near-topic questions the documents do not
answer, questions in other languages), `eval/dev.jsonl` and `eval/heldout-v1.jsonl` (a
third author's), plus the training queries of a BEIR dataset (SciFact's, from ../shared) as
off-topic questions of a real collection. Its test queries are kept out: SciFact test is a
reported set.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from app.errors import UsageError
from app.evaluation.metrics import EvalItem, load_items

if TYPE_CHECKING:
    from app.answer.engine import Engine


@dataclass(frozen=True)
class Observed:
    """One calibration question as the engine saw it: its kind, whether it has an answer, its predictors."""

    item: EvalItem
    features: dict[str, float]  # empty for a question in another language (its own rule, app.search.crosslang)
    level: str


def beir_off_topic(folder: Path, split: str = "train") -> list[EvalItem]:
    """A BEIR dataset's queries of one split (qrels/SPLIT.tsv), as off-topic no-answer items."""
    qrels, queries = folder / "qrels" / f"{split}.tsv", folder / "queries.jsonl"
    if not qrels.is_file() or not queries.is_file():
        raise UsageError(f"{folder} has no queries.jsonl or qrels/{split}.tsv; pass a BEIR folder with --off-topic")
    judged = {line.split("\t")[0] for line in qrels.read_text(encoding="utf-8").splitlines()[1:] if line.strip()}
    items = []
    for line in queries.read_text(encoding="utf-8").splitlines():
        if line.strip():
            entry = json.loads(line)
            if str(entry["_id"]) in judged and str(entry.get("text", "")).strip():
                items.append(EvalItem(f"{folder.name}-{entry['_id']}", entry["text"], (), "off-topic"))
    return items


def observe(engine: Engine, sets: list[Path], off_topic: Path | None) -> list[Observed]:
    """Every calibration question asked through the engine, as the app asks it (k = 10)."""
    items = [item for path in sets for item in load_items(path)]
    if off_topic is not None:
        items += beir_off_topic(off_topic)
    seen: set[str] = set()
    observed = []
    for item in items:
        if item.id in seen:
            raise UsageError(f"calibration question id {item.id!r} occurs in two sets; ids must be unique")
        seen.add(item.id)
        try:
            answer = engine.ask(item.question, 10, item.history)
        except UsageError:  # a question without a word to search for is refused, not calibrated
            continue
        own_rule = answer.language is not None  # another language: judged by its cuts, not this rule
        observed.append(Observed(item, {} if own_rule else answer.features, answer.level))
    return observed
