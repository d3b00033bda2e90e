"""The load test's CPU accounting: a process's own counters, and the cost of a bare ask."""

from __future__ import annotations

import os
import time

from app.bench.load import bare_ask_cpu_ms, process_cpu_seconds


def _spin(seconds: float) -> None:
    end = time.process_time() + seconds
    while time.process_time() < end:
        pass


def test_a_process_cpu_counter_grows_with_the_work_it_does() -> None:
    before = process_cpu_seconds(os.getpid())
    _spin(0.3)
    assert 0.2 <= process_cpu_seconds(os.getpid()) - before <= 2.0


def test_a_bare_ask_costs_what_the_function_burns_per_question() -> None:
    asked: list[str] = []

    def ask(question: str) -> None:
        asked.append(question)
        _spin(0.01)

    cost = bare_ask_cpu_ms(ask, ["a", "b"], rounds=3)
    assert asked == ["a", "b"] + ["a", "b"] * 3  # warm-up, then the timed rounds
    assert 9 <= cost <= 40  # ~10 ms of CPU a question
