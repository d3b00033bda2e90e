"""What a question may be, checked at every entrance (REST, Gradio, the CLI, `ask -` lines) before
anything is searched: text UTF-8 can hold, a length, a word to search for, k in range.

Each check raises UsageError with a message that names the bad value (a short prefix of it, never
the whole input) and what would be accepted; the CLI exits 2 and the web app answers 400 with it.
"""

from __future__ import annotations

from app.errors import UsageError

MAX_QUESTION_CHARS = 1000
MAX_K = 50


def validate_question(question: str, follow_up: bool = False) -> str:
    """The question stripped; UsageError when it is empty, over 1,000 characters or has no word to
    search for ("?", "*", "the and of"). A `follow_up` (asked after earlier questions) needs only a
    word: "Why?" or "And then?" is searched with the conversation's earlier question."""
    from app.search.qpp import has_content

    text = validate_text(question, "the question").strip()
    if not text:
        raise UsageError("the question is empty; type a question such as: How many citizens were killed?")
    if len(text) > MAX_QUESTION_CHARS:
        raise UsageError(
            f"the question is {len(text):,} characters long; the limit is {MAX_QUESTION_CHARS:,}. "
            "Ask a shorter question."
        )
    if not has_content(text) and not (follow_up and any(ch.isalpha() for ch in text)):
        raise UsageError(f"the question {text[:80]!r} has no word to search for; ask about something the "
                         "documents may say, such as: How many citizens were killed?")
    return text


def validate_text(value: str, what: str) -> str:
    """`value` unchanged when it is text UTF-8 can hold; UsageError naming the first character that
    is not: a lone surrogate, which a JSON body can spell ("\\ud800") and which stands for each
    byte that is not UTF-8 in a command-line argument (Python's surrogateescape, PEP 383).
    No model, tokenizer or JSON encoder downstream accepts one, so it is refused at the door."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        code = ord(value[exc.start])
        kind = (f"the byte 0x{code - 0xDC00:02X}, which is not UTF-8" if 0xDC80 <= code <= 0xDCFF
                else f"a lone surrogate (U+{code:04X}), which is no character")
        raise UsageError(f"{what} is not valid text at character {exc.start + 1}: {kind}; "
                         "send it as UTF-8 text") from None
    return value


def validate_k(k: int) -> int:
    if not 1 <= k <= MAX_K:
        raise UsageError(f"k must be between 1 and {MAX_K}; got {k}")
    return k


def printable(value: str) -> str:
    """`value` with each lone surrogate replaced by U+FFFD, for showing a refused input back to the
    person who typed it (a page or JSON cannot carry the surrogate itself)."""
    return "".join("\ufffd" if 0xD800 <= ord(ch) <= 0xDFFF else ch for ch in value)
