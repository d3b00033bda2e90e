"""Retake the documentation's screenshots (docs/*.png) from a running server, in Debian's headless
Chromium: the chat at 1280x900 and 375x800, an abstained reply, the search tab and the reader.

    .venv/bin/python scripts/screenshots.py http://127.0.0.1:7860/ [NAME ...]

NAME: chat, chat-375, abstained, search, search-375, viewer, viewer-375 (default: all). Serve the
shipped corpus (`scripts/serve`) so that the pictures show what the docs describe.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

DOCS = Path(__file__).resolve().parent.parent / "docs"
CHROMIUM = "/usr/bin/chromium"
WIDE, PHONE = {"width": 1280, "height": 900}, {"width": 375, "height": 800}
KILLED, FRANCE, SEARCH = "How many citizens were killed?", "What is the capital of France?", "law enforcement officers"


def ask(page: Any, url: str, question: str) -> None:
    page.goto(url)
    box = page.get_by_label("Your question")
    box.fill(question)
    box.press("Enter")
    page.locator("#chat blockquote.verbatim-quote").first.wait_for(timeout=60_000)
    page.wait_for_timeout(1500)  # the reply scrolled to its top, Gradio's status gone


def search(page: Any, url: str) -> None:
    page.goto(f"{url}?tab=search&q={SEARCH.replace(' ', '+')}")
    page.wait_for_function("() => document.querySelectorAll('#results .result').length === 20", timeout=60_000)
    page.wait_for_timeout(1000)


def reader(page: Any, url: str) -> None:
    ask(page, url, KILLED)
    href = page.locator("#chat a[href*='/doc/']").first.get_attribute("href")
    page.goto(url.rstrip("/") + href)
    page.locator(".cite").wait_for()
    page.wait_for_timeout(500)


SHOTS: dict[str, tuple[dict[str, int], Callable[[Any, str], None]]] = {
    "chat": (WIDE, lambda page, url: ask(page, url, KILLED)),
    "chat-375": (PHONE, lambda page, url: ask(page, url, KILLED)),
    "abstained": (WIDE, lambda page, url: ask(page, url, FRANCE)),
    "search": (WIDE, search),
    "search-375": (PHONE, search),
    "viewer": (WIDE, reader),
    "viewer-375": (PHONE, reader),
}


def main(argv: list[str]) -> int:
    if not argv or argv[0].startswith("-"):
        print(__doc__, file=sys.stderr)
        return 2
    url, names = argv[0].rstrip("/") + "/", argv[1:] or list(SHOTS)
    unknown = [name for name in names if name not in SHOTS]
    if unknown:
        print(f"screenshots: unknown name {unknown[0]!r}; known: {', '.join(SHOTS)}", file=sys.stderr)
        return 2
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--headless", "--no-sandbox"])
        for name in names:
            viewport, take = SHOTS[name]
            page = browser.new_page(viewport=viewport)
            take(page, url)
            page.screenshot(path=str(DOCS / f"{name}.png"))
            print(f"wrote docs/{name}.png", file=sys.stderr)
            page.close()
        browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
