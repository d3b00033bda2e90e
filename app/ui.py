"""The web app: a chat whose replies are the documents' own passages, with citations.

The UI ranks nothing: it calls `Engine.ask` and shows `render.answer_to_markdown`.
The same search is exposed as the Gradio API endpoint `ask`, returning the CLI's JSON.
"""

from __future__ import annotations

import html
import os
import sys
from typing import TYPE_CHECKING, Any

from app.errors import VerbatimError
from app.render import answer_to_dict, answer_to_markdown

if TYPE_CHECKING:
    import gradio as gr

    from app.search import Engine

EXAMPLES = [
    "How many citizens were killed?",
    "How many people were convicted?",
    "What measures were taken to prevent torture?",
    "What happened in Taldykorgan?",
]
SYSTEM_FONTS = ["ui-sans-serif", "system-ui", "-apple-system", "Segoe UI", "Roboto", "sans-serif"]
MONO_FONTS = ["ui-monospace", "SFMono-Regular", "Consolas", "monospace"]
CSS = """
.verbatim-chat blockquote { border-left: 4px solid #6b7280; margin: 0.4em 0; padding-left: 0.8em; }
footer { display: none !important; }
"""


SHOWN_QUESTION_CHARS = 300
EMPTY_REPLY = "**Please type a question first**, for example: How many citizens were killed?"


def _as_text(question: str) -> str:
    """A user's question shown as literal text, never as Markdown or HTML (a very long one cut short)."""
    if len(question) > SHOWN_QUESTION_CHARS:
        question = question[:SHOWN_QUESTION_CHARS] + f"… ({len(question):,} characters)"
    escaped = html.escape(question, quote=False)
    return "".join("\\" + ch if ch in "\\`*_{}[]()#+-.!|>~" else ch for ch in escaped)


def chat_reply(engine: Engine, question: str, history: list[str], k: int = 5) -> str:
    """The assistant's message for a question: passages and citations, or a polite refusal."""
    try:
        return answer_to_markdown(engine.ask(question, k, history))
    except VerbatimError as exc:
        return f"**Sorry, that question cannot be searched:** {html.escape(str(exc))}"


def ask_api(engine: Engine, question: str, k: int = 5, history: list[str] | None = None) -> dict[str, Any]:
    import gradio as gr

    try:
        return answer_to_dict(engine.ask(question, int(k), history or []))
    except VerbatimError as exc:
        raise gr.Error(str(exc)) from exc


def create_app(engine: Engine) -> gr.Blocks:
    import gradio as gr

    def respond(
        question: str, messages: list[dict[str, Any]], asked: list[str]
    ) -> tuple[list[dict[str, Any]], str, list[str]]:
        if not question.strip():
            return messages + [{"role": "assistant", "content": EMPTY_REPLY}], "", asked
        reply = chat_reply(engine, question, asked)
        turns = [{"role": "user", "content": _as_text(question)},
                 {"role": "assistant", "content": reply}]
        return messages + turns, "", asked + [question]

    def ask(question: str, k: int = 5, history: list[str] | None = None) -> dict[str, Any]:
        """Search the documents; returns passages quoted verbatim with citations (CLI's JSON).

        `history` lists the conversation's earlier questions, for follow-ups."""
        return ask_api(engine, question, k, history)

    with gr.Blocks(title="Verbatim", analytics_enabled=False) as demo:
        gr.Markdown("# Verbatim\nAsk a question; the answer is the documents' own passages, "
                    "quoted exactly, each with a citation.")
        chatbot = gr.Chatbot(label="Answers", height=560, elem_classes=["verbatim-chat"],
                             elem_id="chat", feedback_options=None, buttons=["copy"])
        with gr.Row():
            box = gr.Textbox(label="Your question", placeholder="e.g. How many citizens were killed?",
                             scale=5, elem_id="question", autofocus=True, max_lines=3)
            send = gr.Button("Ask", variant="primary", scale=1, elem_id="ask")
        gr.Examples(EXAMPLES, inputs=[box], label="Example questions")
        asked = gr.State([])  # the raw questions of this conversation, for follow-ups
        chatbot.clear(lambda: [], None, asked, api_visibility="private")
        box.submit(respond, [box, chatbot, asked], [chatbot, box, asked], api_visibility="private")
        send.click(respond, [box, chatbot, asked], [chatbot, box, asked], api_visibility="private")
        gr.api(ask, api_name="ask")
    return demo


