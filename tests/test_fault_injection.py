"""Serving that one bad request cannot break: each attack of the issue, against a real `verbatim serve`.

A copy of the shipped corpus and its real index is served (slow: the real model); the files of
the copy are damaged on purpose. Loopback only; every request loop is bounded in count and time.
"""

from __future__ import annotations

import json
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest

from app.store.folder import SENTENCES, VECTORS, read_manifest

from .conftest import run_cli, serving

pytestmark = pytest.mark.slow

QUESTION = "How many citizens were killed?"
POISON = "How many citizens were killed? \ud800"  # a lone surrogate: valid JSON, no valid text


def copy_of(built_index: tuple[Path, Path], root: Path) -> tuple[Path, Path]:
    corpus, index = root / "corpus", root / "index"
    shutil.copytree(built_index[0], corpus)
    shutil.copytree(built_index[1], index)
    return corpus, index


@pytest.fixture(scope="module")
def site(built_index: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    corpus, index = copy_of(built_index, tmp_path_factory.mktemp("attacked"))
    with serving(corpus, index) as url:
        yield url.rstrip("/"), index


def ask(client: object, url: str, question: str, **extra: object) -> object:
    return client.post(f"{url}/api/ask", json={"question": question, "k": 1, **extra})  # type: ignore[attr-defined]


def top_paragraphs(response: object) -> list[str]:
    assert response.status_code == 200, response.text  # type: ignore[attr-defined]
    return list(response.json()["passages"][0]["paragraphs"])  # type: ignore[attr-defined]


def test_a_poisoned_question_fails_alone_beside_eight_normal_clients(site: tuple[str, Path]) -> None:
    import httpx

    url, index = site
    normal: list[int] = []
    poisoned: list[int] = []
    errors: list[str] = []
    deadline = time.monotonic() + 10

    def client(question: str, tally: list[int]) -> None:
        with httpx.Client(timeout=30) as http:
            while time.monotonic() < deadline and len(tally) < 5_000:
                try:
                    # the body is written by hand: json.dumps would escape the surrogate the same way
                    body = json.dumps({"question": question, "k": 3})
                    tally.append(http.post(f"{url}/api/ask", content=body,
                                           headers={"content-type": "application/json"}).status_code)
                except httpx.HTTPError as exc:
                    errors.append(repr(exc))

    threads = [threading.Thread(target=client, args=(QUESTION, normal)) for _ in range(8)]
    threads += [threading.Thread(target=client, args=(POISON, poisoned)) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors[:3]
    assert normal and set(normal) == {200}, f"{sum(s != 200 for s in normal)} of {len(normal)} normal questions failed"
    assert poisoned and set(poisoned) == {400}
    log = (index.parent / "serve.log").read_text()
    assert "Traceback" not in log


def test_what_the_app_does_not_use_is_refused(site: tuple[str, Path]) -> None:
    import httpx

    url, _ = site
    with httpx.Client(timeout=30) as http:
        upload = http.post(f"{url}/gradio_api/upload", files={"files": ("a.txt", b"stored?")})
        assert upload.status_code == 403 and "no uploads" in upload.json()["detail"]
        big = {"question": QUESTION, "history": ["x" * 1000] * 100}  # ~100 KB: over the API's 64 KiB
        assert http.post(f"{url}/api/ask", json=big).status_code == 413
        chunked = http.post(f"{url}/api/ask", content=iter([json.dumps(big).encode()]),
                            headers={"content-type": "application/json"})  # no Content-Length: counted
        assert chunked.status_code == 413
        for k in (True, "3", 2.0):
            refused = ask(http, url, QUESTION, k=k)
            assert refused.status_code == 422 and refused.json()["detail"].startswith("k:")  # type: ignore[attr-defined]
        unknown = ask(http, url, QUESTION, docs=["y" * 50_000])
        assert unknown.status_code == 400 and len(unknown.text) < 1_000  # type: ignore[attr-defined]
        head = http.head(f"{url}/api/health")
        assert head.status_code == 200 and head.content == b""
        page = http.get(f"{url}/")
        assert "default-src 'self'" in page.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
        assert page.headers["x-content-type-options"] == "nosniff" and page.headers["x-frame-options"] == "DENY"


def test_the_openapi_page_renders_with_nothing_fetched_from_elsewhere(site: tuple[str, Path], browser) -> None:  # type: ignore[no-untyped-def]
    url, _ = site
    page = browser.new_page()
    hosts: set[str] = set()
    page.on("request", lambda request: hosts.add(urlparse(request.url).netloc))
    page.goto(f"{url}/docs")
    page.locator(".opblock-summary-path", has_text="/api/ask").first.wait_for(timeout=30_000)
    assert hosts == {urlparse(url).netloc}
    page.close()


def test_the_page_works_under_its_content_security_policy(site: tuple[str, Path], browser) -> None:  # type: ignore[no-untyped-def]
    url, _ = site
    page = browser.new_page()
    refused: list[str] = []
    page.on("console", lambda message: refused.append(message.text)
            if "Content Security Policy" in message.text else None)
    page.goto(url)
    page.locator("#question textarea").fill(QUESTION)
    page.keyboard.press("Enter")
    page.locator("#chat a[href*='/doc/']").first.wait_for(timeout=60_000)
    assert not refused, refused[:3]
    page.close()


@pytest.mark.parametrize("how", ["truncate", "overwrite"])
def test_a_damaged_file_under_the_running_server_never_gives_a_wrong_answer(site: tuple[str, Path], how: str) -> None:
    import httpx

    url, index = site
    with httpx.Client(timeout=60) as http:
        before = top_paragraphs(ask(http, url, QUESTION))
        generation = index / read_manifest(index).generation  # type: ignore[union-attr]
        for name in (SENTENCES, VECTORS):  # the largest file, and the dense index
            path = generation / name
            size = path.stat().st_size
            path.write_bytes(path.read_bytes()[: size // 4] if how == "truncate" else bytes(size))
        assert top_paragraphs(ask(http, url, QUESTION)) == before  # from the copy verified at load
        health = http.get(f"{url}/api/health")
        assert health.status_code == 503 and health.json()["status"] == "damaged"
        assert "verbatim index --rebuild" in health.json()["detail"]
        result = run_cli("--corpus", str(index.parent / "corpus"), "--index", str(index), "index", "--rebuild")
        assert result.returncode == 0, result.stderr
        assert http.get(f"{url}/api/health").status_code == 200
        assert top_paragraphs(ask(http, url, QUESTION)) == before


def test_a_damaged_mapped_generation_is_refused_until_a_rebuild(built_index: tuple[Path, Path], tmp_path: Path) -> None:
    import httpx

    corpus, index = copy_of(built_index, tmp_path)
    with serving(corpus, index, env={"VERBATIM_MAP_ABOVE_MB": "0"}) as url, httpx.Client(timeout=60) as http:
        url = url.rstrip("/")
        before = top_paragraphs(ask(http, url, QUESTION))
        path = index / read_manifest(index).generation / SENTENCES  # type: ignore[union-attr]
        path.write_bytes(path.read_bytes()[:100])  # a truncated memory map kills a process that reads it
        for _ in range(3):
            refused = ask(http, url, QUESTION)
            assert refused.status_code == 503 and "verbatim index --rebuild" in refused.json()["detail"]  # type: ignore[attr-defined]
        assert http.get(f"{url}/api/health").status_code == 503
        assert http.get(f"{url}/doc/2023-05-02-cat76-kazakhstan-january-events").status_code == 503
        result = run_cli("--corpus", str(corpus), "--index", str(index), "index", "--rebuild")
        assert result.returncode == 0, result.stderr
        assert top_paragraphs(ask(http, url, QUESTION)) == before
        assert http.get(f"{url}/api/health").status_code == 200


def test_the_cli_refuses_text_that_is_not_utf8_and_a_batch_goes_on(built_index: tuple[Path, Path]) -> None:
    import subprocess
    import sys

    from .conftest import REPO

    where = ["--corpus", str(built_index[0]), "--index", str(built_index[1])]
    argv = subprocess.run([sys.executable.encode(), b"-m", b"app", *(a.encode() for a in where), b"ask",
                           b"How many \xff were killed?"], cwd=REPO, capture_output=True)
    assert argv.returncode == 2
    assert b"not valid text at character 10: the byte 0xFF, which is not UTF-8" in argv.stderr
    assert b"Traceback" not in argv.stderr
    lines = b"How many citizens were killed?\nHow many \xff were killed?\n\xc3\nHow many people were convicted?\n"
    batch = subprocess.run([sys.executable, "-m", "app", *where, "ask", "--json", "-"], input=lines, cwd=REPO,
                           capture_output=True)
    out = [json.loads(line) for line in batch.stdout.decode().splitlines()]
    assert batch.returncode == 1 and b"Traceback" not in batch.stderr
    assert [("error" in item) for item in out] == [False, True, True, False]
    assert out[1]["line"] == 2 and "byte 0xFF at byte 10" in out[1]["error"]
