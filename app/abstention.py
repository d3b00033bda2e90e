"""Abstention: deciding from the ranking whether the documents answer the question at all.

Two signals, both already at hand after the search:
- `cosine`: the best passage's cosine similarity to the question;
- `coverage`: the share of the question's content words, weighted by rarity (IDF), that
  occur in the best passage (question words such as "how many" do not count).
A logistic model over them, fitted by `verbatim eval --calibrate` on a question set that
is not the reported one, gives the probability that the documents answer the question;
the search abstains below the rule's threshold. (The share of question words known to
the corpus at all, the margin to the runner-up and sentence-level scores were tried and
did not generalise from the dev set to the reported one; see the README.)
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from app.errors import UsageError
from app.lexical import LexicalIndex, analyze, analyze_pooled

FEATURES = ("cosine", "coverage")
_QUESTION_WORDS = frozenset(analyze(
    "how many much what which who whom whose when where why did does do was were is are has have "
    "had happened happen according"
)) | {"how", "what", "which", "who", "whom", "whose", "when", "where", "why"}


def content_terms(question: str, languages: Sequence[str | None] = (None,)) -> list[str]:
    """The question's analysed terms (in each of `languages`, pooled) without question words."""
    return [t for t in analyze_pooled(question, languages) if t not in _QUESTION_WORDS]


@dataclass(frozen=True)
class AbstentionRule:
    """answerable probability = sigmoid(bias + sum(weight * feature)); abstain below threshold."""

    weights: tuple[float, ...]
    bias: float
    threshold: float
    fitted_on: str = ""
    note: str = ""

    def probability(self, features: dict[str, float]) -> float:
        z = self.bias + sum(w * features[name] for w, name in zip(self.weights, FEATURES))
        return 1.0 / (1.0 + math.exp(-z))

    def abstains(self, features: dict[str, float]) -> bool:
        return self.probability(features) < self.threshold

    def to_json(self) -> str:
        data = asdict(self)
        data["features"] = list(FEATURES)
        return json.dumps(data, indent=2) + "\n"

    @classmethod
    def load(cls, path: Path) -> AbstentionRule:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if data.get("features") != list(FEATURES):
                raise ValueError(f"features {data.get('features')} are not {list(FEATURES)}")
            return cls(tuple(data["weights"]), data["bias"], data["threshold"],
                       data.get("fitted_on", ""), data.get("note", ""))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise UsageError(f"abstention rule {path} cannot be read ({exc}); "
                             "refit it with: verbatim eval --set eval/dev.jsonl --calibrate") from exc


def weighted_share(terms: list[str], present: set[str], idf: dict[str, float], unseen_idf: float) -> float:
    """IDF-weighted share of `terms` that are in `present` (1.0 for a question with no terms)."""
    if not terms:
        return 1.0
    total = sum(idf.get(t, unseen_idf) for t in terms)
    found = sum(idf.get(t, unseen_idf) for t in terms if t in present)
    return found / total if total else 1.0


def features_for(question: str, best_passage: str | None, cosine: float, lexical: LexicalIndex) -> dict[str, float]:
    """The rule's inputs for one searched question and its best passage. In a collection of
    several languages, coverage is taken in each language's analysis and the best counts
    (the question is in one of them; the others' unstemmed forms would count as missing)."""
    shares = []
    for language in lexical.languages:
        terms = content_terms(question, (language,))
        present = set(analyze(best_passage, language)) if best_passage is not None else set()
        shares.append(weighted_share(terms, present, lexical.idf, lexical.unseen_idf))
    return {"cosine": cosine, "coverage": max(shares, default=1.0)}


def fit_rule(
    features: list[dict[str, float]], answerable: list[bool], source: str,
    max_false_abstention: float = 0.03,
) -> AbstentionRule:
    """Logistic regression (scikit-learn) on the set; the threshold is the highest that
    abstains on at most `max_false_abstention` of its answerable items."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    if all(answerable) or not any(answerable):
        raise UsageError("calibration needs both answerable and no-answer items in the set")
    x = np.array([[f[name] for name in FEATURES] for f in features])
    y = np.array(answerable)
    model = LogisticRegression(class_weight="balanced").fit(x, y)
    rule = AbstentionRule(tuple(float(w) for w in model.coef_[0]), float(model.intercept_[0]), 0.5)
    scores = sorted(rule.probability(f) for f, a in zip(features, answerable) if a)
    threshold = scores[int(max_false_abstention * len(scores))] - 1e-6
    note = (f"logistic regression over {', '.join(FEATURES)}; threshold: the highest abstaining on at "
            f"most {max_false_abstention:.0%} of the answerable items of {source}")
    return AbstentionRule(rule.weights, rule.bias, round(threshold, 6), source, note)
