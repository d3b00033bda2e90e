"""The `verbatim` command: index, add, remove, docs, ask, serve, eval, bench, loadtest.

Data goes to stdout (JSON with --json), progress and logs to stderr. Misuse exits 2,
failure exits 1.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from app import __version__
from app.errors import VerbatimError
from app.paths import ABSTENTION_RULE, BASELINE, CORPUS, INDEX, SCIFACT, SPEECH_SET, UNGDC

EXAMPLES = """\
examples:
  verbatim index                                   build or refresh the index
  verbatim add report.pdf --symbol CAT/C/KAZ/CO/4  add a document and index only it
  verbatim docs                                    what is indexed
  verbatim remove report                           take a document out
  verbatim ask "How many citizens were killed?"    passages with citations
  verbatim ask --json -k 3 "Who was Bitayev?"      the same as JSON
  printf 'Q1\\nQ2\\n' | verbatim ask --json -       one JSON object per line
  echo '{"question": "And convicted?", "history": ["How many were killed?"]}' | verbatim ask --json -
  verbatim serve --port 7860                       the web app on 127.0.0.1
  verbatim eval --set eval/speech.jsonl            retrieval metrics
  verbatim eval --calibrate                        refit the abstention rule on the calibration sets
  verbatim eval --check                            fail if retrieval got worse than eval/baseline.json
  verbatim eval --self-check report                can report's own sentences find their passages?
  verbatim eval --beir ../shared/datasets/beir/scifact --split test
  verbatim loadtest --clients 20 --questions 50    concurrent readers through the API
  verbatim loadtest --rest --replicas 2            both APIs, two servers sharing the index
  verbatim --corpus my_docs --index my_index ask "..."
  verbatim --store postgresql://verbatim@db.example.org:5432/library serve   the index in PostgreSQL
