"""The run timeline: Gantt-style bars of each step's attempts, with the waits between them.

`timeline_rows(run, now)` is pure layout math over a run as `RunQueries.get_run` returns it:
every position is a percentage of the run's span (its start to its end, or to `now` while
it is active), so the page only places boxes. `timeline(...)` renders the rows.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import reflex as rx

from n8nclone.store.runs import ACTIVE_STATUSES

MIN_WIDTH_PCT = 0.6  # an attempt of a millisecond must still be visible (and clickable)
# A step that ended this long after its last attempt did wait (a sleep, an event).
MIN_WAIT_GAP_SECONDS = 0.5
NOTE_BELOW_WIDTH_PCT = 40.0  # a narrower parked gap also gets its reason as a note

STATUS_COLORS = {
    "queued": "gray", "running": "blue", "retrying": "orange", "sleeping": "violet",
    "waiting": "iris", "succeeded": "green", "failed": "red", "cancelled": "amber",
    "skipped": "gray",
}
TONE_BACKGROUNDS = {
    "succeeded": "var(--green-9)", "failed": "var(--red-9)", "running": "var(--blue-9)",
    "cancelled": "var(--amber-9)", "skipped": "var(--gray-7)",
    "gap": ("repeating-linear-gradient(45deg, var(--gray-4), var(--gray-4) 4px, "
            "var(--gray-6) 4px, var(--gray-6) 8px)"),
}


def status_color(status: str | None) -> str:
    """The Radix color scheme of a run or step status badge."""
    return STATUS_COLORS.get(status or "", "gray")


def parse_time(value: str | None) -> datetime | None:
    """An ISO 8601 time from the run queries (always with a zone), or None."""
    return datetime.fromisoformat(value) if value else None


def format_duration(ms: float | None) -> str:
    """A short human duration: `385 ms`, `1.2 s`, `2m 05s`, `1h 02m`, `3d 4h`; `-` for None."""
    if ms is None:
        return "-"
    ms = max(0.0, float(ms))
    if ms < 1000:
        return f"{ms:.0f} ms"
    seconds = ms / 1000
    if seconds < 60:
        return f"{seconds:.1f} s"
    seconds = int(seconds)
    if seconds < 3600:
        return f"{seconds // 60}m {seconds % 60:02d}s"
    if seconds < 86400:
        return f"{seconds // 3600}h {seconds % 3600 // 60:02d}m"
    return f"{seconds // 86400}d {seconds % 86400 // 3600}h"


def format_utc(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def _seconds(later: datetime, earlier: datetime) -> float:
    return (later - earlier).total_seconds()


class _Scale:
    """Times to percentages of the span [origin, end]; clamped to the bar area."""

    def __init__(self, origin: datetime, end: datetime) -> None:
        self.origin = origin
        self.span = max(_seconds(end, origin), 0.001)

    def place(self, start: datetime, end: datetime) -> tuple[float, float]:
        left = min(max(_seconds(start, self.origin) / self.span * 100, 0.0), 100.0)
        right = min(max(_seconds(end, self.origin) / self.span * 100, left), 100.0)
        width = max(right - left, MIN_WIDTH_PCT)
        left = min(left, 100.0 - width)
        return round(left, 3), round(width, 3)


def _segment(scale: _Scale, start: datetime, end: datetime, *, kind: str, tone: str,
             label: str, title: str) -> dict[str, Any]:
    left, width = scale.place(start, end)
    return {"kind": kind, "tone": tone, "label": label, "title": title,
            "left": left, "width": width, "left_css": f"{left}%", "width_css": f"{width}%",
            "background": TONE_BACKGROUNDS.get(tone, "var(--gray-8)")}


def _attempt_tone(status: str, step_status: str) -> str:
    if status in ("failed", "succeeded", "running", "cancelled"):
        return status
    return "running" if step_status == "running" else "succeeded"


def _error_message(error: Any) -> str:
    if isinstance(error, dict):
        return str(error.get("message") or error.get("type") or error)
    return "" if error is None else str(error)


def wait_reason(step: dict, now: datetime) -> str:
    """Why an unfinished step is parked: its retry backoff, sleep or awaited event."""
    status = step.get("status")
    due = parse_time(step.get("next_attempt_at"))
    if status == "retrying":
        if due is None or due <= now:
            return "retry due now"
        return f"retry in {format_duration(_seconds(due, now) * 1000)}"
    if status == "sleeping":
        return f"sleeping until {format_utc(due)}" if due else "sleeping"
    if status == "waiting":
        event = (step.get("input") or {}).get("event") if isinstance(step.get("input"),
                                                                      dict) else None
        text = f"waiting for event {event!r}" if event else "waiting for an event"
        return f"{text} until {format_utc(due)}" if due else text
    return ""


def _finished_wait_label(step: dict, seconds: float) -> str:
    kind = step.get("type") or ""
    took = format_duration(seconds * 1000)
    suffix = " (cancelled)" if step.get("status") == "cancelled" else ""
    if kind == "wait.sleep":
        return f"slept {took}{suffix}"
    if kind == "wait.event":
        event = (step.get("input") or {}).get("event") if isinstance(step.get("input"),
                                                                      dict) else None
        return f"waited {took} for event {event!r}{suffix}" if event else f"waited {took}{suffix}"
    return f"waited {took}{suffix}"


def run_span_end(run: dict, now: datetime) -> datetime:
    """Where the bars end: the run's end once it finished, else now (never before any
    recorded time, so a late write cannot fall off the right edge)."""
    ended = parse_time(run.get("ended_at"))
    end = ended if ended is not None and run.get("status") not in ACTIVE_STATUSES else now
    for step in run.get("steps") or []:
        for value in (step.get("ended_at"),
                      *(a.get("ended_at") for a in step.get("attempt_history") or [])):
            moment = parse_time(value)
            if moment is not None and moment > end:
                end = moment
    return end


def timeline_rows(run: dict, now: datetime) -> dict[str, Any]:
    """The timeline of `run` at time `now` (aware): `rows` (one per step: key, type, status,
    color, note, segments) and `span` (the span's duration, formatted).

    A segment is an attempt (tone: its status) or a gap (tone `gap`) with the reason in its
    label: the backoff before a retry, a sleep, a wait for an event. Positions are `left` and
    `width` in percent of the span. Steps kept from an earlier run (a retry copies them with
    their old times) get no bars, only a note."""
    origin = parse_time(run.get("started_at")) or now
    end = run_span_end(run, now)
    scale = _Scale(origin, end)
    active = run.get("status") in ACTIVE_STATUSES
    rows = []
    for step in run.get("steps") or []:
        status = step.get("status") or ""
        attempts = step.get("attempt_history") or []
        step_end = parse_time(step.get("ended_at"))
        row = {"key": step.get("key", ""), "type": step.get("type", ""), "status": status,
               "color": status_color(status), "note": "", "segments": []}
        rows.append(row)
        if step_end is not None and step_end < origin:
            row["note"] = "kept from the earlier run"
            continue
        segments: list[dict[str, Any]] = row["segments"]
        previous_end: datetime | None = None
        for attempt in attempts:
            start = parse_time(attempt.get("started_at"))
            if start is None:
                continue
            finish = parse_time(attempt.get("ended_at")) or (now if active else end)
            if previous_end is not None and start > previous_end:
                waited = _seconds(start, previous_end)
                segments.append(_segment(
                    scale, previous_end, start, kind="gap", tone="gap",
                    label=f"retry after {format_duration(waited * 1000)}",
                    title=f"backoff before attempt {attempt.get('number')}"))
            tone = _attempt_tone(attempt.get("status") or "", status)
            error = _error_message(attempt.get("error"))
            took = format_duration(_seconds(finish, start) * 1000)
            title = f"attempt {attempt.get('number')}: {attempt.get('status')}, {took}"
            segments.append(_segment(scale, start, finish, kind="attempt", tone=tone,
                                     label=f"#{attempt.get('number')}",
                                     title=f"{title}: {error}" if error else title))
            previous_end = max(previous_end or finish, finish)
        if previous_end is None:
            continue
        reason = wait_reason(step, now) if active else ""
        if reason:
            gap = _segment(scale, previous_end, max(now, previous_end), kind="gap",
                           tone="gap", label=reason, title=reason)
            segments.append(gap)
            if gap["width"] < NOTE_BELOW_WIDTH_PCT:  # too narrow to read its label
                row["note"] = reason
        elif step_end is not None and _seconds(step_end, previous_end) >= MIN_WAIT_GAP_SECONDS:
            label = _finished_wait_label(step, _seconds(step_end, previous_end))
            segments.append(_segment(scale, previous_end, step_end, kind="gap", tone="gap",
                                     label=label, title=label))
    return {"rows": rows, "span": format_duration(scale.span * 1000)}


# -- rendering ------------------------------------------------------------------------

def _segment_box(segment: rx.Var) -> rx.Component:
    return rx.box(
        rx.cond(segment["kind"].to(str) == "gap",
                rx.text(segment["label"].to(str), size="1", color="var(--gray-12)",
                        white_space="nowrap", overflow="hidden", text_overflow="ellipsis",
                        padding_x="4px", line_height="22px"),
                rx.fragment()),
        title=segment["title"].to(str),
        class_name="timeline-segment timeline-" + segment["kind"].to(str) + " tone-"
        + segment["tone"].to(str),
        position="absolute", top="3px", height="22px", border_radius="3px",
        left=segment["left_css"].to(str), width=segment["width_css"].to(str),
        background=segment["background"].to(str),
        overflow="hidden",
    )


def _row(row: rx.Var) -> rx.Component:
    return rx.hstack(
        rx.vstack(
            rx.hstack(rx.text(row["key"].to(str), weight="bold", size="2"),
                      rx.badge(row["status"].to(str), color_scheme=row["color"].to(str),
                               size="1"),
                      spacing="2", align="center"),
            rx.text(row["type"].to(str), size="1", color_scheme="gray"),
            spacing="0", width="220px", min_width="220px",
        ),
        rx.box(
            rx.foreach(row["segments"].to(list[dict[str, Any]]), _segment_box),
            rx.cond(row["note"].to(str) != "",
                    rx.text(row["note"].to(str), size="1", color_scheme="gray",
                            position="absolute", right="4px", top="28px"),
                    rx.fragment()),
            position="relative", height="46px", width="100%",
            background="var(--gray-2)", border_radius="4px",
        ),
        class_name="timeline-row",
        custom_attrs={"data-step": row["key"].to(str)},
        width="100%", align="start", spacing="3",
    )


PULSE_CSS = """
@keyframes n8nclone-pulse { 0%, 100% { opacity: 1 } 50% { opacity: 0.45 } }
.timeline-segment.tone-running { animation: n8nclone-pulse 1.2s ease-in-out infinite; }
"""


def timeline(rows: rx.Var, span: rx.Var) -> rx.Component:
    """The bars of every step (`rows` from `timeline_rows`), with the span's length."""
    return rx.vstack(
        rx.el.style(PULSE_CSS),
        rx.hstack(rx.text("0", size="1", color_scheme="gray"), rx.spacer(),
                  rx.text(span, size="1", color_scheme="gray", id="timeline-span"),
                  width="100%", padding_left="232px"),
        rx.foreach(rows, _row),
        width="100%", spacing="2", id="timeline",
    )
