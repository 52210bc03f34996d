import math
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from certify.exams.analysis import (
    ItemStats,
    Response,
    group_size,
    item_analysis,
    score_histogram,
    summary,
)

# ---------------------------------------------------------------------------------------
# The worked example: ten candidates, five questions.
#
# Ranked by total, highest first; equal totals by ascending candidate id:
#
#   rank  cand  total   Q1   Q2   Q3   Q4   Q5
#     1    c1    95     1    1    0    -    1      <- upper group
#     2    c2    90     1    1    0    0    .5     <- upper group
#     3    c3    82     1    1    .5   -    1      <- upper group (tie with c4: smaller id)
#     4    c4    82     1    0    1    0    0
#     5    c5    75     1    1    0    -    1
#     6    c6    68     1    1    1    0    0
#     7    c7    50     1    1    0    -    1      (tie with c8: smaller id ranks higher)
#     8    c8    50     1    0    1    1    1      <- lower group
#     9    c9    41     1    0    1    0    0      <- lower group
#    10    c10   30     1    0    .5   0    1      <- lower group
#
#   ("-": the question was not on that candidate's paper)
#
# n = 10, so each group has max(1, round(0.27 * 10)) = round(2.7) = 3 candidates:
# upper = {c1, c2, c3}, lower = {c8, c9, c10}.
#
# Q1 (easy): facility 10/10 = 1.0; D = 3/3 - 3/3 = 0.
#    Flags: too_easy (1.0 > 0.9) and weak (0 <= D < 0.2): everybody gets it right.
# Q2 (discriminates well): facility 6/10 = 0.6; D = (1+1+1)/3 - (0+0+0)/3 = 1.0. No flags.
#    Had the ties gone the other way (c4 upper, c7 lower) it would be (1+1+0)/3 - (1+0+0)/3
#    = 1/3, so the tie-break matters.
# Q3 (negative): facility (0+0+.5+1+0+1+0+1+1+.5)/10 = 5/10 = 0.5;
#    D = (0+0+.5)/3 - (1+1+.5)/3 = 1/6 - 5/6 = -2/3. Flag: negative.
# Q4 (on six papers only: c2, c4, c6, c8, c9, c10): facility 1/6 = 0.1667 < 0.2, so too_hard;
#    n = 6 < 10, so D is None and neither negative nor weak can apply.
# Q5 (weak): facility (1+.5+1+0+1+0+1+1+0+1)/10 = 6.5/10 = 0.65;
#    D = (1+.5+1)/3 - (1+0+1)/3 = 2.5/3 - 2/3 = 1/6 = 0.1667. Flag: weak.
# ---------------------------------------------------------------------------------------

TABLE = {
    # cand: (total, {question: share})
    1: (95, {1: 1, 2: 1, 3: 0, 5: 1}),
    2: (90, {1: 1, 2: 1, 3: 0, 4: 0, 5: 0.5}),
    3: (82, {1: 1, 2: 1, 3: 0.5, 5: 1}),
    4: (82, {1: 1, 2: 0, 3: 1, 4: 0, 5: 0}),
    5: (75, {1: 1, 2: 1, 3: 0, 5: 1}),
    6: (68, {1: 1, 2: 1, 3: 1, 4: 0, 5: 0}),
    7: (50, {1: 1, 2: 1, 3: 0, 5: 1}),
    8: (50, {1: 1, 2: 0, 3: 1, 4: 1, 5: 1}),
    9: (41, {1: 1, 2: 0, 3: 1, 4: 0, 5: 0}),
    10: (30, {1: 1, 2: 0, 3: 0.5, 4: 0, 5: 1}),
}
SCRAMBLED = [7, 2, 10, 4, 1, 9, 3, 8, 6, 5]


def worked_example(order=SCRAMBLED):
    return [Response(c, TABLE[c][0], dict(TABLE[c][1])) for c in order]


