"""The web app and the renderings: Gradio chat and search, the reader view, the REST API.

In: `Answer`s from the engine. Out: HTML, Markdown, JSON, CSV and terminal text; quotes are always
the source's own characters, citations link to `/doc/ID?start=..&end=..#passage`.
"""
