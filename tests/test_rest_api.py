"""The REST API of `verbatim serve`, called with httpx as a script would (slow: a real server and model)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import run_cli

pytestmark = pytest.mark.slow
QUESTION = "How many citizens were killed?"


def _post(server: str, body: object) -> tuple[int, dict]:  # type: ignore[type-arg]
    import httpx

    response = httpx.post(server.rstrip("/") + "/api/ask", json=body, timeout=60)
    return response.status_code, response.json()


def test_ask_returns_exactly_the_clis_json(server: str, built_index: tuple[Path, Path]) -> None:
    corpus, index = built_index
    for body, flags in [({"question": QUESTION}, []), ({"question": QUESTION, "k": 2}, ["-k", "2"]),
                        ({"question": QUESTION, "docs": ["2023-05-02-cat76-kazakhstan-january-events"]},
                         ["--doc", "2023-05-02-cat76-kazakhstan-january-events"])]:
        status, answer = _post(server, body)
        cli = run_cli("--corpus", str(corpus), "--index", str(index), "ask", "--json", *flags, QUESTION)
        assert status == 200 and cli.returncode == 0, cli.stderr
        assert answer == json.loads(cli.stdout)
    status, follow_up = _post(server, {"question": "How many of them were ambulances?",
                                       "history": ["How many vehicles were burned?"]})
    assert follow_up["searched_as"].startswith("How many vehicles were burned?")
    assert "46 of them were ambulances" in follow_up["passages"][0]["text"]


@pytest.mark.parametrize(("body", "cli_args", "status"), [
    ({"question": "   "}, ["ask", "   "], 400),
    ({"question": QUESTION, "k": 0}, ["ask", "-k", "0", QUESTION], 400),
    ({"question": QUESTION, "k": 51}, ["ask", "-k", "51", QUESTION], 400),
    ({"question": "x" * 1001}, ["ask", "x" * 1001], 400),
    ({"question": QUESTION, "docs": ["no-such-doc"]}, ["ask", "--doc", "no-such-doc", QUESTION], 400),
])
def test_bad_input_gets_a_4xx_with_the_clis_message(server: str, built_index: tuple[Path, Path], body: object,
                                                    cli_args: list[str], status: int) -> None:
    got, answer = _post(server, body)
    cli = run_cli("--corpus", str(built_index[0]), "--index", str(built_index[1]), *cli_args)
    assert cli.returncode == 2
    assert (got, f"verbatim: error: {answer['detail']}\n") == (status, cli.stderr)


@pytest.mark.parametrize(("body", "says"), [
    ({"k": 3}, "question: Field required"),
    ({"question": QUESTION, "k": "three"}, "k: Input should be a valid integer"),
    ({"question": QUESTION, "history": "not a list"}, "history: Input should be a valid list"),
    ([QUESTION], "the request body: Input should be a valid dictionary"),
])
def test_a_body_of_the_wrong_shape_gets_422_naming_the_field(server: str, body: object, says: str) -> None:
    status, answer = _post(server, body)
    assert status == 422 and answer["detail"].startswith(says)


@pytest.mark.parametrize(("body", "status", "says"), [
    (b'{"question": "How many vehicles were burned? \xff\xfe"}', 400, "could not be read as UTF-8 JSON"),
    (b'{"question": "How many vehicles', 422, "not valid JSON at character"),
    (b"How many vehicles were burned?", 422, "not valid JSON at character 0"),
])
def test_a_body_that_is_not_json_says_so_and_shows_the_shape_to_send(server: str, body: bytes, status: int,
                                                                      says: str) -> None:
    import httpx

    got = httpx.post(f"{server.rstrip('/')}/api/ask", content=body, headers={"content-type": "application/json"})
    assert got.status_code == status and says in got.json()["detail"]
    assert '{"question": ' in got.json()["detail"]  # what to send instead


def test_docs_and_health_and_the_openapi_page(server: str, built_index: tuple[Path, Path]) -> None:
    import httpx

    base = server.rstrip("/")
    docs = httpx.get(base + "/api/docs").json()
    cli = run_cli("--corpus", str(built_index[0]), "--index", str(built_index[1]), "docs", "--json")
    assert docs == [json.loads(line) for line in cli.stdout.splitlines()]
    health = httpx.get(base + "/api/health").json()
    assert health["status"] == "ok" and health["documents"] == 1 and health["passages"] == 23
    schema = httpx.get(base + "/openapi.json").json()
    assert sorted(schema["paths"]) == ["/api/ask", "/api/docs", "/api/health"]  # no Gradio or reader routes
    assert httpx.get(base + "/docs").status_code == 200


def test_the_load_test_drives_rest_clients_and_measures_server_cpu(server: str) -> None:
    import psutil

    from app.bench.load import Replica, run_load

    port = int(server.rstrip("/").rsplit(":", 1)[1])
    pid = next(c.pid for c in psutil.net_connections("tcp")
               if c.laddr and c.laddr.port == port and c.status == "LISTEN")
    figures = run_load([Replica(server, pid)], [QUESTION, "Who was Bitayev?"], clients=4, per_client=3, api="rest")
    assert (figures["answered"], figures["errors"]) == (12, 0)
    assert figures["server_cpu_ms_per_answer"] > 0 and figures["latency_p95_ms"] > 0
