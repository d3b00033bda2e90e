"""The code style the project configured in pyproject.toml holds."""

from __future__ import annotations

import subprocess
import sys

import pytest

from .conftest import REPO


def test_ruff_finds_nothing() -> None:
    result = subprocess.run([sys.executable, "-m", "ruff", "check", "app", "tests"], cwd=REPO,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.slow
def test_mypy_finds_nothing() -> None:
    result = subprocess.run([sys.executable, "-m", "mypy", "app"], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout
