"""Human durations: "500ms", "30s", "5m", "1h", "2d", "1h30m", or seconds."""

from __future__ import annotations

import pytest

from n8nclone.durations import parse_duration


@pytest.mark.parametrize(("text", "seconds"), [
    ("500ms", 0.5),
    ("30s", 30.0),
    ("5m", 300.0),
    ("1h", 3600.0),
    ("2d", 172800.0),
    ("1w", 604800.0),
    ("1h30m", 5400.0),
    ("1m30s", 90.0),
    ("1d2h3m4s5ms", 86400 + 7200 + 180 + 4 + 0.005),
    ("1.5h", 5400.0),
    ("90", 90.0),
    ("2.5", 2.5),
    ("0s", 0.0),
    (" 1h 30m ", 5400.0),
    ("30S", 30.0),
])
def test_parses_duration_text(text, seconds):
    # given a duration written by a person
    # when parsed
    # expect seconds as a float
    result = parse_duration(text)
    assert result == pytest.approx(seconds)
    assert isinstance(result, float)


@pytest.mark.parametrize(("number", "seconds"), [(0, 0.0), (45, 45.0), (0.25, 0.25)])
def test_numbers_are_seconds(number, seconds):
    # given a plain number
    # when parsed
    # expect the same number of seconds, as a float
    assert parse_duration(number) == seconds
    assert isinstance(parse_duration(number), float)


def test_ms_is_not_read_as_minutes():
    # given milliseconds next to minutes
    # when parsed
    # expect 5 minutes and 5 milliseconds to differ
    assert parse_duration("5ms") == pytest.approx(0.005)
    assert parse_duration("5m") == 300.0


@pytest.mark.parametrize("bad", ["", "   ", "abc", "5x", "5 minutes", "-5s", "h", "5s5", "1h-30m",
                                 "ms", "1.2.3s", "nan", "inf"])
def test_bad_strings_give_a_readable_value_error(bad):
    # given text that is not a duration
    # when parsed
    with pytest.raises(ValueError) as caught:
        parse_duration(bad)

    # expect the value quoted and the accepted forms shown
    message = str(caught.value)
    assert repr(bad) in message
    assert "is not a duration" in message
    assert "30s" in message


@pytest.mark.parametrize("bad", [True, False, None, [1], {"s": 1}])
def test_non_duration_types_are_rejected(bad):
    # given a value of the wrong type
    # when parsed
    # expect a ValueError naming it
    with pytest.raises(ValueError, match="is not a duration"):
        parse_duration(bad)


@pytest.mark.parametrize("bad", [-1, -0.5])
def test_negative_numbers_are_rejected(bad):
    # given a negative number
    # when parsed
    # expect a ValueError saying so
    with pytest.raises(ValueError, match="negative"):
        parse_duration(bad)


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_non_finite_numbers_are_rejected(bad):
    # given NaN or infinity (Python's json accepts both)
    # when parsed
    # expect a ValueError, not a timeout that never compares as expired
    with pytest.raises(ValueError, match="is not a duration"):
        parse_duration(bad)