def test_worked_example():
    stats = item_analysis(worked_example())

    assert [s.question_id for s in stats] == [1, 2, 3, 4, 5]
    by_id = {s.question_id: s for s in stats}
    assert by_id[1] == ItemStats(1, 10, 1.0, 0.0, ("too_easy", "weak"))
    assert by_id[2] == ItemStats(2, 10, 0.6, 1.0, ())
    assert by_id[3] == ItemStats(3, 10, 0.5, pytest.approx(-2 / 3), ("negative",))
    assert by_id[4] == ItemStats(4, 6, pytest.approx(1 / 6), None, ("too_hard",))
    assert by_id[5] == ItemStats(5, 10, 0.65, pytest.approx(1 / 6), ("weak",))


def test_input_order_does_not_matter():
    assert item_analysis(worked_example()) == item_analysis(worked_example(range(10, 0, -1)))


def test_ties_are_broken_by_ascending_candidate_id():
    # All ten on the same total: the ranking is c1..c10, so the upper group is
    # c1, c2, c3 (all right) and the lower c8, c9, c10 (all wrong): D = 1 - 0.
    responses = [Response(c, 50, {1: 1 if c <= 3 else 0}) for c in range(10, 0, -1)]
    [item] = item_analysis(responses)
    assert item.facility == 0.3
    assert item.discrimination == 1.0

    # Right answers by the three largest ids: they fall in the lower group.
    responses = [Response(c, 50, {1: 1 if c >= 8 else 0}) for c in range(1, 11)]
    [item] = item_analysis(responses)
    assert item.discrimination == -1.0
    assert item.flags == ("negative",)


def ranked(shares, question_id=1):
    """Responses for candidates ranked best first; a share of None: not on that paper."""
    return [
        Response(rank, 100 - rank, {} if share is None else {question_id: share})
        for rank, share in enumerate(shares, start=1)
    ]


def test_discrimination_needs_ten_candidates_with_the_item():
    nine = item_analysis(ranked([1] * 4 + [0] * 5))[0]
    assert nine.n == 9
    assert nine.discrimination is None
    assert nine.flags == ()

    ten = item_analysis(ranked([1] * 4 + [0] * 6))[0]
    assert ten.n == 10
    assert ten.discrimination == 1.0  # upper: 1, 1, 1; lower: 0, 0, 0

    # Twelve candidates sat the exam but only nine had the item.
    twelve = item_analysis(ranked([1, None, 1, 1, 0, None, 0, 0, 0, 0, None, 0]))[0]
    assert (twelve.n, twelve.discrimination) == (9, None)
    assert twelve.facility == pytest.approx(3 / 9)


def test_groups_are_taken_among_the_candidates_who_had_the_item():
    # 14 candidates; the item is on 10 papers, so groups of 3 among those 10:
    # upper = ranks 2, 3, 5 (share 1, 1, 1), lower = ranks 11, 13, 14 (0, .5, 0).
    shares = [None, 1, 1, None, 1, 0, 0, 1, None, 0, 0, None, 0.5, 0]
    [item] = item_analysis(ranked(shares))
    assert item.n == 10
    assert item.facility == 0.45  # 4.5 / 10
    assert item.discrimination == pytest.approx(1 - 0.5 / 3)


@pytest.mark.parametrize(
    ("n", "size"),
    [(1, 1), (3, 1), (10, 3), (11, 3), (12, 3), (13, 4), (50, 14), (100, 27), (150, 41)],
)
def test_group_size_is_27_percent_rounded_half_up(n, size):
    # 0.27 * 13 = 3.51 -> 4; exact halves 13.5 and 40.5 round up.
    assert group_size(n) == size


