"""The `verbatim` command line, on top of every stage: parses arguments and calls the stages in order.

In: argv. Out: data on stdout (text, JSON, JSON Lines), progress on stderr, exit 0, 1 or 2.
"""

from app.cli.main import main

__all__ = ["main"]