"""


def _positive_int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="verbatim",
        description="Answers questions with verbatim, cited passages of your documents.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"verbatim {__version__}")
    parser.add_argument("--corpus", type=Path, metavar="DIR",
                        help="documents folder (default: $VERBATIM_CORPUS or the repository's corpus/)")
    parser.add_argument("--index", type=Path, metavar="DIR",
                        help="index folder (default: $VERBATIM_INDEX or the repository's index/)")
    parser.add_argument("--store", metavar="URL",
                        help="keep the index in PostgreSQL with pgvector instead of the index folder, e.g. "
                             "postgresql://USER@HOST:5432/DB (default: $VERBATIM_STORE, else the folder)")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress or log lines on stderr")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    index = commands.add_parser("index", help="build the index, embedding only new or changed documents")
    index.add_argument("--rebuild", action="store_true", help="re-embed everything from scratch")
    index.add_argument("--from", dest="source", metavar="SOURCE",
                       help="take texts and vectors from another index (a folder or a postgresql:// URL) "
                            "built with the same model, instead of embedding again")
    index.add_argument("--multilingual", choices=("on", "off", "auto"),
                       help="the collection's multilingual ranker, which answers questions in other languages: "
                            "on, off, or auto (on when the collection is small or not all English; the default); "
                            "kept for later builds")

    add = commands.add_parser(
        "add", help="copy documents into the corpus and index only them",
        epilog="Formats: .md .markdown .txt .pdf .html .htm .docx (a folder adds its files). Flags set "
               "metadata, stored in NAME.meta.json beside the document; they win over the file's own.")
    add.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="document files or folders")
    for flag, what in (("title", "title"), ("date", "date, e.g. 2023-05-02"),
                       ("source-url", "where the document was published"), ("language", "language code, e.g. en"),
                       ("symbol", "UN document symbol, e.g. CAT/C/KAZ/CO/4"), ("venue", "where it was given")):
        add.add_argument(f"--{flag}", metavar=flag.split("-")[0].upper(), help=what,
                         type=_date_argument if flag == "date" else str)
    add.add_argument("--replace", action="store_true", help="replace a document of the same file name")

    remove = commands.add_parser("remove", help="take documents out of the corpus and the index")
    remove.add_argument("doc_ids", nargs="+", metavar="DOC_ID", help="document id, as `verbatim docs` lists it")

    docs = commands.add_parser("docs", help="list the indexed documents")
    docs.add_argument("--json", action="store_true", help="print one JSON object per document")

    ask = commands.add_parser("ask", help="answer a question with passages and citations",
                              epilog='QUESTION "-" reads one question per line from stdin: plain text, or a JSON '
                                     'object {"question": "...", "history": ["earlier question", ...]} for a '
                                     'follow-up in a scripted conversation.')
    ask.add_argument("question", metavar="QUESTION", help='the question, or "-" for stdin')
    ask.add_argument("-k", type=_positive_int, default=5, help="how many passages (1-50, default 5)")
    ask.add_argument("--json", action="store_true", help="print JSON (JSON Lines for stdin)")
    ask.add_argument("--doc", action="append", default=[], metavar="DOC_ID",
                     help="search only this document (repeatable)")
    ask.add_argument("--phrase", action="store_true",
                     help="only passages containing QUESTION as a phrase (case and accents ignored)")

    serve = commands.add_parser("serve", help="run the web app")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=_positive_int, default=7860, help="port (default 7860)")

    ev = commands.add_parser("eval", help="measure retrieval quality on a question set")
    ev.add_argument("--set", dest="set_paths", type=Path, action="append", metavar="FILE",
                    help="question set in JSON Lines (default eval/speech.jsonl; with --calibrate "
                         "eval/tuning.jsonl, eval/dev.jsonl and eval/heldout-v1.jsonl); repeat it to pool sets")
    ev.add_argument("--json", action="store_true", help="print one JSON object")
    ev.add_argument("--calibrate", action="store_true",
                    help="fit the abstention rule on the calibration sets and write it to eval/abstention.json "
                         "(never on a reported set such as eval/speech.jsonl)")
    ev.add_argument("--rule", type=Path, default=ABSTENTION_RULE, metavar="FILE",
                    help="with --calibrate: where to write the rule (default eval/abstention.json, the app's)")
    ev.add_argument("--off-topic", type=Path, metavar="DIR", default=SCIFACT,
                    help="with --calibrate: a BEIR folder whose training queries are off-topic questions "
                         "(default ../shared/datasets/beir/scifact when present)")
    ev.add_argument("--beir", type=Path, metavar="DIR",
                    help="run a BEIR-layout dataset (corpus.jsonl, queries.jsonl, qrels/SPLIT.tsv) instead")
    ev.add_argument("--split", default="test", help="qrels split for --beir (default test)")
    ev.add_argument("--baseline", type=Path, default=BASELINE, metavar="FILE",
                    help="baseline for --check, --report and --update-baseline (default eval/baseline.json)")
    ev.add_argument("--check", action="store_true",
                    help="exit 1, naming what got worse, when a metric drops beyond the baseline's tolerance")
    ev.add_argument("--update-baseline", action="store_true", help="store this run as the baseline")
    ev.add_argument("--self-check", nargs="*", metavar="DOC_ID", default=None,
                    help="instead: known-item self-check of these documents (none given: all): 20 sentences "
                         "of each asked as questions; the share whose own passage ranks first and in the top 5, "
                         "documents far below the rest flagged (with --check: exit 1 when one is)")
    ev.add_argument("--report", action="store_true",
                    help="write a Markdown report with a chart to eval/reports/")

    bench = commands.add_parser("bench", help="print speed and memory figures")
    bench.add_argument("--json", action="store_true", help="print one JSON object")
    bench.add_argument("--set", dest="set_path", type=Path, default=SPEECH_SET,
                       metavar="FILE", help="questions to time (default eval/speech.jsonl)")
    bench.add_argument("--library", type=_positive_int, metavar="N",
                       help="instead: build N UN General Debate statements, then time adding and removing one")
    bench.add_argument("--ungdc", type=Path, metavar="PATH",
                       default=UNGDC,
                       help="the UNGDC .jsonl.gz for --library and --sizes (default ../shared/datasets/ungdc/...)")
    bench.add_argument("--sizes", metavar="LIST",
                       help="instead: the scale table for these collection sizes, e.g. 1,1000,all "
                            "(1 = the shipped corpus, N = N UN General Debate statements, all = 10,952)")
    bench.add_argument("--workdir", type=Path, metavar="DIR",
                       help="with --sizes: build in DIR/size-N and keep it, so an interrupted build resumes "
                            "there (default: a scratch folder, removed after)")
    bench.add_argument("--compare-stores", type=Path, metavar="DIR",
                       help="instead, with --store URL: the same collection in the folder index DIR and in the "
                            "database side by side (cold start, ask latencies, memory, --set's metrics, and "
                            "recall@10 of each approximate search against exact search on 200 queries: the set's "
                            "questions, then sentences of the documents)")
    bench.add_argument("--multilingual", choices=("on", "off", "auto"), default="auto",
                       help="with --sizes: build each collection with the multilingual ranker on, off, or as "
                            "auto decides (the default), to measure what it costs")
    bench.add_argument("--one-size", help=argparse.SUPPRESS)
    bench.add_argument("--serving", action="store_true", help=argparse.SUPPRESS)

    load = commands.add_parser("loadtest", help="many concurrent clients against the web app's APIs")
    load.add_argument("--url", dest="urls", action="append", default=[], metavar="URL",
                      help="a running app; repeat for several replicas (default: start `verbatim serve`)")
    load.add_argument("--replicas", type=_positive_int, default=1,
                      help="without --url: how many `verbatim serve` processes to start on one index (default 1)")
    load.add_argument("--api", choices=("gradio", "rest", "both"), default="gradio",
                      help="the Gradio API's /ask (default), the REST API's POST /api/ask, or one after the other")
    load.add_argument("--rest", action="store_true", help="the same as --api both: report both APIs")
    load.add_argument("--kill-replica-after", type=float, metavar="S",
                      help="kill the first replica with SIGKILL S seconds into the run (errors of its clients "
                           "are counted; the others go on)")
    load.add_argument("--add", dest="add_file", type=Path, metavar="FILE",
                      help="run `verbatim add FILE` on the same index while the clients ask, and time how long "
                           "each replica takes to answer from it")
    load.add_argument("--add-after", type=float, default=10.0, metavar="S",
                      help="with --add: seconds into the run (default 10)")
    load.add_argument("--add-question", metavar="TEXT",
                      help="with --add: asked of each replica once it has the new document; reports whether "
                           "the new document is cited")
    load.add_argument("--clients", type=_positive_int, default=20, help="concurrent clients (default 20)")
    load.add_argument("--questions", type=_positive_int, default=50, help="questions per client (default 50)")
    load.add_argument("--set", dest="set_path", type=Path, default=SPEECH_SET,
                      metavar="FILE", help="where the questions come from (default eval/speech.jsonl)")
    load.add_argument("--json", action="store_true", help="print one JSON object")
    return parser


def resolve_dirs(args: argparse.Namespace) -> tuple[Path, Path]:
    corpus = args.corpus or Path(os.environ.get("VERBATIM_CORPUS") or CORPUS)
    index = args.index or Path(os.environ.get("VERBATIM_INDEX") or INDEX)
    return corpus, index


def _date_argument(value: str) -> str:
    from app.documents.corpus import iso_date

    try:
        return iso_date(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def make_engine(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from app.answer.abstention import AbstentionRule
    from app.answer.engine import Engine

    corpus, index = resolve_dirs(args)
    log = (lambda message: None) if args.quiet else (lambda message: print(message, file=sys.stderr))
    calibrating = getattr(args, "calibrate", False)  # refits the rule: an outdated one must not stop it
    rule = AbstentionRule.load(ABSTENTION_RULE) if ABSTENTION_RULE.is_file() and not calibrating else None
    from app.models.embed import configured_backend
    from app.store.open import open_store

    spec, make_embedder = configured_backend()
    return Engine(corpus, index, make_embedder=make_embedder, spec=spec, log=log, abstention=rule,
                  store=open_store(args.store, index))


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        status = _dispatch(args)
        sys.stdout.flush()  # here, so a reader that closed the pipe is met below, not at exit
        return status
    except VerbatimError as exc:
        print(f"verbatim: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except BrokenPipeError:  # `verbatim docs | head` closed the pipe: stop quietly, as other tools do
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # so exit's flush cannot fail again
        return 141  # 128 + SIGPIPE, what a shell reports for a tool killed by it
    except OSError as exc:  # unwritable index folder, full disk, port already in use, ...
        print(f"verbatim: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("verbatim: interrupted", file=sys.stderr)
        return 130


def _dispatch(args: argparse.Namespace) -> int:
    from app.cli import commands, measure
    handler = {
        "index": commands.run_index,
        "add": commands.run_add,
        "remove": commands.run_remove,
        "docs": commands.run_docs,
        "ask": commands.run_ask,
        "serve": commands.run_serve,
        "eval": commands.run_eval,
        "bench": measure.run_bench,
        "loadtest": measure.run_loadtest,
    }[args.command]
    return handler(args, make_engine(args))
