"""Verbatim: answers questions with cited, verbatim passages of a document collection."""

__version__ = "0.1.0"
