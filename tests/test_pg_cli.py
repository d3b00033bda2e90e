"""The `verbatim` command with `--store postgresql://...` against a real PostgreSQL, with the real model
(slow): every command, the same answers as the folder store, two app replicas on one database,
concurrent and killed adds, and a streaming read replica answering questions."""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from app.paths import SPEECH_SET
from app.store.postgres.store import PgStore
from tests.conftest import CORPUS, REPO, rounded, run_cli
from tests.documents_factory import make_report, write_html, write_pdf

pytestmark = [pytest.mark.slow, pytest.mark.postgres]
QUESTION = "Which detention centre kept its cells without heating, so that detainees suffered frostbite?"
SPEECH_QUESTIONS = ["How many citizens were killed?", "Who was Bitayev?", "How many people were convicted?"]
# main's ask pipeline through the store seam: abstention levels (off- and near-topic), typo
# correction from the collection's vocabulary, a question in another language than the documents'.
HARDER_QUESTIONS = ["What is the capital of France?", "How many protesters were killed by CSTO peacekeeping troops?",
                    "How many citizns were kiled?", "Сколько граждан погибло?"]


def cli(url: str, corpus: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return run_cli("--corpus", str(corpus), "--store", url, *args, stdin=stdin)


def _top(answer: dict[str, object]) -> list[object]:
    """The passages an answer shows, by their place in the documents."""
    return [(p["doc_id"], p["start"], p["end"]) for p in answer.get("passages", [])]  # type: ignore[attr-defined, index]


def ask_json(url: str, corpus: Path, question: str, *args: str) -> dict[str, object]:
    result = cli(url, corpus, "ask", "--json", *args, question)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def speech_db(pg_server: object, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    """The shipped speech indexed into a collection of its own with `verbatim --store URL index`."""
    corpus = tmp_path_factory.mktemp("pgspeech") / "corpus"
    shutil.copytree(CORPUS, corpus)
    url = f"{pg_server.url}?schema=speech"  # type: ignore[attr-defined]
    result = cli(url, corpus, "index")
    assert result.returncode == 0, result.stderr
    assert "indexed 23 passages from 1 document(s) into postgresql://" in result.stderr
    return url, corpus


def _copy_of(speech_db: tuple[str, Path], name: str, root: Path) -> tuple[str, Path]:
    """A fresh collection holding the speech, copied inside the database (no model needed)."""
    url, corpus = speech_db
    target = url.replace("schema=speech", f"schema={name}")
    store = PgStore(target)
    source = PgStore(url)
    store.connect().close()  # creates the empty schema
    tables = ["texts", "documents", "passages", "sentence_vectors", "e5_vectors", "lexical_files", "state"]
    with source.connect() as conn, conn.transaction():
        conn.execute(f"ALTER TABLE {store.schema}.passages ALTER COLUMN embedding TYPE vector(384)")
        for table in tables:
            conn.execute(f"INSERT INTO {store.schema}.{table} SELECT * FROM {source.schema}.{table}")
        conn.execute(f"SELECT setval('{store.schema}.passages_id_seq', (SELECT max(id) FROM {store.schema}.passages))")
        conn.execute(f"CREATE INDEX passages_embedding ON {store.schema}.passages USING hnsw (embedding vector_ip_ops)")
    shutil.copytree(corpus, root / "corpus")
    return target, root / "corpus"


def test_ask_docs_and_eval_give_what_the_folder_store_gives(speech_db: tuple[str, Path],
                                                             built_index: tuple[Path, Path], tmp_path: Path) -> None:
    """Both with the multilingual ranker (auto: on for the speech's 23 passages); the Russian question
    of HARDER_QUESTIONS is answered by it in both stores."""
    url, corpus = speech_db
    folder = ("--corpus", str(built_index[0]), "--index", str(built_index[1]))
    levels = set()
    for question in [*SPEECH_QUESTIONS, *HARDER_QUESTIONS]:
        expected = json.loads(run_cli(*folder, "ask", "--json", question).stdout)
        ours = ask_json(url, corpus, question)
        assert (ours["level"], _top(ours)) == (expected["level"], _top(expected)), question
        assert rounded(ours) == rounded(expected)
        levels.add(expected["level"])
    assert len(levels) >= 2  # answered and abstained questions both compared
    follow_up = json.dumps({"question": "And how many were convicted?", "history": ["How many citizens were killed?"]})
    expected = json.loads(run_cli(*folder, "ask", "--json", "-", stdin=follow_up).stdout)
    ours = json.loads(cli(url, corpus, "ask", "--json", "-", stdin=follow_up).stdout)
    assert ours["searched_as"] == expected["searched_as"] != "And how many were convicted?"
    assert rounded(ours) == rounded(expected)
    docs = cli(url, corpus, "docs", "--json")
    assert docs.returncode == 0 and docs.stdout == run_cli(*folder, "docs", "--json").stdout
    assert "multilingual ranker (questions in other languages): on (auto" in cli(url, corpus, "docs").stdout
    ours = json.loads(cli(url, corpus, "eval", "--json").stdout)["metrics"]
    theirs = json.loads(run_cli(*folder, "eval", "--json").stdout)["metrics"]
    assert ours == pytest.approx(theirs, abs=1e-9)
    gate = cli(url, corpus, "eval", "--check")
    assert gate.returncode == 0 and "gate: passed" in gate.stderr


def test_add_and_remove_through_the_database(speech_db: tuple[str, Path], tmp_path: Path) -> None:
    url, corpus = _copy_of(speech_db, "addremove", tmp_path)
    report = write_pdf(tmp_path / "xyz-co4.pdf", make_report())
    added = cli(url, corpus, "add", str(report), "--venue", "Committee against Torture, 76th session")
    assert added.returncode == 0, added.stderr
    assert "now in the index: xyz-co4\n" in added.stderr
    assert "23 reused" in added.stderr  # only the new document embedded
    answer = ask_json(url, corpus, QUESTION)
    assert answer["passages"][0]["doc_id"] == "xyz-co4"
    assert answer["passages"][0]["citation"].endswith("p. 14, para. 41")
    assert (corpus / "xyz-co4.pdf").is_file()  # the maintainer's folder mirrors the collection
    again = cli(url, corpus, "add", str(report))
    assert again.returncode == 0 and "already in the corpus as xyz-co4; skipped" in again.stderr
    removed = cli(url, corpus, "remove", "xyz-co4")
    assert removed.returncode == 0 and "taken out of the index: xyz-co4\n" in removed.stderr
    assert "0 embedded" in removed.stderr
    assert "xyz-co4" not in cli(url, corpus, "docs").stdout
    missing = cli(url, corpus, "remove", "xyz-co4")
    assert missing.returncode == 2 and "no document 'xyz-co4' in the collection" in missing.stderr


def _serve(url: str, corpus: Path, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    from tests.conftest import free_port

    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "app", "--corpus", str(corpus), "--store", url, "serve",
                                "--port", str(port)], cwd=REPO, stdout=log.open("w"), stderr=subprocess.STDOUT)
    return process, f"http://127.0.0.1:{port}/"


def _wait_up(process: subprocess.Popen[bytes], url: str, log: Path) -> None:
    import httpx

    deadline = time.monotonic() + 180
    while True:
        try:
            if httpx.get(url + "api/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail("server did not start:\n" + log.read_text())
        time.sleep(0.5)


def test_two_replicas_share_one_collection_and_survive_losing_one(
        speech_db: tuple[str, Path], tmp_path: Path) -> None:
    import httpx

    from app.bench.load import Replica, run_load

    url, corpus = _copy_of(speech_db, "replicas", tmp_path)
    servers = [_serve(url, corpus, tmp_path / f"serve-{n}.log") for n in range(2)]
    try:
        for number, (process, base) in enumerate(servers):
            _wait_up(process, base, tmp_path / f"serve-{number}.log")
        page = write_html(tmp_path / "xyz-news.html", make_report(pages=4, needle_page=2))
        laptop = tmp_path / "laptop"  # the maintainer adds from another folder, not the servers'
        laptop.mkdir()
        assert cli(url, laptop, "add", str(page)).returncode == 0
        answer = httpx.post(servers[1][1] + "api/ask", json={"question": QUESTION, "k": 3}, timeout=60).json()
        assert answer["passages"][0]["doc_id"] == "xyz-news" and "Ridder" in answer["passages"][0]["text"]
        link = answer["passages"][0]["link"].lstrip("/")  # the reader view reads the text from the database
        assert "Ridder" in httpx.get(servers[0][1] + link).text
        replicas = [Replica(base, process.pid) for process, base in servers]
        steady = run_load(replicas, SPEECH_QUESTIONS, clients=20, per_client=5, api="rest")
        assert (steady["answered"], steady["errors"]) == (100, 0) and steady["latency_p95_ms"] > 0
        lossy = run_load(replicas, SPEECH_QUESTIONS, clients=20, per_client=20, api="rest", kill_after_s=1.0)
        killed, survivor = lossy["replicas"]
        assert servers[0][0].wait(timeout=10) == -9
        assert killed["errors"] > 0 and (survivor["answered"], survivor["errors"]) == (200, 0)
        health = httpx.get(servers[1][1] + "api/health").json()
        assert health["documents"] == 2 and health["multilingual"] == {"setting": "auto", "on": True}
    finally:
        for process, _ in servers:
            process.kill()
            process.wait()
    assert ask_json(url, laptop, QUESTION)["passages"][0]["doc_id"] == "xyz-news"  # nothing lost


def _add_process(url: str, corpus: Path, path: Path) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "app", "-q", "--corpus", str(corpus), "--store", url, "add",
                             str(path)], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})


