"""The regression gate: compare an eval result with `eval/baseline.json`, and write reports.

A metric that drops by more than the tolerance fails the gate (for the false-abstention
rate, a rise does), and every question whose gold passage left the top 5 is named.
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from app.errors import UsageError
from app.evaluation.metrics import NO_ANSWER_KINDS
from app.store.folder import write_atomic

TOLERANCE = 0.02  # absolute: 2 points of recall, MRR, nDCG or abstention rate
LOWER_IS_BETTER = {"false_abstention_rate"}
KIND_METRICS = ("recall@5", "mrr@10")


def baseline_from(data: dict[str, Any], tolerance: float = TOLERANCE) -> dict[str, Any]:
    return {
        "set": data["set"],
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "tolerance": tolerance,
        "metrics": data["metrics"],
        "corpus": data.get("corpus", {}),
        "by_kind": by_kind(data["per_question"]),
        "gold_ranks": {row["id"]: row["gold_rank"] for row in data["per_question"]},
    }


def by_kind(per_question: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """Mean recall@5 and MRR@10 per question kind (answerable kinds), abstention for no-answer."""
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in per_question:
        groups["follow-up" if row.get("follow_up") else row["kind"]].append(row)
    result = {}
    for kind, rows in sorted(groups.items()):
        if kind in NO_ANSWER_KINDS:
            result[kind] = {"abstained": sum(r["abstained"] for r in rows) / len(rows)}
        else:
            result[kind] = {m: sum(r.get(m, 0.0) for r in rows) / len(rows) for m in KIND_METRICS}
    return result


def compare(baseline: dict[str, Any], data: dict[str, Any]) -> list[str]:
    """What got worse than the baseline beyond its tolerance; empty when the gate passes."""
    tolerance = float(baseline.get("tolerance", TOLERANCE))
    problems = []
    for name, before in baseline["metrics"].items():
        now = data["metrics"].get(name)
        if now is None:
            problems.append(f"{name}: missing from this run (baseline {before:.3f})")
            continue
        worse = now - before if name in LOWER_IS_BETTER else before - now
        if worse > tolerance:
            problems.append(f"{name}: {before:.3f} -> {now:.3f} (tolerance {tolerance:.3f})")
    gold = baseline.get("gold_ranks", {})
    for row in data["per_question"]:
        before = gold.get(row["id"])
        now = row["gold_rank"]
        if before is not None and before <= 5 and (now is None or now > 5):
            where = "not in the top 10" if now is None else f"rank {now}"
            problems.append(f"{row['id']} lost its gold passage (rank {before} -> {where}): {row['question']}")
    return problems


def corpus_note(baseline: dict[str, Any], data: dict[str, Any]) -> str | None:
    """Which documents differ from those the baseline was measured on, or None."""
    before, now = baseline.get("corpus"), data.get("corpus")
    if not before or not now or before == now:
        return None
    parts = []
    for label, ids in (("added", sorted(now.keys() - before.keys())),
                       ("removed", sorted(before.keys() - now.keys())),
                       ("changed", sorted(k for k in now.keys() & before.keys() if now[k] != before[k]))):
        if ids:
            parts.append(f"{label} {', '.join(ids)}")
    return ("the collection differs from the baseline's (" + "; ".join(parts) + "): new documents compete "
            "for the same questions. If the change is intended, record it with: verbatim eval --update-baseline")


def read_baseline(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise UsageError(f"no baseline at {path}; create it with: verbatim eval --update-baseline")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise UsageError(f"baseline {path} is not valid JSON ({exc.msg})") from exc


def write_report(baseline: dict[str, Any], data: dict[str, Any], folder: Path) -> Path:
    """A Markdown report with a PNG chart comparing this run with the baseline per kind."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    stem = Path(data["set"]).stem
    now, before = by_kind(data["per_question"]), baseline.get("by_kind", {})
    kinds = [k for k in now if k not in NO_ANSWER_KINDS]
    fig, axes = plt.subplots(1, len(KIND_METRICS), figsize=(10, 3.8))
    for ax, metric in zip(axes, KIND_METRICS):
        xs = range(len(kinds))
        ax.bar([x - 0.2 for x in xs], [before.get(k, {}).get(metric, 0) for k in kinds], 0.4,
               label="baseline", color="#9ca3af")
        ax.bar([x + 0.2 for x in xs], [now[k][metric] for k in kinds], 0.4, label="this run",
               color="#2563eb")
        ax.set_xticks(list(xs), kinds)
        ax.set_ylim(0, 1.05)
        ax.set_title(metric)
    axes[0].legend(loc="lower left")
    fig.tight_layout()
    folder.mkdir(parents=True, exist_ok=True)
    chart = folder / f"{stem}.png"
    fig.savefig(chart, dpi=100)
    plt.close(fig)
    problems = compare(baseline, data)
    lines = [f"# Retrieval report: {data['set']}", "",
             f"Baseline of {baseline.get('created', '?')}, tolerance {baseline.get('tolerance')}.", "",
             "| metric | baseline | this run |", "| --- | --- | --- |"]
    for name, value in data["metrics"].items():
        lines.append(f"| {name} | {baseline['metrics'].get(name, float('nan')):.3f} | {value:.3f} |")
    lines += ["", "| kind | metric | baseline | this run |", "| --- | --- | --- | --- |"]
    for kind, metrics in now.items():
        for metric, value in metrics.items():
            lines.append(f"| {kind} | {metric} | {before.get(kind, {}).get(metric, float('nan')):.3f} "
                         f"| {value:.3f} |")
    lines += ["", f"![recall@5 and MRR@10 per question kind]({chart.name})", "",
              "## Gate", ""]
    lines += [f"- {p}" for p in problems] or ["Passed: nothing dropped beyond the tolerance."]
    report = folder / f"{stem}.md"
    write_atomic(report, ("\n".join(lines) + "\n").encode("utf-8"))
    return report
