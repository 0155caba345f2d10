"""core.checks: one rule for reading numbers people type, and clear messages when they are not numbers."""
import numpy as np
import pytest

from core.checks import MINUS, finite_number, parse_number, parse_numbers


def test_the_minus_sign_the_pages_print_reads_back():
    assert parse_number(f"{MINUS}0.4", "w₂") == -0.4
    assert parse_number("-0.4", "w₂") == -0.4
    assert finite_number(f"{MINUS}3e{MINUS}2", "x") == pytest.approx(-0.03)
    np.testing.assert_array_equal(parse_numbers(f"2, {MINUS}1, 0.1"), [2.0, -1.0, 0.1])


def test_lists_are_separated_by_commas_semicolons_and_spaces():
    np.testing.assert_array_equal(parse_numbers("0.1, 0.7;0.2  -3e-1"), [0.1, 0.7, 0.2, -0.3])
    np.testing.assert_array_equal(parse_numbers("1,5"), [1.0, 5.0])          # a comma always separates


def test_a_decimal_comma_in_one_field_is_refused_with_the_point_to_use():
    with pytest.raises(ValueError, match=r"must be a number; got '0,5' \(write decimals with a point: 0.5\)"):
        parse_number("0,5", "b₁")
    with pytest.raises(ValueError, match="write decimals with a point: −1.25"):
        parse_number(f"{MINUS}1,25", "b₁")


@pytest.mark.parametrize("text, message", [("", "is empty"), ("  ", "is empty"), (None, "is empty"),
                                           ("abc", "must be a number; got 'abc'"),
                                           ("nan", "must be a finite number"), ("-inf", "NaN or infinity"),
                                           ("1e400", "must be a finite number"),
                                           ("1e9", r"must be between −1,000 and 1,000; got 1e\+09")])
def test_one_field_explains_bad_input(text, message):
    with pytest.raises(ValueError, match=message):
        parse_number(text, "x₁", -1000, 1000)


@pytest.mark.parametrize("text, message", [("", "empty"), ("   ", "empty"), (None, "empty"), ("1, x", "'x'"),
                                           ("1, nan", "NaN"), ("inf", "NaN or infinity"), ("1e400", "infinity"),
                                           ("1e7", "between −1,000,000 and 1,000,000"),
                                           (",".join(["1"] * 21), "1 to 20")])
def test_a_list_explains_bad_input(text, message):
    with pytest.raises(ValueError, match=message):
        parse_numbers(text)


def test_range_messages_use_the_printed_minus_only_as_a_sign():
    with pytest.raises(ValueError, match=r"between −0.001 and 1e-05; got −1"):
        finite_number(-1, "ε", -0.001, 1e-5)
