"""Fitting the abstention cuts of questions in another language (app.search.crosslang).

A question in another language than the documents' is answered when its best passage's
multilingual-e5 cosine reaches a cut. e5's cosines are compressed (0.72-0.87 here) and their
level depends on the question's language: off-topic Kazakh questions score about as high as
answerable Russian ones (median 0.787 against 0.813 on the fitting sets), so one cut for every
language abstains too often in one and too rarely in another. Each language with fitting data
gets its own cut; any other language the cut fitted on all of them.

The cut of a set of (cosine, answerable) pairs is the one with the fewest errors (an answerable
question below it, an off-topic one at or above it), placed halfway between that cosine and the
next lower one, so a question scoring like the lowest answered one is answered. Leave-one-out
within each language (178 questions of the fitting sets below) gave 11 errors with a cut per
language against 14 with one cut, and a logistic model over five predictors (best, second best
and mean passage cosine, best sentence cosine, mean cosine to a background of General Debate
passages) did no better than one cut when each language was left out in turn (23 against 23
errors): docs/languages.md, Abstention.

Fitting sets (never reported): eval/crosslang-dev.jsonl with eval/crosslang-dev-offtopic.jsonl,
and eval/crosslang-heldout.jsonl, which was held out once (its figures are kept in
eval/reports/crosslang-heldout.json) and is fitting data since. Reported on:
eval/crosslang-heldout2.jsonl, written by another session, run once after the cuts were set.

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


def fit_cuts(items: list[EvalItem], confidence: Callable[[str], float]) -> tuple[float, dict[str, float]]:
    """(the cut for any language, {language: its own cut}) from items carrying a `language`;
    `confidence(question)`: the best passage's e5 cosine for that question."""
    by_language: dict[str, list[tuple[float, bool]]] = defaultdict(list)
    for item in items:
        if item.language != "en":  # English questions of an English collection never reach e5
            by_language[item.language].append((confidence(item.question), item.answerable))
    every = [pair for pairs in by_language.values() for pair in pairs]
    return fit_cut(every), {language: fit_cut(pairs) for language, pairs in sorted(by_language.items())}


def main() -> None:
    from app.answer.engine import Engine
    from app.evaluation.metrics import load_items
    from app.paths import CORPUS, INDEX, REPO_ROOT

    sets = [REPO_ROOT / "eval" / name for name in
            ("crosslang-dev.jsonl", "crosslang-dev-offtopic.jsonl", "crosslang-heldout.jsonl")]
    engine = Engine(CORPUS, INDEX, log=lambda message: None)
    items = [item for path in sets for item in load_items(Path(path))]
    every, languages = fit_cuts(items, lambda question: engine.ask(question, 10).confidence)
    print(json.dumps({"any_language": every, "by_language": languages}, indent=1))


if __name__ == "__main__":
    main()
