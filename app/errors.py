"""Errors the user can act on. Only the CLI and UI turn them into exit codes or messages."""


class VerbatimError(Exception):
    """Something went wrong that the user can fix; the message says what and how."""

    exit_code = 1


class UsageError(VerbatimError):
    """The user asked for something invalid (bad option value, empty question)."""

    exit_code = 2


class CorpusError(VerbatimError):
    """The corpus folder or one of its documents cannot be read."""


class IndexStateError(VerbatimError):
    """The index on disk is missing, stale or corrupt."""


class ModelError(VerbatimError):
    """The embedding model is missing or its weights do not match the expected hash."""


class IndexSchemaError(IndexStateError):
    """The index was written by a Verbatim with another on-disk format; rebuilding fixes it."""


def shown(value: object, limit: int = 80) -> str:
    """How a message quotes a value the user gave: its repr, cut to `limit` characters with '…'
    and its length, so an error never echoes a 5 MB input back (repr escapes lone surrogates)."""
    text = repr(value)
    if len(text) <= limit:
        return text
    size = f" ({len(value):,} characters)" if isinstance(value, str) else ""
    return f"{text[:limit]}…{size}"
