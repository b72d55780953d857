"""The workflow editor: palette, canvas and a side panel with the selected node's form;
Save, Run, Activate and the workflow settings in the header."""

from __future__ import annotations

import reflex as rx

from n8nclone.ui.components.dialogs import form_actions
from n8nclone.ui.components.flow import flow_canvas, palette_item
from n8nclone.ui.components.layout import nav_bar
from n8nclone.ui.state.auth import AuthState
from n8nclone.ui.state.editor import EditorState

ROUTE = "/workflows/[workflow_id]"
TITLE = "Workflow editor | n8nclone"
ON_LOAD = [AuthState.require_login, EditorState.load]

STATUS_COLORS = {"queued": "gray", "running": "blue", "retrying": "amber", "succeeded": "green",
                 "failed": "red", "skipped": "gray", "waiting": "violet", "sleeping": "violet",
                 "cancelled": "gray"}


def status_badge(status: rx.Var, **props) -> rx.Component:
    return rx.badge(status, color_scheme=rx.match(status, *STATUS_COLORS.items(), "gray"),
                    variant="soft", **props)


def header() -> rx.Component:
    return rx.hstack(
        rx.link("Workflows", href="/workflows"),
        rx.text("/", color_scheme="gray"),
        rx.heading(EditorState.name, size="4", id="workflow-name"),
        rx.badge(f"v{EditorState.version}", variant="soft", id="workflow-version"),
        rx.cond(EditorState.dirty, rx.badge("unsaved changes", color_scheme="orange",
                                            id="unsaved")),
        rx.spacer(),
        rx.cond(
            EditorState.run_id != "",
            rx.hstack(
                rx.text("Run", size="1", color_scheme="gray"),
                status_badge(EditorState.run_status, id="run-status"),
                rx.link("open run", href=f"/runs/{EditorState.run_id}", id="open-run", size="2"),
                align="center", spacing="2",
            ),
        ),
        rx.text("Active", as_="label", size="2", html_for="workflow-active"),
        rx.switch(checked=EditorState.active, on_change=EditorState.set_active,
                  id="workflow-active"),
        rx.button("Settings", on_click=EditorState.open_settings(True), variant="soft",
                  id="open-settings"),
        rx.button("Input", on_click=EditorState.open_run_input(True), variant="soft",
                  title="The data the Run button starts the run with", id="open-run-input"),
        rx.button("Run", on_click=EditorState.run, loading=EditorState.starting_run,
                  color_scheme="green", id="run-workflow"),
        rx.button("Save", on_click=EditorState.save, loading=EditorState.saving,
                  id="save-workflow"),
        align="center",
        padding_x="1em",
        padding_y="0.5em",
        border_bottom="1px solid var(--gray-5)",
        width="100%",
        flex_shrink="0",
    )


def palette() -> rx.Component:
    """Node types by group: drag one onto the canvas, or click it to add it below the others."""
    return rx.vstack(
        rx.text("Add a node", weight="bold", size="2"),
        rx.text("Drag onto the canvas or click.", size="1", color_scheme="gray"),
        rx.foreach(
            EditorState.palette,
            lambda group: rx.vstack(
                rx.text(group["group"].to(str).upper(), size="1", color_scheme="gray"),
                rx.foreach(
                    group["types"].to(list[dict[str, str]]),
                    lambda entry: palette_item(entry["type"], entry["label"],
                                               on_click=EditorState.add_node(entry["type"])),
                ),
                spacing="1",
                width="100%",
            ),
        ),
        width="200px",
        min_width="200px",
        padding="0.75em",
        spacing="3",
        overflow_y="auto",
        height="100%",
        border_right="1px solid var(--gray-5)",
        id="palette",
    )


def field_label(field: rx.Var) -> rx.Component:
    return rx.text(
        field["label"].to(str),
        rx.cond(field["required"].to(bool),
                rx.text.span(" *", color="var(--red-9)", class_name="required-mark")),
        size="2", weight="medium",
    )


