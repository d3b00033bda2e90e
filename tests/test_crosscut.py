"""The abstention cuts of questions in another language come from the fitting sets, not by hand."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.evaluation.crosscut import FITTING_SETS, fit_cut, fit_cuts
from app.evaluation.metrics import EvalItem
from app.search.coverage import Coverage
from app.search.crosslang import LANGUAGE_CUTS, MIN_COSINE, OTHER_LANGUAGE_CUT, answered, cut
from app.search.ranking import Ranking


def test_a_cut_falls_halfway_below_the_lowest_answerable_cosine_when_the_two_kinds_separate() -> None:
    assert fit_cut([(0.70, False), (0.74, False), (0.78, True), (0.81, True)]) == pytest.approx(0.76)


def test_a_cut_between_overlapping_kinds_makes_the_fewest_errors_and_ties_go_to_answering() -> None:
    pairs = [(0.70, False), (0.75, True), (0.76, False), (0.80, True), (0.82, True)]
    assert fit_cut(pairs) == pytest.approx(0.725)  # one error either way: the lower cut answers more
    with pytest.raises(ValueError, match="no questions"):
        fit_cut([])


def test_each_language_gets_its_own_cut_and_any_other_the_cut_over_all() -> None:
    def item(question: str, language: str, answerable: bool) -> EvalItem:
        return EvalItem(question, question, ("a quote",) if answerable else (),
                        "other-language" if answerable else "off-topic", language=language)

    scores = {"ru-a": 0.80, "ru-o": 0.74, "kk-a": 0.85, "kk-o": 0.81}
    items = [item(q, q[:2], q.endswith("a")) for q in scores]
    every, languages = fit_cuts(items, scores.__getitem__)
    assert languages == {"kk": pytest.approx(0.83), "ru": pytest.approx(0.77)}
    assert every == pytest.approx(0.77)  # over all four, cuts at 0.80 and 0.85 err once each: the lower one


def test_each_language_gets_its_own_cut_and_questions_the_product_takes_for_english_are_left_out() -> None:
    def item(question: str, language: str, answerable: bool) -> EvalItem:
        return EvalItem(question, question, ("a quote",) if answerable else (),
                        "other-language" if answerable else "off-topic", language=language)

    scores: dict[str, float | None] = {"ru-a": 1.25, "ru-o": 1.20, "ru-english-looking-o": None}
    items = [item(q, q[:2], q.endswith("a")) for q in scores]
    assert fit_cuts(items, scores.__getitem__)[1] == {"ru": pytest.approx(1.225)}


def test_the_product_uses_its_languages_cut_and_the_general_one_elsewhere() -> None:
    assert cut("kk") == LANGUAGE_CUTS["kk"] and cut("it") == OTHER_LANGUAGE_CUT


def test_another_language_is_judged_on_its_score_and_a_documents_language_on_the_best_cosine() -> None:
    ranking = Ranking(hits=[], dense={0: 0.80}, lexical={})
    low, high = Coverage(0.80, -0.10), Coverage(0.95, 0.0)
    assert not answered(ranking, "kk", low) and answered(ranking, "kk", high)
    assert answered(ranking) == (MIN_COSINE <= 0.80)
    with pytest.raises(ValueError, match="coverage"):
        answered(ranking, "kk")


@pytest.mark.slow
def test_the_shipped_cuts_are_the_ones_fitted_on_the_fitting_sets(tmp_path: Path) -> None:
    from app.answer.engine import Engine
    from app.evaluation.metrics import load_items
    from app.paths import CORPUS, REPO_ROOT

    engine = Engine(CORPUS, tmp_path / "index", log=lambda message: None)  # the shipped corpus, the default setting
    items = [item for name in FITTING_SETS for item in load_items(REPO_ROOT / "eval" / name)]
    every, languages = fit_cuts(items, lambda question: engine.ask(question, 10).features.get("score"))
    assert every == pytest.approx(OTHER_LANGUAGE_CUT, abs=2e-3)
    assert languages == pytest.approx(LANGUAGE_CUTS, abs=2e-3)
