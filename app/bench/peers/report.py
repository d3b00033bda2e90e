"""The peer benchmark's figures: every system's answers scored the same way, and the table.

Relevance is app/evaluation/metrics.py's: a returned passage is relevant when it contains one of the
question's gold quotes after folding (case, whitespace, emphasis, quotes, diacritics), and,
for a question tied to one document (`doc`), comes from that document.
"""

from __future__ import annotations

from typing import Any

from app.bench.peers.common import K

COLUMNS = [  # (key, heading)
    ("name", "system (passages)"), ("pieces", "passages"), ("recall@5", "R@5"), ("mrr@10", "MRR@10"),
    ("chars", "chars returned"), ("exact", "exact slices"), ("read", "text embedded"),
    ("build_s", "build s"), ("kchars_s", "kchars/s"), ("q1", "query p50/p95 1 thread"),
    ("q2", "query p50/p95 2 threads"), ("cold_s", "cold start s"), ("peak", "peak MiB build / serve"),
]


def _ranks(item: Any, hits: list[list[str]]) -> int | None:
    """1-based rank of the first relevant passage among the first K, or None."""
    from app.evaluation.metrics import fold

    quotes = [fold(quote) for quote in item.quotes]
    for rank, (doc_id, text) in enumerate(hits[:K], start=1):
        if (item.doc is None or doc_id == item.doc) and any(quote in fold(text) for quote in quotes):
            return rank
    return None


def score(built: dict[str, Any], cold: dict[str, Any], items: list[Any], texts: dict[str, str]) -> dict[str, Any]:
    """One table row: quality, reading, build, latency, cold start and memory of a system's run."""
    row: dict[str, Any] = {"system": built.get("system"), "config": built.get("config")}
    if "error" in built:
        return {**row, "error": built["error"]}
    firsts = [_ranks(item, hits) for item, hits in zip(items, built["answers"])]
    shown = [(doc_id, text) for hits in built["answers"] for doc_id, text in hits[:5]]
    reading = built["reading"]
    latency = built["latency_ms"]
    return {
        **row,
        "recall@5": round(sum(1 for f in firsts if f and f <= 5) / len(items), 3),
        "mrr@10": round(sum(1 / f for f in firsts if f) / len(items), 3),
        "avg_chars_returned": round(sum(len(text) for _, text in shown) / max(len(shown), 1)),
        "exact_slice_share": round(sum(text in texts.get(doc_id, "") for doc_id, text in shown)
                                   / max(len(shown), 1), 3),
        "pieces": reading["pieces"], "mean_piece_chars": reading["mean_piece_chars"],
        "read_share": reading["read_share"], "source_share_embedded": reading["source_share"],
        "build_s": built["build_s"], "model_load_s": built["model_load_s"],
        "build_kchars_per_s": round(built["characters"] / built["build_s"] / 1000, 1),
        "build_pieces_per_s": round(reading["pieces"] / built["build_s"], 1),
        "query_ms": latency,
        "cold_start_s": cold.get("cold_start_s"),
        "peak_memory_mib": built["peak_memory_mib"], "serving_peak_memory_mib": cold.get("serving_peak_memory_mib"),
        "versions": built.get("versions", {}), "load_average": [built.get("load_average"), cold.get("load_average")],
        "first_relevant_rank": firsts,
    }


def _cells(row: dict[str, Any]) -> dict[str, str]:
    name = f"{row['system']} ({'own 600' if row['system'] == 'verbatim' else row['config']})"
    if "error" in row:
        return {"name": name, "pieces": "failed: see stderr"}
    q = row["query_ms"]
    return {
        "name": name, "pieces": f"{row['pieces']:,} (~{row['mean_piece_chars']:,.0f} ch)",
        "recall@5": f"{row['recall@5']:.3f}", "mrr@10": f"{row['mrr@10']:.3f}",
        "chars": f"{row['avg_chars_returned']:,}", "exact": f"{row['exact_slice_share']:.0%}",
        "read": f"{row['source_share_embedded']:.0%}",
        "build_s": f"{row['build_s']:,.1f}", "kchars_s": f"{row['build_kchars_per_s']:,.0f}",
        "q1": f"{q['1']['p50']:.1f} / {q['1']['p95']:.1f} ms", "q2": f"{q['2']['p50']:.1f} / {q['2']['p95']:.1f} ms",
        "cold_s": "-" if row["cold_start_s"] is None else f"{row['cold_start_s']:.1f}",
        "peak": f"{row['peak_memory_mib']:,.0f} / {row['serving_peak_memory_mib'] or 0:,.0f}",
    }


def table(result: dict[str, Any], run: dict[str, Any]) -> str:
    """A Markdown table of one corpus's rows, with what was measured where."""
    m = run["machine"]
    lines = [f"\n{result['corpus']}: {result['documents']} document(s), {result['characters']:,} characters, "
             f"{result['questions']} questions, top {run['k']}; {run['date']}, {m['cpu']}, {m['cores']} cores, "
             f"{m['memory_gib']} GiB, network: {run['network']}", "",
             "| " + " | ".join(heading for _, heading in COLUMNS) + " |",
             "|" + "---|" * len(COLUMNS)]
    for row in result["rows"]:
        cells = _cells(row)
        lines.append("| " + " | ".join(cells.get(key, "") for key, _ in COLUMNS) + " |")
    lines.append("\nR@5, MRR@10: relevant = contains a gold quote (folded). chars returned, exact slices: over the "
                 "top 5. text embedded: share of the source inside some passage's first 256 tokens. query: "
                 "Verbatim's whole `ask` (with highlighting, abstention, JSON); the peers' hybrid retrieval call. "
                 "threads: torch and FAISS intra-op threads of the peers; Verbatim embeds and searches a lone "
                 "question on one thread either way.")
    return "\n".join(lines)
