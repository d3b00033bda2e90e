"""What `verbatim` prints: JSON objects one a line on stdout, progress and notes on stderr."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any


def emit(data: Any) -> None:
    """One JSON object on a line of stdout (UTF-8 as it is, flushed: scripts read it as it comes)."""
    print(json.dumps(data, ensure_ascii=False), flush=True)


def log(args: argparse.Namespace, message: str) -> None:
    """A line on stderr unless -q."""
    if not args.quiet:
        print(message, file=sys.stderr)
