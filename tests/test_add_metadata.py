"""`verbatim add FILE` brings the metadata sidecar beside FILE (FILE.meta.json) into the corpus."""

from __future__ import annotations

import json
from pathlib import Path

from app.store.library import add_files
from app.store.open import FolderStore


def _source(tmp_path: Path, sidecar: str) -> Path:
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    document = folder / "report.md"
    document.write_text("# Report\n\nThe committee met in May.\n", encoding="utf-8")
    (folder / "report.md.meta.json").write_text(sidecar, encoding="utf-8")
    return document


def test_the_sidecar_beside_an_added_file_comes_with_it_and_flags_win(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    document = _source(tmp_path, json.dumps({"title": "Committee report", "date": "2023-05-02",
                                             "id": "theirs", "colour": "blue"}))
    outcome = add_files(corpus, FolderStore(tmp_path / "index").text_cache(), [document], {"venue": "CAT 76",
                                                                                             "date": "2023-05-03"})
    assert outcome.added == ["report"] and not outcome.failed
    kept = json.loads((corpus / "report.md.meta.json").read_text(encoding="utf-8"))
    assert kept == {"title": "Committee report", "date": "2023-05-03", "venue": "CAT 76"}  # no id, no unknown


def test_a_broken_sidecar_beside_the_file_is_named_and_nothing_is_copied(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    document = _source(tmp_path, "{not json")
    outcome = add_files(corpus, FolderStore(tmp_path / "index").text_cache(), [document], {})
    assert outcome.added == [] and len(outcome.failed) == 1
    assert "report.md.meta.json: not valid JSON" in outcome.failed[0]
    assert not (corpus / "report.md").exists()


def test_a_sidecar_field_the_build_would_refuse_is_refused_at_add_and_nothing_is_copied(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    document = _source(tmp_path, json.dumps({"date": "yesterday", "title": "Committee report"}))
    outcome = add_files(corpus, FolderStore(tmp_path / "index").text_cache(), [document], {})
    assert outcome.added == [] and len(outcome.failed) == 1
    assert "'date': 'yesterday' is not a date; write it as YYYY-MM-DD" in outcome.failed[0]
    assert not (corpus / "report.md").exists() and not (corpus / "report.md.meta.json").exists()

    (document.parent / "report.md.meta.json").write_text(json.dumps({"title": ["not", "a", "string"]}))
    outcome = add_files(corpus, FolderStore(tmp_path / "index").text_cache(), [document], {})
    assert outcome.failed == ["report.md.meta.json: 'title' must be a string, got ['not', 'a', 'string']"]

    outcome = add_files(corpus, FolderStore(tmp_path / "index").text_cache(), [document], {"title": "Report"})
    assert outcome.added == ["report"]  # a flag over the bad field: what will be written is what is checked
