"""The abstention rule: three levels, fatal floors that no other predictor outvotes, and its fit."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.answer.abstention import AbstentionRule, fit_rule
from app.errors import UsageError
from app.search.qpp import FEATURES

from .test_store_search import make_engine


def features(**given: float) -> dict[str, float]:
    """A predictor vector: an answerable-looking question unless told otherwise."""
    base = {name: 0.0 for name in FEATURES}
    base.update(cosine=0.6, sentence=0.65, answer_sentence=0.65, coverage=0.8, known=1.0, names_known=1.0,
                answer_type=1.0)
    base.update(given)
    return base


def rule(**changes: object) -> AbstentionRule:
    """Answerable iff coverage is high (weight on coverage only), with a cosine floor of 0.2."""
    weights = tuple(10.0 if name == "coverage" else 0.0 for name in FEATURES)
    values = dict(weights=weights, means=tuple(0.5 for _ in FEATURES), scales=tuple(1.0 for _ in FEATURES),
                  bias=0.0, threshold=0.5, floors={"cosine": 0.2, "names_known": 1.0},
                  none_floors={"cosine": 0.2})
    values.update(changes)
    return AbstentionRule(**values)  # type: ignore[arg-type]


def test_three_levels() -> None:
    assert rule().decide(features())[0] == "answered"
    assert rule().decide(features(coverage=0.3))[0] == "related"  # relevant, but the model says no
    assert rule().decide(features(cosine=0.1, coverage=0.3))[0] == "none"  # nothing relevant


def test_a_fatal_floor_is_never_outvoted() -> None:
    # A passage with cosine 0.15 never answers, however much of the question it holds.
    level, probability = rule().decide(features(cosine=0.15, coverage=0.99))
    assert probability > 0.99 and level != "answered"
    # A question about a name the collection never uses ("Belarus") is not answered either.
    assert rule().decide(features(names_known=0.0, coverage=0.95))[0] == "related"


def test_a_passage_holding_every_word_of_a_short_query_is_not_below_a_floor() -> None:
    # "Molotov cocktails": a keyword query's cosine is low because it is short.
    assert rule().decide(features(cosine=0.15, coverage=1.0))[0] == "answered"


def test_fitted_rule_keeps_false_abstentions_within_budget_and_signs_monotone() -> None:
    answerable = [features(cosine=0.4 + i / 200, coverage=0.5 + i / 100, sentence=0.5 + i / 300) for i in range(50)]
    near = [features(cosine=0.4 + i / 100, coverage=0.2 + i / 50, sentence=0.3) for i in range(20)]
    off = [features(cosine=0.05 + i / 200, coverage=0.0, known=0.1, names_known=0.0) for i in range(30)]
    fitted = fit_rule(answerable + near + off, [True] * 50 + [False] * 50, "synthetic", budget=0.04)
    assert sum(fitted.abstains(f) for f in answerable) <= 2  # 4% of 50
    assert all(fitted.abstains(f) for f in off)
    monotone = [w for w, name in zip(fitted.weights, FEATURES) if name not in ("quantity", "time", "person", "entity")]
    assert all(w >= 0 for w in monotone)
    assert fitted.floors["cosine"] == pytest.approx(0.4)  # the lowest answerable cosine: nothing below it
    assert fitted.none_floors["cosine"] == pytest.approx(0.4)


def test_rule_round_trips_and_a_bad_file_says_how_to_refit(tmp_path: Path) -> None:
    (tmp_path / "rule.json").write_text(rule().to_json())
    assert AbstentionRule.load(tmp_path / "rule.json") == rule()
    (tmp_path / "rule.json").write_text('{"weights": [1]}')
    with pytest.raises(UsageError, match="verbatim eval --calibrate"):
        AbstentionRule.load(tmp_path / "rule.json")


def test_calibration_needs_both_kinds_of_items() -> None:
    with pytest.raises(UsageError, match="both answerable and no-answer"):
        fit_rule([features()], [True], "x")


def test_engine_applies_the_rule(tiny_corpus: Path, tmp_path: Path) -> None:
    engine = make_engine(tiny_corpus, tmp_path / "index")
    engine.abstention = rule(floors={}, none_floors={})
    answer = engine.ask("mackerel fishing boats")  # every word is in the best passage
    assert answer.level == "answered" and not answer.abstained
    unanswered = engine.ask("mackerel prices in Oslo")  # "Oslo" is a name no document uses
    assert unanswered.abstained and unanswered.level == "related"
    assert unanswered.features["names_known"] == 0.0


def test_level_none_lists_only_the_closest_passage(tiny_corpus: Path, tmp_path: Path) -> None:
    engine = make_engine(tiny_corpus, tmp_path / "index")
    engine.abstention = rule(none_floors={"cosine": 2.0})  # nothing ever reaches it
    answer = engine.ask("volcanic eruptions on Jupiter", k=5)
    assert answer.level == "none" and answer.abstained and len(answer.hits) == 1
