"""Cron ticks in a timezone (validation, due ticks, DST) and the scheduler's sleep."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from n8nclone.config import ConfigError, load_settings
from n8nclone.triggers.schedule_cron import CronSchedule, cron_problem, timezone_problem
from n8nclone.triggers.schedules import Scheduler


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def next_ticks(schedule: CronSchedule, start: datetime, count: int) -> list[str]:
    """The next `count` ticks after `start`, as UTC 'HH:MM' (what the instant is)."""
    ticks, moment = [], start
    for _ in range(count):
        moment = schedule.next_after(moment)
        ticks.append(moment.astimezone(UTC).strftime("%H:%M"))
    return ticks


# -- validation ----------------------------------------------------------------------------


@pytest.mark.parametrize("cron", ["* * * * *", "*/15 9-17 * * 1-5", "0 0 1 JAN *",
                                  "30 2 * * MON-FRI", "0 0 29 2 *", "  0   12 * * *  "])
def test_valid_cron_expressions_have_no_problem(cron):
    assert cron_problem(cron) is None


@pytest.mark.parametrize(("cron", "expected"), [
    ("", "required"),
    (None, "text with 5 fields"),
    (5, "text with 5 fields"),
    ("* * * *", "it needs 5 fields"),
    ("* * * * * *", "it needs 5 fields"),  # no seconds field
    ("@hourly", "it needs 5 fields"),
    ("61 * * * *", "not a valid cron expression"),
    ("*/0 * * * *", "not a valid cron expression"),
    ("0 0 * * funday", "not a valid cron expression"),
    ("0 0 30 2 *", "never matches a date"),
    ("{{ trigger.cron }} * * * *", "cannot be a template"),
])
def test_bad_cron_expressions_are_explained(cron, expected):
    # when a bad expression is checked
    problem = cron_problem(cron)

    # expect a sentence saying what is wrong
    assert problem is not None and expected in problem


@pytest.mark.parametrize("name", ["UTC", "Europe/Berlin", "America/New_York", "", None])
def test_iana_timezones_and_the_default_are_accepted(name):
    assert timezone_problem(name) is None


@pytest.mark.parametrize("name", ["Mars/Olympus", "CEST", "../etc/passwd", "utc+2", 3])
def test_unknown_timezones_are_explained(name):
    problem = timezone_problem(name)
    assert problem is not None and "IANA" in problem


def test_a_schedule_refuses_a_bad_expression():
    with pytest.raises(ValueError, match="5 fields"):
        CronSchedule("* * *")


# -- ticks -----------------------------------------------------------------------------------


def test_next_tick_is_strictly_after_and_latest_tick_is_at_or_before():
    # given a schedule every 5 minutes
    schedule = CronSchedule("*/5 * * * *")

    # expect an instant on a tick to be its own latest tick, and the next one 5 minutes on
    assert schedule.latest_until(utc(2026, 5, 1, 12, 5)) == utc(2026, 5, 1, 12, 5)
    assert schedule.next_after(utc(2026, 5, 1, 12, 5)) == utc(2026, 5, 1, 12, 10)
    assert schedule.latest_until(utc(2026, 5, 1, 12, 9, 59)) == utc(2026, 5, 1, 12, 5)


def test_due_is_the_tick_just_passed_once_per_tick():
    # given an every-minute schedule last fired at 12:00
    schedule = CronSchedule("* * * * *")
    fired = utc(2026, 5, 1, 12, 0)

    # expect nothing due before 12:01, then 12:01 (and, once fired, nothing more)
    assert schedule.due(fired, utc(2026, 5, 1, 12, 0, 59)) is None
    assert schedule.due(fired, utc(2026, 5, 1, 12, 1, 0, 300)) == utc(2026, 5, 1, 12, 1)
    assert schedule.due(utc(2026, 5, 1, 12, 1), utc(2026, 5, 1, 12, 1, 30)) is None


def test_after_downtime_only_the_most_recent_missed_tick_is_due():
    # given an hourly schedule last fired at 03:00, and a scheduler down until 09:40
    schedule = CronSchedule("0 * * * *")

    # when asked what is due
    due = schedule.due(utc(2026, 5, 1, 3, 0), utc(2026, 5, 1, 9, 40))

    # expect one tick, the last missed one (not 04:00 ... 09:00)
    assert due == utc(2026, 5, 1, 9, 0)
    assert schedule.due(due, utc(2026, 5, 1, 9, 40)) is None


def test_no_tick_before_the_workflow_was_activated():
    # given a daily 09:00 schedule activated at 09:00:30
    schedule = CronSchedule("0 9 * * *")

    # expect that day's 09:00 not to be due, the next day's to be
    assert schedule.due(utc(2026, 5, 1, 9, 0, 30), utc(2026, 5, 1, 18, 0)) is None
    assert schedule.due(utc(2026, 5, 1, 9, 0, 30), utc(2026, 5, 2, 9, 0, 1)) == \
        utc(2026, 5, 2, 9)


def test_ticks_are_read_in_the_schedules_timezone():
    # given 09:00 in Berlin: UTC+1 in winter, UTC+2 in summer
    schedule = CronSchedule("0 9 * * *", "Europe/Berlin")

    # expect the instant to follow the offset, and the tick to carry Berlin's offset
    assert schedule.next_after(utc(2026, 1, 10)) == utc(2026, 1, 10, 8)
    summer = schedule.next_after(utc(2026, 7, 10))
    assert summer == utc(2026, 7, 10, 7)
    assert summer.isoformat() == "2026-07-10T09:00:00+02:00"


def test_dst_spring_forward_keeps_daily_time_and_fires_a_skipped_time_once():
    # given New York, where 2026-03-08 02:00 EST jumps to 03:00 EDT (07:00 UTC)
    daily = CronSchedule("0 9 * * *", "America/New_York")
    skipped = CronSchedule("30 2 * * *", "America/New_York")

    # expect 09:00 local both days (14:00 UTC, then 13:00 UTC)
    assert next_ticks(daily, utc(2026, 3, 7), 2) == ["14:00", "13:00"]
    # expect 02:30, which does not exist that day, to fire at 03:00 EDT, once
    assert next_ticks(skipped, utc(2026, 3, 6, 12), 3) == ["07:30", "07:00", "06:30"]


def test_dst_spring_forward_hourly_skips_the_missing_hour():
    # given every 30 minutes across New York's spring-forward change
    schedule = CronSchedule("*/30 * * * *", "America/New_York")

    # expect real time to advance 30 minutes a tick (01:30 EST then 03:00 EDT)
    assert next_ticks(schedule, utc(2026, 3, 8, 6), 3) == ["06:30", "07:00", "07:30"]


def test_dst_fall_back_fires_a_fixed_time_once():
    # given 01:30 daily in New York, where 01:00-02:00 happens twice on 2026-11-01
    schedule = CronSchedule("30 1 * * *", "America/New_York")

    # expect the first 01:30 (EDT, 05:30 UTC), not the repeated one, then next day's (EST)
    ticks = [schedule.next_after(utc(2026, 10, 31, 12))]
    ticks.append(schedule.next_after(ticks[0]))
    assert [t.isoformat() for t in ticks] == ["2026-11-01T01:30:00-04:00",
                                              "2026-11-02T01:30:00-05:00"]
    # and looking back from after the repeated hour, the same single tick
    assert schedule.latest_until(utc(2026, 11, 1, 7)) == ticks[0]


def test_dst_fall_back_hourly_keeps_running_through_the_repeated_hour():
    # given an hourly schedule in New York across the fall-back change
    schedule = CronSchedule("0 * * * *", "America/New_York")

    # expect one tick per real hour: 01:00 EDT, 01:00 EST, 02:00 EST
    assert next_ticks(schedule, utc(2026, 11, 1, 4, 30), 3) == ["05:00", "06:00", "07:00"]


def test_half_hour_dst_change():
    # given Lord Howe Island, whose clocks go back 30 minutes at 02:00 on 2026-04-05
    schedule = CronSchedule("*/15 * * * *", "Australia/Lord_Howe")

    # expect ticks every 15 real minutes through the change
    ticks = next_ticks(schedule, utc(2026, 4, 4, 14, 0), 6)
    assert ticks == ["14:15", "14:30", "14:45", "15:00", "15:15", "15:30"]


# -- the scheduler's sleep ---------------------------------------------------------------------


def test_scheduler_sleeps_until_the_next_tick_but_no_longer_than_its_interval():
    # given a scheduler whose clock reads 12:00:59.5
    now = utc(2026, 5, 1, 12, 0, 59) + timedelta(milliseconds=500)
    scheduler = Scheduler(store=None, runs=None, dispatcher=None, interval=2.0,
                          now=lambda: now)

    # expect its interval with nothing scheduled, and about 0.5 s with a tick at 12:01
    assert scheduler.seconds_to_sleep() == 2.0
    scheduler.next_due = utc(2026, 5, 1, 12, 1)
    assert 0.5 <= scheduler.seconds_to_sleep() < 0.52
    scheduler.next_due = utc(2026, 5, 1, 12, 0)  # overdue: no sleep
    assert scheduler.seconds_to_sleep() == 0.0


def test_scheduler_interval_setting():
    assert load_settings({}).scheduler_interval == 1.0
    assert load_settings({"N8NCLONE_SCHEDULER_INTERVAL": "0.25"}).scheduler_interval == 0.25
    with pytest.raises(ConfigError, match="N8NCLONE_SCHEDULER_INTERVAL"):
        load_settings({"N8NCLONE_SCHEDULER_INTERVAL": "0"})
