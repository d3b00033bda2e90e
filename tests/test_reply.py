"""The web app's views of an answer: the reply header for each level, the search cards, links
that lead nowhere shown as text, and the port check of `serve` (fast, no model)."""

from __future__ import annotations

import re
import socket
from pathlib import Path

import pytest

from app.answer.engine import Engine
from app.errors import VerbatimError
from app.models.embed import HashingEmbedder
from app.passages.chunk import Chunk
from app.search.ranking import Answer, Hit, RankingSettings
from app.store.folder import DocumentRecord
from app.web import cards
from app.web.render import answer_to_markdown, reply_header, sources_markdown, web_links_only
from app.web.ui import EMPTY, _check_port, research

TEXT = "# Harbour report\n\nShips came in spring.\n\nBoats return at dawn. ([Keeper, Smith](#))\n"
DOC = DocumentRecord("harbour", "harbour.md", "ab" * 32, "markdown", "Harbour report", "2024-05-02", None, None,
                     "en", None, 2)


def hit(rank: int, start: int, end: int) -> Hit:
    chunk = Chunk("harbour", start, end, TEXT[start:end], None, 1, (rank,))
    return Hit(rank, 1.0 / rank, chunk, DOC, dense_score=0.5, lexical_score=None, dense_rank=rank, lexical_rank=None)


HITS = [hit(1, TEXT.index("Boats"), len(TEXT) - 1), hit(2, TEXT.index("Ships"), TEXT.index("spring.") + 7)]


def test_header_says_the_level_in_words_and_what_was_searched() -> None:
    answered = reply_header(Answer("And at dawn?", False, HITS, 0.6, "Ships? And at dawn?"))
    assert "Answered" in answered and "2 passages" in answered
    assert "Searched for: “Ships? And at dawn?”" in answered  # not the question as typed: shown
    assert "Searched for" not in reply_header(Answer("Ships?", False, HITS, 0.6, "Ships?"))
    related = reply_header(Answer("Trains?", True, HITS, 0.1, "Trains?"))
    assert "Not answered directly" in related and "do not seem to answer" in related
    assert "Nothing relevant found" in reply_header(Answer("Trains?", True, HITS, 0.1, "Trains?", level="none"))
    noticed = reply_header(Answer("Züge?", True, HITS, 0.1, "Züge?"), notice="The documents are in English.")
    assert noticed.count("\n") == 1 and 'class="reply-notice">The documents are in English.' in noticed


def test_nothing_relevant_shows_one_closest_passage_labelled_so() -> None:
    answer = Answer("Trains?", True, HITS, 0.1, "Trains?", level="none")
    reply = answer_to_markdown(answer)
    assert reply.index("Nothing relevant found") < reply.index("[**[1]**]")
    assert "Closest passage (not an answer)" in reply and "[**[2]**]" not in reply and "Ships came" not in reply
    assert "[1]" in sources_markdown(answer) and "[2]" not in sources_markdown(answer)
    assert "[**[2]**]" in answer_to_markdown(Answer("Trains?", True, HITS, 0.1, "Trains?"))  # related: all shown


def test_links_to_nowhere_are_shown_as_their_text() -> None:
    assert web_links_only("> at dawn. ([Keeper, Smith](#))") == "> at dawn. (Keeper, Smith)"
    kept = "[the report](https://example.org/r) ![map](#) \\[not a link](#)"
    assert web_links_only(kept) == kept
    assert web_links_only("[a](page.html) [b](mailto:x@y.org \"mail\") [c](javascript:alert(1))") == "a b c"
    reply = answer_to_markdown(Answer("Boats?", False, HITS, 0.6, "Boats?"))
    assert "(Keeper, Smith)" in reply and "](#)" not in reply
    assert re.search(r"\]\(/doc/harbour\?start=", reply)  # the citation links themselves stay links


def test_search_cards_hold_scores_a_citation_link_and_the_passage() -> None:
    page = cards.result_cards(Answer("Boats?", False, HITS, 0.6, "Boats?"))
    assert page.count('class="result"') == 2
    first = page[page.index('id="result-1"') : page.index('id="result-2"')]
    assert re.search(r'<a class="result-cite" href="/doc/harbour\?start=\d+&amp;end=\d+&amp;v=abab', first)
    for label in ("fused score", "dense rank", "cosine", "lexical rank", "BM25"):
        assert f"<dt>{label}</dt>" in first
    assert "<dt>lexical rank</dt><dd>–</dd>" in first  # the lexical ranker did not rank it
    assert "Boats return at dawn." in first and 'href="#"' not in first


@pytest.fixture
def engine(tiny_corpus: Path, tmp_path: Path) -> Engine:
    return Engine(tiny_corpus, tmp_path / "index", make_embedder=HashingEmbedder, spec=HashingEmbedder.spec,
                  ranking=RankingSettings(min_score=0.0), log=lambda message: None)


@pytest.mark.parametrize("query", ["", "   ", "\n\t"])
def test_an_empty_search_gets_the_chats_message_and_no_files(engine: Engine, query: str) -> None:
    page, csv_path, json_path = research(engine, query, None, False)
    assert EMPTY[0] in page and EMPTY[1] in page and 'role="alert"' in page
    assert csv_path is None and json_path is None


def test_a_search_that_cannot_run_says_why(engine: Engine) -> None:
    page, csv_path, _ = research(engine, "x" * 5000, None, False)
    assert "cannot be searched" in page and "5,000 characters" in page and csv_path is None
    page, csv_path, _ = research(engine, "* ?", None, False)  # no word to search for: said as in the chat
    assert "cannot be searched" in page and "no word to search for" in page and csv_path is None


def test_a_search_gets_cards_and_both_exports(engine: Engine) -> None:
    page, csv_path, json_path = research(engine, "lighthouse keeper", None, False)
    assert "lighthouse keeper retired" in page and csv_path and json_path
    assert Path(csv_path).read_text(encoding="utf-8").startswith("rank,score,dense rank,lexical rank")


def test_port_check_refuses_a_port_in_use_and_allows_one_in_time_wait() -> None:
    with socket.socket() as listener:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn's listener does
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        with pytest.raises(VerbatimError, match=f"cannot serve on 127.0.0.1:{port}"):
            _check_port("127.0.0.1", port)
        client = socket.create_connection(("127.0.0.1", port))
        accepted, _ = listener.accept()
        accepted.close()  # the server side closes first, so its end waits in TIME_WAIT
        client.recv(1)
        client.close()
    _check_port("127.0.0.1", port)  # a stopped server's TIME_WAIT connection must not block a restart
