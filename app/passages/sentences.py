"""Sentences of a passage, as offsets: what highlights are made of.

blingfire finds the boundaries (its C function, with offsets mapped from bytes to
characters here); a paragraph number the splitter leaves alone ("3.") is joined to the
sentence it numbers. Sentences never cross a blank line; a line break inside a paragraph
(PDF text keeps its lines) is no boundary.
"""

from __future__ import annotations

import re

from app.documents.text import blocks, plain_text


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Sentences of `text` as (start, end) offsets, never across a blank line, trimmed.

    blingfire finds the boundaries; its offsets are checked against the text, and a
    paragraph it cannot split cleanly stays one sentence.
    """
    spans: list[tuple[int, int]] = []
    for start, end in blocks(text):
        block = text[start:end]
        try:
            found = _sentence_offsets(block)
        except Exception:  # noqa: BLE001 - a splitter failure must not lose the paragraph
            found = []
        cuts = _numbers_joined(block, [(a, b) for a, b in found if 0 <= a < b <= len(block)])
        ordered = all(b1 <= a2 for (_, b1), (a2, _) in zip(cuts, cuts[1:]))
        for a, b in cuts if cuts and ordered else [(0, len(block))]:
            piece = block[a:b]
            a += len(piece) - len(piece.lstrip())
            b -= len(piece) - len(piece.rstrip())
            if b > a and plain_text(block[a:b]):
                spans.append((start + a, start + b))
    return spans


_NUMBER_ALONE = re.compile(r"\s*(?:\d{1,3}\.|\d{1,3}\)|\([a-z]{1,2}\)|\([ivx]{1,5}\))\s*")


def _numbers_joined(block: str, cuts: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sentence cuts with a paragraph number the splitter left alone ("3.", "(a)") joined to the
    sentence it numbers, so a highlight never starts after it."""
    joined: list[tuple[int, int]] = []
    for a, b in cuts:
        if joined and _NUMBER_ALONE.fullmatch(block[joined[-1][0] : joined[-1][1]]):
            joined[-1] = (joined[-1][0], b)
        else:
            joined.append((a, b))
    return joined


def _sentence_offsets(block: str) -> list[tuple[int, int]]:
    """blingfire's sentence boundaries in `block`, as character offsets.

    The same C function and result as `blingfire.text_to_sentences_and_offsets`, whose
    Python wrapper maps UTF-8 byte offsets to characters one byte at a time (most of the
    time chunking took); here numpy counts the characters before each offset.
    """
    import ctypes

    import blingfire
    import numpy as np

    data = block.encode("utf-8")
    if not data:
        return []
    room = 2 * len(data)
    out = ctypes.create_string_buffer(room)
    firsts, lasts = (ctypes.c_int32 * room)(), (ctypes.c_int32 * room)()  # first and last byte of each
    found = blingfire.blingfire.TextToSentencesWithOffsets(
        ctypes.c_char_p(data), ctypes.c_int(len(data)), ctypes.byref(out), ctypes.byref(firsts),
        ctypes.byref(lasts), ctypes.c_int(room))
    if found < 0 or found > room:
        return []
    count = out.value.count(b"\n") + 1
    first = np.ctypeslib.as_array(firsts)[:count]
    last = np.ctypeslib.as_array(lasts)[:count]
    if len(data) == len(block):  # one byte per character
        return list(zip(first.tolist(), (last + 1).tolist()))
    if first.min(initial=0) < 0 or last.max(initial=0) >= len(data):
        return []
    leads = np.cumsum((np.frombuffer(data, dtype=np.uint8) & 0xC0) != 0x80)  # characters up to each byte
    return list(zip((leads[first] - 1).tolist(), leads[last].tolist()))
