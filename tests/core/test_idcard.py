from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from certify.core.idcard import (
    InvalidIdNumber,
    check_char,
    is_valid_id_number,
    make_id_number,
    parse_id_number,
)

# A number printed in GB 11643's own worked example.
STANDARD_EXAMPLE = "11010519491231002X"


def test_the_standards_example_is_valid_and_reads_back():
    number = parse_id_number(STANDARD_EXAMPLE)
    assert number.birth_date == date(1949, 12, 31)
    assert number.sex == "female"
    assert number.region == "110105"


def test_lower_case_x_and_spaces_are_accepted():
    assert parse_id_number(" 110105 19491231 002x ").value == STANDARD_EXAMPLE


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("110105194912310021", "check_digit"),
        ("11010519491231002", "shape"),
        ("1101051949123100211", "shape"),
        ("", "shape"),
        ("ABCDEFGHIJKLMNOPQR", "shape"),
        ("11010519491231002Y", "shape"),
    ],
)
def test_bad_numbers_are_refused(text, reason):
    with pytest.raises(InvalidIdNumber, match=reason):
        parse_id_number(text)


def test_an_impossible_birth_date_is_refused_even_with_a_right_check_digit():
    first17 = "11010519491331002"  # month 13
    with pytest.raises(InvalidIdNumber, match="birth_date"):
        parse_id_number(first17 + check_char(first17))


def test_a_birth_date_in_the_future_is_refused(frozen_clock):
    first17 = "33030220300101001"
    with pytest.raises(InvalidIdNumber, match="birth_date"):
        parse_id_number(first17 + check_char(first17))


@given(
    born=st.dates(min_value=date(1930, 1, 1), max_value=date(2008, 12, 31)),
    sequence=st.integers(0, 999),
)
def test_made_numbers_are_valid_and_any_one_digit_typo_is_caught(born, sequence):
    number = make_id_number("330302", born, sequence)
    assert is_valid_id_number(number)
    for position in range(17):
        digit = number[position]
        typo = number[:position] + str((int(digit) + 1) % 10) + number[position + 1 :]
        assert not is_valid_id_number(typo)
