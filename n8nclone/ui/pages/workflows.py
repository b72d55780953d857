"""The workflow list: name, trigger, active; a name opens the editor."""

from __future__ import annotations

import reflex as rx

from n8nclone.ui.state.workflows import WorkflowListState

ROUTE = "/workflows"
TITLE = "Workflows | n8nclone"
ON_LOAD = WorkflowListState.load


def row(workflow: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.link(workflow["name"].to(str), href=workflow["href"].to(str),
                              class_name="workflow-link")),
        rx.table.cell(rx.code(workflow["trigger"].to(str))),
        rx.table.cell(rx.cond(workflow["active"].to(bool),
                              rx.badge("active", color_scheme="green"),
                              rx.badge("inactive", color_scheme="gray"))),
        rx.table.cell(workflow["version"].to(str)),
        rx.table.cell(workflow["nodes"].to(str)),
        rx.table.cell(workflow["updated"].to(str)),
    )


def page() -> rx.Component:
    """Render the list."""
    return rx.container(
        rx.vstack(
            rx.hstack(rx.link("n8nclone", href="/"), rx.text("/"), rx.heading("Workflows")),
            rx.cond(
                WorkflowListState.rows.length() > 0,
                rx.table.root(
                    rx.table.header(rx.table.row(
                        *[rx.table.column_header_cell(h) for h in
                          ("Name", "Trigger", "Active", "Version", "Nodes", "Updated")])),
                    rx.table.body(rx.foreach(WorkflowListState.rows, row)),
                    width="100%",
                    id="workflow-table",
                ),
                rx.text(rx.cond(WorkflowListState.loaded,
                                "No workflows yet: import one with `n8nclone workflow import FILE` "
                                "or POST it to /api/workflows.", "Loading...")),
            ),
            spacing="4",
            padding_y="2em",
            width="100%",
        ),
        size="4",
    )
