"""`verbatim eval --self-check [DOC_ID ...]`: the known-item self-check, its table, JSON and gate.

The checking is app.evaluation.selfcheck; here it is run over the engine, printed, kept with
the index (so `verbatim docs` and /api/docs show each document's last result) and, with
`--check`, turned into an exit status.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from app.answer.engine import Engine
from app.errors import UsageError, VerbatimError
from app.evaluation.selfcheck import (
    FLOOR,
    MAD_CUTOFF,
    MIN_MARGIN,
    SAMPLE,
    TOP,
    WORDS_FLOOR,
    DocumentCheck,
    cut_off,
    population,
    self_check,
)
from app.store.folder import DocumentRecord

# What --self-check cannot be combined with: each runs something else than the self-check.
_OTHER_RUNS = {"set_paths": "--set", "calibrate": "--calibrate", "beir": "--beir",
               "update_baseline": "--update-baseline", "report": "--report"}


def stored_checks(engine: Engine) -> dict[str, DocumentCheck]:
    """The last self-check result of each document, as kept with the index (unreadable entries skipped)."""
    checks = {}
    for doc_id, data in engine.store.self_checks().items():
        try:
            checks[doc_id] = DocumentCheck.from_dict(data)
        except (TypeError, ValueError):
            continue
    return checks


def run_self_check(args: argparse.Namespace, engine: Engine) -> int:
    """Check the documents, print the table (or JSON), keep the results; with --check, 1 when any is flagged."""
    given = [flag for name, flag in _OTHER_RUNS.items() if getattr(args, name, None)]
    if given:
        raise UsageError(f"--self-check runs on its own; drop {given[0]} (or run it without --self-check)")
    index = engine.index
    engine.embedder  # noqa: B018 - load the model before timing
    stored = stored_checks(engine)
    began = time.perf_counter()
    checks = self_check(index, lambda question: engine.ask(question, TOP), args.self_check, stored,
                        show_progress=not args.quiet and sys.stderr.isatty())
    seconds = time.perf_counter() - began
    compared = population(index, stored, checks)
    bounds = cut_off(compared)
    asked = sum(check.sentences for check in checks)
    if args.json:
        print(json.dumps({"documents": [check.to_dict() for check in checks], "sentences": asked,
                          "seconds": round(seconds, 2), "rule": _rule(bounds, len(compared))},
                         ensure_ascii=False), flush=True)
    else:
        sys.stdout.write(table(checks))
        median = f"median top-{TOP} {bounds[0]:.2f}, flagged under {max(bounds[1], FLOOR):.2f}" if bounds else \
            f"flagged under {FLOOR:.2f} (too few documents for a median)"
        print(f"{len(checks)} document(s), {asked} sentences asked in {seconds:.1f} s "
              f"({1000 * seconds / max(asked, 1):.0f} ms a sentence); {median}; "
              f"{sum(c.flagged for c in checks)} flagged")
    try:  # a read-only replica or folder still prints its figures
        engine.store.keep_self_checks({check.doc_id: check.to_dict() for check in checks})
    except (VerbatimError, OSError) as exc:
        print(f"verbatim: warning: the results could not be kept with the index ({exc})", file=sys.stderr)
    if not args.check:
        return 0
    flagged = [check for check in checks if check.flagged]
    for check in flagged:
        print(f"gate: {check.doc_id}: {check.flag}", file=sys.stderr)
    print(f"gate: {'FAILED' if flagged else 'passed'} (self-check of {len(checks)} document(s))", file=sys.stderr)
    return 1 if flagged else 0


def last_results(engine: Engine, documents: list[DocumentRecord]) -> dict[str, str]:
    """Each document's last self-check for `verbatim docs`: "1.00/1.00" (first / top 5), "FLAGGED
    0.10/0.25", "-" when never checked, "outdated" when checked before the document changed."""
    stored = stored_checks(engine)
    cells = {}
    for doc in documents:
        check = stored.get(doc.doc_id)
        if check is None:
            cells[doc.doc_id] = "-"
        elif check.sha256 != doc.sha256:
            cells[doc.doc_id] = "outdated"
        else:
            figures = "no text" if check.at1 is None or check.at5 is None else f"{check.at1:.2f}/{check.at5:.2f}"
            cells[doc.doc_id] = f"FLAGGED {figures}" if check.flagged else figures
    return cells


def _rule(bounds: tuple[float, float] | None, population: int) -> dict[str, Any]:
    return {"sample": SAMPLE, "top": TOP, "floor": FLOOR, "mad_cutoff": MAD_CUTOFF, "min_margin": MIN_MARGIN,
            "words_floor": WORDS_FLOOR,
            "documents_compared": population, "median": bounds[0] if bounds else None,
            "cut": bounds[1] if bounds else None}


def table(checks: list[DocumentCheck]) -> str:
    """The terminal table: one row a document (WORDS: the share of its sampled words that are words of
    its language), then each flagged document's reason."""
    width = max([len("DOCUMENT")] + [len(check.doc_id) for check in checks])
    lines = [f"{'DOCUMENT':{width}}  {'SENTENCES':>9}  {'TOP-1':>5}  {'TOP-5':>5}  {'WORDS':>5}  FLAG"]
    for check in checks:
        at1, at5, words = (("-" if value is None else f"{value:.2f}")
                           for value in (check.at1, check.at5, check.words_known))
        lines.append(f"{check.doc_id:{width}}  {check.sentences:>9}  {at1:>5}  {at5:>5}  {words:>5}  "
                     f"{'FLAGGED' if check.flagged else 'ok'}")
    lines += [f"flagged: {check.doc_id}: {check.flag}" for check in checks if check.flagged]
    return "\n".join(lines) + "\n"
