"""The house holds: stages import one way, no import circle, modules a person can read at once,
and a README that is a front door whose links all lead somewhere.

The import contracts are written in pyproject.toml ([tool.importlinter]) and checked by
import-linter, the maintained tool for it. Two tests break a copy of app/ on purpose (an upward
import, a circle inside a stage) to show that the contracts fail and name both ends.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import REPO

LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"
MAX_MODULE_LINES = 400
MAX_README_LINES = 300
STAGES = {"documents", "passages", "models", "store", "search", "answer", "web", "evaluation", "bench", "cli"}


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    """import-linter over the `app` package under `root`, with root's pyproject.toml."""
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run([str(LINT_IMPORTS), str(root / "pyproject.toml"), "--no-cache"],
                          cwd=root, env=env, capture_output=True, text=True)


def broken_copy(tmp_path: Path, module: str, line: str) -> Path:
    """A copy of app/ and pyproject.toml with `line` appended to `module` (a path under app/)."""
    shutil.copytree(REPO / "app", tmp_path / "app", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    target = tmp_path / "app" / module
    target.write_text(target.read_text() + line)
    return tmp_path


def test_the_import_contracts_hold() -> None:
    result = lint_imports(REPO)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout
    assert "Stages import downward only KEPT" in result.stdout


BREAKS = [
    # The reading stage reaching up into the web app's renderer, inside a function: it still counts.
    pytest.param("documents/text.py", "from app.web.render import answer_to_dict",
                 "Stages import downward only BROKEN", ["app.documents.text -> app.web.render"], id="upward"),
    # ranking imports fusion; fusion importing ranking back closes a circle inside app.search,
    # where no layers are written: the acyclic contract alone must catch it.
    pytest.param("search/fusion.py", "from app.search import ranking",
                 "No import circle between modules or packages BROKEN", ["in app.search", ".ranking -> .fusion"],
                 id="circle"),
]


@pytest.mark.parametrize(("module", "import_line", "verdict", "names"), BREAKS)
def test_a_deliberate_break_fails_its_contract_and_names_both_ends(
        tmp_path: Path, module: str, import_line: str, verdict: str, names: list[str]) -> None:
    root = broken_copy(tmp_path, module, f"\n\ndef _deliberate() -> None:\n    {import_line}  # noqa: F401\n")
    result = lint_imports(root)
    assert result.returncode != 0
    assert verdict in result.stdout
    for name in names:
        assert name in result.stdout


def test_app_reads_as_the_stages() -> None:
    entries = {p.name for p in (REPO / "app").iterdir() if p.name != "__pycache__"}
    packages = {name for name in entries if (REPO / "app" / name / "__init__.py").is_file()}
    assert packages == STAGES
    assert entries - packages == {"__init__.py", "__main__.py", "errors.py", "paths.py"}
    for name in packages:
        doc = (REPO / "app" / name / "__init__.py").read_text()
        assert doc.startswith('"""') and "In:" in doc and "Out:" in doc, f"app/{name}/__init__.py: what enters, leaves"


def test_no_module_is_longer_than_a_person_reads_at_once() -> None:
    long = {str(p.relative_to(REPO)): n for p in (REPO / "app").rglob("*.py")
            if (n := len(p.read_text().splitlines())) > MAX_MODULE_LINES}
    assert not long, f"modules over {MAX_MODULE_LINES} lines: {long}"


def markdown_links(path: Path) -> list[str]:
    """Relative link and image targets of a Markdown file, without anchors; code spans skipped."""
    text = re.sub(r"```.*?```", "", path.read_text(), flags=re.S)
    text = re.sub(r"`[^`\n]*`", "", text)
    targets = re.findall(r"\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)", text)
    return [t.split("#")[0] for t in targets if not re.match(r"[a-z]+:", t) and t.split("#")[0]]


def test_the_readme_is_a_front_door() -> None:
    lines = (REPO / "README.md").read_text().splitlines()
    assert len(lines) <= MAX_README_LINES
    assert "scripts/serve" in "\n".join(lines[:60]) and "scripts/test" in "\n".join(lines[:60])


DOC_PAGES = ["README.md", *sorted(p.relative_to(REPO).as_posix() for p in (REPO / "docs").glob("*.md"))]


@pytest.mark.parametrize("page", DOC_PAGES)
def test_every_link_in_the_docs_resolves(page: str) -> None:
    path = REPO / page
    missing = [t for t in markdown_links(path) if not (path.parent / t).exists()]
    assert not missing, f"{page} links to missing files: {missing}"