def _held(url: str) -> set[str]:
    store = PgStore(url)
    index = store.load()  # raises when any part of the current generation is missing
    assert index is not None
    for doc in index.manifest.documents:
        assert index.text(doc.doc_id)
        assert index.rows_by_document[doc.doc_id]
    return {doc.doc_id for doc in index.manifest.documents}


def test_two_adds_at_once_both_land(speech_db: tuple[str, Path], tmp_path: Path) -> None:
    url, corpus = _copy_of(speech_db, "together", tmp_path)
    files = [write_pdf(tmp_path / f"report-{n}.pdf", make_report(pages=3, symbol=f"CAT/C/Q{n}/CO/1")) for n in (1, 2)]
    processes = [_add_process(url, corpus, path) for path in files]
    for process in processes:
        _, err = process.communicate(timeout=300)
        assert process.returncode == 0, err
    assert {"report-1", "report-2"} <= _held(url)


def test_an_add_killed_at_a_random_moment_leaves_every_earlier_document(
        speech_db: tuple[str, Path], tmp_path: Path) -> None:
    url, corpus = _copy_of(speech_db, "killed", tmp_path)
    rng = random.Random(20230502)
    began = time.monotonic()
    first = _add_process(url, corpus, write_pdf(tmp_path / "trial-00.pdf", make_report(pages=6)))
    assert first.wait(timeout=300) == 0
    full = time.monotonic() - began
    held = _held(url)
    killed_mid_way = 0
    for trial in range(1, 21):
        path = write_pdf(tmp_path / f"trial-{trial:02}.pdf",
                         make_report(pages=6, symbol=f"CAT/C/T{trial}/CO/1", title=f"Report {trial}"))
        process = _add_process(url, corpus, path)
        time.sleep(rng.uniform(0, full))
        process.kill()
        process.wait()
        killed_mid_way += process.returncode == -9
        now = _held(url)
        assert held <= now, f"trial {trial}: lost {held - now}"
        assert now <= held | {f"trial-{trial:02}"}  # an add touches its own document only
        held = now
    assert killed_mid_way >= 10
    result = cli(url, corpus, "index")  # the next sync indexes what killed adds copied into the folder
    assert result.returncode == 0, result.stderr
    files = {p.stem for p in corpus.iterdir() if not p.name.endswith(".json") and not p.name.startswith(".")}
    assert _held(url) == files


