"""Maintainers' round through the real `verbatim` command and model: add, docs, remove, bad files,
concurrent and killed adds, and the eval afterwards."""

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

from app.store.folder import MANIFEST, load_index, read_manifest
from tests.conftest import REPO, run_cli
from tests.documents_factory import make_report, write_docx, write_html, write_markdown, write_pdf
from tests.test_formats import BAD_DOCUMENTS

pytestmark = pytest.mark.slow
QUESTION = "Which detention centre kept its cells without heating, so that detainees suffered frostbite?"


def copy_library(built_index: tuple[Path, Path], root: Path) -> tuple[Path, Path]:
    corpus, index = root / "corpus", root / "index"
    shutil.copytree(built_index[0], corpus)
    shutil.copytree(built_index[1], index)
    return corpus, index


def cli(library: tuple[Path, Path], *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return run_cli("--corpus", str(library[0]), "--index", str(library[1]), *args, env=env)


def ask_json(library: tuple[Path, Path], question: str, *args: str) -> dict[str, object]:
    result = cli(library, "ask", "--json", *args, question)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def with_reports(built_index: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The speech plus the same 20-page report as PDF, DOCX and HTML, added in one command."""
    root = tmp_path_factory.mktemp("reports")
    library = copy_library(built_index, root)
    report = make_report()
    files = [write_pdf(root / "xyz-co4.pdf", report), write_docx(root / "xyz-co4-word.docx", report),
             write_html(root / "xyz-news.html", report)]
    result = cli(library, "add", *map(str, files), "--venue", "Committee against Torture, 76th session")
    assert result.returncode == 0, result.stderr
    assert "added xyz-co4.pdf in " in result.stderr and " as document xyz-co4\n" in result.stderr
    assert "now in the index: xyz-co4, xyz-co4-word, xyz-news\n" in result.stderr  # the speech was indexed already
    assert "23 reused" in result.stderr  # the speech was not embedded again
    return library


@pytest.mark.parametrize(("doc", "cited"), [("xyz-co4", "p. 14, para. 41"), ("xyz-co4-word", "para. 41"),
                                            ("xyz-news", "para. 41")])
def test_a_sentence_on_page_14_is_found_and_cited_by_page_and_paragraph(
        with_reports: tuple[Path, Path], doc: str, cited: str) -> None:
    answer = ask_json(with_reports, QUESTION, "--doc", doc, "-k", "3")
    top = answer["passages"][0]  # type: ignore[index]
    assert top["doc_id"] == doc and "Ridder" in top["text"]
    assert top["citation"].endswith(cited) and "CAT/C/XYZ/CO/4" in top["citation"]
    if doc == "xyz-co4":
        assert top["page"] == 14 and top["paragraphs"] == ["41"] and top["paragraph_numbering"] == "document"
        assert top["paragraph_positions"] and all(isinstance(n, int) for n in top["paragraph_positions"])


def test_the_three_copies_are_one_result_with_the_others_grouped(with_reports: tuple[Path, Path]) -> None:
    answer = ask_json(with_reports, QUESTION, "-k", "5")
    passages = answer["passages"]  # type: ignore[assignment]
    ridder = [p for p in passages if "Ridder" in p["text"]]  # type: ignore[index]
    assert len(ridder) == 1
    assert len(ridder[0]["also_in"]) == 2  # type: ignore[index]
    speech = ask_json(with_reports, "How many citizens were killed?")
    assert speech["passages"][0]["doc_id"].startswith("2023-05-02")  # type: ignore[index]
    assert "238 citizens" in speech["passages"][0]["text"]  # type: ignore[index]


def test_docs_lists_title_date_format_pages_passages_and_hash(with_reports: tuple[Path, Path]) -> None:
    result = cli(with_reports, "docs", "--json")
    assert result.returncode == 0, result.stderr
    docs = {d["doc_id"]: d for d in map(json.loads, result.stdout.splitlines())}
    assert docs["xyz-co4"]["format"] == "pdf" and docs["xyz-co4"]["pages"] == 20
    assert docs["xyz-co4"]["symbol"] == "CAT/C/XYZ/CO/4"
    assert docs["xyz-news"]["date"] == "2023-05-12" and len(docs["xyz-news"]["sha256"]) == 64
    table = cli(with_reports, "docs").stdout
    assert "DOCUMENT" in table.splitlines()[0] and "xyz-co4-word" in table


def test_eval_and_gate_still_work_after_additions(with_reports: tuple[Path, Path], tmp_path: Path) -> None:
    questions = tmp_path / "reports.jsonl"
    items = [
        {"id": "r1", "question": QUESTION, "quotes": ["Ridder"], "kind": "factoid", "doc": "xyz-co4"},
        {"id": "r2", "question": "How many criminal cases against officials did prosecutors open in Oral?",
         "quotes": ["Regarding prosecutions in Oral"], "kind": "factoid"},
        {"id": "r3", "question": "What did the Committee say about Antarctic penguins?", "quotes": [],
         "kind": "no-answer"},
    ]
    questions.write_text("".join(json.dumps(item) + "\n" for item in items), encoding="utf-8")
    result = cli(with_reports, "eval", "--set", str(questions), "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["metrics"]["recall@5"] == 1.0 and not data["label_errors"]
    # The speech's questions now compete with 180 passages on the same subject: the gate names what
    # moved and why, and the maintainer records the new state as the baseline of this collection.
    gate = cli(with_reports, "eval", "--check")
    if gate.returncode != 0:
        assert "gate: note: the collection differs from the baseline's (added xyz-co4, xyz-co4-word, xyz-news)" \
            in gate.stderr
    baseline = tmp_path / "baseline.json"
    assert cli(with_reports, "eval", "--update-baseline", "--baseline", str(baseline)).returncode == 0
    assert set(json.loads(baseline.read_text())["corpus"]) == {"2023-05-02-cat76-kazakhstan-january-events",
                                                               "xyz-co4", "xyz-co4-word", "xyz-news"}
    gate = cli(with_reports, "eval", "--check", "--baseline", str(baseline))
    assert gate.returncode == 0, gate.stderr


def test_remove_takes_a_document_out_without_embedding(built_index: tuple[Path, Path], tmp_path: Path) -> None:
    library = copy_library(built_index, tmp_path)
    note = tmp_path / "note.md"
    note.write_text("# Note\n\nThe Ridder detention centre was inspected in March 2023.\n", encoding="utf-8")
    assert cli(library, "add", str(note)).returncode == 0
    result = cli(library, "remove", "note")
    assert result.returncode == 0, result.stderr
    assert "removed note.md from " in result.stderr and "taken out of the index: note\n" in result.stderr
    assert "0 embedded" in result.stderr
    assert not (library[0] / "note.md").exists()
    unknown = cli(library, "remove", "nothing-here")
    assert unknown.returncode == 2 and "no document 'nothing-here'" in unknown.stderr


@pytest.mark.parametrize("case", sorted(BAD_DOCUMENTS) + ["over the size limit"])
def test_a_bad_document_is_refused_and_the_index_answers_as_before(
        built_index: tuple[Path, Path], tmp_path: Path, case: str) -> None:
    library = copy_library(built_index, tmp_path)
    before = ask_json(library, "How many citizens were killed?")
    manifest = (library[1] / MANIFEST).read_bytes()
    files = sorted(p.name for p in library[0].iterdir())
    env = None
    if case == "over the size limit":
        name, data, reason = "long.md", ("Sentence. " * 3000).encode(), "over the size limit"
        env = {"VERBATIM_MAX_FILE_MB": "0.01"}
    else:
        name, make, reason = BAD_DOCUMENTS[case]
        data = make(tmp_path)
    (tmp_path / name).write_bytes(data)
    result = cli(library, "add", str(tmp_path / name), env=env)
    assert result.returncode == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("verbatim: error:")]
    assert len(errors) == 1 and errors[0].startswith(f"verbatim: error: {name}: ")
    assert any(part in errors[0] for part in reason.split("|")), errors[0]
    assert (library[1] / MANIFEST).read_bytes() == manifest
    assert sorted(p.name for p in library[0].iterdir()) == files
    assert ask_json(library, "How many citizens were killed?") == before


def test_good_and_bad_files_in_one_add(built_index: tuple[Path, Path], tmp_path: Path) -> None:
    library = copy_library(built_index, tmp_path)
    good = write_markdown(tmp_path / "good.md", make_report(pages=2, needle_page=1))
    bad = tmp_path / "bad.pdf"
    bad.write_bytes(b"%PDF-1.7 truncated")
    result = cli(library, "add", str(bad), str(good))
    assert result.returncode == 1
    assert "verbatim: error: bad.pdf: the PDF is corrupt" in result.stderr
    assert "now in the index: good\n" in result.stderr and "1 of 2 file(s) could not be added" in result.stderr
    assert ask_json(library, QUESTION, "-k", "1")["passages"][0]["doc_id"] == "good"  # type: ignore[index]


def _add_process(library: tuple[Path, Path], path: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "app", "-q", "--corpus", str(library[0]), "--index", str(library[1]), "add", str(path)],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"})


def test_two_adds_at_once_both_land(built_index: tuple[Path, Path], tmp_path: Path) -> None:
    library = copy_library(built_index, tmp_path)
    files = [write_pdf(tmp_path / f"report-{n}.pdf", make_report(pages=3, symbol=f"CAT/C/Q{n}/CO/1"))
             for n in (1, 2)]
    processes = [_add_process(library, path) for path in files]
    for process in processes:
        _, err = process.communicate(timeout=300)
        assert process.returncode == 0, err
    manifest = read_manifest(library[1])
    assert manifest is not None
    assert {"report-1", "report-2"} <= {doc.doc_id for doc in manifest.documents}
    load_index(library[1], manifest)


def _indexed(index: Path) -> set[str]:
    manifest = read_manifest(index)
    assert manifest is not None
    stored = load_index(index, manifest)  # raises if any file of the generation is missing or corrupt
    for doc in manifest.documents:
        assert stored.text(doc.doc_id)
    return {doc.doc_id for doc in manifest.documents}


def test_an_add_killed_at_a_random_moment_never_breaks_the_index(
        built_index: tuple[Path, Path], tmp_path: Path) -> None:
    library = copy_library(built_index, tmp_path)
    rng = random.Random(20230502)
    began = time.monotonic()
    first = _add_process(library, write_pdf(tmp_path / "trial-00.pdf", make_report(pages=6)))
    assert first.wait(timeout=300) == 0
    full = time.monotonic() - began  # how long an uninterrupted add takes
    indexed = _indexed(library[1])
    killed_mid_way = 0
    for trial in range(1, 21):
        path = write_pdf(tmp_path / f"trial-{trial:02}.pdf",
                         make_report(pages=6, symbol=f"CAT/C/T{trial}/CO/1", title=f"Report {trial}"))
        process = _add_process(library, path)
        time.sleep(rng.uniform(0, full))
        process.kill()
        process.wait()
        killed_mid_way += process.returncode == -9
        now = _indexed(library[1])
        assert indexed <= now, f"trial {trial}: lost {indexed - now}"
        # a sync also indexes what earlier killed adds copied into corpus/ but did not index
        assert now <= indexed | {f"trial-{n:02}" for n in range(1, trial + 1)}
        indexed = now
    assert killed_mid_way >= 10  # most kills landed while the add was running
    result = cli(library, "index")  # the next sync picks up whatever a killed add left in the corpus
    assert result.returncode == 0, result.stderr
    assert _indexed(library[1]) == {p.stem for p in library[0].iterdir()
                                    if not p.name.endswith(".json") and not p.name.startswith(".")}


def test_a_running_server_serves_a_document_added_meanwhile(built_index: tuple[Path, Path], tmp_path: Path) -> None:
    from gradio_client import Client

    from tests.conftest import serving

    library = copy_library(built_index, tmp_path)
    with serving(*library) as url:
        client = Client(url, verbose=False)
        path = write_html(tmp_path / "xyz-news.html", make_report(pages=4, needle_page=2))
        assert cli(library, "add", str(path)).returncode == 0
        answer = client.predict(QUESTION, 3, [], ["xyz-news"], api_name="/ask")
        assert answer["passages"][0]["doc_id"] == "xyz-news" and "Ridder" in answer["passages"][0]["text"]
        assert answer["passages"][0]["citation"].endswith("para. 5")
