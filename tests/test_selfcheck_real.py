"""The self-check through the real `verbatim` command and model: among good documents (the speech,
a numbered report, a bulletin with running heads, a UN report, a Word lease), a PDF whose text
layer is scrambled and a scanned PDF with no text are flagged, and the speech passes.

The scan is refused at `add` (nothing of it could be found); dropped into the corpus folder by
hand, the build records it as not indexed and the self-check reports it: "no text: 0 sentences".
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.arrivals_factory import write_bulletin_pdf, write_tenancy_docx, write_un_pdf
from tests.conftest import run_cli
from tests.documents_factory import make_report, write_garbled_pdf, write_pdf, write_scanned_pdf

pytestmark = pytest.mark.slow
SPEECH_ID = "2023-05-02-cat76-kazakhstan-january-events"
GOOD = {SPEECH_ID, "report", "bulletin", "un-report", "tenancy"}


@pytest.fixture(scope="module")
def library(built_index: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The speech's index with four good documents and the garbled PDF added by `verbatim add`."""
    root = tmp_path_factory.mktemp("selfcheck")
    corpus, index = root / "corpus", root / "index"
    shutil.copytree(built_index[0], corpus)
    shutil.copytree(built_index[1], index)
    files = root / "files"
    files.mkdir()
    paths = [write_pdf(files / "report.pdf", make_report()), write_bulletin_pdf(files / "bulletin.pdf"),
             write_un_pdf(files / "un-report.pdf"), write_tenancy_docx(files / "tenancy.docx"),
             write_garbled_pdf(files / "garbled.pdf", make_report(
                 pages=8, symbol="CAT/C/ABC/CO/2", title="Concluding observations on the second report of Abcland"))]
    added = cli((corpus, index), "add", *map(str, paths))
    assert added.returncode == 0, added.stderr
    return corpus, index


def cli(library: tuple[Path, Path], *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli("--corpus", str(library[0]), "--index", str(library[1]), *args)


def self_check(library: tuple[Path, Path], *args: str) -> dict:
    result = cli(library, "eval", "--self-check", *args, "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_the_garbled_pdf_is_flagged_and_every_good_document_passes(library: tuple[Path, Path]) -> None:
    data = self_check(library)
    rows = {row["doc_id"]: row for row in data["documents"]}
    assert set(rows) == GOOD | {"garbled"}
    flagged = {doc_id for doc_id, row in rows.items() if row["flagged"]}
    assert flagged == {"garbled"}, {doc_id: (row["at1"], row["at5"], row["flag"]) for doc_id, row in rows.items()}
    speech = rows[SPEECH_ID]
    assert speech["sentences"] == 20 and speech["at5"] >= 0.9
    garbled = rows["garbled"]  # its scrambled words are not English words, whatever its ranks
    assert garbled["sentences"] == 20 and garbled["words_known"] < 0.5 and "garbled text layer" in garbled["flag"]
    assert all(rows[doc_id]["words_known"] > 0.8 for doc_id in GOOD)
    assert data["rule"]["documents_compared"] == 6 and data["sentences"] == sum(r["sentences"] for r in rows.values())
    again = self_check(library, SPEECH_ID)  # deterministic: the same sentences, the same ranks
    assert again["documents"][0]["at1"] == speech["at1"] and again["documents"][0]["misses"] == speech["misses"]


def test_a_scan_is_refused_at_add_and_reported_when_put_in_the_corpus_by_hand(
        library: tuple[Path, Path], tmp_path: Path) -> None:
    scan = write_scanned_pdf(tmp_path / "scan.pdf", make_report(pages=3))
    refused = cli(library, "add", str(scan))
    assert refused.returncode == 1 and "scan.pdf: the PDF has no text layer" in refused.stderr
    shutil.copy(scan, library[0] / "scan.pdf")
    try:
        assert cli(library, "index").returncode == 1  # the build reports the file it could not read
        data = self_check(library, "scan.pdf")
        (row,) = data["documents"]
        assert row["sentences"] == 0 and row["flagged"] and "no text: 0 sentences" in row["flag"]
        assert "no text layer" in row["flag"]
    finally:
        (library[0] / "scan.pdf").unlink()
        assert cli(library, "index").returncode == 0


def test_the_gate_fails_on_a_flagged_document_and_passes_on_the_speech(library: tuple[Path, Path]) -> None:
    failed = cli(library, "eval", "--check", "--self-check")
    assert failed.returncode == 1
    assert "gate: garbled: " in failed.stderr and "gate: FAILED (self-check of 6 document(s))" in failed.stderr
    assert "flagged: garbled:" in failed.stdout and "median top-5" in failed.stdout
    passed = cli(library, "eval", "--check", "--self-check", SPEECH_ID)
    assert passed.returncode == 0 and "gate: passed (self-check of 1 document(s))" in passed.stderr


def test_docs_and_the_docs_api_show_each_documents_last_result(library: tuple[Path, Path]) -> None:
    self_check(library)
    listing = cli(library, "docs")
    assert listing.returncode == 0 and "SELF-CHECK" in listing.stdout
    line = {row.split()[0]: row for row in listing.stdout.splitlines()[1:] if row.strip()}
    assert "FLAGGED" in line["garbled"] and "FLAGGED" not in line[SPEECH_ID]
    docs = [json.loads(row) for row in cli(library, "docs", "--json").stdout.splitlines()]
    kept = {doc["doc_id"]: doc["self_check"] for doc in docs}
    assert kept["garbled"]["flagged"] is True and kept[SPEECH_ID]["flagged"] is False


def test_misuse_is_a_message(library: tuple[Path, Path]) -> None:
    unknown = cli(library, "eval", "--self-check", "nope")
    assert unknown.returncode == 2 and "no document 'nope' in the index" in unknown.stderr
    mixed = cli(library, "eval", "--self-check", "--set", "eval/speech.jsonl")
    assert mixed.returncode == 2 and "--self-check runs on its own; drop --set" in mixed.stderr