def test_a_streaming_read_replica_answers_questions(pg_server: object, speech_db: tuple[str, Path],
                                                    tmp_path_factory: pytest.TempPathFactory) -> None:
    import tempfile

    from app.store.postgres.server import start_replica, wait_until_replayed

    url, corpus = speech_db
    folder = Path(tempfile.mkdtemp(prefix="verbatim-test-replica-"))
    os.chmod(folder, 0o755)
    replica = start_replica(pg_server, folder / "data")  # type: ignore[arg-type]
    try:
        replica_url = url.replace(f":{pg_server.port}/", f":{replica.port}/")  # type: ignore[attr-defined]
        wait_until_replayed(pg_server.url, replica.url)  # type: ignore[attr-defined]
        on_primary = ask_json(url, corpus, SPEECH_QUESTIONS[0])
        assert ask_json(replica_url, corpus, SPEECH_QUESTIONS[0]) == on_primary
        refused = cli(replica_url, corpus, "index", "--rebuild")
        assert refused.returncode == 1 and "is a read-only standby; run index, add and remove against the primary" \
            in refused.stderr
    finally:
        replica.stop("immediate")
        shutil.rmtree(folder, ignore_errors=True)


def test_index_from_moves_a_collection_between_stores_without_embedding(
        pg_server: object, built_index: tuple[Path, Path], tmp_path: Path) -> None:
    corpus, folder_index = built_index
    url = f"{pg_server.url}?schema=moved"  # type: ignore[attr-defined]
    into_database = cli(url, corpus, "index", "--from", str(folder_index))
    assert into_database.returncode == 0, into_database.stderr
    assert f"(0 embedded, 23 taken from {folder_index}, 0 reused" in into_database.stderr
    back = tmp_path / "back"
    into_folder = run_cli("--corpus", str(corpus), "--index", str(back), "index", "--from", url)
    assert into_folder.returncode == 0 and "(0 embedded, 23 taken from postgresql://" in into_folder.stderr
    for moved in (into_database, into_folder):  # the multilingual ranker's vectors moved too
        assert "multilingual vectors of 23 passages" in moved.stderr
    for question in [*SPEECH_QUESTIONS, "Сколько граждан погибло?"]:
        expected = json.loads(run_cli("--corpus", str(corpus), "--index", str(folder_index), "ask", "--json",
                                      question).stdout)
        assert rounded(ask_json(url, corpus, question)) == rounded(expected)
        moved_back = run_cli("--corpus", str(corpus), "--index", str(back), "ask", "--json", question)
        assert rounded(json.loads(moved_back.stdout)) == rounded(expected)
    refused = cli(url, corpus, "index", "--from", url)
    assert refused.returncode == 2 and "is the index being built" in refused.stderr


