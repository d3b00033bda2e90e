"""Reading documents: a corpus folder's files (Markdown, text, PDF, HTML, DOCX) become `Document`s.

In: file paths and bytes. Out: each document's canonical text with its metadata (title, date, symbol,
language), and the text primitives (blocks, pipe tables, markup) the later stages read it with.
"""
