"""The events page: recent events (refreshed live), each with its data and the runs it
started, resumed or cancelled; and a form to send a test event, like Inngest's dev server."""

from __future__ import annotations

import reflex as rx

from n8nclone.ui.components.layout import app_shell
from n8nclone.ui.state.auth import AuthState
from n8nclone.ui.state.events import EVENTS_ROUTE, EventsState

ROUTE = EVENTS_ROUTE
TITLE = "Events | n8nclone"
ON_LOAD = [AuthState.require_login, EventsState.load, EventsState.poll]

OUTCOME_COLORS = {"started": "green", "resumed": "blue", "cancelled": "gray"}


def run_list(runs: rx.Var, empty: str) -> rx.Component:
    """Runs as links to their pages: outcome, workflow, status, start time."""
    return rx.cond(
        runs.length() > 0,
        rx.vstack(
            rx.foreach(runs, lambda run: rx.hstack(
                rx.badge(run["outcome"].to(str), variant="soft"),
                rx.link(rx.code(run["id"].to(str)), href=run["href"].to(str),
                        class_name="event-run-link"),
                rx.text(run["workflow"].to(str), size="2"),
                rx.badge(run["status"].to(str), variant="outline"),
                rx.text(run["started"].to(str), size="1", color_scheme="gray"),
                spacing="2", align="center",
            )),
            spacing="1",
        ),
        rx.text(empty, size="2", color_scheme="gray"),
    )


def detail_row() -> rx.Component:
    return rx.table.row(
        rx.table.cell(
            rx.vstack(
                rx.text("Data", size="1", weight="bold", color_scheme="gray"),
                rx.code_block(EventsState.detail_data, language="json", width="100%",
                              wrap_long_lines=True, max_height="320px", overflow="auto"),
                rx.text("Runs", size="1", weight="bold", color_scheme="gray"),
                run_list(EventsState.detail_runs,
                         "No run started, resumed or cancelled by this event."),
                spacing="2", width="100%",
            ),
            col_span=3,
        ),
        id="event-detail",
    )


def event_row(event: rx.Var) -> rx.Component:
    event_id = event["id"].to(str)
    return rx.fragment(
        rx.table.row(
            rx.table.cell(rx.hstack(
                rx.cond(EventsState.expanded == event_id, rx.icon("chevron-down", size=14),
                        rx.icon("chevron-right", size=14)),
                rx.text(event["name"].to(str), weight="medium"),
                align="center", spacing="1",
            )),
            rx.table.cell(rx.text(event["received"].to(str), size="2")),
            rx.table.cell(rx.code(event_id, size="1")),
            on_click=EventsState.toggle(event_id),
            cursor="pointer",
            class_name="event-row",
            data_event_id=event_id,
        ),
        rx.cond(EventsState.expanded == event_id, detail_row()),
    )


def events_table() -> rx.Component:
    return rx.vstack(
        rx.table.root(
            rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in
                                           ("Name", "Received (UTC)", "Id")])),
            rx.table.body(rx.foreach(EventsState.events, event_row)),
            width="100%",
            id="events-table",
        ),
        rx.cond(EventsState.next_cursor != "",
                rx.button("More", variant="soft", on_click=EventsState.more,
                          loading=EventsState.loading_more, id="events-more")),
        width="100%",
        spacing="3",
    )


def send_form() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Send a test event", size="3"),
            rx.input(placeholder="Name, e.g. order/created", value=EventsState.send_name,
                     on_change=EventsState.set_send_name, width="100%", id="send-event-name"),
            rx.text_area(value=EventsState.send_data, on_change=EventsState.set_send_data,
                         placeholder='{"id": 7}', rows="6", width="100%",
                         font_family="monospace", id="send-event-data"),
            rx.button("Send", on_click=EventsState.send, loading=EventsState.sending,
                      id="send-event"),
            rx.cond(
                EventsState.sent_id != "",
                rx.vstack(
                    rx.hstack(rx.text("Sent", size="2"),
                              rx.code(EventsState.sent_id, id="sent-event-id"),
                              align="center"),
                    run_list(EventsState.sent_runs, "It started no run."),
                    spacing="2", id="sent-event",
                ),
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


def page() -> rx.Component:
    """Render the events page."""
    return app_shell(
        send_form(),
        rx.cond(
            EventsState.events.length() > 0,
            events_table(),
            rx.cond(
                EventsState.loaded,
                rx.callout.root(
                    rx.callout.text("No events yet: send one with the form above, "
                                    "`n8nclone send-event NAME`, or POST /api/events."),
                    id="events-empty", width="100%",
                ),
                rx.hstack(rx.spinner(), rx.text("Loading..."), align="center"),
            ),
        ),
        title="Events",
    )
