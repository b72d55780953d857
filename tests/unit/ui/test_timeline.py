"""The run timeline's layout math: bars in percent of the run's span, gaps with reasons."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from n8nclone.ui.components.json_view import json_text
from n8nclone.ui.components.timeline import (
    MIN_WIDTH_PCT,
    format_duration,
    timeline_rows,
    wait_reason,
)
from n8nclone.ui.state.runs import parse_local_time, time_bounds

T0 = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)


def at(seconds: float) -> str:
    return (T0 + timedelta(seconds=seconds)).isoformat()


def attempt(number: int, status: str, start: float, end: float | None,
            error: str | None = None) -> dict:
    return {"number": number, "status": status, "started_at": at(start),
            "ended_at": None if end is None else at(end),
            "error": {"type": "RuntimeError", "message": error} if error else None}


def step(key: str, status: str, attempts: list[dict], *, type_: str = "http.request",
         ended: float | None = None, next_at: float | None = None, input_=None) -> dict:
    return {"key": key, "type": type_, "status": status, "attempt_history": attempts,
            "ended_at": None if ended is None else at(ended),
            "next_attempt_at": None if next_at is None else at(next_at), "input": input_}


def run(status: str, steps: list[dict], ended: float | None = None) -> dict:
    return {"status": status, "started_at": at(0),
            "ended_at": None if ended is None else at(ended), "steps": steps}


def test_attempts_and_backoff_gaps_are_placed_in_percent_of_the_run():
    # given a finished 10 s run whose step failed twice, backing off between attempts
    flaky = step("call", "succeeded", [
        attempt(1, "failed", 0, 1, "answered 500"),
        attempt(2, "failed", 3, 4, "answered 500"),
        attempt(3, "succeeded", 8, 10),
    ], ended=10)
    # when it is laid out
    layout = timeline_rows(run("succeeded", [flaky], ended=10), now=T0 + timedelta(hours=1))
    # expect attempt, gap, attempt, gap, attempt across the whole span
    segments = layout["rows"][0]["segments"]
    assert [(s["kind"], s["tone"], s["left"], s["width"]) for s in segments] == [
        ("attempt", "failed", 0.0, 10.0), ("gap", "gap", 10.0, 20.0),
        ("attempt", "failed", 30.0, 10.0), ("gap", "gap", 40.0, 40.0),
        ("attempt", "succeeded", 80.0, 20.0)]
    assert segments[1]["label"] == "retry after 2.0 s"
    assert "answered 500" in segments[0]["title"]
    assert segments[0]["left_css"] == "0.0%" and segments[0]["width_css"] == "10.0%"
    assert layout["span"] == "10.0 s"


def test_an_active_run_spans_until_now_and_a_sleep_shows_its_wake_time():
    sleeper = step("nap", "sleeping", [attempt(1, "succeeded", 1, 1)], type_="wait.sleep",
                   next_at=3600)
    layout = timeline_rows(run("sleeping", [sleeper]), now=T0 + timedelta(seconds=4))
    row = layout["rows"][0]
    attempt_box, gap = row["segments"]
    assert attempt_box["left"] == 25.0 and attempt_box["width"] == MIN_WIDTH_PCT
    assert gap["kind"] == "gap" and gap["left"] == 25.0 and gap["width"] == 75.0
    assert gap["label"] == "sleeping until 2026-01-01 13:00:00 UTC"
    assert row["note"] == ""  # the gap is wide enough to show its label


def test_a_narrow_parked_gap_repeats_its_reason_as_a_note():
    retrying = step("call", "retrying", [attempt(1, "failed", 0, 9, "boom")], next_at=20)
    row = timeline_rows(run("retrying", [retrying]), now=T0 + timedelta(seconds=10))["rows"][0]
    assert row["note"] == "retry in 10.0 s"


def test_a_retry_waiting_for_its_backoff_says_when():
    retrying = step("call", "retrying", [attempt(1, "failed", 0, 1, "boom")], next_at=12.5)
    layout = timeline_rows(run("retrying", [retrying]), now=T0 + timedelta(seconds=2))
    assert layout["rows"][0]["segments"][-1]["label"] == "retry in 10.5 s"


def test_a_running_attempt_grows_to_now():
    running = step("call", "running", [attempt(1, "running", 5, None)])
    segments = timeline_rows(run("running", [running]), now=T0 + timedelta(seconds=10))[
        "rows"][0]["segments"]
    assert [(s["tone"], s["left"], s["width"]) for s in segments] == [("running", 50.0, 50.0)]


def test_a_finished_sleep_is_a_labelled_gap():
    slept = step("nap", "succeeded", [attempt(1, "succeeded", 0, 0.1)], type_="wait.sleep",
                 ended=5)
    gap = timeline_rows(run("succeeded", [slept], ended=5), now=T0)["rows"][0]["segments"][-1]
    assert gap["kind"] == "gap" and gap["label"] == "slept 4.9 s"


def test_waiting_names_the_event():
    waiting = step("hold", "waiting", [attempt(1, "succeeded", 0, 0)], type_="wait.event",
                   next_at=60, input_={"event": "order.paid"})
    assert wait_reason(waiting, T0) == ("waiting for event 'order.paid' until "
                                        "2026-01-01 12:01:00 UTC")


def test_tiny_attempts_stay_visible_and_inside_the_bar():
    late = step("last", "succeeded", [attempt(1, "succeeded", 10, 10)], ended=10)
    segment = timeline_rows(run("succeeded", [late], ended=10), now=T0)["rows"][0][
        "segments"][0]
    assert segment["width"] == MIN_WIDTH_PCT
    assert segment["left"] + segment["width"] == pytest.approx(100.0)


def test_steps_kept_from_an_earlier_run_get_a_note_not_bars():
    kept = step("start", "succeeded", [attempt(1, "succeeded", -100, -99)], ended=-99)
    row = timeline_rows(run("running", [kept]), now=T0 + timedelta(seconds=1))["rows"][0]
    assert row["segments"] == [] and row["note"] == "kept from the earlier run"


def test_a_run_with_no_time_spent_does_not_divide_by_zero():
    instant = step("start", "succeeded", [attempt(1, "succeeded", 0, 0)], ended=0)
    segment = timeline_rows(run("succeeded", [instant], ended=0), now=T0)["rows"][0][
        "segments"][0]
    assert segment["left"] == 0.0 and segment["width"] == MIN_WIDTH_PCT


@pytest.mark.parametrize(("ms", "text"), [(None, "-"), (385, "385 ms"), (1234, "1.2 s"),
                                          (125_000, "2m 05s"), (3_720_000, "1h 02m"),
                                          (273_600_000, "3d 4h")])
def test_format_duration(ms, text):
    assert format_duration(ms) == text


def test_json_text_truncates_large_values_with_a_note():
    text, note = json_text({"a": 1})
    assert text == '{\n  "a": 1\n}' and note == ""
    text, note = json_text({"big": "x" * 50_000}, limit=20_000)
    assert len(text) < 20_010 and text.endswith("...") and "20 KB" in note


def test_time_bounds_presets_and_local_times():
    now = T0
    assert time_bounds("", "", "", 0, now) == (None, None)
    assert time_bounds("hour", "", "", 0, now) == (now - timedelta(hours=1), None)
    # a browser two hours ahead of UTC reports an offset of -120 minutes
    assert parse_local_time("2026-01-01T14:00", -120) == T0
    assert time_bounds("custom", "2026-01-01T14:00", "", -120, now) == (T0, None)
    with pytest.raises(ValueError):
        time_bounds("custom", "2026-01-02T00:00", "2026-01-01T00:00", 0, now)