def test_flag_thresholds_are_strict():
    # 9 of 10 right: facility exactly 0.9 is not "too easy"; 0.2 is not "too hard".
    assert "too_easy" not in item_analysis(ranked([1] * 9 + [0]))[0].flags
    assert "too_hard" not in item_analysis(ranked([1] * 2 + [0] * 8))[0].flags
    assert item_analysis(ranked([1] * 9 + [1] * 1))[0].flags == ("too_easy", "weak")
    assert item_analysis(ranked([0.1] * 10))[0].flags == ("too_hard", "weak")

    # D exactly 0.2 (upper 0.2, 0.2, 0.2; lower 0, 0, 0) is not weak.
    exactly = item_analysis(ranked([0.2] * 3 + [0.5] * 4 + [0] * 3))[0]
    assert exactly.discrimination == 0.2
    assert exactly.flags == ()


def test_float_noise_does_not_make_a_zero_discrimination_negative():
    # Upper 0.1 + 0.2 + 0 and lower 0.3 + 0 + 0: equal in decimal, not in binary floats.
    [item] = item_analysis(ranked([0.1, 0.2, 0, 1, 1, 1, 1, 0.3, 0, 0]))
    assert item.discrimination == 0.0
    assert item.flags == ("weak",)
    # 0.7 + 1 + 1 is 2.6999999999999997 in floats; the mean is reported as 0.9.
    assert item_analysis(ranked([0.7, 1, 1]))[0].facility == 0.9


def test_exact_fractions_and_decimals_are_accepted():
    shares = [Fraction(1, 3)] * 3 + [Fraction(2, 3)] * 4 + [Decimal("0.5")] * 3
    [item] = item_analysis(ranked(shares))
    assert item.facility == pytest.approx((1 + 8 / 3 + 1.5) / 10)
    assert item.discrimination == pytest.approx(1 / 3 - 1 / 2)
    assert isinstance(item.facility, float)
    assert isinstance(item.discrimination, float)


def test_no_responses_no_items():
    assert item_analysis([]) == []
    assert item_analysis([Response(1, 50, {})]) == []


@pytest.mark.parametrize(
    "responses",
    [
        [Response(1, 50, {1: 1}), Response(1, 60, {2: 1})],  # the same candidate twice
        [Response(1, 50, {1: 1.5})],
        [Response(1, 50, {1: -0.1})],
        [Response(1, 50, {1: math.nan})],
        [Response(1, math.nan, {1: 1})],
    ],
)
def test_bad_responses_are_refused(responses):
    with pytest.raises(ValueError):
        item_analysis(responses)


# --- histogram --------------------------------------------------------------------------

DEFAULT_LABELS = [
    "0–9", "10–19", "20–29", "30–39", "40–49", "50–59", "60–69", "70–79", "80–89", "90–100",
]  # fmt: skip


def test_histogram_edges():
    histogram = score_histogram([0, 9.99, 10, 100, -1, 101, 89.99, 90, 55])
    assert [label for label, _ in histogram] == DEFAULT_LABELS
    assert dict(histogram) == {
        "0–9": 3,  # 0, 9.99 and -1 (clamped to 0)
        "10–19": 1,  # 10
        "20–29": 0,
        "30–39": 0,
        "40–49": 0,
        "50–59": 1,  # 55
        "60–69": 0,
        "70–79": 0,
        "80–89": 1,  # 89.99
        "90–100": 3,  # 90, 100 (the last band is closed) and 101 (clamped to 100)
    }


def test_histogram_of_nothing_has_every_band_empty():
    assert score_histogram([]) == [(label, 0) for label in DEFAULT_LABELS]


def test_histogram_other_widths():
    assert score_histogram([0, 19.5, 20, 100], width=20) == [
        ("0–19", 2),
        ("20–39", 1),
        ("40–59", 0),
        ("60–79", 0),
        ("80–100", 1),
    ]
    assert score_histogram([3, 5, 7.5], width=5, top=10.0) == [("0–4", 1), ("5–10", 2)]
    assert score_histogram([Decimal("59.5"), Fraction(121, 2)], width=50) == [
        ("0–49", 0),
        ("50–100", 2),
    ]


