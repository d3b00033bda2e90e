"""What people copy and export is the text as shown, and what maintainers read says what happened
(fast, no model): the plain text of a quote, terminal and CSV output, paragraph numbers that say
which numbering they are, `ask -` lines written as JSON, corrections spelt as the documents spell
them, and the add/remove messages."""

from __future__ import annotations

import argparse
import csv
import io
from pathlib import Path

import pytest

from app.answer.engine import Engine
from app.cli.commands import run_add, run_remove
from app.cli.lines import parse_stdin_line
from app.cli.messages import index_changes
from app.errors import UsageError
from app.models.embed import HashingEmbedder
from app.passages.chunk import Chunk
from app.search.ranking import Answer, Hit, RankingSettings
from app.store.folder import DocumentRecord
from app.web.display import passage_text
from app.web.reader import render_page
from app.web.render import BOLD, answer_to_dict, answer_to_rows, answer_to_text, rows_to_csv

# A Markdown source whose quote a student copies: the reader shows no asterisks, no link target.
SOURCE = ("# Losses\n\n**765 vehicles were burned**, and 46 [shops](https://example.org/shops) were *looted*.\n\n"
          "Second paragraph, with 5*2 = 10 as written.\n")
DOC = DocumentRecord("losses", "losses.md", "cd" * 32, "markdown", "Losses", "2023-05-02", None, None, "en", None, 1)
START = SOURCE.index("**765")
END = SOURCE.index("written.") + len("written.")
FIRST = (START, SOURCE.index("burned**") + len("burned**"))  # the answering sentence's first clause


def markdown_hit(labels: tuple[str, ...] = ()) -> Hit:
    chunk = Chunk("losses", START, END, SOURCE[START:END], None, 1, (2, 3), labels=labels)
    return Hit(1, 0.9, chunk, DOC, dense_score=0.61, lexical_score=3.2, dense_rank=1, lexical_rank=1,
               highlights=(FIRST,))


SHOWN = ("765 vehicles were burned, and 46 shops were looted.\n\n"  # the words a reader sees, and copies
         "Second paragraph, with 5*2 = 10 as written.")


def test_a_quote_as_plain_text_has_the_words_as_shown_and_no_markdown() -> None:
    assert passage_text(SOURCE[START:END], START, (), "markdown") == SHOWN
    marked = passage_text(SOURCE[START:END], START, [FIRST], "markdown", mark=("<", ">"))
    assert marked.startswith("<765 vehicles were burned>, and 46 shops")
    # plain formats keep every character (a PDF's "**" is text), a split word as on the page
    assert passage_text("a **b**\nc capabili-\nties", 0, (), "plain") == "a **b** c capabili-ties"
    table = "| Region | Dry wells |\n| --- | --- |\n| Region 14 | 7 |\n| Oban | 3 |"
    assert passage_text(table, 0, (), "markdown") == "Region\tDry wells\nRegion 14\t7\nOban\t3"
    # a table piece: shown as a table, its header row (context, not in the quote) left out
    assert passage_text("| Region 15 | 2 |", 0, (), "markdown", "| Region | Dry wells |") == "Region 15\t2"


def test_the_readers_copy_quote_holds_the_plain_text() -> None:
    page = render_page({"title": "Losses", "format": "markdown"}, SOURCE, (START, END), [], "Losses, para. 2",
                       SHOWN, None, "http://example.org/doc/losses")
    assert '<div id="quote" hidden>765 vehicles were burned, and 46 shops were looted.' in page


def test_json_keeps_the_source_under_text_and_the_shown_words_as_plain_text() -> None:
    data = answer_to_dict(Answer("Burned?", False, [markdown_hit()], 0.61, "Burned?"))["passages"][0]
    assert data["text"] == SOURCE[START:END] and data["text"].startswith("**765")
    assert data["plain_text"] == SHOWN


def test_terminal_text_is_plain_unless_stdout_is_a_terminal() -> None:
    answer = Answer("Burned?", False, [markdown_hit()], 0.61, "Burned?")
    piped = answer_to_text(answer)
    assert "    765 vehicles were burned, and 46 shops were looted." in piped
    assert "**" not in piped and "\x1b" not in piped and "](https" not in piped
    terminal = answer_to_text(answer, emphasis=True)
    assert f"    {BOLD[0]}765 vehicles were burned{BOLD[1]}, and 46 shops" in terminal and "**" not in terminal


def test_csv_rows_hold_the_plain_passage_and_an_absolute_link() -> None:
    answer = Answer("Burned?", False, [markdown_hit()], 0.61, "Burned?")
    rows = list(csv.DictReader(io.StringIO(rows_to_csv(answer_to_rows(answer, "http://10.0.0.7:8080/")))))
    assert rows[0]["passage"] == SHOWN
    assert rows[0]["link"].startswith(f"http://10.0.0.7:8080/doc/losses?start={START}&end={END}&v=cdcd")
    assert answer_to_rows(answer)[0][-1].startswith("/doc/losses?")  # no address known: relative


