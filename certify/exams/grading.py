"""Graders: pure functions, one per question type, in one registry.

A grader gets the correct keys and the chosen keys and returns the share of the
question's points earned, from 0 to 1. Mock exams and real exams use the same ones.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from fractions import Fraction

from certify.banks.types import QuestionType

Grader = Callable[[frozenset[str], frozenset[str], int], Fraction]
GRADERS: dict[tuple[QuestionType, str], Grader] = {}


def grader(q_type: QuestionType, mode: str = "exact") -> Callable[[Grader], Grader]:
    def register(func: Grader) -> Grader:
        GRADERS[(q_type, mode)] = func
        return func

    return register


@grader(QuestionType.SINGLE)
@grader(QuestionType.TRUE_FALSE)
@grader(QuestionType.MULTIPLE)
def exact(correct: frozenset[str], chosen: frozenset[str], option_count: int) -> Fraction:
    return Fraction(1) if chosen and chosen == correct else Fraction(0)


@grader(QuestionType.MULTIPLE, "partial")
def partial(correct: frozenset[str], chosen: frozenset[str], option_count: int) -> Fraction:
    """少选得部分分, 错选不得分: any wrong choice scores 0, else the share of right ones found."""
    if not chosen or chosen - correct:
        return Fraction(0)
    return Fraction(len(chosen), len(correct))


def grade(
    q_type: QuestionType,
    correct: Iterable[str],
    chosen: Iterable[str],
    *,
    option_count: int = 0,
    mode: str = "exact",
) -> Fraction:
    func = GRADERS.get((q_type, mode)) or GRADERS[(q_type, "exact")]
    return func(frozenset(correct), frozenset(chosen or ()), option_count)
