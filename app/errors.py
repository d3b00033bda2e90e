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
