"""Concurrent questions share model calls, and each caller still gets its own vectors."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from app.models.embed import CoalescingEmbedder, HashingEmbedder


class SlowCountingEmbedder(HashingEmbedder):
    """The hashing embedder, slowed so that callers overlap, counting its calls."""

    def __init__(self, fail_on: str | None = None) -> None:
        self.calls: list[int] = []
        self.fail_on = fail_on

    def embed(self, texts: list[str], *, progress: bool = False) -> np.ndarray:
        self.calls.append(len(texts))
        time.sleep(0.05)
        if self.fail_on in texts:
            raise RuntimeError("model failed")
        return super().embed(texts)


def _ask_together(embedder: CoalescingEmbedder, questions: list[str]) -> dict[str, object]:
    results: dict[str, object] = {}
    start = threading.Barrier(len(questions))

    def ask(question: str) -> None:
        start.wait()
        try:
            results[question] = embedder.embed([question])
        except RuntimeError as exc:
            results[question] = exc

    threads = [threading.Thread(target=ask, args=(q,)) for q in questions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_concurrent_callers_share_calls_and_get_their_own_vectors() -> None:
    inner = SlowCountingEmbedder()
    questions = [f"question number {n} about topic {n * 7}" for n in range(12)]
    results = _ask_together(CoalescingEmbedder(inner), questions)
    alone = HashingEmbedder()
    for question in questions:
        np.testing.assert_allclose(results[question], alone.embed([question]), rtol=0, atol=1e-6)
    assert sum(inner.calls) == len(questions)
    assert len(inner.calls) < len(questions)  # at least one call embedded several questions


def test_a_lone_caller_is_embedded_at_once() -> None:
    inner = SlowCountingEmbedder()
    embedder = CoalescingEmbedder(inner)
    for text in ("first", "second"):
        assert embedder.embed([text]).shape == (1, inner.spec.dimension)
    assert inner.calls == [1, 1]


def test_a_failing_batch_is_retried_one_by_one_so_only_the_bad_request_fails() -> None:
    inner = SlowCountingEmbedder(fail_on="poison")
    embedder = CoalescingEmbedder(inner)
    others = [f"q{n}" for n in range(5)]
    for _ in range(3):  # the barrier does not promise that the poison shares a batch: try a few times
        inner.calls.clear()
        results = _ask_together(embedder, ["poison", *others])
        if max(inner.calls) > 1:
            break
    assert max(inner.calls) > 1, "the poisoned question never shared a batch"
    assert isinstance(results["poison"], RuntimeError)
    alone = HashingEmbedder()
    for question in others:  # every other caller got its own vectors, as if asked alone
        np.testing.assert_allclose(results[question], alone.embed([question]), rtol=0, atol=1e-6)
    assert embedder.embed(["after"]).shape == (1, inner.spec.dimension)


def test_long_lists_pass_straight_through() -> None:
    inner = SlowCountingEmbedder()
    texts = [f"passage {n}" for n in range(100)]
    vectors = CoalescingEmbedder(inner, max_texts=64).embed(texts)
    assert vectors.shape == (100, inner.spec.dimension)
    assert inner.calls == [100]


@pytest.mark.parametrize("count", [1, 3])
def test_callers_with_several_texts_get_them_in_order(count: int) -> None:
    embedder = CoalescingEmbedder(SlowCountingEmbedder())
    texts = [f"text {n}" for n in range(count)]
    np.testing.assert_allclose(embedder.embed(texts), HashingEmbedder().embed(texts), atol=1e-6)
