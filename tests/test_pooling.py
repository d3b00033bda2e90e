"""Sentence vectors pooled from their passage's one model pass (app.models.pooling).

The fast tests check the arithmetic on hand-made token vectors; the slow ones run the real
model through both backends on the speech.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from app.models.embed import HashingEmbedder
from app.models.pooling import embed_passages, locate, mean_pool, pool_spans


def test_locate_finds_each_piece_after_the_one_before() -> None:
    text = "Heading\nIt rained. It rained. Then it stopped."
    assert locate(text, ["It rained.", "It rained.", "Then it stopped."]) == [(8, 18), (19, 29), (30, 46)]
    assert locate(text, ["It rained.", "Never said.", ""]) == [(8, 18), (0, 0), (0, 0)]


def test_pool_spans_averages_a_spans_tokens_and_mean_pool_the_whole_over_the_mask() -> None:
    tokens = np.array([[9, 9], [1, 0], [3, 0], [0, 2], [9, 9], [5, 5]], dtype=np.float32)
    offsets = np.array([[0, 0], [0, 3], [4, 7], [8, 11], [0, 0], [0, 0]])  # [CLS] a b c [SEP] padding
    mask = np.array([1, 1, 1, 1, 1, 0])
    means, pooled = pool_spans(tokens, offsets, mask, [(0, 7), (8, 11), (8, 20), (12, 12)])
    whole = mean_pool(tokens[None], mask[None])[0]
    expected = tokens[:5].mean(axis=0)
    np.testing.assert_allclose(whole, expected / np.linalg.norm(expected), rtol=1e-6)
    np.testing.assert_allclose(means[0], [1.0, 0.0])  # mean (2, 0), normalised
    np.testing.assert_allclose(means[1], [0.0, 1.0])
    assert pooled.tolist() == [True, True, False, False]  # the third runs past the last character the model
    # saw (truncated); the fourth holds no token


class Pooling(HashingEmbedder):
    """Pools like a model would, except that it leaves every passage's last sentence unpooled."""

    def __init__(self) -> None:
        self.alone: list[list[str]] = []

    def embed(self, texts: list[str], *, progress: bool = False) -> np.ndarray:
        self.alone.append(texts)
        return super().embed(texts)

    def embed_with_spans(self, texts: list[str], pieces: Sequence[Sequence[str]]):
        flat = [piece for group in pieces for piece in group]
        found = np.array([number < len(group) - 1 for group in pieces for number in range(len(group))])
        return HashingEmbedder.embed(self, texts), np.zeros((len(flat), self.spec.dimension), np.float32), found


def test_sentences_without_a_pooled_vector_are_embedded_on_their_own() -> None:
    embedder = Pooling()
    passages = ["Apples ripen. Pears wait.", "Plums fall."]
    sentences = [["Apples ripen.", "Pears wait."], ["Plums fall."]]
    whole, parts = embed_passages(embedder, passages, sentences)
    assert embedder.alone == [["Pears wait.", "Plums fall."]]  # only the unpooled ones, in one call
    reference = HashingEmbedder()
    np.testing.assert_array_equal(whole, reference.embed(passages))
    np.testing.assert_array_equal(parts[0], np.zeros(reference.spec.dimension))  # the pooled one, as given
    np.testing.assert_array_equal(parts[1:], reference.embed(["Pears wait.", "Plums fall."]))


def test_an_embedder_that_cannot_pool_embeds_passages_and_sentences_in_one_call() -> None:
    calls: list[list[str]] = []

    class Counting(HashingEmbedder):
        def embed(self, texts: list[str], *, progress: bool = False) -> np.ndarray:
            calls.append(texts)
            return super().embed(texts)

    whole, parts = embed_passages(Counting(), ["A b. C d."], [["A b.", "C d."]])
    assert calls == [["A b. C d.", "A b.", "C d."]]
    assert whole.shape == (1, 64) and parts.shape == (2, 64)


@pytest.mark.slow
def test_both_backends_pool_the_speechs_sentences_from_one_pass(
        built_index: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from app.models.embed import SentenceTransformerEmbedder
    from app.models.onnx import OnnxEmbedder
    from app.passages.chunk import plain_text
    from app.store.folder import load_index, read_manifest

    monkeypatch.setenv("VERBATIM_CACHE", str(tmp_path / "cache"))
    manifest = read_manifest(built_index[1])
    assert manifest is not None
    index = load_index(built_index[1], manifest)
    passages = [chunk.ranking_text for chunk in index.chunks]
    sentences = [[plain_text(index.text(chunk.doc_id)[a:b]) for a, b in chunk.sentences] for chunk in index.chunks]
    torch_model, onnx_model = SentenceTransformerEmbedder(), OnnxEmbedder("onnx")
    whole, parts, found = torch_model.embed_with_spans(passages, sentences)
    assert found.all() and len(found) == sum(len(group) for group in sentences)
    assert (whole * torch_model.embed(passages)).sum(axis=1).min() > 0.9999  # the passage vectors `encode` gives
    onnx_whole, onnx_parts, onnx_found = onnx_model.embed_with_spans(passages, sentences)
    assert onnx_found.all()
    assert (onnx_whole * whole).sum(axis=1).min() > 0.9999
    assert (onnx_parts * parts).sum(axis=1).min() > 0.9999
    np.testing.assert_allclose(np.linalg.norm(parts, axis=1), 1.0, rtol=1e-5)
    # A sentence past the model's 256 tokens is not pooled (the caller embeds it alone).
    long_passage = " ".join(["The commission heard many witnesses."] * 60) + " The last sentence stands here."
    _, _, cut = torch_model.embed_with_spans([long_passage], [["The last sentence stands here."]])
    assert not cut.any()
