"""The served app's API, called with gradio_client as a script would (slow)."""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


def test_ask_endpoint_takes_the_question_alone(server: str) -> None:
    from gradio_client import Client

    client = Client(server, verbose=False)
    answer = client.predict("How many citizens were killed?", api_name="/ask")
    assert answer["abstained"] is False
    assert "238 citizens" in answer["passages"][0]["text"]
    assert answer["passages"][0]["citation"]
    fewer = client.predict("How many citizens were killed?", 2, api_name="/ask")
    assert len(fewer["passages"]) == 2


def test_ask_endpoint_refuses_an_empty_question(server: str) -> None:
    from gradio_client import Client

    client = Client(server, verbose=False)
    with pytest.raises(Exception, match="the question is empty"):
        client.predict("  ", api_name="/ask")


def call_ask(server: str, data: list[object]) -> str:
    """Gradio's HTTP API for /ask, written by hand: the body is JSON with its non-ASCII escaped, so it
    can carry a lone surrogate ("\\ud800") that gradio_client, encoding UTF-8, cannot send. Returns
    the event stream's text."""
    import json

    import httpx

    url = server.rstrip("/")
    with httpx.Client(timeout=60) as http:
        started = http.post(f"{url}/gradio_api/call/ask", content=json.dumps({"data": data}),
                            headers={"content-type": "application/json"})
        assert started.status_code == 200, started.text
        return http.get(f"{url}/gradio_api/call/ask/{started.json()['event_id']}").text


@pytest.mark.parametrize(("data", "message"), [
    (["How many citizens were killed? \ud800", 5, [], []], "not valid text at character 32"),  # a lone surrogate
    (["How many citizens were killed?", True, [], []], "k must be a whole number"),  # not a count
    (["How many citizens were killed?", "3", [], []], "k must be a whole number"),
    (["And then?", 3, ["ok", "bad \udc80"], []], "history item 2 is not valid text"),
])
def test_ask_endpoint_refuses_what_it_cannot_search_with_the_reason(server: str, data: list[object],
                                                                    message: str) -> None:
    stream = call_ask(server, data)
    assert "event: error" in stream and message in stream
    assert "event: complete" in call_ask(server, ["How many citizens were killed?", 5, [], []])  # still answers


def test_ask_endpoint_accepts_the_conversation_history(server: str) -> None:
    from gradio_client import Client

    client = Client(server, verbose=False)
    answer = client.predict("How many of them were ambulances?", 3, ["How many vehicles were burned?"],
                            api_name="/ask")
    assert answer["searched_as"].startswith("How many vehicles were burned?")
    assert "46 of them were ambulances" in answer["passages"][0]["text"]


def test_the_load_test_drives_concurrent_clients_without_errors(server: str) -> None:
    from app.bench.load import Replica, run_load

    figures = run_load([Replica(server)], ["How many citizens were killed?", "Who was Bitayev?"], clients=3,
                       per_client=2)
    assert (figures["answered"], figures["errors"]) == (6, 0)
    assert figures["latency_p50_ms"] > 0 and figures["throughput_per_s"] > 0


def test_the_load_test_prints_the_servers_cpu_per_answer_beside_a_bare_ask(built_index: tuple[Path, Path]) -> None:
    import json

    from tests.conftest import run_cli

    corpus, index = built_index
    result = run_cli("--corpus", str(corpus), "--index", str(index), "loadtest", "--clients", "2",
                     "--questions", "3", "--json")
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout)
    assert (figures["answered"], figures["errors"]) == (6, 0)
    assert figures["server_cpu_ms_per_answer"] > 0 and figures["bare_ask_cpu_ms"] > 0
    ratio = figures["server_cpu_ms_per_answer"] / figures["bare_ask_cpu_ms"]
    assert figures["server_cpu_vs_bare_ask"] == pytest.approx(ratio, abs=0.01)


def test_the_load_test_adds_a_document_while_two_replicas_serve_and_both_answer_from_it(
        built_index: tuple[Path, Path], tmp_path: Path) -> None:
    import json
    import shutil

    from tests.conftest import run_cli

    corpus, index = (tmp_path / "corpus", tmp_path / "index")
    shutil.copytree(built_index[0], corpus)
    shutil.copytree(built_index[1], index)
    new = tmp_path / "harbour-report.txt"
    new.write_text("The harbour of Oban reopened in March after the storm.\n\n"
                   "Ferries to Mull now leave every two hours from the north pier.\n", encoding="utf-8")
    result = run_cli("--corpus", str(corpus), "--index", str(index), "loadtest", "--api", "rest", "--replicas", "2",
                     "--clients", "2", "--questions", "2", "--add", str(new), "--add-after", "0",
                     "--add-question", "When did the harbour of Oban reopen?", "--json", timeout=900)
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout)
    added = figures["added"]
    assert added["add_exit"] == 0 and added["add_s"] > 0, added
    assert [replica["cites_new_document"] for replica in added["replicas"]] == [True, True], added
    assert all(replica["seen_after_s"] is not None for replica in added["replicas"])
    assert figures["errors"] == 0 and figures["answered"] >= 4
    assert all(replica["memory_mib"] > 0 for replica in figures["replicas"])