@pytest.mark.parametrize(
    ("width", "top"), [(3, 100), (0, 100), (-10, 100), (10, 0), (2.5, 100), (10, 99.5)]
)
def test_histogram_refuses_bands_that_do_not_tile(width, top):
    with pytest.raises(ValueError):
        score_histogram([50], width=width, top=top)


def test_histogram_refuses_nan():
    with pytest.raises(ValueError):
        score_histogram([50, math.nan])


# --- summary ----------------------------------------------------------------------------


def test_summary_of_no_scores():
    assert summary([], 60) == {
        "count": 0,
        "mean": None,
        "median": None,
        "stdev": None,
        "min": None,
        "max": None,
        "passed": 0,
        "pass_rate": None,
    }


def test_summary_of_one_score():
    assert summary([72.5], 60) == {
        "count": 1,
        "mean": 72.5,
        "median": 72.5,
        "stdev": None,
        "min": 72.5,
        "max": 72.5,
        "passed": 1,
        "pass_rate": 1.0,
    }
    assert summary([59.5], 60)["pass_rate"] == 0.0


def test_summary_of_many_scores():
    # Mean 325 / 5 = 65; deviations -25, -5, -5, 10, 25; squares sum to 1400;
    # population variance 1400 / 5 = 280. 60 is exactly the pass mark and passes.
    result = summary([75, 40, 60, 90, 60], 60)
    assert result == {
        "count": 5,
        "mean": 65.0,
        "median": 60.0,
        "stdev": pytest.approx(math.sqrt(280)),
        "min": 40.0,
        "max": 90.0,
        "passed": 4,
        "pass_rate": 0.8,
    }
    assert summary([1, 2, 3, 4], 3)["median"] == 2.5
    assert summary([1, 2, 3, 4], 3)["stdev"] == pytest.approx(math.sqrt(1.25))


def test_summary_refuses_nan():
    with pytest.raises(ValueError):
        summary([50, math.nan], 60)


# --- properties -------------------------------------------------------------------------

shares = st.one_of(st.floats(0, 1), st.fractions(0, 1, max_denominator=12), st.sampled_from([0, 1]))
papers = st.dictionaries(st.integers(1, 6), shares, max_size=6)
candidates = st.lists(
    st.tuples(st.sampled_from([0, 25, 50, 75, 100]) | st.floats(0, 100), papers), max_size=40
)
fuzzy = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@fuzzy
@given(candidates, st.randoms(use_true_random=False))
def test_item_analysis_properties(rows, random):
    responses = [Response(c, total, items) for c, (total, items) in enumerate(rows)]
    stats = item_analysis(responses)

    assert [s.question_id for s in stats] == sorted({q for _, items in rows for q in items})
    for item in stats:
        assert item.n == sum(item.question_id in items for _, items in rows)
        assert 0 <= item.facility <= 1
        if item.n < 10:
            assert item.discrimination is None
        else:
            assert -1 <= item.discrimination <= 1
        assert set(item.flags) <= {"too_easy", "too_hard", "negative", "weak"}
        assert not {"too_easy", "too_hard"} <= set(item.flags)
        assert not {"negative", "weak"} <= set(item.flags)

    random.shuffle(responses)
    assert item_analysis(responses) == stats


@fuzzy
@given(
    st.lists(st.floats(-1000, 1000) | st.integers(-5, 105)),
    st.sampled_from([(10, 100), (5, 100), (20, 100), (1, 10), (25, 50)]),
)
def test_histogram_counts_every_score_once(scores, band):
    width, top = band
    histogram = score_histogram(scores, width=width, top=top)
    assert len(histogram) == top // width
    assert sum(count for _, count in histogram) == len(scores)


@fuzzy
@given(st.lists(st.floats(0, 100)), st.floats(0, 100))
def test_summary_properties(scores, pass_mark):
    result = summary(scores, pass_mark)
    assert result["count"] == len(scores)
    assert 0 <= result["passed"] <= len(scores)
    if scores:
        assert result["min"] <= result["median"] <= result["max"]
        assert 0 <= result["pass_rate"] <= 1
