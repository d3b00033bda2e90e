from __future__ import annotations

from pathlib import Path

import pytest

from app.abstention import AbstentionRule, content_terms, fit_rule, weighted_share
from app.errors import UsageError

from .test_store_search import make_engine


def test_question_words_do_not_count_as_content() -> None:
    assert content_terms("How many citizens were killed?") == ["citizen", "kill"]


def test_weighted_share_by_hand() -> None:
    idf = {"rare": 3.0, "common": 1.0}
    assert weighted_share(["rare", "common"], {"common"}, idf, 5.0) == pytest.approx(0.25)
    assert weighted_share(["unknown", "rare"], {"rare"}, idf, 5.0) == pytest.approx(3 / 8)
    assert weighted_share([], set(), idf, 5.0) == 1.0


def test_fitted_rule_keeps_false_abstentions_within_the_limit() -> None:
    # Answerable questions have high cosine and coverage; the others low.
    answerable = [{"cosine": 0.5 + i / 100, "coverage": 0.6} for i in range(40)]
    unanswerable = [{"cosine": 0.2 + i / 100, "coverage": 0.1} for i in range(10)]
    rule = fit_rule(answerable + unanswerable, [True] * 40 + [False] * 10, "synthetic", 0.03)
    assert sum(rule.abstains(f) for f in answerable) <= 1
    assert all(rule.abstains(f) for f in unanswerable)
    assert rule.weights[0] > 0 and rule.weights[1] > 0


def test_rule_round_trips_and_a_bad_file_says_how_to_refit(tmp_path: Path) -> None:
    rule = AbstentionRule((1.0, 2.0), -1.5, 0.4, "eval/dev.jsonl", "note")
    (tmp_path / "rule.json").write_text(rule.to_json())
    assert AbstentionRule.load(tmp_path / "rule.json") == rule
    (tmp_path / "rule.json").write_text('{"weights": [1]}')
    with pytest.raises(UsageError, match="verbatim eval --set eval/dev.jsonl --calibrate"):
        AbstentionRule.load(tmp_path / "rule.json")


def test_calibration_needs_both_kinds_of_items() -> None:
    with pytest.raises(UsageError, match="both answerable and no-answer"):
        fit_rule([{"cosine": 0.5, "coverage": 0.5}], [True], "x")


def test_engine_applies_the_rule(tiny_corpus: Path, tmp_path: Path) -> None:
    engine = make_engine(tiny_corpus, tmp_path / "index")
    engine.abstention = AbstentionRule((0.0, 10.0), -5.0, 0.5)  # answerable iff coverage > 0.5
    assert not engine.ask("mackerel fishing boats").abstained  # every word is in the best passage
    unanswered = engine.ask("mackerel prices in Oslo")  # the rarest words occur nowhere
    assert unanswered.abstained and unanswered.answerable is not None and unanswered.answerable < 0.5