def document_page(
    engine: Engine, doc_id: str, start: str | None, end: str | None, version: str | None,
    marks: str | None, base_url: str,
) -> tuple[int, str]:
    """Status and HTML of the reader view for `/doc/{doc_id}?start=&end=&v=&hl=`."""
    from app.documents import read_document
    from app.search import Hit
    from app.viewer import parse_highlights, passage_link, render_page

    index = engine.index
    try:
        record = index.document(doc_id)
        current = read_document(engine.corpus_dir / record.path)
    except (KeyError, OSError, VerbatimError):
        return 404, _message_page(f"There is no document {doc_id!r} in this collection (any more).")
    doc = {"title": record.title, "date": record.date, "venue": record.venue, "source": record.source,
           "language": record.language}
    if start is None and end is None:
        return 200, render_page(doc, current.text, None, [], None, None, None)
    if not (start or "").isdigit() or not (end or "").isdigit() or not int(start or 0) < int(end or 0) <= len(
            current.text):
        return 400, _message_page(f"start and end must be offsets with 0 <= start < end <= {len(current.text)}.")
    span = (int(start or 0), int(end or 0))
    if version and not current.sha256.startswith(version):
        notice = ("This document has changed since the link was made, so the cited passage may have moved; "
                  "the current document is shown without marking it.")
        return 200, render_page(doc, current.text, None, [], None, None, notice)
    highlights = [h for h in parse_highlights(marks) if span[0] <= h[0] and h[1] <= span[1]]
    chunk = next((c for c in index.chunks if c.doc_id == doc_id and (c.start, c.end) == span), None)
    link = base_url.rstrip("/") + passage_link(doc_id, current.sha256, span[0], span[1], highlights)
    label = Hit(0, 0.0, chunk, record).citation if chunk else f"{record.title}, characters {span[0]}–{span[1]}"
    return 200, render_page(doc, current.text, span, highlights, f"{label}. {link}",
                            current.text[span[0] : span[1]], None)


def _message_page(message: str) -> str:
    return (f"<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Verbatim</title></head>"
            f"<body><p><a href=\"/\">← Verbatim</a></p><p role=\"alert\">{html.escape(message)}</p></body></html>")


def _check_port(host: str, port: int) -> None:
    import socket

    with socket.socket() as probe:
        try:
            probe.bind((host, port))
        except OSError as exc:
            message = f"cannot serve on {host}:{port} ({exc.strerror}); pass --port N for another port"
            raise VerbatimError(message) from exc


def serve(engine: Engine, host: str = "127.0.0.1", port: int = 7860) -> None:
    """Build or load the index and the model, then serve the chat and the reader view until interrupted."""
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    import gradio as gr
    import uvicorn
    from fastapi import FastAPI
    from fastapi.responses import HTMLResponse

    _check_port(host, port)
    engine.load()  # builds the index on first start, fails early on a corrupt one
    server = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)

    @server.get("/doc/{doc_id}", response_class=HTMLResponse)
    def reader(doc_id: str, start: str | None = None, end: str | None = None, v: str | None = None,
               hl: str | None = None) -> HTMLResponse:
        status, page = document_page(engine, doc_id, start, end, v, hl, f"http://{host}:{port}/")
        return HTMLResponse(page, status_code=status)

    demo = create_app(engine)
    demo.queue(default_concurrency_limit=4)
    theme = gr.themes.Default(font=SYSTEM_FONTS, font_mono=MONO_FONTS)
    app = gr.mount_gradio_app(server, demo, path="/", theme=theme, css=CSS, ssr_mode=False,
                              enable_monitoring=False, pwa=False, mcp_server=False, footer_links=["api"],
                              show_error=True)
    print(f"Verbatim is serving on http://{host}:{port} (Ctrl+C stops it)", file=sys.stderr)
    uvicorn.run(app, host=host, port=port, log_level="warning")
