"""Exam statistics for the trainers' and the assessment office's reports: pure functions.

* :func:`item_analysis` - classical item analysis of a theory exam: per question, the
  facility index (Moodle's name: the mean share of the item's points earned) and the
  upper-lower discrimination index, with flags for questions worth a second look.
* :func:`score_histogram` - candidates per score band, for the score-distribution chart.
* :func:`summary` - count, mean, median, spread and pass rate of a list of scores.

Papers are drawn per candidate from a bank, so each question is analysed over the
candidates whose paper had it: a question absent from ``Response.items`` was not on that
paper (a question on the paper but left unanswered must be passed with a share of 0).

Totals, shares and scores may be ints, floats, ``Decimal``s (numeric columns) or exact
``Fraction``s (what :mod:`certify.exams.grading` returns for shares). The item statistics
are computed exactly and rounded to :data:`PRECISION` decimal places, so that an item at
exactly 0.9 reads 0.9 rather than 0.9000000000000001 and is flagged (or not) the way the
report shows it.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from numbers import Real

#: An item is "too easy" when its facility is above this (almost everyone gets it).
TOO_EASY_ABOVE = 0.9
#: An item is "too hard" when its facility is below this (almost nobody gets it).
TOO_HARD_BELOW = 0.2
#: An item whose discrimination is at least 0 but below this is "weak": it barely
#: separates strong candidates from weak ones. Below 0 it is "negative" instead:
#: weak candidates do better on it than strong ones (often a wrong key or an ambiguity).
WEAK_BELOW = 0.2
#: Fewer candidates than this and the discrimination index is ``None``: too few to say.
MIN_CANDIDATES_FOR_DISCRIMINATION = 10
#: Share of the ranked candidates in each of the upper and lower groups (Kelley's 27%).
GROUP_SHARE = Fraction(27, 100)
#: Decimal places the facility and discrimination indices are rounded to.
PRECISION = 12

FLAG_TOO_EASY = "too_easy"
FLAG_TOO_HARD = "too_hard"
FLAG_NEGATIVE = "negative"
FLAG_WEAK = "weak"

_NUMBER = (Real, Decimal)  # Decimal is not registered as a numbers.Real


@dataclass(frozen=True)
class Response:
    """One candidate's theory result: the total and the share earned on each item on the paper."""

    candidate: int  # any id; ids must be unique and mutually comparable (they break ties)
    total: float  # the candidate's theory score (0..100)
    items: dict[int, float]  # question_id -> earned share of that item's points (0..1)


@dataclass(frozen=True)
class ItemStats:
    question_id: int
    n: int  # candidates who had the item on their paper
    facility: float  # mean earned share (0..1): Moodle's facility index
    discrimination: float | None  # upper-lower group index, None when n < 10
    flags: tuple[str, ...]  # subset of ("too_easy", "too_hard", "negative", "weak"), in that order


def group_size(n: int) -> int:
    """Size of each of the upper and lower groups among ``n`` ranked candidates.

    27% of ``n`` rounded half up, at least 1. The rounding is exact: ``round(0.27 * n)``
    in floating point would round the exact halves (n = 50, 150, 250, ...) inconsistently.
    """
    if n < 1:
        raise ValueError(f"group size of {n} candidates")
    return max(1, math.floor(GROUP_SHARE * n + Fraction(1, 2)))


def item_analysis(responses: Sequence[Response]) -> list[ItemStats]:
    """Facility, discrimination and flags for every item on any paper, sorted by question_id.

    Discrimination is the classical upper-lower index, per item over the candidates who
    had it: rank them by ``total`` (highest first; equal totals by ascending candidate id,
    so the smaller id ranks higher), take the top and bottom :func:`group_size` candidates,
    and subtract the lower group's mean share from the upper group's. It is ``None`` when
    fewer than :data:`MIN_CANDIDATES_FOR_DISCRIMINATION` candidates had the item.

    Raises ``ValueError`` for a repeated candidate id, a non-finite total, or a share
    outside [0, 1].
    """
    seen: set[object] = set()
    for response in responses:
        if response.candidate in seen:
            raise ValueError(f"candidate {response.candidate!r} appears more than once")
        seen.add(response.candidate)
        _check_finite(response.total, f"total of candidate {response.candidate!r}")

    # Best first; a candidate's rank is the same for every item, only the cohort differs.
    ranked = sorted(responses, key=lambda r: (-r.total, r.candidate))
    shares: dict[int, list[Fraction]] = defaultdict(list)  # question_id -> shares, best first
    for response in ranked:
        for question_id, share in response.items.items():
            shares[question_id].append(_share(share, response.candidate, question_id))

    return [_item_stats(question_id, shares[question_id]) for question_id in sorted(shares)]