def test_bench_compare_stores_puts_the_folder_and_the_database_side_by_side(
        pg_server: object, built_index: tuple[Path, Path], tmp_path: Path) -> None:
    corpus, folder_index = built_index
    url = f"{pg_server.url}?schema=compared"  # type: ignore[attr-defined]
    assert cli(url, corpus, "index", "--from", str(folder_index)).returncode == 0
    questions = tmp_path / "set.jsonl"
    questions.write_text("".join(SPEECH_SET.read_text(encoding="utf-8").splitlines(keepends=True)[:6]),
                         encoding="utf-8")  # six of the speech's questions, answerable and not
    result = run_cli("--corpus", str(corpus), "--store", url, "bench", "--compare-stores", str(folder_index),
                     "--set", str(questions), timeout=900)
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout)
    folder, database = figures["folder"], figures["postgresql"]
    assert folder["eval"] == database["eval"]  # the same vectors and BM25: the same answers
    assert folder["ann_recall@10_questions"]["recall@10"] == database["ann_recall@10_questions"]["recall@10"] == 1.0
    recall = database["ann_recall@10_questions"]
    assert recall["from_set"] == 6 and recall["questions"] == 6 + recall["sampled_sentences"]
    assert recall["sampled_sentences"] > 10  # topped up towards 200 with the speech's sentences
    assert database["database_memory_mib"] > 0 and folder["database_memory_mib"] is None
    assert all(side["cold_start_s"] > 0 and side["ask_fused_highlighted_p50_ms"] > 0 for side in (folder, database))
    refused = run_cli("--corpus", str(corpus), "--index", str(folder_index), "bench", "--compare-stores",
                      str(folder_index))
    assert refused.returncode == 2 and "pass --store postgresql://" in refused.stderr
