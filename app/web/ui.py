"""The web app: a chat whose replies are the documents' own passages, with citations.

The UI ranks nothing: it calls `Engine.ask` and shows `render.answer_to_markdown` (chat)
or `cards.result_cards` (search tab). The same search is exposed as the Gradio API
endpoint `ask`, returning the CLI's JSON.
"""

from __future__ import annotations

import html
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.errors import UsageError, VerbatimError, shown
from app.search.ranking import Filters
from app.search.validation import MAX_K, MAX_QUESTION_CHARS, printable
from app.web import cards
from app.web.reader import document_page, unavailable_page
from app.web.render import answer_to_dict, answer_to_markdown, answer_to_rows, rows_to_csv, sources_markdown

if TYPE_CHECKING:
    import gradio as gr

    from app.answer.engine import Engine

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
.verbatim-chat thead.context th, .result-text thead.context th { font-weight: normal; font-style: italic;
  color: #6b7280; }
.verbatim-chat table, .result-text table { border-collapse: collapse; } .result-text td, .result-text th {
  border: 1px solid #d1d5db; padding: 0.2em 0.5em; }
.reply-head { margin: 0 0 0.5em; padding: 0.35em 0.7em; border-radius: 6px; border-left: 4px solid; }
.reply-head.level-answered { background: #ecfdf5; border-color: #059669; }
.reply-head.level-related { background: #fffbeb; border-color: #d97706; }
.reply-head.level-none { background: #f3f4f6; border-color: #6b7280; }
.reply-head .searched { display: inline-block; color: #374151; font-size: 0.9em; }
.reply-notice { margin: -0.2em 0 0.5em; font-size: 0.9em; color: #374151; }
#question textarea::placeholder { white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
footer { display: none !important; }
/* Gradio's round "scroll down" button lies over the chat's text (a citation, a quote); each reply is
   shown from its top and the chat scrolls as any box does, so it is not shown. */
#chat .scroll-down-button-container { display: none !important; }
/* The chat box takes the window's height less the page's other parts, so that the question box and
   the example questions are in view at 1280x800 and on a 375x800 phone without scrolling (there the
   examples stand in one row that scrolls sideways). */
#chat { height: clamp(260px, calc(100vh - 380px), 560px) !important; }
@media (max-width: 480px) { #chat { height: clamp(220px, calc(100vh - 480px), 560px) !important; }
  #examples .gallery { flex-wrap: nowrap; overflow-x: auto; padding-bottom: 0.3rem; }
  #examples .gallery-item { flex: none; } }
""" + cards.CSS
# The chat shows the top of each new reply (its header and passage [1]), not its end: the chat
# box is scrolled so the newest reply starts at its top (under its question, when that is short),
# and the page so that the reply is in view. Gradio's own autoscroll (to the end) is off.
SCROLL_TO_REPLY_JS = """() => {
  let shown = '';
  const showNewestReply = () => {
    const rows = document.querySelectorAll('#chat .message-row.bot-row');
    const reply = rows[rows.length - 1];
    const key = reply ? rows.length + ':' + reply.textContent.slice(0, 300) : '';
    if (key === shown) return;
    shown = key;
    if (!reply) return;
    requestAnimationFrame(() => requestAnimationFrame(() => {
      const log = document.querySelector('#chat [role=log]');
      let start = reply;
      for (let row = reply.previousElementSibling; row; row = row.previousElementSibling) {
        if (!row.classList.contains('user-row')) continue;
        const gap = reply.getBoundingClientRect().top - row.getBoundingClientRect().top;
        if (log && gap < log.clientHeight / 4) start = row;  // the question fits above its reply
        break;
      }
      if (log) log.scrollTop += start.getBoundingClientRect().top - log.getBoundingClientRect().top - 4;
      const top = start.getBoundingClientRect().top;
      if (top < 0 || top > window.innerHeight * 0.6) window.scrollBy({ top: top - 8, behavior: 'instant' });
    }));
  };
  new MutationObserver(showNewestReply).observe(document.body, { childList: true, subtree: true });
}"""


RESEARCH_K = 20
NO_SOURCES = "### Sources\nThe documents cited in the latest answer are listed here."
SHOWN_QUESTION_CHARS = 300
EMPTY = ("Please type a question first,", "for example: How many citizens were killed?")
EMPTY_REPLY = f"**{EMPTY[0]}** {EMPTY[1]}"
CANNOT_SEARCH = "Sorry, that question cannot be searched:"
NO_RESULTS = cards.message_card("No search yet.", "Type words or a question above and press Enter.")


def _as_text(question: str) -> str:
    """A user's question shown as literal text, never as Markdown or HTML (a very long one cut short)."""
    question = printable(question)
    if len(question) > SHOWN_QUESTION_CHARS:
        question = question[:SHOWN_QUESTION_CHARS] + f"… ({len(question):,} characters)"
    escaped = html.escape(question, quote=False)
    return "".join("\\" + ch if ch in "\\`*_{}[]()#+-.!|>~" else ch for ch in escaped)


def chat_turn(engine: Engine, question: str, history: list[str], k: int = 5,
              docs: list[str] | None = None) -> tuple[str, str | None]:
    """The assistant's message and the sources panel for a question, or a polite refusal."""
    try:
        answer = engine.ask(question, k, history, Filters(frozenset(docs or ())))
    except VerbatimError as exc:
        return f"**{CANNOT_SEARCH}** {html.escape(str(exc))}", None
    return answer_to_markdown(answer), sources_markdown(answer)


def ask_api(engine: Engine, question: str, k: int = 5, history: list[str] | None = None,
            docs: list[str] | None = None) -> dict[str, Any]:
    import gradio as gr

    try:
        if isinstance(k, bool) or not isinstance(k, int):  # true or "3" is no count of passages
            raise UsageError(f"k must be a whole number between 1 and {MAX_K}; got {shown(k)}")
        return answer_to_dict(engine.ask(question, k, history or [], Filters(frozenset(docs or ()))))
    except VerbatimError as exc:  # the caller's mistake: its message, and no traceback in the log
        raise gr.Error(str(exc), print_exception=False) from exc


def research(engine: Engine, query: str, docs: list[str] | None, phrase: bool,
             base_url: str = "") -> tuple[str, str | None, str | None]:
    """The search tab: the top passages as result cards (HTML), and the same as CSV and JSON files
    to download; an empty query, or one that cannot be searched, gets a message and no files.
    `base_url`: the server's address as the browser reached it, for the CSV's absolute links."""
    if not query.strip():
        return cards.message_card(*EMPTY), None, None
    try:
        answer = engine.ask(query, RESEARCH_K, filters=Filters(frozenset(docs or ()), bool(phrase)))
    except VerbatimError as exc:
        return cards.message_card(CANNOT_SEARCH, str(exc)), None, None
    folder = Path(tempfile.mkdtemp(prefix="verbatim-export-"))
    (folder / "verbatim-results.csv").write_text(rows_to_csv(answer_to_rows(answer, base_url)), encoding="utf-8")
    (folder / "verbatim-results.json").write_text(json.dumps(answer_to_dict(answer), ensure_ascii=False, indent=2),
                                                  encoding="utf-8")
    return cards.result_cards(answer), str(folder / "verbatim-results.csv"), str(folder / "verbatim-results.json")


def create_app(engine: Engine) -> gr.Blocks:
    import gradio as gr

    def documents() -> list[tuple[str, str]]:
        """(label, id) of every indexed document, read afresh: `verbatim add` may have added some."""
        return [(f"{doc.title} ({doc.doc_id})", doc.doc_id) for doc in engine.index.manifest.documents]

    def respond(
        question: str, only: list[str] | None, messages: list[dict[str, Any]], asked: list[str], sources: str
    ) -> tuple[list[dict[str, Any]], str, list[str], str]:
        if not question.strip():
            return messages + [{"role": "assistant", "content": EMPTY_REPLY}], "", asked, sources
        reply, cited = chat_turn(engine, question, asked, docs=only)
        turns = [{"role": "user", "content": _as_text(question)}, {"role": "assistant", "content": reply}]
        searched = asked + [question] if cited is not None else asked  # a refused question is no context
        return messages + turns, "", searched, cited or sources

    def search(query: str, docs: list[str] | None, phrase: bool, request: gr.Request) -> tuple[Any, Any, Any]:
        results, csv_path, json_path = research(engine, query, docs, phrase, server_address(request))
        return (results, gr.DownloadButton(value=csv_path, interactive=csv_path is not None),
                gr.DownloadButton(value=json_path, interactive=json_path is not None))

    def restore(request: gr.Request) -> tuple[Any, ...]:
        """Reproduce the state a shared URL names: ?q=...&tab=search&doc=ID,ID&phrase=1."""
        params = request.query_params if request else {}
        query = (params.get("q") or "")[:MAX_QUESTION_CHARS]
        choices = documents()
        known = {doc_id for _, doc_id in choices}
        docs = [d for d in (params.get("doc") or "").split(",") if d in known]
        phrase = params.get("phrase") == "1"
        skip = gr.skip()
        search_docs = gr.Dropdown(choices=choices, value=docs)
        chat_docs = gr.Dropdown(choices=choices, value=docs)
        if params.get("tab") == "search" and query.strip():
            found, csv_button, json_button = search(query, docs, phrase, request)
            return (gr.Tabs(selected="search"), query, search_docs, phrase, found, csv_button, json_button,
                    skip, skip, skip, gr.Dropdown(choices=choices))
        if query.strip():
            messages, _, asked, cited = respond(query, docs, [], [], NO_SOURCES)
            return (skip, skip, gr.Dropdown(choices=choices), skip, skip, skip, skip, messages, asked, cited,
                    chat_docs)
        return (skip, skip, gr.Dropdown(choices=choices), skip, skip, skip, skip, skip, skip, skip,
                gr.Dropdown(choices=choices))

    # With postponed annotations Gradio cannot resolve "gr.Request" here; give it the class itself.
    restore.__annotations__["request"] = search.__annotations__["request"] = gr.Request

    with gr.Blocks(title="Verbatim", analytics_enabled=False) as demo:
        gr.Markdown("# Verbatim\nAsk a question; the answer is the documents' own passages, quoted exactly, "
                    "each with a citation. Click a citation number to read the passage in its document.")
        with gr.Tabs(selected="chat") as tabs:
            with gr.Tab("Chat", id="chat"), gr.Row(equal_height=False):
                with gr.Column(scale=3, min_width=300):
                    chatbot = gr.Chatbot(label="Answers", show_label=False, height=560, elem_classes=["verbatim-chat"],
                                         elem_id="chat", feedback_options=None, autoscroll=False,
                                         buttons=[],  # Gradio's copy copies a reply's HTML source; the
                                         # reader's "Copy quote" and "Copy citation" copy what is shown
                                         layout="panel", latex_delimiters=[])  # "$$5" in a quote is never LaTeX
                    with gr.Row():  # below ~400 px the Ask button goes under the box, which keeps its width
                        box = gr.Textbox(label="Your question", placeholder="e.g. How many were killed?",
                                         scale=5, elem_id="question", autofocus=True, max_lines=3, min_width=280)
                        send = gr.Button("Ask", variant="primary", scale=1, elem_id="ask", min_width=80)
                    gr.Examples(EXAMPLES, inputs=[box], label="Example questions", elem_id="examples")
                with gr.Column(scale=1, min_width=220):
                    only = gr.Dropdown(documents(), multiselect=True, label="Search only these documents",
                                       elem_id="chat-docs", info="Empty: all documents")
                    sources = gr.Markdown(NO_SOURCES, elem_id="sources")
            with gr.Tab("Search", id="search"):
                with gr.Row():
                    query = gr.Textbox(label="Search the documents", elem_id="search-query", scale=4, min_width=200)
                    docs = gr.Dropdown(documents(), multiselect=True, label="Only these documents", scale=2,
                                       elem_id="search-docs", min_width=200)
                    phrase = gr.Checkbox(label="Exact phrase", elem_id="search-phrase", min_width=120)
                    go = gr.Button("Search", variant="primary", elem_id="search-go", min_width=80)
                gr.Markdown(f"The top {RESEARCH_K} passages, each with its fused score and each ranker's rank and "
                            "score (dense: cosine similarity to the query; lexical: BM25). Click a citation to "
                            "read the passage in its document.", elem_id="results-help")
                with gr.Row():
                    csv_button = gr.DownloadButton("Export CSV", interactive=False, elem_id="export-csv", size="sm",
                                                   scale=0, min_width=130)
                    json_button = gr.DownloadButton("Export JSON", interactive=False, elem_id="export-json",
                                                    size="sm", scale=0, min_width=130)
                results = gr.HTML(NO_RESULTS, elem_id="results", js_on_load=None)
        asked = gr.State([])  # the raw questions of this conversation, for follow-ups
        chatbot.clear(lambda: ([], NO_SOURCES), None, [asked, sources], api_visibility="private")
        chat_io = ([box, only, chatbot, asked, sources], [chatbot, box, asked, sources])
        box.submit(respond, *chat_io, api_visibility="private", js=_url_js("chat", 2))
        send.click(respond, *chat_io, api_visibility="private", js=_url_js("chat", 2))
        search_io = ([query, docs, phrase], [results, csv_button, json_button])
        query.submit(search, *search_io, api_visibility="private", js=_url_js("search", 3))
        go.click(search, *search_io, api_visibility="private", js=_url_js("search", 3))
        demo.load(restore, None, [tabs, query, docs, phrase, results, csv_button, json_button, chatbot, asked,
                                  sources, only], api_visibility="private")

        def ask(question: str, k: int = 5, history: list[str] | None = None,
                docs: list[str] | None = None) -> dict[str, Any]:
            """Search the documents; returns passages quoted verbatim with citations (CLI's JSON).

            `history` lists the conversation's earlier questions, for follow-ups; `docs` restricts
            the search to these document ids (empty: all)."""
            return ask_api(engine, question, k, history, docs)

        gr.api(ask, api_name="ask")
    return demo


def server_address(request: Any) -> str:
    """The server's own address as the browser reached it ("http://host:port/"), from the request's
    URL (its Host header): links made with it open from a spreadsheet or a pasted citation, under
    whatever name or port the server was reached by. `request`: a FastAPI or Gradio request."""
    from urllib.parse import urlsplit

    url = urlsplit(str(getattr(request, "url", "") or ""))
    return f"{url.scheme}://{url.netloc}/" if url.scheme and url.netloc else ""


def _url_js(tab: str, inputs: int) -> str:
    """Browser-side: write the search into the address bar (?q=...&tab=...) so the URL can be shared."""
    names = ["q", "doc", "phrase"][:inputs]
    return f"""(...args) => {{
        const url = new URL(window.location.href);
        const names = {json.dumps(names)};
        url.search = '';
        url.searchParams.set('tab', {json.dumps(tab)});
        names.forEach((name, i) => {{
            const v = args[i];
            if (name === 'q' && v) url.searchParams.set('q', v.slice(0, 1000));
            if (name === 'doc' && v && v.length) url.searchParams.set('doc', v.join(','));
            if (name === 'phrase' && v) url.searchParams.set('phrase', '1');
        }});
        window.history.replaceState(null, '', url);
        return args;
    }}"""


def _check_port(host: str, port: int) -> None:
    """Fail early, with a message, when another program listens on the port.

    The probe binds as uvicorn will, with SO_REUSEADDR: connections of a server that just
    stopped wait in TIME_WAIT for a minute, and they must not stop a restart."""
    import socket

    with socket.socket() as probe:
        if os.name == "posix":  # on Windows SO_REUSEADDR would let two servers share a port
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            message = f"cannot serve on {host}:{port} ({exc.strerror}); pass --port N for another port"
            raise VerbatimError(message) from exc


def serve(engine: Engine, host: str = "127.0.0.1", port: int = 7860) -> None:
    """Build or load the index and the model, then serve the chat and the reader view until interrupted."""
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    # Gradio's queue rebuilds a pandas summary of its last 10,000 events after every event, for
    # the /monitoring page (off here): measured ~1.5 ms of server CPU an answer after 300
    # answers, growing with each one. Recompute it never and keep one event.
    os.environ.setdefault("GRADIO_ANALYTICS_CACHE_FREQUENCY", str(2**62))
    os.environ.setdefault("GRADIO_ANALYTICS_MAX_EVENTS", "1")
    import gradio as gr
    import uvicorn
    from fastapi import Request
    from fastapi.responses import HTMLResponse
    from fastapi_offline import FastAPIOffline

    from app.web.guard import Guard

    _check_port(host, port)
    engine.load()  # builds the index on first start, fails early on a corrupt one
    # FastAPIOffline: FastAPI whose /docs page loads Swagger UI from this server, not from a CDN
    server = FastAPIOffline(title="Verbatim", summary="Verbatim, cited passages of a document collection",
                            redoc_url=None)
    from app.web.rest import add_api

    add_api(server, engine)  # the REST API (/api/ask, /api/docs, /api/health), described at /docs

    def reader(request: Request, doc_id: str, start: str | None = None, end: str | None = None,
               v: str | None = None, hl: str | None = None) -> HTMLResponse:
        try:
            status, page = document_page(engine, doc_id, start, end, v, hl, server_address(request))
        except VerbatimError as exc:  # the index cannot be read, or its files are damaged
            status, page = 503, unavailable_page(str(exc))
        return HTMLResponse(page, status_code=status)

    # With postponed annotations FastAPI cannot resolve names imported here; give it the classes.
    reader.__annotations__.update({"request": Request, "return": HTMLResponse})
    server.get("/doc/{doc_id}", response_class=HTMLResponse, include_in_schema=False)(reader)
    demo = create_app(engine)
    demo.queue(default_concurrency_limit=16)
    theme = gr.themes.Default(font=SYSTEM_FONTS, font_mono=MONO_FONTS)
    app = gr.mount_gradio_app(server, demo, path="/", theme=theme, css=CSS, js=SCROLL_TO_REPLY_JS,
                              ssr_mode=False, max_file_size=0,  # no uploads (the guard refuses them too)
                              enable_monitoring=False, pwa=False, mcp_server=False, footer_links=["api"],
                              show_error=True)
    print(f"Verbatim is serving on http://{host}:{port} (Ctrl+C stops it)", file=sys.stderr)
    uvicorn.run(Guard(app), host=host, port=port, log_level="warning")
