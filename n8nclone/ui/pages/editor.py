"""The workflow editor: palette, canvas and the selected node, with a Save button."""

from __future__ import annotations

import reflex as rx

from n8nclone.ui.components.flow import flow_canvas
from n8nclone.ui.state.editor import EditorState

ROUTE = "/workflows/[workflow_id]"
TITLE = "Workflow editor | n8nclone"
ON_LOAD = EditorState.load

HEADER_HEIGHT = "56px"


def header() -> rx.Component:
    return rx.hstack(
        rx.link("Workflows", href="/workflows"),
        rx.text("/", color_scheme="gray"),
        rx.heading(EditorState.name, size="4", id="workflow-name"),
        rx.badge(f"v{EditorState.version}", variant="soft", id="workflow-version"),
        rx.cond(EditorState.dirty, rx.badge("unsaved changes", color_scheme="orange")),
        rx.spacer(),
        rx.button("Save", on_click=EditorState.save, loading=EditorState.saving,
                  id="save-workflow"),
        height=HEADER_HEIGHT,
        align="center",
        padding_x="1em",
        border_bottom="1px solid var(--gray-5)",
        width="100%",
    )


def palette() -> rx.Component:
    """Node types by group; a click adds one (drag and drop from here is still to come)."""
    return rx.vstack(
        rx.text("Add a node", weight="bold", size="2"),
        rx.foreach(
            EditorState.palette,
            lambda group: rx.vstack(
                rx.text(group["group"].to(str).upper(), size="1", color_scheme="gray"),
                rx.foreach(
                    group["types"].to(list[dict[str, str]]),
                    lambda entry: rx.button(
                        entry["label"],
                        title=entry["type"],
                        on_click=EditorState.add_node(entry["type"]),
                        variant="soft",
                        size="1",
                        width="100%",
                        justify="start",
                        data_node_type=entry["type"],
                        class_name="palette-item",
                    ),
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


def inspector() -> rx.Component:
    """The selected node (read-only for now) and the last save's problems."""
    return rx.vstack(
        rx.cond(
            EditorState.selected != "",
            rx.vstack(
                rx.text(EditorState.selected, weight="bold"),
                rx.code(EditorState.selected_node["type"].to(str)),
                rx.text("Parameters", size="1", color_scheme="gray"),
                rx.code_block(EditorState.selected_params, language="json", width="100%",
                              wrap_long_lines=True),
                spacing="2",
                width="100%",
            ),
            rx.text("Click a node to see it; drag from a port to connect; "
                    "Backspace deletes the selection.", size="1", color_scheme="gray"),
        ),
        rx.cond(
            EditorState.problems.length() > 0,
            rx.callout.root(
                rx.callout.text(rx.foreach(EditorState.problems, lambda p: rx.text(p, size="1"))),
                color_scheme="red",
                id="problems",
                width="100%",
            ),
        ),
        width="260px",
        min_width="260px",
        padding="0.75em",
        overflow_y="auto",
        height="100%",
        border_left="1px solid var(--gray-5)",
    )


def page() -> rx.Component:
    """Render the editor."""
    return rx.box(
        rx.cond(
            EditorState.not_found,
            rx.container(rx.vstack(
                rx.heading("Workflow not found"),
                rx.link("All workflows", href="/workflows"),
                padding_y="4em",
            )),
            rx.vstack(
                header(),
                rx.hstack(
                    palette(),
                    rx.box(
                        flow_canvas(
                            nodes=EditorState.flow_nodes,
                            edges=EditorState.flow_edges,
                            on_node_drag_stop=EditorState.move_nodes,
                            on_connect=EditorState.connect,
                            on_nodes_delete=EditorState.delete_nodes,
                            on_edges_delete=EditorState.delete_edges,
                            on_node_click=EditorState.select_node,
                            on_pane_click=EditorState.clear_selection,
                        ),
                        flex="1",
                        height="100%",  # React Flow needs a parent with a real height
                        id="canvas",
                    ),
                    inspector(),
                    spacing="0",
                    width="100%",
                    height=f"calc(100vh - {HEADER_HEIGHT})",
                ),
                spacing="0",
                width="100%",
            ),
        ),
        width="100%",
        height="100vh",
    )
