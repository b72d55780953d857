"""The run history: every run with its status, workflow, trigger, start, duration, steps,
tokens and cost; filters by workflow, status and time range; keyset pages; live."""

from __future__ import annotations

from typing import Any

import reflex as rx

from n8nclone.ui.components.layout import app_shell
from n8nclone.ui.state.auth import AuthState
from n8nclone.ui.state.runs import PRESET_LABELS, RUN_STATUSES, RunListState

ROUTE = "/runs"
TITLE = "Runs | n8nclone"
ON_LOAD = [AuthState.require_login, RunListState.load]

SELECT_STYLE = {"padding": "4px 6px", "border": "1px solid var(--gray-7)",
                "border_radius": "4px", "background": "var(--color-panel-solid)",
                "font_size": "14px"}


def local_time(iso: rx.Var) -> rx.Var:
    """An ISO time shown in the browser's time zone and locale ("-" when empty)."""
    expr = iso._js_expr
    return rx.Var(_js_expr=f"(({expr}) ? (new Date({expr})).toLocaleString() : '-')",
                  _var_type=str, _var_data=iso._get_all_var_data())


def status_badge(status: rx.Var, color: rx.Var, **props: Any) -> rx.Component:
    return rx.badge(status, color_scheme=color, variant="soft", **props)


def _row(run: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.link(status_badge(run["status"].to(str), run["color"].to(str),
                                           class_name="run-status"),
                              href=run["href"].to(str))),
        rx.table.cell(rx.link(run["workflow"].to(str), href=run["workflow_href"].to(str),
                              class_name="run-workflow")),
        rx.table.cell(rx.code(run["trigger"].to(str))),
        rx.table.cell(rx.link(local_time(run["started_at"].to(str)),
                              href=run["href"].to(str), class_name="run-link",
                              title=run["started_at"].to(str))),
        rx.table.cell(run["duration"].to(str)),
        rx.table.cell(run["steps"].to(str)),
        rx.table.cell(run["tokens"].to(str)),
        rx.table.cell(run["cost"].to(str)),
        class_name="run-row",
        custom_attrs={"data-run-id": run["id"].to(str), "data-status": run["status"].to(str)},
    )


def _filters() -> rx.Component:
    return rx.hstack(
        rx.el.select(
            rx.el.option("All workflows", value=""),
            rx.foreach(RunListState.workflows,
                       lambda w: rx.el.option(w["name"].to(str), value=w["id"].to(str))),
            value=RunListState.workflow_filter,
            on_change=RunListState.set_workflow_filter,
            id="filter-workflow", style=SELECT_STYLE,
        ),
        rx.el.select(
            rx.el.option("Any status", value=""),
            *[rx.el.option(status, value=status) for status in RUN_STATUSES],
            value=RunListState.status_filter,
            on_change=RunListState.set_status_filter,
            id="filter-status", style=SELECT_STYLE,
        ),
        rx.el.select(
            *[rx.el.option(label, value=value) for value, label in PRESET_LABELS],
            value=RunListState.range_preset,
            on_change=RunListState.set_range_preset,
            id="filter-range", style=SELECT_STYLE,
        ),
        rx.cond(
            RunListState.range_preset == "custom",
            rx.hstack(
                rx.text("from", size="2"),
                rx.el.input(type="datetime-local", value=RunListState.since,
                            on_change=RunListState.set_since, id="filter-since",
                            style=SELECT_STYLE),
                rx.text("to", size="2"),
                rx.el.input(type="datetime-local", value=RunListState.until,
                            on_change=RunListState.set_until, id="filter-until",
                            style=SELECT_STYLE),
                spacing="2", align="center",
            ),
            rx.fragment(),
        ),
        rx.button("Clear", on_click=RunListState.clear_filters, variant="ghost", size="1",
                  id="filter-clear"),
        rx.spacer(),
        rx.cond(RunListState.loading, rx.spinner(size="2"), rx.fragment()),
        rx.cond(RunListState.any_active,
                rx.badge("live", color_scheme="blue", variant="outline", id="live-badge"),
                rx.fragment()),
        rx.text(RunListState.refreshed_at, size="1", color_scheme="gray"),
        spacing="3", align="center", width="100%", wrap="wrap",
    )


def _table() -> rx.Component:
    return rx.table.root(
        rx.table.header(rx.table.row(
            *[rx.table.column_header_cell(h) for h in
              ("Status", "Workflow", "Trigger", "Started", "Duration", "Steps", "Tokens",
               "Cost")])),
        rx.table.body(rx.foreach(RunListState.rows, _row)),
        width="100%", id="runs-table",
    )


def _pager() -> rx.Component:
    return rx.hstack(
        rx.button("First page", on_click=RunListState.first_page, variant="soft", size="1",
                  disabled=RunListState.page_number <= 1, id="first-page"),
        rx.text("Page ", RunListState.page_number, size="2", id="page-number"),
        rx.button("Next page", on_click=RunListState.next_page, variant="soft", size="1",
                  disabled=RunListState.next_cursor == "", id="next-page"),
        spacing="3", align="center",
    )


def _empty() -> rx.Component:
    return rx.text(
        rx.cond(
            RunListState.loaded,
            rx.cond(
                (RunListState.workflow_filter != "") | (RunListState.status_filter != "")
                | (RunListState.range_preset != ""),
                "No runs match these filters: clear them to see every run.",
                "No runs yet: start one with `n8nclone run NAME`, "
                "POST /api/workflows/<id>/runs, or a workflow's trigger.",
            ),
            "Loading...",
        ),
        id="runs-empty", color_scheme="gray",
    )


def page() -> rx.Component:
    """Render the run history."""
    return app_shell(
        _filters(),
        rx.cond(RunListState.error != "",
                rx.callout(RunListState.error, color_scheme="red", id="runs-error"),
                rx.fragment()),
        rx.cond(RunListState.rows.length() > 0, rx.vstack(_table(), _pager(), width="100%"),
                _empty()),
        title="Runs",
    )
