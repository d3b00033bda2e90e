"""Documents as they arrive, through the real `verbatim` command and model: all added in one
`verbatim add` beside the speech, then asked about as a user would (slow)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.arrivals_factory import (
    RUSSIAN,
    write_bulletin_pdf,
    write_table_markdown,
    write_tenancy_docx,
    write_un_pdf,
    write_water_pdf,
)
from tests.documents_factory import make_report, write_markdown, write_pdf
from tests.test_documents_cli import ask_json, cli, copy_library

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def arrivals(built_index: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("arrivals")
    library = copy_library(built_index, root)
    incoming = root / "incoming"
    incoming.mkdir()
    report = make_report(pages=3, symbol="CAT/C/QRS/CO/1", title="Concluding observations on Qrsland")
    (incoming / "doklad.md").write_text(RUSSIAN, encoding="utf-8")
    (incoming / "annual.md").write_text("# Annual report 2024\n", encoding="utf-8")
    files = [write_bulletin_pdf(incoming / "bulletin.pdf"), write_water_pdf(incoming / "water.pdf"),
             write_un_pdf(incoming / "abc.pdf"), write_tenancy_docx(incoming / "lease.docx"),
             write_table_markdown(incoming / "cases.md"), incoming / "doklad.md", incoming / "annual.md",
             write_markdown(incoming / "qrs.md", report), write_pdf(incoming / "qrs.pdf", report)]
    added = cli(library, "add", *map(str, files))
    assert added.returncode == 0, added.stderr
    assert "verbatim: warning: annual.md: holds headings only" in added.stderr
    assert "qrs, qrs-pdf" in added.stderr
    return library


def test_a_phrase_split_by_a_line_end_hyphen_is_found_and_furniture_never_shows(arrivals: tuple[Path, Path]) -> None:
    answer = ask_json(arrivals, "remarkable capabilities", "--phrase", "--doc", "bulletin")
    [passage] = answer["passages"]  # type: ignore[index]
    assert "capabili-\nties" in passage["text"]
    [(start, end)] = [span for span in passage["highlights"] if span[0] == passage["start"]]
    assert passage["text"][: end - start].endswith("ment arrived on time.")  # the sentence, not a line
    for question in ("Harbour Authority bulletin page 2 of 3", "What does the internal bulletin say?"):
        for hit in ask_json(arrivals, question, "--doc", "bulletin")["passages"]:  # type: ignore[union-attr]
            assert "HARBOUR AUTHORITY" not in hit["text"] and "of 3" not in hit["text"]


def test_a_word_list_item_is_cited_by_its_number(arrivals: tuple[Path, Path]) -> None:
    top = ask_json(arrivals, "How can either party end the tenancy?")["passages"][0]  # type: ignore[index]
    assert top["doc_id"] == "lease" and top["text"].startswith("3. Either party")
    assert top["citation"] == "Tenancy conditions, para. 3" and top["title"] == "Tenancy conditions"


def test_the_answering_table_row_is_highlighted(arrivals: tuple[Path, Path]) -> None:
    top = ask_json(arrivals, "How many cases were filed in Lisakovsk?")["passages"][0]  # type: ignore[index]
    assert top["doc_id"] == "cases"
    offset = top["start"]
    marked = [top["text"][a - offset : b - offset] for a, b in top["highlights"]]
    assert marked[0] == "| Lisakovsk | 186 | 10 |"


def test_a_russian_question_is_answered(arrivals: tuple[Path, Path]) -> None:
    answer = ask_json(arrivals, "жалоба заключенного")
    assert answer["level"] == "answered" and not answer["abstained"]
    assert "жалобы заключённых" in answer["passages"][0]["text"]  # type: ignore[index]


def test_honest_metadata_both_formats_and_the_title_only_file(arrivals: tuple[Path, Path]) -> None:
    listed = cli(arrivals, "docs", "--json")
    docs = {doc["doc_id"]: doc for doc in map(json.loads, listed.stdout.splitlines())}
    assert docs["water"]["date"] is None and docs["water"]["title"] == "Annual review of the water supply"
    assert docs["abc"]["date"] == "2023-06-08" and docs["abc"]["title"] == "Concluding observations on Abcland"
    assert docs["doklad"]["language"] == "ru" and docs["qrs-pdf"]["path"] == "qrs.pdf"
    assert docs["2023-05-02-cat76-kazakhstan-january-events"]["passages"] == 23  # the speech is untouched
    twins = ask_json(arrivals, "Where did free legal aid reach detainees in rural districts?", "-k", "3")
    grouped = [p for p in twins["passages"] if p["doc_id"].startswith("qrs")]  # type: ignore[union-attr]
    assert len(grouped) == 1 and [t["doc_id"] for t in grouped[0]["also_in"]] in (["qrs"], ["qrs-pdf"])
    title_only = ask_json(arrivals, "Annual report 2024", "--doc", "annual")["passages"]
    assert title_only[0]["text"] == "Annual report 2024"  # type: ignore[index]