def test_paragraphs_are_the_cited_numbers_and_the_positions_are_named_apart() -> None:
    own = answer_to_dict(Answer("Burned?", False, [markdown_hit(("9", "9(a)"))], 0.6, "Burned?"))["passages"][0]
    assert own["citation"].endswith("paras. 9–9(a)")
    assert (own["paragraphs"], own["paragraph_numbering"], own["paragraph_positions"]) == (["9", "9(a)"],
                                                                                            "document", [2, 3])
    counted = answer_to_dict(Answer("Burned?", False, [markdown_hit()], 0.6, "Burned?"))["passages"][0]
    assert counted["citation"].endswith("paras. 2–3")
    assert (counted["paragraphs"], counted["paragraph_numbering"], counted["paragraph_positions"]) == (
        ["2", "3"], "counted", [2, 3])
    assert "own_paragraphs" not in counted


@pytest.mark.parametrize(("line", "question"), [
    ('"How many vehicles were burned?"\n', "How many vehicles were burned?"),  # a JSON string: no quotes
    ('  "Who said \\"no\\"?"  \n', 'Who said "no"?'),  # its escapes decoded
    ('"January events" and "mass riots"\n', '"January events" and "mass riots"'),  # quoted words: plain text
    ("2022: how many were killed?\n", "2022: how many were killed?"),  # opens with a number, not JSON
    ('{"question": "And convicted?", "history": ["Killed?"]}', "And convicted?"),
])
def test_ask_stdin_lines_are_plain_text_or_json(line: str, question: str) -> None:
    assert parse_stdin_line(line, 3)[0] == question


@pytest.mark.parametrize(("line", "says"), [
    ("42", "line 7: is a JSON number"), ("[\"How many?\"]", "JSON array"), ("null", "JSON null"),
    ("true", "JSON true"), ('"How many \\q?"', "is written as a JSON string but is not valid JSON"),
    ("{'question': 1}", "starts with '{' but is not valid JSON"),
])
def test_other_json_values_are_refused_with_what_a_line_may_be(line: str, says: str) -> None:
    with pytest.raises(UsageError, match="line 7") as refused:
        parse_stdin_line(line, 7)
    assert says in str(refused.value)


RUSSIAN = ("Заключённые жалуются на отсутствие медицинской помощи в учреждении.\n\n"
           "Медицинской службе передали сорок жалоб.\n")


def make_engine(corpus: Path, index: Path) -> Engine:
    return Engine(corpus, index, make_embedder=HashingEmbedder, spec=HashingEmbedder.spec,
                  ranking=RankingSettings(min_score=0.0), log=lambda message: None)


def test_a_corrected_word_is_spelt_as_the_documents_spell_it(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "zhaloby.txt").write_text(RUSSIAN, encoding="utf-8")
    (corpus / "zhaloby.txt.meta.json").write_text('{"language": "ru"}', encoding="utf-8")
    engine = make_engine(corpus, tmp_path / "index")
    answer = engine.ask("Где медецинской помощи?", k=1)  # "е" for "и": one edit from the documents' word
    assert [(c.typed, c.searched) for c in answer.corrections] == [("медецинской", "медицинской")]  # not "…скои"
    assert answer.searched_as == "Где медицинской помощи?"
    capital = engine.ask("Медецинской службе?", k=1)  # a capital typed stays a capital
    assert capital.corrections[0].searched == "Медицинской"


def cli_args(**given: object) -> argparse.Namespace:
    meta = dict.fromkeys(("title", "date", "source_url", "language", "symbol", "venue"))
    return argparse.Namespace(quiet=False, replace=False, **meta, **given)


def test_the_first_add_says_what_was_added_and_apart_what_else_was_indexed(
        tiny_corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    engine = make_engine(tiny_corpus, tmp_path / "index")  # the corpus has never been indexed
    report = tmp_path / "report.md"
    report.write_text("# Report\n\nThe well in Region 14 ran dry in August.\n", encoding="utf-8")
    assert run_add(cli_args(paths=[report]), engine) == 0
    said = capsys.readouterr().err
    assert f"added report.md in {tiny_corpus} as document report" in said
    assert "now in the index: report\n" in said
    assert ("also now in the index, to match the corpus folder (not done by this command): harbour, orchard"
            in said)
    again = tmp_path / "note.md"
    again.write_text("# Note\n\nA second note on the lighthouse.\n", encoding="utf-8")
    assert run_add(cli_args(paths=[again]), engine) == 0
    said = capsys.readouterr().err
    assert "now in the index: note\n" in said and "also" not in said  # only what this add did
    assert run_remove(cli_args(doc_ids=["note"]), engine) == 0
    said = capsys.readouterr().err
    assert f"removed note.md from {tiny_corpus}" in said and "taken out of the index: note\n" in said


def test_index_changes_name_each_kind_on_its_own_line() -> None:
    assert index_changes(("b", "a"), ("c",), ("d",)) == [
        "now in the index: a, b", "updated in the index: c", "taken out of the index: d"]
    assert index_changes(("a",), (), (), frozenset()) == [  # an add that added nothing new
        "also now in the index, to match the corpus folder (not done by this command): a"]
    assert index_changes(("a", "new"), (), (), frozenset({"new"})) == [
        "now in the index: new", "also now in the index, to match the corpus folder (not done by this command): a"]


def test_a_change_of_many_documents_is_counted_not_listed() -> None:
    from app.cli.messages import index_changes

    many = tuple(f"doc-{n:05d}" for n in range(10952))
    line, = index_changes(many, (), ())
    assert line == ("now in the index: 10952 documents (doc-00000, doc-00001, doc-00002, doc-00003, doc-00004, "
                    "... doc-10951; `verbatim docs` lists them)")
    assert index_changes(many[:20], (), ()) == [f"now in the index: {', '.join(many[:20])}"]
