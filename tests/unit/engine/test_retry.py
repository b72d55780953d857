"""Retry policy: which errors are retried, when, and how often."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from n8nclone.engine.errors import NonRetriableError, RetryAfterError, error_data
from n8nclone.engine.retry import RetryDecision, RetryPolicy
from n8nclone.expressions import ExpressionError

NOW = datetime(2030, 1, 1, 12, 0, 0, tzinfo=UTC)


def test_default_policy_allows_three_retries():
    # given the default policy
    policy = RetryPolicy()

    # when attempts 1..4 fail with an ordinary error
    decisions = [policy.decide(RuntimeError("boom"), n, NOW).retry for n in range(1, 5)]

    # expect retries after attempts 1, 2 and 3, and none after the fourth (last) one
    assert policy.retries == 3
    assert decisions == [True, True, True, False]


def test_no_retry_after_the_last_attempt_for_a_custom_count():
    # given a policy with one retry
    policy = RetryPolicy(retries=1)

    # when asked after attempt 1 and after attempt 2
    # expect one retry only
    assert policy.decide(ValueError("x"), 1, NOW).retry is True
    assert policy.decide(ValueError("x"), 2, NOW).retry is False


def test_zero_retries_never_retries():
    # given a policy without retries
    # when the first attempt fails
    decision = RetryPolicy(retries=0).decide(RuntimeError("x"), 1, NOW)

    # expect no retry and no time
    assert decision.retry is False
    assert decision.at is None


@pytest.mark.parametrize(("attempt", "nominal"), [(1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0)])
def test_backoff_doubles_from_one_second_with_jitter_within_20_percent(attempt, nominal):
    # given the default policy
    policy = RetryPolicy()

    # when the backoff is drawn many times
    delays = [policy.backoff(attempt) for _ in range(500)]

    # expect every draw within +-20% of the nominal delay, and actually jittered
    assert all(nominal * 0.8 <= d <= nominal * 1.2 for d in delays)
    assert len(set(delays)) > 1
    assert min(delays) < nominal < max(delays)


def test_jitter_extremes_stay_within_bounds(monkeypatch):
    # given the random draw pinned to each extreme
    policy = RetryPolicy()
    for extreme, expected in ((-0.2, 0.8), (0.2, 1.2)):
        monkeypatch.setattr(random, "uniform", lambda _lo, _hi, v=extreme: v)

        # when the first backoff is computed
        # expect exactly the bound
        assert policy.backoff(1) == pytest.approx(expected)


def test_backoff_never_exceeds_the_cap_even_with_jitter():
    # given a small cap reached by attempt 4
    policy = RetryPolicy(base_seconds=1.0, cap_seconds=5.0)

    # when late backoffs are drawn many times
    delays = [policy.backoff(n) for n in (4, 5, 10) for _ in range(300)]

    # expect none above the cap, and none far below it
    assert max(delays) <= 5.0
    assert min(delays) >= 5.0 * 0.8


def test_backoff_for_a_very_late_attempt_is_capped_not_an_overflow():
    # given the default policy
    policy = RetryPolicy()

    # when asked for the backoff after attempt 5000
    delay = policy.backoff(5000)

    # expect a delay within the cap
    assert 0 < delay <= policy.cap_seconds


def test_decide_schedules_the_retry_at_now_plus_backoff(monkeypatch):
    # given no jitter
    monkeypatch.setattr(random, "uniform", lambda _lo, _hi: 0.0)
    policy = RetryPolicy()

    # when attempts 1, 2 and 3 fail
    times = [policy.decide(RuntimeError("x"), n, NOW).at for n in (1, 2, 3)]

    # expect 1 s, 2 s and 4 s after now
    assert times == [NOW + timedelta(seconds=s) for s in (1, 2, 4)]


def test_custom_base_is_used():
    # given a tiny base (as tests configure)
    policy = RetryPolicy(base_seconds=0.05, cap_seconds=0.5)

    # when the third backoff is drawn
    delay = policy.backoff(3)

    # expect about 0.2 s
    assert 0.16 <= delay <= 0.24


@pytest.mark.parametrize("exc", [NonRetriableError("bad input"),
                                 ExpressionError("json.order", "'x' is undefined")])
def test_non_retriable_and_expression_errors_are_never_retried(exc):
    # given a generous policy
    policy = RetryPolicy(retries=10)

    # when the first attempt fails with such an error
    decision = policy.decide(exc, 1, NOW)

    # expect the step failed at once
    assert decision.retry is False
    assert decision.at is None


def test_retry_after_seconds_is_honoured_instead_of_backoff():
    # given a RetryAfterError asking for 30 s
    exc = RetryAfterError("slow down", 30)

    # when the first attempt fails with it
    decision = RetryPolicy().decide(exc, 1, NOW)

    # expect exactly 30 s from now
    assert decision.retry is True
    assert decision.at == NOW + timedelta(seconds=30)


def test_retry_after_datetime_is_honoured():
    # given a RetryAfterError with a time in the future
    when = NOW + timedelta(minutes=7)

    # when decided
    decision = RetryPolicy().decide(RetryAfterError("later", when), 2, NOW)

    # expect that time
    assert decision == RetryDecision(True, when)


def test_retry_after_in_the_past_is_never_earlier_than_now():
    # given a past datetime and a negative number of seconds
    past = RetryAfterError("late", NOW - timedelta(hours=1))
    negative = RetryAfterError("late", -10)

    # when decided
    # expect now
    assert RetryPolicy().decide(past, 1, NOW).at == NOW
    assert RetryPolicy().decide(negative, 1, NOW).at == NOW


def test_retry_after_naive_datetime_is_taken_as_utc():
    # given a naive UTC datetime (e.g. from datetime.utcnow())
    naive = (NOW + timedelta(seconds=90)).replace(tzinfo=None)

    # when decided
    decision = RetryPolicy().decide(RetryAfterError("later", naive), 1, NOW)

    # expect the same instant in UTC
    assert decision.at == NOW + timedelta(seconds=90)


def test_retry_after_still_respects_the_retry_count():
    # given the last attempt failing with a RetryAfterError
    # when decided
    decision = RetryPolicy(retries=2).decide(RetryAfterError("later", 5), 3, NOW)

    # expect no retry
    assert decision.retry is False


def test_decide_uses_the_current_time_when_none_given():
    # given no explicit now
    before = datetime.now(UTC)

    # when a retry is decided
    decision = RetryPolicy().decide(RetryAfterError("later", 60), 1)

    # expect about a minute from the real now, as an aware datetime
    assert decision.at.tzinfo is not None
    assert before + timedelta(seconds=59) <= decision.at <= datetime.now(UTC) + timedelta(
        seconds=61)


def test_error_data_records_type_message_and_node():
    # given errors with and without a message
    # when turned into data
    # expect type and message, node when given, the type name for an empty message
    assert error_data(NonRetriableError("bad"), node="call") == {
        "type": "NonRetriableError", "message": "bad", "node": "call"}
    assert error_data(TimeoutError()) == {"type": "TimeoutError", "message": "TimeoutError"}
