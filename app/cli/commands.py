"""What each `verbatim` subcommand does, given parsed arguments and an `Engine`."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from app.answer.engine import Engine
from app.cli.lines import decode_stdin_line, parse_stdin_line
from app.cli.messages import index_changes
from app.cli.output import emit as _emit
from app.cli.output import log as _log
from app.errors import UsageError, VerbatimError
from app.paths import BEIR_CACHE, CALIBRATION_SETS, CROSSLANG_SETS, REPO_ROOT, SPEECH_SET
from app.search.ranking import Filters
from app.search.validation import printable, validate_k


def _sync(args: argparse.Namespace, engine: Engine, reuse: bool = True, only: frozenset[str] | None = None,
          touched: frozenset[str] | None = None, resumed_as: str = "saved by an interrupted build",
          multilingual: str | None = None) -> int:
    """Bring the index in line with the corpus and say what changed in it; 1 when a file could not be read.

    `only`: the documents an add or remove touched (a database store keeps every other document);
    `touched`: the documents an add or remove itself added or removed, so that the index's other
    changes (a file that was in the corpus folder but not yet indexed) are said apart; None for
    `verbatim index`, whose changes are all its own; `multilingual`: the collection's new
    multilingual setting (None: keep it)."""
    report = engine.build(show_progress=not args.quiet and sys.stderr.isatty(), reuse=reuse, only=only,
                          multilingual=multilingual)
    for failure in report.failures:
        print(f"verbatim: error: {failure}", file=sys.stderr)
    for warning in report.warnings:
        print(f"verbatim: warning: {warning}", file=sys.stderr)
    for message in index_changes(report.added, report.changed, report.removed, touched):
        _log(args, message)
    if report.written:
        resumed = f", {report.resumed} {resumed_as}" if report.resumed else ""
        embedded = report.embedded - report.resumed  # report.embedded counts the resumed ones too
        _log(args, f"indexed {report.passages} passages from {report.documents} document(s) into "
                   f"{engine.store.location} ({embedded} embedded{resumed}, {report.reused} reused, "
                   f"{report.seconds:.1f} s)")
    else:
        _log(args, f"the index already matches the corpus ({report.documents} document(s), "
                   f"{report.passages} passages)")
    return 1 if report.failures else 0


def run_index(args: argparse.Namespace, engine: Engine) -> int:
    from app.store.multilingual import summary

    resumed_as = "saved by an interrupted build"
    if args.source is not None:
        from app.store.transfer import take_from

        moved, source = take_from(args.source, engine.store, engine.spec, engine.settings, args.multilingual)
        e5 = f", multilingual vectors of {moved.multilingual} passages" if moved.multilingual else ""
        _log(args, f"took the texts and vectors of {moved.documents} document(s) ({moved.passages} passages, "
                   f"{moved.sentences} sentences{e5}) from {source} in {moved.seconds:.1f} s")
        resumed_as = f"taken from {source}"
    status = _sync(args, engine, reuse=not args.rebuild, resumed_as=resumed_as, multilingual=args.multilingual)
    manifest = engine.store.read_manifest()
    if manifest is not None:
        _log(args, summary(manifest))
    return status


def run_add(args: argparse.Namespace, engine: Engine) -> int:
    from app.store.library import add_files

    meta = {key: value for key in ("title", "date", "source_url", "language", "symbol", "venue")
            if (value := getattr(args, key)) is not None}
    outcome = add_files(engine.corpus_dir, engine.store.text_cache(), args.paths, meta, replace=args.replace,
                        indexed=engine.store.held_documents())
    for message in outcome.copied + outcome.skipped:
        _log(args, message)
    for message in outcome.failed:
        print(f"verbatim: error: {message}", file=sys.stderr)
    added = frozenset(outcome.added)
    status = _sync(args, engine, only=added, touched=added) if outcome.added or not outcome.failed else 0
    if outcome.failed:
        _log(args, f"{len(outcome.failed)} of {len(outcome.failed) + len(outcome.added) + len(outcome.skipped)} "
                   "file(s) could not be added; the index still holds everything it held before")
        return 1
    return status


def run_remove(args: argparse.Namespace, engine: Engine) -> int:
    from app.store.library import remove_document

    held = engine.store.held_documents()
    for doc_id in args.doc_ids:
        name = remove_document(engine.corpus_dir, doc_id, held)
        if name is not None:
            _log(args, f"removed {name} from {engine.corpus_dir}")
    return _sync(args, engine, only=frozenset(args.doc_ids), touched=frozenset(args.doc_ids))


def run_docs(args: argparse.Namespace, engine: Engine) -> int:
    from dataclasses import asdict

    from app.store.multilingual import summary

    manifest = engine.store.read_manifest()
    if manifest is None:
        raise UsageError(f"no index in {engine.store.location} yet; run: verbatim index")
    try:
        reasons = engine.stale_reasons()
    except VerbatimError as exc:
        reasons = [str(exc)]
    if reasons:
        _log(args, f"note: the index is not current ({'; '.join(reasons)}); run: verbatim index")
    if args.json:
        kept = engine.store.self_checks()
        for doc in manifest.documents:
            check = kept.get(doc.doc_id)
            _emit({**asdict(doc), "passages": doc.chunks,
                   "self_check": check if check and check.get("sha256") == doc.sha256 else None})
        return 0
    from app.cli.selfcheck import last_results

    checks = last_results(engine, manifest.documents)
    width = max([len("DOCUMENT")] + [len(doc.doc_id) for doc in manifest.documents])
    print(f"{'DOCUMENT':{width}}  {'DATE':10}  {'FORMAT':8}  {'PAGES':>5}  {'PASSAGES':>8}  {'SHA256':12}  "
          f"{'SELF-CHECK':10}  TITLE")
    for doc in manifest.documents:
        pages = str(doc.pages) if doc.pages else "-"
        print(f"{doc.doc_id:{width}}  {doc.date or 'no date':10}  {doc.format:8}  {pages:>5}  {doc.chunks:>8}  "
              f"{doc.sha256[:12]}  {checks[doc.doc_id]:10}  {doc.title}")
    for failure in manifest.failures.values():
        print(f"not indexed: {failure['reason']}")
    print(summary(manifest))
    undated = [doc for doc in manifest.documents if not doc.date]
    if undated:
        example = undated[0]
        print(f"{len(undated)} document(s) state no date in their metadata or header, so none is shown or cited; "
              f"set one with: verbatim add {engine.corpus_dir / example.path} --date YYYY-MM-DD "
              f"(or \"date\" in {engine.corpus_dir / (example.path + '.meta.json')})")
    return 0


def run_ask(args: argparse.Namespace, engine: Engine) -> int:
    from app.web.render import answer_to_dict, answer_to_text

    validate_k(args.k)
    filters = Filters(frozenset(args.doc), args.phrase)
    if args.question != "-":
        answer = engine.ask(args.question, args.k, filters=filters)
        if args.json:
            _emit(answer_to_dict(answer))
        else:
            sys.stdout.write(answer_to_text(answer, emphasis=sys.stdout.isatty()))
        return 0
    failures = 0
    for number, raw in enumerate(getattr(sys.stdin, "buffer", sys.stdin), start=1):
        line = ""
        try:
            line = decode_stdin_line(raw, number)
            if not line.strip():
                continue
            question, history = parse_stdin_line(line, number)
            answer = engine.ask(question, args.k, history, filters=filters)
        except UsageError as exc:  # this line's error; the batch goes on with the next line
            failures += 1
            print(f"verbatim: error: {exc}", file=sys.stderr)
            if args.json:
                _emit({"line": number, "question": printable(line.strip()[:200]), "error": str(exc)})
            continue
        if args.json:
            _emit(answer_to_dict(answer))
        else:
            sys.stdout.write(answer_to_text(answer, emphasis=sys.stdout.isatty()) + "\n")
    return 1 if failures else 0


def run_serve(args: argparse.Namespace, engine: Engine) -> int:
    from app.web.ui import serve

    serve(engine, host=args.host, port=args.port)
    return 0


def run_eval(args: argparse.Namespace, engine: Engine) -> int:
    from app.evaluation.metrics import evaluate, label_errors, language_metrics, load_items
    from app.web.render import format_eval_report

    if args.self_check is not None:
        from app.cli.selfcheck import run_self_check

        return run_self_check(args, engine)
    if args.beir:
        return _run_beir(args, engine)
    if args.calibrate:
        return _calibrate(args, engine)
    paths = args.set_paths or [SPEECH_SET]
    items = [item for path in paths for item in load_items(path)]
    index = engine.index
    result = evaluate(items, lambda item: engine.ask(item.question, 10, item.history), index.chunks)
    texts = [index.text(doc.doc_id) for doc in index.manifest.documents]
    result.label_errors = label_errors(items, texts, index.chunks)
    data = result.to_dict()
    data["set"] = " + ".join(_display_path(path) for path in paths)
    data["corpus"] = {doc.doc_id: doc.sha256[:12] for doc in index.manifest.documents}
    if not args.set_paths:  # the gate's set: its figures, plus those per language of the cross-language sets
        crosslang = [item for path in CROSSLANG_SETS if path.is_file() for item in load_items(path)]
        data["metrics"].update(language_metrics(crosslang, lambda item: engine.ask(item.question, 10), index.chunks))
    data["settings"] = {"fusion": engine.ranking.fusion, "dense_weight": engine.ranking.dense_weight,
                        "abstention": engine.abstention.fitted_on if engine.abstention
                        else f"cosine below {engine.ranking.min_score}"}
    if args.json:
        _emit(data)
    else:
        sys.stdout.write(format_eval_report(data))
    return _gate(args, data, paths[0])


def _calibrate(args: argparse.Namespace, engine: Engine) -> int:
    """Fit the abstention rule on the calibration sets, write it, and report its figures there."""
    from app.answer.abstention import fit_rule
    from app.evaluation.calibration import observe
    from app.store.folder import write_atomic

    paths = args.set_paths or list(CALIBRATION_SETS)
    off_topic = args.off_topic if args.off_topic and args.off_topic.is_dir() else None
    if off_topic is None:
        _log(args, f"note: no BEIR folder at {args.off_topic}; calibrating without real off-topic queries")
    engine.abstention = None  # predictors do not depend on a rule
    observed = [o for o in observe(engine, paths, off_topic) if o.features]
    source = " + ".join([_display_path(p) for p in paths] + ([f"{off_topic.name} train queries"] if off_topic else []))
    rule = fit_rule([o.features for o in observed], [o.item.answerable for o in observed], source)
    write_atomic(args.rule, rule.to_json().encode("utf-8"))
    _log(args, f"abstention rule written to {args.rule}")
    by_kind: dict[str, list[bool]] = {}
    for o in observed:
        by_kind.setdefault(o.item.kind, []).append(rule.abstains(o.features))
    shares = {kind: sum(v) / len(v) for kind, v in sorted(by_kind.items())}
    counts = {kind: len(v) for kind, v in sorted(by_kind.items())}
    if args.json:
        _emit({"rule": rule.note, "threshold": rule.threshold, "floors": rule.floors, "none_floors": rule.none_floors,
               "abstained_by_kind": shares, "items_by_kind": counts})
    else:
        print(f"calibrated on {source}: {len(observed)} questions searched")
        for kind, share in shares.items():
            print(f"  {kind:16} {counts[kind]:5}  abstained {share:.1%}")
    return 0


def _run_beir(args: argparse.Namespace, engine: Engine) -> int:
    from app.evaluation.beir import evaluate_beir

    def make_engine(corpus: Path, index: Path) -> Engine:
        # Passages and sentences are cut as the app cuts them (sentence vectors are pooled from the
        # passage's own model pass, and the abstention rule reads them).
        return Engine(corpus, index, make_embedder=lambda: engine.embedder, spec=engine.spec,
                      settings=engine.settings, ranking=engine.ranking, log=engine.log, abstention=engine.abstention,
                      store=engine.store.beside(index, f"beir_{index.parent.name}"))

    data = evaluate_beir(args.beir, args.split, BEIR_CACHE, make_engine,
                         show_progress=not args.quiet and sys.stderr.isatty())
    if args.json:
        _emit(data)
        return 0
    print(f"{data['dataset']} ({data['split']}): {data['queries']} queries, {data['documents']} documents, "
          f"{data['passages']} passages")
    print(f"  {'ranker':14} {'nDCG@10':>8} {'Recall@100':>11} {'MRR@10':>7}")
    for name, metrics in data["rankers"].items():
        mark = "  <- used by the app" if name == data["fusion"] else ""
        print(f"  {name:14} {metrics['ndcg@10']:8.3f} {metrics['recall@100']:11.3f} "
              f"{metrics['mrr@10']:7.3f}{mark}")
    if data["false_abstention_rate"] is not None:
        print(f"  abstention rule: abstains on {data['false_abstention_rate']:.1%} of these queries, "
              "all of which have an answer")
    return 0


def _gate(args: argparse.Namespace, data: dict[str, Any], set_path: Path) -> int:
    from app.evaluation import gate
    from app.store.folder import write_atomic

    if args.update_baseline:
        baseline = gate.baseline_from(data)
        write_atomic(args.baseline, (json.dumps(baseline, indent=2, ensure_ascii=False) + "\n").encode("utf-8"))
        print(f"baseline written to {args.baseline}", file=sys.stderr)
    if not (args.check or args.report):
        return 0
    baseline = gate.read_baseline(args.baseline)
    if args.report:
        report = gate.write_report(baseline, data, set_path.parent / "reports")
        print(f"report written to {report}", file=sys.stderr)
    if args.check:
        problems = gate.compare(baseline, data)
        for problem in problems:
            print(f"gate: {problem}", file=sys.stderr)
        note = gate.corpus_note(baseline, data)
        if problems and note:
            print(f"gate: note: {note}", file=sys.stderr)
        print("gate: " + ("FAILED" if problems else "passed") + f" (against {args.baseline})",
              file=sys.stderr)
        return 1 if problems else 0
    return 0


def _display_path(path: Path) -> str:

    try:
        return str(path.resolve().relative_to(REPO_ROOT))
    except ValueError:
        return str(path)