def field_input(field: rx.Var) -> rx.Component:
    """The input for one parameter, by its type; text inputs report on leaving (on_blur)."""
    name = field["name"].to(str)
    key = field["key"].to(str)
    input_id = "param-" + name

    def on_text(value):
        return EditorState.set_param(name, value)

    text_input = rx.input(default_value=field["text"].to(str), key=key, id=input_id,
                          placeholder=field["placeholder"].to(str), on_blur=on_text,
                          type=rx.cond(field["secret"].to(bool), "password", "text"),
                          width="100%", size="2")
    return rx.match(
        field["type"].to(str),
        ("boolean", rx.switch(checked=field["checked"].to(bool), id=input_id,
                              on_change=lambda value: EditorState.set_param(name, value))),
        ("options", rx.select(field["options"].to(list[str]), value=field["choice"].to(str),
                              on_change=lambda value: EditorState.set_param(name, value),
                              id=input_id, width="100%", size="2")),
        ("text", rx.text_area(default_value=field["text"].to(str), key=key, id=input_id,
                              placeholder=field["placeholder"].to(str), on_blur=on_text,
                              rows="3", width="100%")),
        ("json", rx.text_area(default_value=field["text"].to(str), key=key, id=input_id,
                              placeholder=field["placeholder"].to(str), on_blur=on_text,
                              rows="4", width="100%", font_family="monospace",
                              font_size="12px")),
        text_input,
    )


def param_field(field: rx.Var) -> rx.Component:
    return rx.vstack(
        field_label(field),
        field_input(field),
        rx.cond(field["help"].to(str) != "",
                rx.text(field["help"].to(str), size="1", color_scheme="gray")),
        rx.cond(field["error"].to(str) != "",
                rx.text(field["error"].to(str), size="1", color_scheme="red",
                        class_name="param-error")),
        spacing="1",
        width="100%",
        class_name="param-field",
        data_param=field["name"].to(str),
    )


def node_form() -> rx.Component:
    """The selected node: key, parameters by its type's schema, retries, last run."""
    info = EditorState.selected_type
    return rx.vstack(
        rx.hstack(
            rx.vstack(
                rx.text(info["label"].to(str), weight="bold"),
                rx.code(info["type"].to(str), size="1"),
                spacing="1",
            ),
            rx.spacer(),
            rx.button("Delete", on_click=EditorState.delete_selected, color_scheme="red",
                      variant="soft", size="1", id="delete-selected"),
            width="100%",
        ),
        rx.text(info["description"].to(str), size="1", color_scheme="gray"),
        rx.cond(info["problem"].to(str) != "",
                rx.callout.root(rx.callout.text(info["problem"].to(str)), color_scheme="red",
                                size="1", id="node-problem", width="100%")),
        rx.vstack(
            rx.text("Key", size="2", weight="medium"),
            rx.input(default_value=EditorState.selected, key="key:" + EditorState.form_key,
                     on_blur=EditorState.rename_node, id="node-key", width="100%"),
            rx.text("How expressions name this step: steps.<key>.output", size="1",
                    color_scheme="gray"),
            rx.cond(EditorState.key_error != "",
                    rx.text(EditorState.key_error, size="1", color_scheme="red")),
            spacing="1", width="100%",
        ),
        rx.foreach(EditorState.selected_fields, param_field),
        rx.vstack(
            rx.text("Retries", size="2", weight="medium"),
            rx.input(default_value=info["retries"].to(str), key="retries:" + EditorState.form_key,
                     on_blur=EditorState.set_retries, placeholder="workflow default",
                     id="node-retries", width="100%"),
            rx.text("Attempts after a failure; empty: the workflow's setting.", size="1",
                    color_scheme="gray"),
            rx.cond(EditorState.retries_error != "",
                    rx.text(EditorState.retries_error, size="1", color_scheme="red")),
            spacing="1", width="100%",
        ),
        rx.cond(EditorState.selected_step.length() > 0, last_run()),
        spacing="3",
        width="100%",
        id="node-form",
    )


