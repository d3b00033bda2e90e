"""The engine: a collection's index and the model, loaded once and shared by every question.

`Engine` ties the stages together for the CLI, the UI and the APIs: it checks the index
against the corpus (rebuilding when it is missing or stale), picks up a newer generation
written by another process, loads the model once, and answers a question through the
search stage (`app.search.ranking`), typo correction, follow-up context, the language notice and
the abstention rule.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Sequence
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from app.answer.abstention import AbstentionRule
from app.errors import IndexStateError, UsageError, shown
from app.models.embed import Embedder, LazyEmbedder, SentenceTransformerEmbedder
from app.models.spec import MINILM, ModelSpec
from app.passages.chunk import ChunkSettings
from app.search.followup import Query, contextualize
from app.search.qpp import predictors
from app.search.ranking import (
    TOP_SENTENCES,
    Answer,
    Filters,
    Ranking,
    RankingSettings,
    query_vector,
    rank_passages,
)
from app.search.spelling import Correction
from app.search.validation import MAX_QUESTION_CHARS, validate_k, validate_question, validate_text
from app.store.build import BuildReport
from app.store.open import FolderStore
from app.store.protocol import IndexStore, LoadedIndex

if TYPE_CHECKING:
    from app.models.e5 import E5Embedder
    from app.search.coverage import Alignment
    from app.search.lexicon import Lexicon


class Engine:
    """The index and the model, loaded once and shared by every question."""

    def __init__(
        self,
        corpus_dir: Path,
        index_dir: Path,
        make_embedder: Callable[[], Embedder] = SentenceTransformerEmbedder,
        spec: ModelSpec = MINILM,
        settings: ChunkSettings = ChunkSettings(),
        ranking: RankingSettings = RankingSettings(),
        log: Callable[[str], None] = lambda message: print(message, file=sys.stderr),
        abstention: AbstentionRule | None = None,
        store: IndexStore | None = None,
    ) -> None:
        """`abstention` is the calibrated rule; without one, a cosine threshold
        (`ranking.min_score`) decides."""
        self.corpus_dir = corpus_dir
        self.index_dir = index_dir
        self.make_embedder = make_embedder
        self.spec = spec
        self.settings = settings
        self.ranking = ranking
        self.abstention = abstention
        self.log = log
        self.store: IndexStore = store or FolderStore(index_dir)
        self._index: LoadedIndex | None = None
        self._stamp: object = None
        self._index_lock = threading.RLock()
        self._lexicon: tuple[LoadedIndex, Lexicon] | None = None
        self._alignment: tuple[LoadedIndex, Alignment] | None = None
        self._alignment_lock = threading.Lock()  # not the index's: English questions go on meanwhile
        self._damage: str | None = None

    @cached_property
    def multilingual_embedder(self) -> E5Embedder:
        """multilingual-e5, loaded at the first question that needs it (app.models.e5)."""
        from app.models.e5 import E5Embedder

        return E5Embedder()

    @cached_property
    def embedder(self) -> Embedder:
        from app.models.embed import CoalescingEmbedder

        made = self.make_embedder()  # concurrent questions share model calls:
        return made if isinstance(made, CoalescingEmbedder) else CoalescingEmbedder(made)

    def build(self, show_progress: bool = False, reuse: bool = True, only: frozenset[str] | None = None,
              multilingual: str | None = None) -> BuildReport:
        """Sync the index with the corpus folder; `only`: just these file names (the database store's add);
        `multilingual`: the collection's new multilingual setting (on, off, auto), None to keep it."""
        embedder = LazyEmbedder(self.spec, lambda: self.embedder)  # no model load when nothing is embedded
        report = self.store.build(self.corpus_dir, embedder, self.settings, show_progress, reuse, only, multilingual)
        self._index = None  # the next question loads the new generation
        return report

    def stale_reasons(self) -> list[str]:
        return self.store.stale_reasons(self.corpus_dir, self.spec, self.settings)

    @property
    def index(self) -> LoadedIndex:
        """The current index, built or refreshed first when it is missing or stale.

        Once loaded, a newer generation (written by `verbatim add`, `remove` or `index` while
        this process serves) is picked up at the next question: one stat of the manifest, or
        one query of the database's current generation.
        """
        with self._index_lock:
            if self._index is None:
                self._index = self._open()
                self._stamp = self.store.stamp()
            elif self.store.stamp() != self._stamp:
                self._reload()
            self._check_files(self._index)
            return self._index

    @property
    def damage(self) -> str | None:
        """What is wrong with the loaded generation's files on disk (None: intact), as last checked."""
        return self._damage

    def _check_files(self, index: LoadedIndex) -> None:
        """Before every use: a damaged generation is never read. One held in memory goes on answering
        from the copy verified at load (the damage is reported by `damage` and /api/health); a
        memory-mapped one is refused with IndexStateError until a new generation is committed."""
        damage = index.damage()
        if damage != self._damage:
            self.log(f"index damaged: {damage}" if damage else "index files intact again")
            self._damage = damage
        if damage is not None and not index.in_memory:
            raise IndexStateError(damage)

    def _reload(self) -> None:
        stamp = self.store.stamp()
        try:
            loaded = self.store.load()
            if loaded is not None:
                self._index = loaded
                self.log(f"loaded the new index generation {loaded.manifest.generation} "
                         f"({len(loaded.manifest.documents)} document(s))")
        except IndexStateError as exc:  # mid-way through another writer's commit: keep serving, retry later
            self.log(f"kept the loaded index: {exc}")
            return
        self._stamp = stamp

    def _open(self) -> LoadedIndex:
        reasons = self.store.reasons_to_build(self.corpus_dir, self.spec, self.settings)
        if reasons:
            self.log(f"building the index in {self.store.location}: {'; '.join(reasons)}")
            report = self.build(show_progress=sys.stderr.isatty())
            self.log(
                f"indexed {report.passages} passages from {report.documents} document(s) "
                f"({report.embedded} embedded, {report.reused} reused) in {report.seconds:.1f} s"
            )
            for failure in report.failures:
                self.log(f"not indexed: {failure}")
            for warning in report.warnings:
                self.log(f"warning: {warning}")
        loaded = self.store.load()
        if loaded is None:
            raise IndexStateError(f"no index in {self.store.location}; run: verbatim index")
        return loaded

    def load(self) -> LoadedIndex:
        """Load (building or refreshing first if needed) the index and the model now; with a multilingual
        ranker, its word tables are made meanwhile in a thread (`alignment`), so the first question in
        another language does not wait for them."""
        self.embedder  # noqa: B018 - cached_property: loads the model
        from app.search.crosslang import multilingual_ranker

        index = self.index
        if multilingual_ranker(index) is not None:  # ready for the first question in another language
            threading.Thread(target=self.alignment, args=(index,), daemon=True, name="e5-words").start()
        return index

    def lexicon(self, index: LoadedIndex) -> Lexicon:
        """The collection's words and languages, derived once per loaded generation."""
        from app.search.lexicon import Lexicon

        with self._index_lock:
            if self._lexicon is None or self._lexicon[0] is not index:
                declared = [doc.language for doc in index.manifest.documents]
                self._lexicon = (index, Lexicon.of(index.chunks, declared, index.lexical.words))
            return self._lexicon[1]

    def ask(self, question: str, k: int = 5, history: Sequence[str] = (), filters: Filters = Filters()) -> Answer:
        """Passages answering `question`; `history` holds the conversation's earlier questions.

        Raises UsageError for a question that is empty, too long or without a word to search
        for, for k outside 1-50, and for a document filter naming no indexed document."""
        from app.documents.language import foreign_language, language_name
        from app.search.crosslang import answered, mixed, multilingual_ranker, rank_across
        from app.search.lexicon import spelled_as
        from app.search.spelling import correct

        text = validate_question(question, bool(history))
        validate_k(k)
        for number, earlier in enumerate(history, start=1):
            validate_text(earlier, f"history item {number}")
        for doc_id in filters.docs:
            validate_text(doc_id, "a document id")
        index = self.index
        unknown = sorted(filters.docs - {doc.doc_id for doc in index.manifest.documents})
        if unknown:
            known = ", ".join(doc.doc_id for doc in index.manifest.documents)
            raise UsageError(f"no document {shown(unknown[0])} in the index; documents: {known}")
        lexicon = self.lexicon(index)
        foreign = foreign_language(text, lexicon.languages, lexicon.vocabulary)
        if foreign is not None and multilingual_ranker(index) is not None:
            return self._ask_across(index, text, k, filters, foreign, lexicon.languages.names)
        if foreign is not None:
            notice = (f"The documents are in {lexicon.languages.names}; this question seems to be in "
                      f"{language_name(foreign)}, and questions in other languages are not matched. "
                      f"Ask in {lexicon.languages.names}.")
            ranking = rank_passages(index, text, self.embedder.embed([text])[0], 1, self.ranking, filters)
            return Answer(text, True, ranking.hits[:1], ranking.confidence, text, level="none", notice=notice,
                          language=foreign)
        query = contextualize(text, [h[:MAX_QUESTION_CHARS] for h in history],
                              lambda a, b: foreign_language(b, lexicon.languages, lexicon.vocabulary) is None)
        corrections: tuple[Correction, ...] = ()
        if not filters.phrase:  # an exact phrase is searched as typed
            languages = sorted(lexicon.languages.codes) or ["en"]
            def spelled(word: str) -> str:
                return spelled_as(index, word)

            own, corrections = correct(query.text, lexicon.vocabulary, languages, spelled)
            context = correct(query.context, lexicon.vocabulary, languages, spelled)[0] if query.context else ""
            query = Query(own, context)
        texts = [query.text, query.searched_as] if query.context else [query.text]
        ranker = multilingual_ranker(index)
        if ranker is not None and mixed(lexicon.languages.codes):  # documents not all English
            vector = query_vector(self.multilingual_embedder.query(texts), bool(query.context))
            ranking = rank_across(index, ranker, query, vector, k, filters)
            level = "answered" if answered(ranking) else "none"
            return Answer(text, level != "answered", ranking.hits if level == "answered" else ranking.hits[:1],
                          ranking.confidence, query.searched_as, level=level, corrections=corrections,
                          features=self.features(query.text, ranking))
        vector = query_vector(self.embedder.embed(texts), bool(query.context))
        ranking = rank_passages(index, query, vector, k, self.ranking, filters)
        features = self.features(query.text, ranking)
        if self.abstention is None:
            abstained = ranking.confidence < self.ranking.min_score
            return Answer(text, abstained, ranking.hits, ranking.confidence, query.searched_as,
                          corrections=corrections, features=features)
        level, probability = self.abstention.decide(features)
        hits = ranking.hits[:1] if level == "none" else ranking.hits
        return Answer(text, level != "answered", hits, ranking.confidence, query.searched_as, probability,
                      level=level, corrections=corrections, features=features)

    def _ask_across(self, index: LoadedIndex, text: str, k: int, filters: Filters, language: str,
                    collection: str) -> Answer:
        """A question in a language none of the documents are in, answered by the multilingual ranker
        (app.search.crosslang): the documents' passages as they are, with a notice saying so."""
        from app.documents.language import language_name
        from app.search.coverage import question_words
        from app.search.crosslang import answered, multilingual_ranker, notice, rank_across

        ranker = multilingual_ranker(index)
        assert ranker is not None  # checked by the caller
        ranking = rank_across(index, ranker, text, self.multilingual_embedder.query([text])[0], k, filters)
        coverage = self.alignment(index).coverage(self.multilingual_embedder.words(question_words(text)))
        quoted = [language_name(hit.document.language or "en") for hit in ranking.hits]
        level = "answered" if answered(ranking, language, coverage) else "none"
        hits = ranking.hits if level == "answered" else ranking.hits[:1]
        features = {"e5_cosine": ranking.confidence, "term_nearness": coverage.nearness,
                    "term_shortfall": coverage.shortfall, "score": coverage.score(ranking.confidence)}
        return Answer(text, level != "answered", hits, ranking.confidence, text, level=level,
                      notice=notice(language_name(language), collection, quoted), language=language,
                      features=features)

    def alignment(self, index: LoadedIndex) -> Alignment:
        """The e5 word tables of a loaded generation (app.search.coverage), made once for it: the
        collection's words and the background's, about 3.5 ms a word (the speech: about 15 s)."""
        from app.search.coverage import align

        with self._alignment_lock:
            if self._alignment is None or self._alignment[0] is not index:
                languages = self.lexicon(index).languages.codes
                embedder = self.multilingual_embedder
                tables = align([chunk.text for chunk in index.chunks], languages,
                               lambda words: embedder.words(words, keep=False))
                self._alignment = (index, tables)
            return self._alignment[1]

    def features(self, question: str, ranking: Ranking) -> dict[str, float]:
        """The query-performance predictors of a searched question and its ranking (app.search.qpp)."""
        index = self.index
        return predictors(question, [(hit.chunk.text, hit.sentences) for hit in ranking.hits[:TOP_SENTENCES]],
                          ranking.dense, ranking.lexical, index.lexical.idf, self.lexicon(index).vocabulary,
                          languages=index.lexical.languages)
