"""Passages: a document's canonical text cut into `Chunk`s and sentences, every one an exact slice.

In: a `Document`'s text. Out: frozen `Chunk`s (offsets, section, paragraph numbers, page) and
sentence offsets; nothing here opens a file or loads a model.
"""
