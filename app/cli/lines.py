"""The lines of `verbatim ask -`: each one a question, as plain text, a JSON string or a JSON
object with the conversation's earlier questions; anything else is refused with a message that
names the line, and the batch goes on with the next one."""

from __future__ import annotations

import json

from app.errors import UsageError


def decode_stdin_line(raw: bytes | str, number: int) -> str:
    """A line of `ask -` as text; UsageError naming the line and the first byte that is not UTF-8."""
    if isinstance(raw, str):
        return raw
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(f"line {number} is not UTF-8 text: byte 0x{raw[exc.start]:02X} at byte {exc.start + 1}; "
                         "save the questions as UTF-8") from None


def parse_stdin_line(line: str, number: int) -> tuple[str, list[str]]:
    """A line of `ask -`: a plain question; a JSON string ("How many ...", read as JSON, so the
    question is searched without its quotes and with its escapes decoded); or a JSON object
    {"question": "...", "history": ["..."]} (the conversation's earlier questions, oldest first).

    A line that is any other JSON value (a number, an array, true, false, null), or that opens
    with '{' but is not valid JSON, is refused: UsageError naming the line and what a line may be."""
    text = line.rstrip("\n").rstrip("\r")
    stripped = text.strip()
    try:
        data = json.loads(stripped)
    except json.JSONDecodeError as exc:
        if stripped.startswith("{"):
            raise UsageError(f"line {number}: starts with '{{' but is not valid JSON ({exc.msg})") from exc
        if stripped.startswith('"') and stripped.endswith('"') and exc.msg != "Extra data":  # one string, broken
            raise UsageError(f"line {number}: is written as a JSON string but is not valid JSON ({exc.msg}); "
                             "write the question without quotes, or as valid JSON") from exc
        return text, []
    if isinstance(data, str):
        return data, []
    if not isinstance(data, dict):
        raise UsageError(f"line {number}: is a JSON {_json_kind(data)}, not a question; a line is a question as "
                         'plain text, a JSON string ("How many were killed?") or a JSON object '
                         '{"question": "...", "history": ["..."]}')
    question, history = data.get("question"), data.get("history", [])
    if not isinstance(question, str):
        raise UsageError(f'line {number}: a JSON line needs "question" as a string, e.g. '
                         '{"question": "And how many were convicted?", "history": ["How many were killed?"]}')
    if not isinstance(history, list) or not all(isinstance(h, str) for h in history):
        raise UsageError(f'line {number}: "history" must be a list of earlier questions (strings)')
    unknown = sorted(set(data) - {"question", "history"})
    if unknown:
        raise UsageError(f"line {number}: unknown field {unknown[0]!r}; a JSON line holds \"question\" and "
                         "\"history\"")
    return question, history


def _json_kind(value: object) -> str:
    """JSON's name for the type of a decoded value: "number", "array", "true", "false" or "null"."""
    if value is None or isinstance(value, bool):
        return json.dumps(value)
    return "array" if isinstance(value, list) else "number"
