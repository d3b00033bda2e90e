"""The CLI's contract for misuse and bad input; none of these load the model."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.cli.main import build_parser, main

from .conftest import run_cli


def test_help_lists_the_commands_with_examples() -> None:
    text = build_parser().format_help()
    for command in ("index", "ask", "serve", "eval", "bench"):
        assert command in text
    assert "verbatim ask --json" in text


@pytest.mark.parametrize(("argv", "message"), [
    (["ask", "   "], "the question is empty"),
    (["ask", "-k", "0", "How?"], "k must be between 1 and 50; got 0"),
    (["ask", "-k", "many", "How?"], "expected a whole number"),
    (["launch"], "invalid choice"),
    (["add", "notes.txt", "--date", "next tuesday"], "'next tuesday' is not a date; write it as YYYY-MM-DD"),
])
def test_misuse_exits_2_with_a_message(argv: list[str], message: str,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        raise SystemExit(main(argv))
    assert info.value.code == 2
    assert message in capsys.readouterr().err


def test_very_long_question_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ask", "x" * 100_000]) == 2
    assert "100,000 characters long" in capsys.readouterr().err


def test_missing_corpus_folder_exits_1(tmp_path: Path) -> None:
    result = run_cli("--corpus", str(tmp_path / "missing"), "--index", str(tmp_path / "i"),
                     "ask", "How many citizens were killed?")
    assert result.returncode == 1
    assert "corpus folder" in result.stderr and "does not exist" in result.stderr
    assert "Traceback" not in result.stderr


def test_environment_variables_choose_folders(tmp_path: Path) -> None:
    result = run_cli("ask", "hello", env={"VERBATIM_CORPUS": str(tmp_path / "nope")})
    assert result.returncode == 1 and str(tmp_path / "nope") in result.stderr


@pytest.mark.slow
def test_a_closed_pipe_ends_the_listing_quietly(built_index: tuple[Path, Path]) -> None:
    import subprocess
    import sys

    docs = subprocess.Popen([sys.executable, "-m", "app", "--corpus", str(built_index[0]), "--index",
                             str(built_index[1]), "docs", "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert docs.stdout is not None and docs.stderr is not None
    docs.stdout.close()  # as `verbatim docs --json | head -0` does: nobody reads the listing
    assert docs.stderr.read().decode() == ""
    assert docs.wait(timeout=120) == 141
