"""The workflow list: name, trigger, active switch, last run, runs; and its actions (new,
import, rename, duplicate, export, delete). A name opens the editor."""

from __future__ import annotations

import reflex as rx

from n8nclone.ui.components.dialogs import form_actions
from n8nclone.ui.components.layout import app_shell
from n8nclone.ui.state.auth import AuthState
from n8nclone.ui.state.workflows import WorkflowListState

ROUTE = "/workflows"
TITLE = "Workflows | n8nclone"
ON_LOAD = [AuthState.require_login, WorkflowListState.load]

COLUMNS = ("Name", "Trigger", "Active", "Last run", "Runs", "Updated", "")


def last_run(workflow: rx.Var) -> rx.Component:
    return rx.cond(
        workflow["last_href"].to(str) != "",
        rx.link(
            rx.hstack(
                rx.badge(workflow["last_status"].to(str),
                         color_scheme=workflow["last_color"].to(str)),
                rx.text(workflow["last_started"].to(str), size="1", color_scheme="gray"),
                spacing="2", align="center",
            ),
            href=workflow["last_href"].to(str),
            class_name="last-run-link",
            underline="none",
        ),
        rx.text("never", size="1", color_scheme="gray"),
    )


def row_actions(workflow: rx.Var) -> rx.Component:
    workflow_id, name = workflow["id"].to(int), workflow["name"].to(str)
    return rx.hstack(
        rx.button("Rename", size="1", variant="soft", class_name="rename-workflow",
                  on_click=WorkflowListState.open_rename(workflow_id, name)),
        rx.button("Duplicate", size="1", variant="soft", class_name="duplicate-workflow",
                  on_click=WorkflowListState.duplicate(workflow_id)),
        rx.button("Export", size="1", variant="soft", class_name="export-workflow",
                  on_click=WorkflowListState.export(workflow_id)),
        rx.button("Delete", size="1", variant="soft", color_scheme="red",
                  class_name="delete-workflow",
                  on_click=WorkflowListState.ask_delete(workflow_id, name)),
        spacing="2",
    )


def row(workflow: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.link(workflow["name"].to(str), href=workflow["href"].to(str),
                              class_name="workflow-link")),
        rx.table.cell(rx.code(workflow["trigger"].to(str))),
        rx.table.cell(rx.switch(
            checked=workflow["active"].to(bool),
            on_change=lambda checked: WorkflowListState.set_active(
                workflow["id"].to(int), checked),
            class_name="active-switch",
        )),
        rx.table.cell(last_run(workflow)),
        rx.table.cell(workflow["runs"].to(str), class_name="run-count"),
        rx.table.cell(rx.text(workflow["updated"].to(str), size="1")),
        rx.table.cell(row_actions(workflow)),
        class_name="workflow-row",
        data_name=workflow["name"].to(str),
        align="center",
    )


def new_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("New workflow"),
            rx.dialog.description("It starts with a manual trigger; the editor opens next.",
                                  size="2"),
            rx.form(
                rx.vstack(
                    rx.input(placeholder="Name", value=WorkflowListState.new_name,
                             on_change=WorkflowListState.set_new_name, auto_focus=True,
                             width="100%", id="new-workflow-name"),
                    form_actions("Create", "new-workflow-create"),
                    spacing="3",
                ),
                on_submit=lambda _form: WorkflowListState.create(),
                reset_on_submit=False,
            ),
            id="new-workflow-dialog",
        ),
        open=WorkflowListState.new_open,
        on_open_change=WorkflowListState.set_new_open,
    )


def rename_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Rename workflow"),
            rx.form(
                rx.vstack(
                    rx.input(value=WorkflowListState.rename_name,
                             on_change=WorkflowListState.set_rename_name, auto_focus=True,
                             width="100%", id="rename-workflow-name"),
                    form_actions("Rename", "rename-workflow-save"),
                    spacing="3",
                ),
                on_submit=lambda _form: WorkflowListState.rename(),
                reset_on_submit=False,
            ),
            id="rename-workflow-dialog",
        ),
        open=WorkflowListState.rename_open,
        on_open_change=WorkflowListState.set_rename_open,
    )


