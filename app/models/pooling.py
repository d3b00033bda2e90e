"""One model pass for a passage and its sentences: sentence vectors pooled from the passage's tokens.

all-MiniLM-L6-v2's sentence vector is the mean of its token embeddings. Running each
passage once and averaging its token embeddings over the whole passage gives the passage
vector (as `encode` would); averaging them over a sentence's characters gives that
sentence's vector, read in the context of its passage. A build thus embeds each passage
once instead of once for itself and again for every sentence (which doubled the tokens,
and came to 6.5 more model inputs per passage on the General Debate).

A sentence the tokenizer cut off (a passage over the model's 256 tokens) or that is not
found in the passage's text has no pooled vector: the caller embeds it on its own.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

Span = tuple[int, int]  # characters [start, end) of a text
TokenForward = Callable[[dict[str, "np.ndarray"]], "np.ndarray"]  # int64 features -> (batch, tokens, dim)
FEATURES = ("input_ids", "attention_mask", "token_type_ids")


def normalise(vectors: np.ndarray) -> np.ndarray:
    import numpy as np

    return vectors / np.maximum(np.linalg.norm(vectors, axis=-1, keepdims=True), 1e-12)


def mean_pool(tokens: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Each text's vector: the mean of its token embeddings over the attention mask, normalised
    (`tokens`: batch x tokens x dimensions)."""
    import numpy as np

    weights = mask.astype(np.float32)[..., None]
    return normalise((tokens * weights).sum(axis=-2) / np.maximum(weights.sum(axis=-2), 1e-9))


def pool_spans(
    tokens: np.ndarray, offsets: np.ndarray, mask: np.ndarray, spans: Sequence[Span]
) -> tuple[np.ndarray, np.ndarray]:
    """Each span's vector (mean over the tokens inside it, normalised) and whether it has one.

    `offsets` are the tokenizer's (start, end) characters per token, (0, 0) for special tokens.
    A span has none when the text was truncated before the span's end, or it holds no token.
    """
    import numpy as np

    if not spans:
        return np.zeros((0, tokens.shape[-1]), dtype=np.float32), np.zeros(0, dtype=bool)
    real = (offsets[:, 1] > offsets[:, 0]) & (mask > 0)
    starts, ends = offsets[:, 0], offsets[:, 1]
    reach = int(ends[real].max()) if real.any() else 0  # the last character the model saw
    bounds = np.asarray(spans, dtype=np.int64)
    inside = real[None, :] & (starts[None, :] >= bounds[:, :1]) & (ends[None, :] <= bounds[:, 1:])
    counts = inside.sum(axis=1)
    means = normalise((inside.astype(np.float32) @ tokens) / np.maximum(counts, 1)[:, None])
    return means, (counts > 0) & (bounds[:, 1] <= reach)


def embed_with_spans(
    tokenizer: Any, forward: TokenForward, max_tokens: int, batch: int,
    texts: Sequence[str], pieces: Sequence[Sequence[str]],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Vectors of `texts`, and of each text's pieces (substrings, in order) read within it.

    Returns the texts' vectors, the pieces' vectors (all texts' pieces in order, one row
    each) and a mask of the pieces that got one; a piece without (cut off or not found)
    has a zero row, for the caller to embed on its own.
    """
    import numpy as np

    first_row = np.cumsum([0] + [len(group) for group in pieces])  # each text's first piece row
    whole: np.ndarray | None = None
    parts: np.ndarray | None = None
    found = np.zeros(int(first_row[-1]), dtype=bool)
    encoded = tokenizer(list(texts), truncation=True, max_length=max_tokens, return_offsets_mapping=True)
    lengths = [len(ids) for ids in encoded["input_ids"]]
    order = sorted(range(len(texts)), key=lambda i: -lengths[i])  # batches of like token count pad least
    for begin in range(0, len(order), batch):
        rows = order[begin : begin + batch]
        feed, offsets = _padded(encoded, rows, lengths[rows[0]], tokenizer.pad_token_id or 0)
        tokens = forward(feed)
        if whole is None or parts is None:
            whole = np.zeros((len(texts), tokens.shape[-1]), dtype=np.float32)
            parts = np.zeros((int(first_row[-1]), tokens.shape[-1]), dtype=np.float32)
        whole[rows] = mean_pool(tokens, feed["attention_mask"])
        for position, row in enumerate(rows):
            if pieces[row]:
                means, pooled = pool_spans(tokens[position], offsets[position], feed["attention_mask"][position],
                                           locate(texts[row], pieces[row]))
                first = int(first_row[row])
                parts[first : first + len(means)][pooled] = means[pooled]
                found[first : first + len(means)] = pooled
    if whole is None or parts is None:
        return np.zeros((0, 0), dtype=np.float32), np.zeros((0, 0), dtype=np.float32), found
    return whole, parts, found


def _padded(
    encoded: Any, rows: list[int], width: int, pad_id: int
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """The model's int64 inputs for these rows, padded to `width` tokens, and their character offsets."""
    import numpy as np

    feed = {name: np.full((len(rows), width), pad_id if name == "input_ids" else 0, dtype=np.int64)
            for name in FEATURES}
    offsets = np.zeros((len(rows), width, 2), dtype=np.int64)  # (0, 0) on padding, like special tokens
    for position, row in enumerate(rows):
        count = len(encoded["input_ids"][row])
        for name in FEATURES:
            feed[name][position, :count] = encoded[name][row]
        offsets[position, :count] = encoded["offset_mapping"][row]
    return feed, offsets


def locate(text: str, pieces: Sequence[str]) -> list[Span]:
    """Where each piece stands in `text`, searched in order; (0, 0) for one not found."""
    spans: list[Span] = []
    cursor = 0
    for piece in pieces:
        at = text.find(piece, cursor) if piece else -1
        if at < 0:
            spans.append((0, 0))
            continue
        spans.append((at, at + len(piece)))
        cursor = at + len(piece)
    return spans


def embed_passages(
    embedder: Any, passages: Sequence[str], sentences: Sequence[Sequence[str]]
) -> tuple[np.ndarray, np.ndarray]:
    """Passage vectors, and their sentences' vectors (one row each, in order).

    An embedder with `embed_with_spans` reads each passage once and pools its sentences from
    it; a sentence that gets no pooled vector is embedded on its own. Any other embedder
    embeds passages and sentences alike, in one call.
    """
    import numpy as np

    flat = [sentence for group in sentences for sentence in group]
    if not passages:
        dimension = embedder.spec.dimension
        return np.zeros((0, dimension), np.float32), np.zeros((0, dimension), np.float32)
    pooled = getattr(embedder, "embed_with_spans", None)
    if pooled is None:
        vectors = embedder.embed([*passages, *flat])
        return vectors[: len(passages)], vectors[len(passages) :]
    whole, parts, found = pooled(list(passages), sentences)
    if not found.all():
        missing = np.flatnonzero(~found)
        parts[missing] = embedder.embed([flat[i] for i in missing])
    return whole, parts
