"""The multilingual dense ranker's files in a generation: multilingual-e5 vectors beside MiniLM's.

A collection's `multilingual` setting (`verbatim index --multilingual on|off|auto`) decides
whether a build writes them:

the e5 files of app.store.e5index. The manifest's `multilingual` entry names the setting and,
when the files exist, the model; a generation whose model is not this process's is refused at
load and rebuilt by the next `verbatim index`.
Embedding is resumable like MiniLM's (app.store.resume: the partial files' keys hold the model).

`auto` (the default): on when at least 5% of the collection's documents are not in English, or
it has at most AUTO_MAX_PASSAGES passages; off for a larger English collection, where e5 (about three times
MiniLM's cost a passage) would more than double the build (docs/languages.md, Cost).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.errors import UsageError
from app.models.e5 import E5, E5Passages
from app.models.embed import Embedder
from app.passages.chunk import Chunk, plain_text
from app.store.e5index import stale_reason
from app.store.folder import DocumentRecord, Manifest, StoredIndex
from app.store.resume import Job, PartialFolder, embed_jobs

if TYPE_CHECKING:
    import numpy as np

SETTINGS = ("on", "off", "auto")
DEFAULT_SETTING = "auto"
AUTO_MIN_SHARE = 0.05  # of the documents not in English, for auto to turn the ranker on in a larger collection
AUTO_MAX_PASSAGES = 2000  # the speech has 23 passages; 1,000 General Debate statements about 36,000


def check_setting(value: str) -> str:
    if value not in SETTINGS:
        raise UsageError(f"--multilingual takes one of {', '.join(SETTINGS)}; got {value!r}")
    return value


def setting_of(manifest: Manifest | None) -> str:
    """The collection's setting as its current generation records it ("auto" when none does)."""
    if manifest is None:
        return DEFAULT_SETTING
    return str(manifest.multilingual.get("setting", DEFAULT_SETTING))


def english(language: str | None) -> bool:
    return language is None or language.split("-")[0].split("_")[0].lower() == "en"


def wanted(setting: str, records: Sequence[DocumentRecord], passages: int) -> bool:
    """Whether a generation with these documents gets the multilingual files under `setting`.

    `auto`: on for at most AUTO_MAX_PASSAGES passages, or when at least AUTO_MIN_SHARE of the
    documents are in another language than English (py3langid may take a few English documents of
    a large collection for another language; they do not turn it on)."""
    if setting == "auto":
        others = sum(not english(record.language) for record in records)
        return passages <= AUTO_MAX_PASSAGES or others >= AUTO_MIN_SHARE * max(len(records), 1)
    return setting == "on"


def describe(setting: str, on: bool) -> dict[str, Any]:
    """The manifest's `multilingual` entry."""
    return {"setting": setting, "model": asdict(E5) if on else None}


def state(manifest: Manifest) -> dict[str, Any]:
    """The collection's setting and whether its current generation has the multilingual ranker."""
    return {"setting": setting_of(manifest), "on": bool(manifest.multilingual.get("model"))}


def summary(manifest: Manifest) -> str:
    """One line for `verbatim docs` and `verbatim index`: the multilingual ranker's state and setting."""
    now = state(manifest)
    how = {"on": "set on", "off": "set off",
           "auto": f"auto: on for a collection of at most {AUTO_MAX_PASSAGES} passages "
                   "or with at least 5% of its documents not in English"}
    change = "verbatim index --multilingual " + ("off" if now["on"] else "on")
    return (f"multilingual ranker (questions in other languages): {'on' if now['on'] else 'off'} "
            f"({how[now['setting']]}; change with: {change})")


def changes(manifest: Manifest, setting: str, passages: int) -> bool:
    """Whether a build that changes no document must still write a generation: the setting, its
    outcome for this collection (`passages` in the current generation), or the e5 model changed."""
    on = wanted(setting, manifest.documents, passages)
    return (setting != setting_of(manifest) or on != bool(manifest.multilingual.get("model"))
            or stale_reason(manifest.multilingual) is not None)


def e5_job(doc_id: str, text: str, chunks: list[Chunk]) -> Job:
    """What the multilingual ranker embeds for a document (its passages, then their sentences), as
    MiniLM's build does; `text`: the document's canonical text. Its key (app.store.resume.job_key
    with the E5 spec) is what an interrupted build or `index --from` leaves its vectors under."""
    texts = [c.ranking_text for c in chunks] + [plain_text(text[a:b]) for c in chunks for a, b in c.sentences]
    return Job(doc_id, texts, len(chunks), tuple(len(c.sentences) for c in chunks))


def build_vectors(
    index_dir: Path, order: Sequence[tuple[str, list[Chunk]]], previous: StoredIndex | None,
    text_of: Callable[[str], str], show_progress: bool, embedder: Embedder | None = None,
) -> tuple[np.ndarray, np.ndarray, int]:
    """e5 vectors of every passage and sentence of the generation, in row order, with how many
    passages were embedded now. `order`: (doc_id, its passages) in row order; a document whose
    passages the previous generation holds unchanged, with e5 vectors, keeps them. Resumable: each
    document's vectors are kept in index/partial/ until the generation is committed."""
    import numpy as np

    embedder = embedder or E5Passages()
    old = previous.multilingual if previous is not None else None
    jobs: list[Job] = []
    for doc_id, chunks in order:
        if _reusable(previous, doc_id, chunks) is None:
            jobs.append(e5_job(doc_id, text_of(doc_id), chunks))
    fresh, _ = embed_jobs(PartialFolder(index_dir), jobs, embedder, show_progress)
    passages: list[np.ndarray] = []
    sentences: list[np.ndarray] = []
    for doc_id, chunks in order:
        rows = _reusable(previous, doc_id, chunks)
        if rows is not None and old is not None and previous is not None:
            passages.append(old.faiss_index.reconstruct_batch(np.asarray(rows, dtype=np.int64)))
            if rows:
                first = previous.sentence_rows[rows[0]]
                count = sum(len(c.sentences) for c in chunks)
                sentences.append(np.asarray(old.sentence_vectors[first : first + count]))
        else:
            passages.append(fresh[doc_id].passages)
            sentences.append(fresh[doc_id].sentences)
    dimension = E5.dimension
    stacked = np.vstack(passages).astype(np.float32) if passages else np.zeros((0, dimension), np.float32)
    sentence_block = np.vstack(sentences).astype(np.float16) if sentences else np.zeros((0, dimension), np.float16)
    return stacked, sentence_block.reshape(-1, dimension), sum(job.passages for job in jobs)


def _reusable(previous: StoredIndex | None, doc_id: str, chunks: list[Chunk]) -> list[int] | None:
    """The previous generation's rows of this document when they hold these very passages and e5 vectors."""
    if previous is None or previous.multilingual is None:
        return None
    rows = previous.rows_by_document.get(doc_id, [])
    if [previous.chunks[row] for row in rows] != chunks:
        return None
    return rows