def last_run() -> rx.Component:
    step = EditorState.selected_step
    return rx.vstack(
        rx.divider(),
        rx.hstack(rx.text("Last run", weight="bold", size="2"),
                  status_badge(step["status"].to(str), id="step-status"),
                  rx.text(step["attempts"].to(str), " attempt(s)", size="1",
                          color_scheme="gray"),
                  align="center"),
        rx.cond(step["error"].to(str) != "",
                rx.code_block(step["error"].to(str), language="json", width="100%",
                              wrap_long_lines=True, id="step-error")),
        rx.cond(step["output"].to(str) != "",
                rx.code_block(step["output"].to(str), language="json", width="100%",
                              wrap_long_lines=True, id="step-output")),
        spacing="2",
        width="100%",
    )


def webhook_urls() -> rx.Component:
    urls = EditorState.webhook_urls

    def url_row(label: str, which: str) -> rx.Component:
        url = urls[which].to(str)
        return rx.vstack(
            rx.text(label, size="1", color_scheme="gray"),
            rx.hstack(
                rx.code(url, size="1", id=f"webhook-{which}-url", word_break="break-all"),
                rx.icon_button(rx.icon("copy", size=14), size="1", variant="ghost",
                               title="Copy", id=f"copy-{which}-url",
                               on_click=[rx.set_clipboard(url), rx.toast.info("Copied")]),
                align="center", width="100%",
            ),
            spacing="1", width="100%",
        )

    return rx.cond(
        urls.length() > 0,
        rx.vstack(
            rx.text("Webhook", weight="bold", size="2"),
            url_row("Production (the saved version, while active)", "production"),
            url_row("Test (the latest saved version, even inactive)", "test"),
            spacing="2", width="100%", padding_bottom="0.5em",
            border_bottom="1px solid var(--gray-5)", id="webhook-urls",
        ),
    )


def inspector() -> rx.Component:
    """The side panel: webhook URLs, the selected node's form or edge, the problems."""
    return rx.vstack(
        webhook_urls(),
        rx.cond(
            EditorState.selected != "",
            node_form(),
            rx.cond(
                EditorState.selected_edge != "",
                rx.vstack(
                    rx.text("Edge", weight="bold"),
                    rx.code(EditorState.selected_edge),
                    rx.button("Delete", on_click=EditorState.delete_selected,
                              color_scheme="red", variant="soft", size="1",
                              id="delete-selected"),
                    spacing="2",
                ),
                rx.text("Click a node to edit it; drag from a port to connect; Delete or "
                        "Backspace removes the selection.", size="1", color_scheme="gray"),
            ),
        ),
        rx.cond(
            EditorState.problems.length() > 0,
            rx.callout.root(
                rx.callout.text(
                    rx.text("Problems (fix them to save)", weight="bold", size="1"),
                    rx.foreach(EditorState.problems,
                               lambda p: rx.text(p, size="1", class_name="problem"))),
                color_scheme="red",
                id="problems",
                width="100%",
            ),
        ),
        width="340px",
        min_width="340px",
        padding="0.75em",
        spacing="3",
        overflow_y="auto",
        height="100%",
        border_left="1px solid var(--gray-5)",
        id="inspector",
    )


def settings_input(name: str, label: str, help_text: str = "", **props) -> rx.Component:
    return rx.vstack(
        rx.text(label, size="2", weight="medium"),
        rx.input(name=name, default_value=EditorState.settings_values[name], id=f"settings-{name}",
                 width="100%", **props),
        *([rx.text(help_text, size="1", color_scheme="gray")] if help_text else []),
        spacing="1", width="100%",
    )


