"""Fitting the abstention cuts of questions in another language (app.search.crosslang).

A question in another language than the documents' is answered when its score reaches a cut: the
best passage's multilingual-e5 cosine plus the coverage of its words by the documents' words
(app.search.coverage). e5's cosines are compressed (0.72-0.87 here) and their level depends on the
question's language: off-topic Kazakh questions score about as high as answerable Russian ones, so
one cut for every language abstains too often in one and too rarely in another. Each language with
fitting data gets its own cut; any other language the cut fitted on all of them.

The cut of a set of (score, answerable) pairs is the one with the fewest errors (an answerable
question below it, an off-topic one at or above it), placed halfway between that score and the
next lower one, so a question scoring like the lowest answered one is answered. What was compared
on the fitting sets (leave-one-out within each language, and each language left out in turn) is
in docs/languages.md, Abstention.

Fitting sets (never reported): eval/crosslang-dev.jsonl with eval/crosslang-dev-offtopic.jsonl,
eval/crosslang-heldout.jsonl and eval/crosslang-heldout2.jsonl, each held out once before (their
figures are kept in eval/reports/) and fitting data since. Reported on:
eval/crosslang-heldout3.jsonl, written by another session, run once after the cuts were set.

`python -m app.evaluation.crosscut` prints the cuts fitted on the shipped speech's index.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterable
from pathlib import Path

from app.evaluation.metrics import EvalItem


def fit_cut(scored: Iterable[tuple[float, bool]]) -> float:
    """The cut with the fewest errors over (cosine, answerable) pairs, halfway below its cosine.
    Ties go to the lower cut (answering). ValueError for no pairs."""
    pairs = sorted(scored)
    if not pairs:
        raise ValueError("no questions to fit a cut on")
    values = sorted({score for score, _ in pairs})
    best: tuple[int, int] | None = None  # (errors, index into values)
    for number, cut in enumerate(values):
        errors = sum(1 for score, answerable in pairs if (score >= cut) != answerable)
        if best is None or errors < best[0]:
            best = (errors, number)
    assert best is not None
    number = best[1]
    return round((values[number] + values[number - 1]) / 2 if number else values[number], 4)


def fit_cuts(items: list[EvalItem], confidence: Callable[[str], float | None]) -> tuple[float, dict[str, float]]:
    """(the cut for any language, {language: its own cut}) from items carrying a `language`;
    `confidence(question)`: the question's abstention score (app.search.coverage.Coverage.score), None
    for a question the product does not take for another language (three of the fitting sets' 328)."""
    by_language: dict[str, list[tuple[float, bool]]] = defaultdict(list)
    for item in items:
        score = confidence(item.question) if item.language != "en" else None
        if score is not None:  # None: taken for English (or a documents' language), not judged by these cuts
            by_language[item.language].append((score, item.answerable))
    every = [pair for pairs in by_language.values() for pair in pairs]
    return fit_cut(every), {language: fit_cut(pairs) for language, pairs in sorted(by_language.items())}


FITTING_SETS = ("crosslang-dev.jsonl", "crosslang-dev-offtopic.jsonl", "crosslang-heldout.jsonl",
                "crosslang-heldout2.jsonl")


def main() -> None:
    from app.answer.engine import Engine
    from app.evaluation.metrics import load_items
    from app.paths import CORPUS, INDEX, REPO_ROOT

    engine = Engine(CORPUS, INDEX, log=lambda message: None)
    items = [item for name in FITTING_SETS for item in load_items(Path(REPO_ROOT / "eval" / name))]
    every, languages = fit_cuts(items, lambda question: engine.ask(question, 10).features.get("score"))
    print(json.dumps({"any_language": every, "by_language": languages}, indent=1))


if __name__ == "__main__":
    main()