def delete_dialog() -> rx.Component:
    return rx.alert_dialog.root(
        rx.alert_dialog.content(
            rx.alert_dialog.title("Delete workflow"),
            rx.alert_dialog.description(
                rx.text("Delete ", rx.text.strong(WorkflowListState.delete_name),
                        " with all its versions and runs? This cannot be undone."),
            ),
            rx.hstack(
                rx.alert_dialog.cancel(rx.button("Cancel", variant="soft", color_scheme="gray")),
                rx.button("Delete", color_scheme="red", on_click=WorkflowListState.delete,
                          loading=WorkflowListState.busy, id="delete-workflow-confirm"),
                justify="end", spacing="3", margin_top="1em",
            ),
            id="delete-workflow-dialog",
        ),
        open=WorkflowListState.delete_open,
        on_open_change=WorkflowListState.set_delete_open,
    )


def import_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Import a workflow"),
            rx.dialog.description("Choose a workflow file (.json), or paste one below.",
                                  size="2"),
            rx.vstack(
                rx.upload(
                    rx.text("Drop a .json file here, or click to choose one", size="2"),
                    id="import-upload",
                    accept={"application/json": [".json"]},
                    multiple=False,
                    max_files=1,
                    on_drop=WorkflowListState.import_files(
                        rx.upload_files(upload_id="import-upload")),
                    border="1px dashed var(--gray-7)",
                    padding="1em",
                    width="100%",
                    cursor="pointer",
                ),
                rx.text_area(value=WorkflowListState.import_text,
                             on_change=WorkflowListState.set_import_text,
                             placeholder='{"name": "...", "nodes": [...], "edges": [...]}',
                             rows="12", width="100%", font_family="monospace",
                             id="import-text"),
                rx.cond(
                    WorkflowListState.import_problems.length() > 0,
                    rx.callout.root(
                        rx.callout.text(rx.foreach(WorkflowListState.import_problems,
                                                   lambda p: rx.text(p, size="1"))),
                        color_scheme="red", width="100%", id="import-problems",
                    ),
                ),
                rx.hstack(
                    rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray")),
                    rx.button("Import", on_click=WorkflowListState.import_pasted,
                              id="import-submit"),
                    justify="end", width="100%",
                ),
                spacing="3",
            ),
            max_width="640px",
            id="import-dialog",
        ),
        open=WorkflowListState.import_open,
        on_open_change=WorkflowListState.set_import_open,
    )


def workflow_table() -> rx.Component:
    return rx.table.root(
        rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in COLUMNS])),
        rx.table.body(rx.foreach(WorkflowListState.rows, row)),
        width="100%",
        id="workflow-table",
    )


def empty_state() -> rx.Component:
    return rx.callout.root(
        rx.callout.text("No workflows yet: create one with New workflow, or import a "
                        "workflow file with Import."),
        id="workflows-empty",
        width="100%",
    )


def page() -> rx.Component:
    """Render the list and its dialogs."""
    return app_shell(
        rx.hstack(
            rx.button("New workflow", on_click=WorkflowListState.open_new, id="new-workflow"),
            rx.button("Import", variant="soft", on_click=WorkflowListState.open_import,
                      id="import-workflow"),
            spacing="3",
        ),
        rx.cond(
            WorkflowListState.rows.length() > 0,
            workflow_table(),
            rx.cond(WorkflowListState.loaded, empty_state(),
                    rx.hstack(rx.spinner(), rx.text("Loading..."), align="center")),
        ),
        new_dialog(),
        rename_dialog(),
        delete_dialog(),
        import_dialog(),
        title="Workflows",
    )
