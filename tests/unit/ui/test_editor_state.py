"""The editor's Reflex state: the run mixin binds to it like its own members."""

from __future__ import annotations

from n8nclone.ui.state.editor import EditorState


def test_the_run_mixin_lands_on_the_editor_state() -> None:
    assert {"run_id", "run_input", "step_status", "step_details"} <= set(EditorState.base_vars)
    assert "run_active" in EditorState.computed_vars
    assert {"run", "watch_run", "set_run_input"} <= set(EditorState.event_handlers)
    assert EditorState.watch_run.is_background
