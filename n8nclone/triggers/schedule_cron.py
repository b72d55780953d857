"""Cron ticks in a timezone (pure: no I/O). A tick is an instant whose wall-clock time in
the schedule's timezone matches the 5-field cron expression.

Daylight-saving time, as classic cron (Vixie cron) treats it:
- a time skipped by the spring-forward change fires at the first valid time after it
  (`30 2 * * *` fires at 03:00 on that day);
- a time repeated by the fall-back change fires once (the first occurrence), unless the
  hour field is `*`: an hourly or minutely job keeps running through the repeated hour.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import CroniterBadCronError, CroniterBadDateError, CroniterError, croniter

FIELDS = "minute hour day-of-month month day-of-week"
DEFAULT_TIMEZONE = "UTC"
# A tick exactly at `until` counts as due; croniter's get_prev is strictly before its start.
_INCLUSIVE = timedelta(microseconds=1)


def normalize_cron(expression: str) -> str:
    """The expression with single spaces between its fields."""
    return " ".join(expression.split())


def cron_problem(expression: object) -> str | None:
    """Why `expression` is not a usable 5-field cron expression, or None when it is."""
    if not isinstance(expression, str):
        return f"a cron expression is text with 5 fields ({FIELDS}), e.g. '0 * * * *'"
    if not expression.strip():
        return f"a cron expression is required (5 fields: {FIELDS})"
    if "{{" in expression:
        return "the cron expression cannot be a template: schedules are computed at save"
    fields = expression.split()
    if len(fields) != 5:
        return (f"'{expression}' is not a cron expression: it needs 5 fields ({FIELDS}), "
                f"it has {len(fields)}; e.g. '0 * * * *' is every hour")
    try:
        croniter(normalize_cron(expression), datetime(2000, 1, 1, tzinfo=UTC)).get_next(datetime)
    except CroniterBadDateError:
        return f"'{expression}' never matches a date (e.g. 30 February)"
    except (CroniterBadCronError, CroniterError, ValueError, KeyError) as exc:
        return f"'{expression}' is not a valid cron expression: {exc}"
    return None


def timezone_problem(name: object) -> str | None:
    """Why `name` is not an IANA timezone name (e.g. Europe/Berlin), or None when it is."""
    if name is None or name == "":
        return None  # the default, UTC
    if not isinstance(name, str):
        return "the timezone must be an IANA name such as 'Europe/Berlin'"
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return f"unknown timezone '{name}': use an IANA name such as 'Europe/Berlin' or 'UTC'"
    return None


@dataclass(frozen=True)
class CronSchedule:
    """A validated cron expression in a timezone; computes its ticks."""

    cron: str
    timezone: str = DEFAULT_TIMEZONE

    def __post_init__(self) -> None:
        problem = cron_problem(self.cron) or timezone_problem(self.timezone)
        if problem:
            raise ValueError(problem)
        object.__setattr__(self, "cron", normalize_cron(self.cron))
        object.__setattr__(self, "timezone", self.timezone or DEFAULT_TIMEZONE)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def next_after(self, moment: datetime) -> datetime:
        """The first tick strictly after `moment` (aware, in the schedule's timezone)."""
        ticks = croniter(self.cron, moment.astimezone(self.zone))
        while True:
            tick = ticks.get_next(datetime)
            if not self._is_skipped_repeat(tick):
                return tick

    def latest_until(self, moment: datetime) -> datetime:
        """The last tick at or before `moment` (aware, in the schedule's timezone)."""
        ticks = croniter(self.cron, (moment + _INCLUSIVE).astimezone(self.zone))
        while True:
            tick = ticks.get_prev(datetime)
            if not self._is_skipped_repeat(tick):
                return tick

    def due(self, since: datetime, now: datetime) -> datetime | None:
        """The tick to fire now: the latest tick in (since, now], or None. After downtime
        only the most recent missed tick is due, not one per missed interval."""
        tick = self.latest_until(now)
        return tick if tick > since else None

    def _is_skipped_repeat(self, tick: datetime) -> bool:
        if self.cron.split()[1] == "*":
            return False
        # The second occurrence of a wall-clock time repeated by a fall-back change has a
        # different UTC offset than the first one (fold=0).
        first = tick.replace(tzinfo=None).replace(tzinfo=self.zone, fold=0)
        return first.utcoffset() != tick.utcoffset()