def _item_stats(question_id: int, shares: list[Fraction]) -> ItemStats:
    n = len(shares)
    facility = _rounded(_mean(shares))
    discrimination = None
    if n >= MIN_CANDIDATES_FOR_DISCRIMINATION:
        size = group_size(n)
        discrimination = _rounded(_mean(shares[:size]) - _mean(shares[-size:]))

    flags = []
    if facility > TOO_EASY_ABOVE:
        flags.append(FLAG_TOO_EASY)
    if facility < TOO_HARD_BELOW:
        flags.append(FLAG_TOO_HARD)
    if discrimination is not None:
        if discrimination < 0:
            flags.append(FLAG_NEGATIVE)
        elif discrimination < WEAK_BELOW:
            flags.append(FLAG_WEAK)
    return ItemStats(question_id, n, facility, discrimination, tuple(flags))


def score_histogram(
    scores: Iterable[float], width: int = 10, top: float = 100
) -> list[tuple[str, int]]:
    """Scores per band of ``width`` points, lowest band first, empty bands included.

    With the defaults the bands are ``"0–9"``, ``"10–19"``, ..., ``"90–100"``: a band
    labelled ``"10–19"`` holds 10 <= score < 20 (so 19.5 is in it), and the last band is
    closed, holding ``top`` itself. Scores below 0 count in the first band and scores
    above ``top`` in the last. ``width`` and ``top`` must be positive whole numbers and
    ``width`` must divide ``top``; a non-finite score raises ``ValueError``.
    """
    if isinstance(width, bool) or not isinstance(width, int) or width <= 0:
        raise ValueError(f"histogram width must be a positive integer, not {width!r}")
    if isinstance(top, bool) or not isinstance(top, _NUMBER) or top <= 0 or top != int(top):
        raise ValueError(f"histogram top must be a positive whole number, not {top!r}")
    top = int(top)
    if top % width:
        raise ValueError(f"histogram width {width} does not divide top {top}")

    bins = top // width
    counts = [0] * bins
    for score in scores:
        _check_finite(score, "score")
        clamped = min(max(score, 0), top)
        counts[min(int(clamped // width), bins - 1)] += 1

    labels = [f"{i * width}–{(i + 1) * width - 1}" for i in range(bins - 1)]
    labels.append(f"{(bins - 1) * width}–{top}")
    return list(zip(labels, counts, strict=True))


def summary(scores: Iterable[float], pass_mark: float) -> dict[str, float | int | None]:
    """Descriptive statistics of a list of scores.

    Keys: ``count``; ``mean``, ``median``, ``min``, ``max`` (``None`` when there are no
    scores); ``stdev``, the population standard deviation (``None`` for fewer than two
    scores); ``passed``, how many scores are ``>= pass_mark``; ``pass_rate``, passed /
    count from 0 to 1 (``None`` when there are no scores).
    """
    values = list(scores)
    for score in values:
        _check_finite(score, "score")
    _check_finite(pass_mark, "pass mark")

    count = len(values)
    passed = sum(1 for score in values if score >= pass_mark)
    if not count:
        return {
            "count": 0,
            "mean": None,
            "median": None,
            "stdev": None,
            "min": None,
            "max": None,
            "passed": 0,
            "pass_rate": None,
        }
    return {
        "count": count,
        "mean": statistics.fmean(values),
        "median": float(statistics.median(values)),
        "stdev": float(statistics.pstdev(values)) if count >= 2 else None,
        "min": float(min(values)),
        "max": float(max(values)),
        "passed": passed,
        "pass_rate": passed / count,
    }


def _mean(values: Sequence[Fraction]) -> Fraction:
    return sum(values, Fraction(0)) / len(values)


def _rounded(value: Fraction) -> float:
    return float(round(value, PRECISION))


def _share(value: float, candidate: object, question_id: int) -> Fraction:
    what = f"share of candidate {candidate!r} on question {question_id!r}"
    _check_finite(value, what)
    share = Fraction(value)
    if not 0 <= share <= 1:
        raise ValueError(f"{what} is {value!r}, outside 0..1")
    return share


def _check_finite(value: float, what: str) -> None:
    if isinstance(value, bool) or not isinstance(value, _NUMBER) or not math.isfinite(value):
        raise ValueError(f"{what} must be a finite number, not {value!r}")
