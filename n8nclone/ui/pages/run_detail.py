"""One run: its header and totals, a timeline of its steps' attempts and waits, a card per
step (attempts with errors, input and output, AI usage); cancel, retry and rerun. Live."""

from __future__ import annotations

import reflex as rx

from n8nclone.ui.components.json_view import json_view
from n8nclone.ui.components.layout import app_shell
from n8nclone.ui.components.timeline import timeline
from n8nclone.ui.pages.runs import local_time, status_badge
from n8nclone.ui.state.auth import AuthState
from n8nclone.ui.state.run_detail import RunDetailState

ROUTE = "/runs/[run_id]"
TITLE = "Run | n8nclone"
ON_LOAD = [AuthState.require_login, RunDetailState.load]

H = RunDetailState.header


def _fact(label: str, value, **props) -> rx.Component:
    return rx.vstack(rx.text(label, size="1", color_scheme="gray"),
                     rx.text(value, size="2", **props), spacing="0")


def _header() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.heading(rx.link(H["workflow"].to(str), href=H["workflow_href"].to(str)),
                       size="5", id="run-workflow"),
            status_badge(H["status"].to(str), H["color"].to(str), size="2", id="run-status"),
            rx.cond(RunDetailState.active, rx.spinner(size="2"), rx.fragment()),
            rx.spacer(),
            rx.cond(RunDetailState.active,
                    rx.button("Cancel", on_click=RunDetailState.cancel, color_scheme="red",
                              variant="soft", loading=RunDetailState.busy, id="cancel-run"),
                    rx.fragment()),
            rx.cond(RunDetailState.can_retry,
                    rx.button("Retry from failed step", on_click=RunDetailState.retry,
                              loading=RunDetailState.busy, id="retry-run"),
                    rx.fragment()),
            align="center", width="100%", spacing="3",
        ),
        rx.hstack(
            _fact("Run", H["id"].to(str), id="run-id", font_family="monospace"),
            _fact("Trigger", H["trigger"].to(str), id="run-trigger"),
            _fact("Started", local_time(H["started_at"].to(str)), id="run-started"),
            _fact("Duration", H["duration"].to(str), id="run-duration"),
            _fact("Tokens", H["tokens"].to(str), id="run-tokens"),
            _fact("Cost", H["cost"].to(str), id="run-cost"),
            rx.cond(H["rerun_of"].to(str) != "",
                    _fact("Started again from",
                          rx.link(H["rerun_of"].to(str), href="/runs/" + H["rerun_of"].to(str))),
                    rx.fragment()),
            spacing="6", wrap="wrap",
        ),
        rx.cond(H["error"].to(str) != "",
                rx.callout(H["error"].to(str), color_scheme="red", id="run-error"),
                rx.fragment()),
        width="100%", spacing="3",
    )


def _rerun() -> rx.Component:
    return rx.cond(
        ~RunDetailState.active,
        rx.el.details(
            rx.el.summary("Rerun from the start...", cursor="pointer", id="rerun-toggle"),
            rx.vstack(
                rx.text("Input (JSON; empty keeps the run's input):", size="2"),
                rx.text_area(value=RunDetailState.rerun_input,
                             on_change=RunDetailState.set_rerun_input,
                             font_family="monospace", rows="6", width="100%",
                             id="rerun-input"),
                rx.button("Rerun", on_click=RunDetailState.rerun,
                          loading=RunDetailState.busy, id="rerun-run"),
                spacing="2", width="100%", padding_top="0.5em",
            ),
            width="100%",
        ),
        rx.fragment(),
    )


def _attempt(attempt: rx.Var) -> rx.Component:
    return rx.hstack(
        rx.text("#", attempt["number"].to(str), size="2", weight="bold"),
        status_badge(attempt["status"].to(str), attempt["color"].to(str), size="1"),
        rx.text(attempt["duration"].to(str), size="1", color_scheme="gray"),
        rx.cond(attempt["error"].to(str) != "",
                rx.text(attempt["error"].to(str), size="1", color_scheme="red",
                        class_name="attempt-error"),
                rx.fragment()),
        class_name="attempt", spacing="2", align="center",
        custom_attrs={"data-status": attempt["status"].to(str)},
    )


def _step_card(step: rx.Var) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.text(step["key"].to(str), weight="bold"),
                rx.code(step["type"].to(str)),
                status_badge(step["status"].to(str), step["color"].to(str),
                             class_name="step-status"),
                rx.text(step["attempt_count"].to(str), " attempt(s), ",
                        step["duration"].to(str), size="1", color_scheme="gray"),
                rx.cond(step["port"].to(str) != "",
                        rx.badge("port ", step["port"].to(str), variant="outline"),
                        rx.fragment()),
                spacing="3", align="center",
            ),
            rx.vstack(rx.foreach(step["attempts"].to(list[dict]), _attempt), spacing="1",
                      class_name="attempts"),
            rx.cond(step["has_usage"].to(bool),
                    rx.hstack(
                        rx.text("AI ", step["model"].to(str), size="2", class_name="ai-model"),
                        rx.text("tokens ", step["tokens"].to(str), size="2"),
                        rx.text("cost ", step["cost"].to(str), size="2"),
                        rx.text("latency ", step["latency"].to(str), size="2"),
                        spacing="4", class_name="ai-usage",
                    ),
                    rx.fragment()),
            json_view("Input", step["input_text"].to(str), step["input_note"].to(str),
                      "step-input"),
            json_view("Output", step["output_text"].to(str), step["output_note"].to(str),
                      "step-output"),
            spacing="2", width="100%",
        ),
        class_name="step-card", width="100%",
        custom_attrs={"data-step": step["key"].to(str)},
    )


def page() -> rx.Component:
    """Render the run."""
    return app_shell(
        rx.link("< All runs", href="/runs", size="2"),
        rx.cond(
            RunDetailState.loaded,
            rx.cond(
                RunDetailState.not_found,
                rx.text("No such run: it may have been deleted with its workflow.",
                        id="run-not-found"),
                rx.vstack(
                    _header(),
                    _rerun(),
                    rx.heading("Timeline", size="4"),
                    rx.cond(RunDetailState.rows.length() > 0,
                            timeline(RunDetailState.rows, RunDetailState.span),
                            rx.text("No step has started yet.", color_scheme="gray")),
                    rx.heading("Steps", size="4"),
                    rx.foreach(RunDetailState.steps, _step_card),
                    width="100%", spacing="4",
                ),
            ),
            rx.hstack(rx.spinner(), rx.text("Loading...")),
        ),
    )
