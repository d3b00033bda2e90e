"""The served app's API, called with gradio_client as a script would (slow)."""

from __future__ import annotations

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


def test_ask_endpoint_accepts_the_conversation_history(server: str) -> None:
    from gradio_client import Client

    client = Client(server, verbose=False)
    answer = client.predict("How many of them were ambulances?", 3, ["How many vehicles were burned?"],
                            api_name="/ask")
    assert answer["searched_as"].startswith("How many vehicles were burned?")
    assert "46 of them were ambulances" in answer["passages"][0]["text"]


def test_the_load_test_drives_concurrent_clients_without_errors(server: str) -> None:
    from app.loadtest import Replica, run_load

    figures = run_load([Replica(server)], ["How many citizens were killed?", "Who was Bitayev?"], clients=3,
                       per_client=2)
    assert (figures["answered"], figures["errors"]) == (6, 0)
    assert figures["latency_p50_ms"] > 0 and figures["throughput_per_s"] > 0