def settings_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Workflow settings"),
            rx.form(
                rx.vstack(
                    rx.hstack(
                        settings_input("retries", "Retries", "per step, 0 to 50"),
                        settings_input("timeout", "Timeout", "of a run, e.g. 10m"),
                        width="100%",
                    ),
                    rx.hstack(
                        settings_input("concurrency_limit", "Concurrency limit",
                                       "runs at once"),
                        settings_input("concurrency_key", "Concurrency key",
                                       "per key, e.g. {{ trigger.body.user_id }}"),
                        width="100%",
                    ),
                    settings_input("idempotency_key", "Idempotency key",
                                   "one run per key, e.g. {{ trigger.body.order_id }}"),
                    rx.text("Cancel on event", size="2", weight="bold"),
                    rx.hstack(
                        settings_input("cancel_event", "Event", "e.g. order/cancelled"),
                        settings_input("cancel_match", "Match field", "e.g. data.order_id"),
                        settings_input("cancel_value", "Value", "default: the trigger's field"),
                        width="100%",
                    ),
                    rx.cond(EditorState.settings_values["more_cancel_rules"] != "0",
                            rx.text("Further cancel-on rules (",
                                    EditorState.settings_values["more_cancel_rules"],
                                    ") are kept.", size="1", color_scheme="gray")),
                    settings_input("budget_usd", "Budget (USD)",
                                   "what one run may spend on AI calls"),
                    rx.cond(EditorState.settings_error != "",
                            rx.callout.root(rx.callout.text(EditorState.settings_error),
                                            color_scheme="red", width="100%",
                                            id="settings-error")),
                    form_actions("Apply", "settings-save"),
                    spacing="3",
                ),
                on_submit=EditorState.save_settings,
                reset_on_submit=False,
            ),
            max_width="640px",
        ),
        open=EditorState.settings_open,
        on_open_change=EditorState.open_settings,
    )


def run_input_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Run input"),
            rx.dialog.description("The data a run started with the Run button gets as its "
                                  "trigger (JSON).", size="2"),
            rx.form(
                rx.vstack(
                    rx.text_area(name="run_input", default_value=EditorState.run_input,
                                 rows="10", width="100%", font_family="monospace",
                                 id="run-input"),
                    rx.cond(EditorState.run_input_error != "",
                            rx.text(EditorState.run_input_error, color_scheme="red", size="1")),
                    form_actions("Use this input", "run-input-save"),
                    spacing="3",
                ),
                on_submit=EditorState.set_run_input,
                reset_on_submit=False,
            ),
        ),
        open=EditorState.run_input_open,
        on_open_change=EditorState.open_run_input,
    )


def editor() -> rx.Component:
    return rx.flex(
        header(),
        rx.hstack(
            palette(),
            rx.box(
                flow_canvas(
                    nodes=EditorState.flow_nodes,
                    edges=EditorState.flow_edges,
                    dirty=EditorState.dirty,
                    on_node_drag_stop=EditorState.move_nodes,
                    on_connect=EditorState.connect,
                    on_nodes_delete=EditorState.delete_nodes,
                    on_edges_delete=EditorState.delete_edges,
                    on_node_click=EditorState.select_node,
                    on_edge_click=EditorState.select_edge,
                    on_pane_click=EditorState.clear_selection,
                    on_drop_node=EditorState.drop_node,
                ),
                flex="1",
                height="100%",  # React Flow needs a parent with a real height
                id="canvas",
            ),
            inspector(),
            spacing="0",
            width="100%",
            flex="1",
            min_height="0",
        ),
        settings_dialog(),
        run_input_dialog(),
        direction="column",
        width="100%",
        flex="1",
        min_height="0",
    )


def page() -> rx.Component:
    """Render the editor (full height: the canvas fills what the bars leave)."""
    return rx.flex(
        rx.box(nav_bar(), padding_x="1em", flex_shrink="0"),
        rx.cond(
            EditorState.not_found,
            rx.container(rx.vstack(
                rx.heading("Workflow not found"),
                rx.link("All workflows", href="/workflows"),
                padding_y="4em",
            )),
            rx.cond(EditorState.loaded | (EditorState.workflow_id != 0), editor(),
                    rx.center(rx.spinner(size="3"), rx.text("Loading...", margin_left="0.5em"),
                              padding_y="4em")),
        ),
        direction="column",
        width="100%",
        height="100vh",
    )
