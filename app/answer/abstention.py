"""Abstention: whether the documents answer a question, in three levels, from query-performance
predictors (app.search.qpp).

- "none": nothing relevant; the best passage is below the relevance floor (cosine), or the
  question's information lies in words the collection never uses;
- "related": relevant passages, but no direct answer;
- "answered": the top passage answers.

A logistic model over the standardised predictors gives the probability that the documents
answer. It cannot decide alone: some predictors are fatal, and a value below their floor
keeps a question from "answered" whatever the others say (a passage with cosine 0.15 never
answers, however many of the question's words it holds). Floors, the model and its
threshold are fitted by `verbatim eval --calibrate` on calibration sets that are never
reported (see docs/evaluation.md, "How the abstention rule was chosen").
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from app.errors import UsageError
from app.search.qpp import FEATURES

FATAL = ("cosine", "coverage", "known", "names_known", "answer_type")  # features with a floor of their own
FREE_SIGN = ("quantity", "time", "person", "entity")  # question-form flags: each form's own intercept
NONE_FEATURES = ("cosine", "known")  # below these floors nothing is relevant


@dataclass(frozen=True)
class AbstentionRule:
    """answerable probability = sigmoid(bias + sum(weight * (feature - mean) / scale)).

    "answered" when that is at least `threshold` and every feature in `floors` reaches its floor;
    "none" when a feature in `none_floors` is below its floor; "related" otherwise.
    """

    weights: tuple[float, ...]
    means: tuple[float, ...]
    scales: tuple[float, ...]
    bias: float
    threshold: float
    floors: dict[str, float] = field(default_factory=dict)
    none_floors: dict[str, float] = field(default_factory=dict)
    fitted_on: str = ""
    note: str = ""

    def probability(self, features: dict[str, float]) -> float:
        z = self.bias + sum(w * (features[name] - m) / s
                            for w, m, s, name in zip(self.weights, self.means, self.scales, FEATURES))
        return 1.0 / (1.0 + math.exp(-max(min(z, 60.0), -60.0)))

    def decide(self, features: dict[str, float]) -> tuple[str, float]:
        """The answer level ("answered", "related", "none") and the probability that the documents answer.

        A best passage that holds every word of the question (coverage 1: a keyword query such as
        "Molotov cocktails", whose cosine is low because it is short) is never below a floor."""
        probability = self.probability(features)
        matched = features["coverage"] >= 1.0
        if not matched and any(features[name] < floor for name, floor in self.none_floors.items()):
            return "none", probability
        floors_met = matched or all(features[n] >= f for n, f in self.floors.items())
        if probability >= self.threshold and floors_met:
            return "answered", probability
        return "related", probability

    def abstains(self, features: dict[str, float]) -> bool:
        return self.decide(features)[0] != "answered"

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
            return cls(tuple(data["weights"]), tuple(data["means"]), tuple(data["scales"]), data["bias"],
                       data["threshold"], dict(data["floors"]), dict(data["none_floors"]),
                       data.get("fitted_on", ""), data.get("note", ""))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise UsageError(f"abstention rule {path} cannot be read ({exc}); refit it with: "
                             "verbatim eval --calibrate") from exc


FALSE_ABSTENTION_BUDGET = 0.015  # of the calibration sets' answerable items; reported target 3% (docs/evaluation.md)
FLOOR_BUDGET = 0.01  # what each floor alone may cost, of the same items


def fit_rule(features: list[dict[str, float]], answerable: list[bool], source: str,
             budget: float = FALSE_ABSTENTION_BUDGET) -> AbstentionRule:
    """Fit the rule on calibration items (features as `app.search.qpp.predictors` gives them).

    1. Floors: for each FATAL feature (and the "none" relevance floor on cosine), the highest
       value below which at most FLOOR_BUDGET of the answerable items fall.
    2. A logistic regression over the standardised FEATURES, classes weighted to balance, L2
       penalty, fitted with scipy's L-BFGS-B under sign constraints: every predictor but the
       question-form flags may only raise the probability as it grows (a predictor that does
       not help gets weight 0 rather than a sign that fits one set's quirks, such as SciFact's
       off-topic claims being made of rarer words than the questions that have answers).
    3. The threshold: the highest probability that, with the floors, abstains on at most
       `budget` of the answerable items.
    Raises UsageError without both answerable and unanswerable items.
    """
    import numpy as np

    if all(answerable) or not any(answerable):
        raise UsageError("calibration needs both answerable and no-answer items")
    x = np.array([[f[name] for name in FEATURES] for f in features])
    y = np.array(answerable)
    means, scales = x.mean(axis=0), x.std(axis=0) + 1e-9
    weights, bias = _monotone_logistic((x - means) / scales, y)
    found = {name: _floor(x[y, FEATURES.index(name)]) for name in FATAL}
    floors = {name: value for name, value in found.items() if value is not None}
    none_floor = _floor(x[y, FEATURES.index("cosine")])
    rule = AbstentionRule(tuple(float(w) for w in weights), tuple(float(m) for m in means),
                          tuple(float(s) for s in scales), float(bias), 0.0, floors,
                          {"cosine": none_floor} if none_floor is not None else {}, source)
    probabilities = sorted(rule.probability(f) for f, a in zip(features, answerable)
                           if a and (f["coverage"] >= 1.0 or all(f[n] >= v for n, v in floors.items())))
    allowed = int(budget * int(y.sum())) - (int(y.sum()) - len(probabilities))
    threshold = probabilities[max(allowed, 0)] - 1e-9 if probabilities else 0.5
    note = (f"logistic regression over {', '.join(FEATURES)} (standardised, sign-constrained); floors on "
            f"{', '.join(floors)} at the {FLOOR_BUDGET:.1%} quantile of the answerable items; threshold: the "
            f"highest abstaining on at most {budget:.1%} of the answerable items of {source}")
    return AbstentionRule(rule.weights, rule.means, rule.scales, rule.bias, round(threshold, 6),
                          {k: round(v, 6) for k, v in floors.items()},
                          {k: round(v, 6) for k, v in rule.none_floors.items()}, source, note)


def _monotone_logistic(z: Any, y: Any, l2: float = 1.0) -> tuple[Any, float]:
    """Class-balanced, L2-penalised logistic regression with non-negative weights on the
    MONOTONE features (scipy.optimize L-BFGS-B); returns (weights, bias)."""
    import numpy as np
    from scipy.optimize import minimize

    z, y = np.asarray(z, dtype=float), np.asarray(y, dtype=float)
    weight = np.where(y == 1, 0.5 / y.mean(), 0.5 / (1 - y.mean()))

    def loss(params: np.ndarray) -> tuple[float, np.ndarray]:
        w, b = params[:-1], params[-1]
        logits = z @ w + b
        residual = weight * (1 / (1 + np.exp(-logits)) - y)
        value = float(np.sum(weight * (np.logaddexp(0, logits) - y * logits)) + l2 * np.sum(w**2) / 2)
        return value, np.append(z.T @ residual + l2 * w, residual.sum())

    bounds = [(0.0, None) if name not in FREE_SIGN else (None, None) for name in FEATURES] + [(None, None)]
    found = minimize(loss, np.zeros(z.shape[1] + 1), jac=True, method="L-BFGS-B", bounds=bounds)
    return found.x[:-1], float(found.x[-1])


def _floor(values: object) -> float | None:
    """The highest value with at most FLOOR_BUDGET of `values` below it (None: no values, or 0,
    which floors nothing)."""
    import numpy as np

    ordered = np.sort(np.asarray(values, dtype=float))
    if not len(ordered):
        return None
    floor = float(ordered[int(FLOOR_BUDGET * len(ordered))])
    return floor if floor > 0 else None
