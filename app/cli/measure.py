"""`verbatim bench` and `verbatim loadtest`: the commands that measure (app.bench does the work)."""

from __future__ import annotations

import argparse

from app.answer.engine import Engine
from app.cli.output import emit as _emit
from app.cli.output import log as _log
from app.errors import UsageError


def run_bench(args: argparse.Namespace, engine: Engine) -> int:
    from app.bench.speed import run_benchmark, run_library_benchmark

    if args.one_size:  # one row of --sizes, in its own process
        from app.bench.scale import measure_size

        _emit(measure_size(engine, args.one_size, args.ungdc, args.set_path, args.workdir, args.multilingual))
        return 0
    if args.serving:  # latencies and memory of a process that only serves a built index
        from app.bench.scale import measure_serving

        _emit(measure_serving(engine, args.set_path))
        return 0
    if args.compare_stores:
        from app.bench.stores import compare_stores

        _emit(compare_stores(engine, args.compare_stores, args.set_path))
        return 0
    if args.sizes:
        from app.bench.scale import parse_sizes, run_sizes, table

        results = run_sizes(engine, parse_sizes(args.sizes), args.ungdc, args.set_path, args.workdir,
                            args.multilingual)
        if args.json:
            _emit({"sizes": results})
        else:
            print(table(results))
        return 0
    if args.library:
        figures = run_library_benchmark(engine, args.ungdc, args.library)
    else:
        figures = run_benchmark(engine, args.set_path)
    if args.json:
        _emit(figures)
    else:
        for key, value in figures.items():
            print(f"{key:32} {value}")
    return 0


def run_loadtest(args: argparse.Namespace, engine: Engine) -> int:
    from contextlib import nullcontext

    from app.bench.arrival import AddDuringRun
    from app.bench.load import APIS, Replica, against_bare_ask, bare_ask_cpu_ms, run_load, started_servers
    from app.evaluation.metrics import load_items

    if args.clients > 200:
        raise UsageError(f"--clients must be at most 200; got {args.clients}")
    if args.urls and args.replicas != 1:
        raise UsageError("--replicas starts servers; with --url, give one --url per running replica instead")
    apis = APIS if args.rest or args.api == "both" else (args.api,)
    if args.kill_replica_after is not None and len(apis) > 1:
        raise UsageError("--kill-replica-after applies to one API's run; pass --api gradio or --api rest")
    if args.add_file is not None and (len(apis) > 1 or not args.add_file.is_file()):
        raise UsageError(f"--add needs one API (--api gradio or --api rest) and an existing file; got {args.add_file}")
    questions = [item.question for item in load_items(args.set_path)]
    engine.index  # noqa: B018 - build or refresh before timing, so the servers only load
    bare = bare_ask_cpu_ms(lambda question: engine.ask(question, 5), questions)  # what the clients ask: k 5
    database = engine.store.server_pid()
    servers = (nullcontext([Replica(url) for url in args.urls]) if args.urls
               else started_servers(engine.corpus_dir, engine.store.cli_args(), args.replicas))
    results = {}
    with servers as replicas:
        for api in apis:
            _log(args, f"{args.clients} clients x {args.questions} questions through the {api} API against "
                       f"{', '.join(r.url for r in replicas)}")
            during = None if args.add_file is None else AddDuringRun(
                engine.corpus_dir, engine.store.cli_args(), args.add_file, args.add_after, args.add_question)
            figures = run_load(replicas, questions, args.clients, args.questions, api,
                               args.kill_replica_after, database, during)
            results[api] = figures | against_bare_ask(figures, bare)
    figures = results[apis[0]] if len(apis) == 1 else results
    if args.json:
        _emit(figures)
    else:
        for api, result in results.items():
            print(f"{api} API")
            for key, value in result.items():
                print(f"  {key:28} {value}")
    errors = sum(result["errors"] for result in results.values())
    return 1 if errors and args.kill_replica_after is None else 0
